// Service and check definitions as the agent receives them (Consul's ServiceDefinition and
// CheckDefinition): decoded from HTTP bodies (CamelCase or python-consul's lowercase) and from
// config files (snake_case) alike, with Go duration strings turned into milliseconds.
import { BadRequestError } from '../../errors.ts';
import { parseGoDuration } from '../../cli/flags.ts';
import { goDurationError } from '../../duration.ts';
import { bool, fold, num, record, str, strings, type Folded } from './decode-keys.ts';
import { decodeProxy } from './proxy.ts';
import type { CheckStatus, CheckType } from '../checks/types.ts';
import type { Locality, NodeService, ServiceAddress, Weights } from '../../api/catalog-types.ts';

/**
 * A service as the agent owns it: Consul's NodeService without Raft indexes or partition; its
 * Namespace only outside the default namespace (lower-case).
 */
export interface LocalService
  extends Omit<NodeService, 'TaggedAddresses' | 'PeerName' | 'Datacenter' | 'Partition' | 'CreateIndex' | 'ModifyIndex'> {
  TaggedAddresses: Record<string, ServiceAddress> | null;
  /** Registered from a parent's `connect.sidecar_service`: removed with the parent (never sent to the catalog). */
  LocallyRegisteredAsSidecar?: boolean;
}

/** A check definition: the check's identity plus how it runs (its CheckType). */
export interface CheckDefinition {
  /** The check's namespace outside the default one (lower-case). */
  Namespace?: string;
  ID: string;
  Name: string;
  Notes: string;
  ServiceID: string;
  Status?: CheckStatus | string;
  Token: string;
  type: CheckType;
}

/** A decoded service definition with its checks. */
export interface ServiceDefinition {
  service: LocalService;
  checks: CheckDefinition[];
  token: string;
  /** `Connect.SidecarService`: the nested definition and the ID it gave (Consul refuses one). */
  sidecar?: { def: ServiceDefinition; givenId: string };
}

/**
 * Parses a Go duration (string) or nanoseconds (number) into milliseconds; 0 when absent. Like
 * the UnmarshalJSON of Consul's CheckDefinition/CheckType, any other JSON type is ignored (0).
 */
export function durationMs(v: unknown): number {
  if (typeof v === 'number') return v / 1e6;
  if (typeof v !== 'string' || v === '') return 0;
  const ms = parseGoDuration(v);
  if (ms === null) throw new BadRequestError(`Request decode failed: ${goDurationError(v)}`);
  return ms;
}

function checkType(f: Folded): CheckType {
  const t: CheckType = {
    ScriptArgs: strings(f, 'scriptargs', 'args'), Script: str(f, 'script') || undefined, Shell: str(f, 'shell') || undefined,
    DockerContainerID: str(f, 'dockercontainerid') || undefined, HTTP: str(f, 'http') || undefined,
    Method: str(f, 'method') || undefined, Header: record<string[]>(f, 'header') ?? undefined, Body: str(f, 'body') || undefined,
    DisableRedirects: bool(f, 'disableredirects'), TLSServerName: str(f, 'tlsservername') || undefined,
    TLSSkipVerify: bool(f, 'tlsskipverify'), TCP: str(f, 'tcp') || undefined, TCPUseTLS: bool(f, 'tcpusetls'),
    UDP: str(f, 'udp') || undefined, GRPC: str(f, 'grpc') || undefined, GRPCUseTLS: bool(f, 'grpcusetls'),
    H2PING: str(f, 'h2ping') || undefined, H2PingUseTLS: bool(f, 'h2pingusetls'), OSService: str(f, 'osservice') || undefined,
    AliasNode: str(f, 'aliasnode') || undefined, AliasService: str(f, 'aliasservice') || undefined,
    Interval: durationMs(f.get('interval')), Timeout: durationMs(f.get('timeout')), TTL: durationMs(f.get('ttl')),
    DeregisterCriticalServiceAfter: durationMs(f.get('deregistercriticalserviceafter')),
    SuccessBeforePassing: num(f, 'successbeforepassing'), FailuresBeforeWarning: num(f, 'failuresbeforewarning'),
    FailuresBeforeCritical: num(f, 'failuresbeforecritical'), OutputMaxSize: num(f, 'outputmaxsize'),
  };
  for (const k of Object.keys(t) as (keyof CheckType)[]) if (t[k] === undefined) delete t[k];
  return t;
}

