// Validation of agent service and check registrations with Consul's exact texts
// (AgentRegisterService / AgentRegisterCheck and structs.ValidateWeights / ValidateServiceMetadata).
import { BadRequestError } from '../../errors.ts';
import { validateCheckType } from '../checks/types.ts';
import { multiError } from '../config/error.ts';
import type { CheckDefinition, ServiceDefinition } from './definition.ts';
import { proxyProblems } from './proxy-validate.ts';

const META_KEY = /^[a-zA-Z0-9_-]+$/;
const META_MAX_PAIRS = 64;
const META_KEY_MAX = 128;
const META_VALUE_MAX = 512;

/** True for the three statuses a check may be given. */
export function validStatus(s: string): boolean {
  return s === 'passing' || s === 'warning' || s === 'critical';
}

/** True for the wildcard addresses a service may not advertise (Consul's ipaddr.IsAny). */
export function isAnyAddress(a: string): boolean {
  return a === '0.0.0.0' || a === '::' || a === '[::]';
}

function metaProblem(k: string, v: string): string | undefined {
  if (k === '') return 'Key cannot be blank';
  if (!META_KEY.test(k)) return 'Key contains invalid characters';
  if (k.length > META_KEY_MAX) return `Key is too long (limit: ${META_KEY_MAX} characters)`;
  if (k.startsWith('consul-')) return "Key prefix 'consul-' is reserved for internal use";
  if (v.length > META_VALUE_MAX) return `Value is too long (limit: ${META_VALUE_MAX} characters)`;
  return undefined;
}

/** Consul's ValidateServiceMetadata (non-gateway services). */
export function serviceMetaProblem(meta: Record<string, string> | null): string | undefined {
  if (!meta) return undefined;
  const entries = Object.entries(meta);
  if (entries.length > META_MAX_PAIRS) return `Node metadata cannot contain more than ${META_MAX_PAIRS} key/value pairs`;
  for (const [k, v] of entries) {
    const p = metaProblem(k, String(v));
    if (p) return `Couldn't load metadata pair ('${k}', '${v}'): ${p}`;
  }
  return undefined;
}

/** Validates a service registration as AgentRegisterService does, in Consul's order. */
export function validateServiceDefinition(def: ServiceDefinition): void {
  const s = def.service;
  if (!s.Service) throw new BadRequestError('Missing service name');
  if (isAnyAddress(s.Address)) throw new BadRequestError('Invalid service address');
  if (s.Weights.Passing <= 0) throw new BadRequestError('Invalid Weights: Passing must be greater than 0');
  if (s.Weights.Warning < 0) throw new BadRequestError('Invalid Weights: Warning must be greater or equal than 0');
  const meta = serviceMetaProblem(s.Meta);
  if (meta) throw new BadRequestError(`Invalid Service Meta: ${meta}`);
  const problems = serviceProblems(def, false);
  if (problems.length) throw new BadRequestError(`Validation failed: ${multiError(problems)}`);
  for (const c of def.checks) {
    const problem = validateCheckType(c.type);
    if (problem) throw new BadRequestError(`Invalid check: ${problem}`);
  }
  for (const c of def.checks) {
    if (c.Status && !validStatus(c.Status)) throw new BadRequestError("Status for checks must 'passing', 'warning', 'critical'");
  }
}

/**
 * Consul's NodeService.Validate (`forAgent` false: a proxy needs its port) or ValidateForAgent
 * (a sidecar, whose port the agent assigns): every problem, in Consul's order and words.
 */
export function serviceProblems(def: ServiceDefinition, forAgent: boolean): string[] {
  const s = def.service;
  const out: string[] = [];
  if (!forAgent && s.Kind === 'connect-proxy' && !s.Port && !s.SocketPath) out.push(`Port or SocketPath must be set for a ${s.Kind}`);
  out.push(...proxyProblems(s, def.sidecar !== undefined));
  if (def.sidecar) {
    if (def.sidecar.givenId) out.push('A SidecarService cannot specify an ID as this is managed by the agent');
    if (def.sidecar.def.sidecar) out.push('A SidecarService cannot have a nested SidecarService');
  }
  if (s.Connect?.Native === true && !s.Port && !s.SocketPath) out.push('Port or SocketPath must be set for a Connect native service.');
  return out;
}

/** Validates a sidecar's checks and statuses as AgentRegisterService does before registering. */
export function validateSidecarChecks(def: ServiceDefinition): void {
  if (!def.sidecar) return;
  for (const c of def.sidecar.def.checks) {
    const problem = validateCheckType(c.type);
    if (problem) throw new BadRequestError(`Invalid check in sidecar_service: ${problem}`);
  }
  for (const c of def.sidecar.def.checks) {
    if (c.Status && !validStatus(c.Status)) throw new BadRequestError("Status for checks must 'passing', 'warning', 'critical'");
  }
}

/** Validates a check registration as AgentRegisterCheck does. */
export function validateCheckDefinition(def: CheckDefinition): void {
  if (!def.Name) throw new BadRequestError('Missing check name');
  if (def.Status && !validStatus(def.Status)) throw new BadRequestError('Bad check status');
  const problem = validateCheckType(def.type);
  if (problem) throw new BadRequestError(`Invalid check: ${problem}`);
}
