// Decoding of ACL request bodies the way Consul's decoder reads them: field names matched
// case-insensitively, link lists normalised, ExpirationTTL as a Go duration or nanoseconds.
import { BadRequestError } from '../../errors.ts';
import { parseGoDuration } from '../../duration.ts';
import type { AuthMethodInput, BindingRuleInput, PolicyInput, RoleInput, TokenInput } from '../../endpoint/index.ts';
import { canonical, parseJSON } from '../body.ts';

const TOKEN = ['AccessorID', 'SecretID', 'Description', 'Policies', 'Roles', 'ServiceIdentities', 'NodeIdentities', 'TemplatedPolicies', 'Local', 'AuthMethod', 'ExpirationTime', 'ExpirationTTL', 'Namespace', 'Partition'];
const POLICY = ['ID', 'Name', 'Description', 'Rules', 'Datacenters', 'Namespace', 'Partition'];
const ROLE = ['ID', 'Name', 'Description', 'Policies', 'ServiceIdentities', 'NodeIdentities', 'TemplatedPolicies', 'Namespace', 'Partition'];
const METHOD = ['Name', 'Type', 'DisplayName', 'Description', 'MaxTokenTTL', 'TokenLocality', 'Config', 'NamespaceRules', 'Namespace', 'Partition'];
const RULE = ['ID', 'Description', 'AuthMethod', 'Selector', 'BindType', 'BindName', 'BindVars', 'Namespace', 'Partition'];

function object(body: Buffer, what: string): Record<string, unknown> {
  const raw = parseJSON(body) ?? {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new BadRequestError(`Request decode failed: json: cannot unmarshal into Go value of type ${what}`);
  }
  return raw as Record<string, unknown>;
}

function list(v: unknown, fields: string[]): Record<string, unknown>[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new BadRequestError('Request decode failed: expected a list');
  return v.map((x) => canonical(x, fields));
}

function links<T>(b: Record<string, unknown>): Record<string, T | undefined> {
  return {
    Policies: list(b.Policies, ['ID', 'Name']) as T,
    Roles: list(b.Roles, ['ID', 'Name']) as T,
    ServiceIdentities: list(b.ServiceIdentities, ['ServiceName', 'Datacenters']) as T,
    NodeIdentities: list(b.NodeIdentities, ['NodeName', 'Datacenter']) as T,
    TemplatedPolicies: list(b.TemplatedPolicies, ['TemplateName', 'TemplateVariables', 'Datacenters']) as T,
  };
}

/** ExpirationTTL in ms from a Go duration string or a number of nanoseconds. */
function ttlMs(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '' || v === 0) return undefined;
  if (typeof v === 'number') return v / 1e6;
  if (typeof v === 'string') {
    const ms = parseGoDuration(v);
    if (ms === null) throw new BadRequestError(`Request decode failed: time: invalid duration ${JSON.stringify(v)}`);
    return ms;
  }
  throw new BadRequestError('Request decode failed: ExpirationTTL must be a duration');
}

/** Decodes a token create/update body. */
export function decodeToken(body: Buffer): TokenInput {
  const b = canonical(object(body, 'structs.ACLToken'), TOKEN);
  return {
    ...(b as TokenInput), ...links(b), ExpirationTTL: ttlMs(b.ExpirationTTL),
    ExpirationTime: typeof b.ExpirationTime === 'string' && b.ExpirationTime ? new Date(b.ExpirationTime).toISOString() : undefined,
  } as TokenInput;
}

/** Decodes a policy body. */
export function decodePolicy(body: Buffer): PolicyInput {
  return canonical(object(body, 'structs.ACLPolicy'), POLICY) as PolicyInput;
}

/** Decodes a role body. */
export function decodeRole(body: Buffer): RoleInput {
  const b = canonical(object(body, 'structs.ACLRole'), ROLE);
  const { Roles: _r, ...l } = links(b);
  return { ...(b as RoleInput), ...l } as RoleInput;
}

/** Decodes an auth method body. */
export function decodeAuthMethod(body: Buffer): AuthMethodInput {
  return canonical(object(body, 'structs.ACLAuthMethod'), METHOD) as AuthMethodInput;
}

/** Decodes a binding rule body. */
export function decodeBindingRule(body: Buffer): BindingRuleInput {
  return canonical(object(body, 'structs.ACLBindingRule'), RULE) as BindingRuleInput;
}

/** Decodes any JSON object body with the given canonical fields. */
export function decodeObject(body: Buffer, fields: string[], what: string): Record<string, unknown> {
  return canonical(object(body, what), fields);
}