/** Decodes one check definition (`/v1/agent/check/register` body or a config `check`). */
export function decodeCheck(raw: unknown): CheckDefinition {
  const f = fold(raw);
  const status = str(f, 'status');
  const ns = namespaceOf(f);
  return {
    ...(ns ? { Namespace: ns } : {}),
    ID: str(f, 'id', 'checkid'), Name: str(f, 'name'), Notes: str(f, 'notes'), ServiceID: str(f, 'serviceid'),
    ...(status ? { Status: status } : {}), Token: str(f, 'token'), type: checkType(f),
  };
}

/** True when a `Check` block carries nothing at all (Consul's CheckType.Empty()). */
export function emptyCheck(raw: unknown): boolean {
  return fold(raw).size === 0 || [...fold(raw).values()].every((v) => v === null || v === undefined || v === '' || v === 0 || v === false);
}

function weights(f: Folded): Weights {
  const w = fold(f.get('weights'));
  if (w.size === 0) return { Passing: 1, Warning: 1 };
  return { Passing: num(w, 'passing'), Warning: num(w, 'warning') };
}

function taggedAddresses(f: Folded): Record<string, ServiceAddress> | null {
  const raw = record<unknown>(f, 'taggedaddresses');
  if (!raw) return null;
  const out: Record<string, ServiceAddress> = {};
  for (const [k, v] of Object.entries(raw)) {
    const a = fold(v);
    out[k] = { Address: str(a, 'address'), Port: num(a, 'port') };
  }
  return out;
}

// Consul's structs.Locality in any key spelling (empty parts left out, as its JSON omits them).
function locality(l: Folded): Locality {
  const out: Locality = {};
  if (str(l, 'region')) out.Region = str(l, 'region');
  if (str(l, 'zone')) out.Zone = str(l, 'zone');
  return out;
}

/** A definition's `Namespace`, lower-case; '' for none or `default`. */
function namespaceOf(f: Folded): string {
  const ns = str(f, 'namespace').toLowerCase();
  return ns === 'default' ? '' : ns;
}

/** Decodes a service definition (`/v1/agent/service/register` body or a config `service`). */
export function decodeService(raw: unknown): ServiceDefinition {
  const f = fold(raw);
  const name = str(f, 'name');
  const kind = str(f, 'kind');
  const socketPath = str(f, 'socketpath');
  const connect = fold(f.get('connect'));
  const ns = namespaceOf(f);
  const service: LocalService = {
    ...(kind ? { Kind: kind } : {}),
    ID: str(f, 'id') || name, Service: name, Tags: strings(f, 'tags') ?? null, Address: str(f, 'address'),
    TaggedAddresses: taggedAddresses(f), Meta: record<string>(f, 'meta'), Port: num(f, 'port'),
    ...(socketPath ? { SocketPath: socketPath } : {}),
    Weights: weights(f), EnableTagOverride: bool(f, 'enabletagoverride') ?? false,
    ...(record(f, 'proxy') ? { Proxy: decodeProxy(f.get('proxy')) as unknown as Record<string, unknown> } : {}),
    // Only Native stays on the service: SidecarService is registration sugar, never stored.
    ...(bool(connect, 'native') ? { Connect: { Native: true } } : {}),
    ...(record(f, 'locality') ? { Locality: locality(fold(f.get('locality'))) } : {}),
    ...(ns ? { Namespace: ns } : {}),
  };
  const checks: CheckDefinition[] = [];
  if (f.get('check') !== undefined && !emptyCheck(f.get('check'))) checks.push(decodeCheck(f.get('check')));
  const list = f.get('checks');
  if (Array.isArray(list)) for (const c of list) checks.push(decodeCheck(c));
  const def: ServiceDefinition = { service, checks, token: str(f, 'token') };
  const sidecar = connect.get('sidecarservice');
  if (sidecar !== undefined && sidecar !== null) def.sidecar = { def: decodeService(sidecar), givenId: str(fold(sidecar), 'id') };
  return def;
}
