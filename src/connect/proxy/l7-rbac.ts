// Intentions enforced per HTTP request, as the RBAC filter Consul gives Envoy's public listener for
// an http service (agent/xds/rbac.go): the first intention (precedence order) whose source is the
// caller decides; an L7 one by its first matching permission, falling through to the default.
import type { Intention } from '../intentions.ts';
import { WILDCARD } from '../intentions.ts';
import { parseServiceUri } from '../spiffe.ts';
import { fullMatch, type L7Request } from './l7-route.ts';

/** What the intentions say about one request: allow, deny, or nothing (the default applies). */
export type RbacVerdict = 'allow' | 'deny' | 'default';

/** Envoy's local reply to a request its RBAC filter denies. */
export const RBAC_DENIED = { status: 403, text: 'RBAC: access denied' } as const;

type Obj = Record<string, unknown>;

const obj = (v: unknown): Obj | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);
const str = (o: Obj | undefined, k: string): string => (typeof o?.[k] === 'string' ? (o[k] as string) : '');
const list = (o: Obj | undefined, k: string): unknown[] => (Array.isArray(o?.[k]) ? (o[k] as unknown[]) : []);

/**
 * One Header of a permission, in the order convertPermission reads it: Exact, Regex, Prefix,
 * Suffix, Present; one with none of them is skipped (matches). Repeated headers are joined
 * with ',' and an absent header fails every match, so an inverted matcher accepts it (Envoy).
 */
function headerMatches(m: Obj | undefined, req: L7Request): boolean {
  let test: ((v: string) => boolean) | undefined;
  if (str(m, 'Exact')) test = (v) => v === str(m, 'Exact');
  else if (str(m, 'Regex')) test = (v) => fullMatch(str(m, 'Regex'), v);
  else if (str(m, 'Prefix')) test = (v) => v.startsWith(str(m, 'Prefix'));
  else if (str(m, 'Suffix')) test = (v) => v.endsWith(str(m, 'Suffix'));
  else if (m?.Present === true) test = () => true;
  else return true;
  const raw = req.headers[str(m, 'Name').toLowerCase()];
  const value = Array.isArray(raw) ? raw.join(',') : raw;
  return (value !== undefined && test(value)) !== (m?.Invert === true);
}

/**
 * Whether an intention permission's HTTP match accepts `req` (all of its parts: one path
 * matcher, every header, the methods); a permission without HTTP matches every request.
 */
export function permissionMatches(permission: unknown, req: L7Request): boolean {
  const http = obj(obj(permission)?.HTTP);
  if (!http) return true;
  const exact = str(http, 'PathExact');
  const prefix = str(http, 'PathPrefix');
  const regex = str(http, 'PathRegex');
  if (exact && req.path !== exact) return false;
  if (!exact && prefix && !req.path.startsWith(prefix)) return false;
  if (!exact && !prefix && regex && !fullMatch(regex, req.path)) return false;
  if (!list(http, 'Header').every((h) => headerMatches(obj(h), req))) return false;
  // Consul gives Envoy the methods as one regex (`GET|POST`) on :method, so they match with case.
  const methods = list(http, 'Methods').map(String);
  return methods.length === 0 || methods.includes(req.method);
}

/** A caller as its certificate's SPIFFE ID names it: service, namespace and partition (lower-case tenancy). */
export interface CallerId {
  name: string;
  namespace: string;
  partition: string;
}

const DEFAULT_CALLER_TENANT = { namespace: 'default', partition: 'default' } as const;

/** The caller a SPIFFE ID names when it belongs to `trustDomain`: its service in its namespace and partition. */
export function callerIdentity(uri: string, trustDomain: string): CallerId | undefined {
  const id = parseServiceUri(uri);
  if (!id) return undefined;
  // RBAC principals carry the local trust domain; a peer's would need its own (peering is not here).
  if (trustDomain && id.host.toLowerCase() !== trustDomain.toLowerCase()) return undefined;
  return { name: id.service, namespace: id.namespace.toLowerCase(), partition: (id.partition ?? 'default').toLowerCase() };
}

/** The service name of a caller's SPIFFE ID when it belongs to `trustDomain` and the default namespace. */
export function callerService(uri: string, trustDomain: string): string | undefined {
  const id = callerIdentity(uri, trustDomain);
  return id && id.namespace === 'default' && id.partition === 'default' ? id.name : undefined;
}

/**
 * Whether an intention's source can be a caller of `tenant` (by default the default namespace of
 * the default partition): not a peer's or sameness group's, in that namespace or the wildcard one
 * (a `*` / `*` source), and in that partition (a source of another partition is another service).
 */
export function isLocalCaller(i: Intention, tenant: { namespace: string; partition: string } = DEFAULT_CALLER_TENANT): boolean {
  return !i.SourcePeer && !i.SourceSamenessGroup && ((i.SourceNS ?? 'default') === tenant.namespace || i.SourceNS === WILDCARD)
    && (i.SourcePartition || 'default') === tenant.partition;
}

/**
 * The verdict for `req` from `caller` under `intentions` (those matching the destination, in
 * precedence order): the first local intention naming the caller or `*` decides, and hides every
 * lower one for this caller (Consul's NotSources); an L7 intention by its first matching
 * permission, or the default when none matches.
 */
export function rbacVerdict(intentions: readonly Intention[], caller: string | CallerId | undefined, req: L7Request): RbacVerdict {
  if (caller === undefined) return 'default';
  // A bare name is a caller of the default namespace and partition.
  const id = typeof caller === 'string' ? { name: caller, ...DEFAULT_CALLER_TENANT } : caller;
  const ixn = intentions.find((i) => isLocalCaller(i, id) && (i.SourceName === id.name || i.SourceName === WILDCARD));
  if (!ixn) return 'default';
  if (ixn.Permissions?.length) {
    const perm = ixn.Permissions.find((p) => permissionMatches(p, req));
    if (!perm) return 'default';
    return str(obj(perm), 'Action') === 'allow' ? 'allow' : 'deny';
  }
  return ixn.Action === 'allow' ? 'allow' : 'deny';
}

/**
 * The headers RBAC matches for a request, as Envoy holds them: each name's values joined with ','
 * (from the raw headers, so no repeat is dropped or joined with ', '), and the pseudo-headers
 * :method, :path (normalized, with the query), :authority and :scheme.
 */
export function rbacHeaders(rawHeaders: readonly string[], method: string, pathAndQuery: string, authority: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    if (name.startsWith(':')) continue;
    out[name] = name in out ? `${out[name]},${rawHeaders[i + 1]}` : rawHeaders[i + 1];
  }
  out[':method'] = method;
  out[':path'] = pathAndQuery;
  out[':scheme'] = 'https';
  const host = authority ?? out.host;
  if (host !== undefined) out[':authority'] = host;
  return out;
}
