// Sidecar service registration (Consul's agent/sidecar_service.go): a service's nested
// `connect.sidecar_service` becomes a second, `connect-proxy` registration with Consul's
// defaults, a port from the sidecar range and the default Listening/Aliasing checks.
import { BadRequestError, InternalError } from '../../errors.ts';
import { joinHostPort } from '../../host-port.ts';
import type { CheckDefinition, LocalService, ServiceDefinition } from './definition.ts';
import { defaultProxy, orderProxy } from './proxy.ts';
import { serviceMetaProblem, serviceProblems } from './validate.ts';
import { multiError } from '../config/error.ts';

/** Consul's structs.SidecarProxySuffix. */
export const SIDECAR_SUFFIX = '-sidecar-proxy';

/** The sidecar range (`ports.sidecar_min_port` … `sidecar_max_port`, inclusive). */
export interface SidecarPorts {
  min: number;
  max: number;
}

/** The ID a service's sidecar always gets. */
export function sidecarId(serviceId: string): string {
  return serviceId + SIDECAR_SUFFIX;
}

/** The sidecar registration and the token it is made with. */
export interface SidecarRegistration {
  def: ServiceDefinition;
  token: string;
}

/**
 * The sidecar of `parent` with every default filled (sidecarServiceFromNodeService), or
 * undefined without a `connect.sidecar_service`; the port is left for registration time.
 */
export function sidecarFromDefinition(parent: ServiceDefinition, token: string): SidecarRegistration | undefined {
  if (!parent.sidecar) return undefined;
  const ns = parent.service;
  const nested = parent.sidecar.def;
  const given = nested.service;
  if (given.Meta) {
    const problem = serviceMetaProblem(given.Meta);
    if (problem) throw new BadRequestError(problem);
  }
  const meta = given.Meta && Object.keys(given.Meta).length ? given.Meta : ns.Meta && Object.keys(ns.Meta).length ? { ...ns.Meta } : given.Meta;
  const tags = given.Tags?.length ? given.Tags : ns.Tags?.length ? [...ns.Tags] : given.Tags;
  const proxy = { ...(given.Proxy ?? defaultProxy()) } as Record<string, unknown>;
  proxy.DestinationServiceName ||= ns.Service;
  proxy.DestinationServiceID ||= ns.ID;
  // Address defaults only when no complete local address is given (the socket path wins).
  if (!proxy.LocalServiceSocketPath && (!proxy.LocalServiceAddress || !((proxy.LocalServicePort as number) >= 1))) {
    if (ns.SocketPath) proxy.LocalServiceSocketPath = ns.SocketPath;
    else {
      proxy.LocalServiceAddress ||= '127.0.0.1';
      if (!((proxy.LocalServicePort as number) >= 1)) proxy.LocalServicePort = ns.Port;
    }
  }
  const service: LocalService = {
    ...given, Kind: given.Kind || 'connect-proxy', ID: sidecarId(ns.ID), Service: given.Service || ns.Service + SIDECAR_SUFFIX,
    Tags: tags, Address: given.Address || ns.Address, Meta: meta, Proxy: orderProxy(proxy), LocallyRegisteredAsSidecar: true,
  };
  // The parent's locality, when the sidecar gives none (a copy: the two registrations never share it).
  if (!given.Locality && ns.Locality) service.Locality = structuredClone(ns.Locality);
  return { def: { service, checks: nested.checks, token: nested.token }, token: nested.token || token };
}

/**
 * The lowest free port of the sidecar range for `id` (sidecarPortFromServiceIDLocked): a
 * sidecar already holding a port of the range keeps it; ports of other services are skipped.
 */
export function sidecarPort(services: LocalService[], id: string, range: SidecarPorts): number {
  const used = new Set<number>();
  if (range.min > 0 && range.max >= range.min) {
    for (const s of services) {
      if (s.Port < range.min || s.Port > range.max) continue;
      if (s.ID === id) return s.Port;
      used.add(s.Port);
    }
    for (let p = range.min; p <= range.max; p++) if (!used.has(p)) return p;
  }
  if (range.min < 1 || range.max < 1) throw new InternalError('no port provided for sidecar_service and auto-assignment disabled in config');
  throw new InternalError(`no port provided for sidecar_service and none left in the configured range [${range.min}, ${range.max}]`);
}

function checkDef(name: string, type: CheckDefinition['type']): CheckDefinition {
  return { ID: '', Name: name, Notes: '', ServiceID: '', Token: '', type };
}

/** The checks a sidecar gets when it names none: its listener (TCP) and its parent's health (alias). */
export function sidecarDefaultChecks(sidecar: LocalService): CheckDefinition[] {
  const parentId = sidecar.ID.endsWith(SIDECAR_SUFFIX) ? sidecar.ID.slice(0, -SIDECAR_SUFFIX.length) : sidecar.ID;
  const address = sidecar.Address || String(sidecar.Proxy?.LocalServiceAddress ?? '');
  return [
    checkDef('Connect Sidecar Listening', { TCP: joinHostPort(address, sidecar.Port), Interval: 10_000 }),
    checkDef(`Connect Sidecar Aliasing ${parentId}`, { AliasService: parentId }),
  ];
}

/**
 * The sidecar of an API registration, validated as AgentRegisterService does: build errors are
 * `Invalid SidecarService: …`, the sidecar's own problems `Failed Validation: …`.
 */
export function registrableSidecar(parent: ServiceDefinition, token: string): SidecarRegistration | undefined {
  let sidecar: SidecarRegistration | undefined;
  try {
    sidecar = sidecarFromDefinition(parent, token);
  } catch (err) {
    throw new BadRequestError(`Invalid SidecarService: ${(err as Error).message}`, { cause: err });
  }
  if (!sidecar) return undefined;
  const problems = serviceProblems(sidecar.def, true);
  if (problems.length) throw new BadRequestError(`Failed Validation: ${multiError(problems)}`);
  return sidecar;
}
