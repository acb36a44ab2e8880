// The transport-neutral request handlers see, and the parsing of Consul's cross-cutting query
// parameters: token precedence, dc, blocking (index/wait), consistency flags and conflicts.
import type { IncomingHttpHeaders } from 'node:http';
import { BadRequestError, TooLargeError, errNoPathToDatacenter } from '../errors.ts';
import { parseGoDuration } from '../duration.ts';
import { parseCacheControl } from './cache-control.ts';
import type { QueryOptions, Consistency, AclIdentity } from '../endpoint/index.ts';
import type { Abortable } from '../state/notify.ts';
import type { RateOperation } from './rate-limit-ops.ts';
import { entInput, type TenancyMode } from './tenancy.ts';
import { resolveEnt } from '../endpoint/index.ts';
import { DEFAULT_ENT, entKey, isDefaultEnt, type EnterpriseMeta } from '../state/index.ts';

/** A request as handlers see it. `params.rest` is the decoded path tail matched by `*`. */
export interface HttpRequest {
  method: string;
  path: string;
  /** The request target as received (path and query, still encoded), when the transport has one. */
  url?: string;
  params: { rest: string };
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  remoteAddr: string;
  /** Aborted when the client leaves. On the transport's requests an accessor (made on first use): a spread copy must carry it explicitly, and body() too (a method there). */
  signal: AbortSignal;
  /**
   * The same abort as `signal` as a lighter listener target (no AbortController made), when the
   * transport has one: what a blocking query waits on.
   */
  readonly aborts?: Abortable;
  /** Reads the body, rejecting past `limit` bytes with `tooLarge(size)`'s message. */
  body(limit?: number, tooLarge?: (size: number) => string): Promise<Buffer>;
  /**
   * Counts the Consul RPC a handler makes once only its body says which (a transaction's Txn.Read
   * or Txn.Apply) against the server's request rate limits; throws as the limiter does. Absent,
   * or doing nothing, where no limit applies.
   */
  countRpc?(op: RateOperation): void;
}

/** Token resolution for the transport: the agent's current default token and the resolver. */
export interface RequestAcl {
  /** The agent's default token now (acl.tokens.default, or as set via /v1/agent/token/default). */
  defaultToken(): string;
  /** Resolves a secret to an identity; throws `ACL not found` (403) for unknown secrets. */
  resolve(secret: string): AclIdentity;
}

/** Settings the parsers need. */
export interface RequestConfig {
  datacenter: string;
  defaultToken: string;
  /** When set, every parsed request carries the caller's resolved identity. */
  acl?: RequestAcl;
  /** discovery_max_stale > 0: catalog and health reads without a consistency choice are stale. */
  discoveryMaxStaleMs?: number;
  /** http_config.use_cache: only then does `?cached` count as a consistency choice. */
  useCache?: boolean;
  /** The agent's admin partition (client agents' `partition`): fills a converted request's unnamed partition. */
  partition?: string;
}

/**
 * Consul's getBoolQueryParam: false when absent, true when given without a value, else Go's
 * strconv.ParseBool of the value; any other value is a 400 with `invalid` as its text.
 */
export function boolParam(req: HttpRequest, name: string, invalid: string): boolean {
  if (!req.query.has(name)) return false;
  const raw = req.query.get(name) ?? '';
  if (raw === '' || ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(raw)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(raw)) return false;
  throw new BadRequestError(invalid);
}

/** True when a presence flag (`?stale`, `?recurse`) is given, with or without a value. */
export function flag(req: HttpRequest, name: string): boolean {
  return req.query.has(name);
}

/** Token precedence: ?token, then X-Consul-Token, then Authorization: Bearer. */
export function parseToken(req: HttpRequest, cfg: RequestConfig): string {
  const q = req.query.get('token');
  if (q) return q;
  const h = req.headers['x-consul-token'];
  if (typeof h === 'string' && h) return h;
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const [scheme, value] = auth.trim().split(/\s+/, 2);
    if (scheme?.toLowerCase() === 'bearer' && value) return value;
  }
  return cfg.acl ? cfg.acl.defaultToken() : cfg.defaultToken;
}

/** The caller's identity for a write (or any request not parsed by queryOptions); undefined without ACL wiring. */
export function authzOf(req: HttpRequest, cfg: RequestConfig): AclIdentity | undefined {
  return cfg.acl?.resolve(parseToken(req, cfg));
}

/** Rejects requests for another datacenter (federation comes later), as every endpoint does. */
export function checkDatacenter(req: HttpRequest, cfg: RequestConfig): void {
  const dc = req.query.get('dc');
  if (dc && dc !== cfg.datacenter) throw errNoPathToDatacenter();
}

/**
 * Rejects namespaces and partitions as Consul CE's parseEntMeta does: any non-empty value
 * (even "default"), the namespace header first, then its query parameter, then partitions.
 */
export function checkTenancy(req: HttpRequest): void {
  for (const t of TENANCY) {
    const h = req.headers[t.lower];
    if (typeof h === 'string' && h !== '') throw new BadRequestError(`Invalid header: "${t.header}" - ${t.what} are a Consul Enterprise feature`);
    if (req.query.get(t.param)) throw new BadRequestError(`Invalid query parameter: "${t.param}" - ${t.what} are a Consul Enterprise feature`);
  }
}

/** The tenancy inputs checkTenancy rejects, in Consul's order, with their header names lower-cased once. */
const TENANCY = [
  { param: 'ns', header: 'X-Consul-Namespace', lower: 'x-consul-namespace', what: 'Namespaces' },
  { param: 'partition', header: 'X-Consul-Partition', lower: 'x-consul-partition', what: 'Partitions' },
] as const;

/** The datacenter and tenancy checks of endpoints that take enterprise meta (KV, catalog, …). */
export function checkTarget(req: HttpRequest, cfg: RequestConfig): void {
  checkDatacenter(req, cfg);
  checkTenancy(req);
}

/** ?stale, ?consistent, ?max_stale and ?cached as Consul's parseConsistency reads and checks them. */
export function consistency(req: HttpRequest): Consistency {
  let stale = flag(req, 'stale');
  const consistent = flag(req, 'consistent');
  const maxStale = req.query.get('max_stale');
  if (maxStale) {
    const ms = parseGoDuration(maxStale);
    if (ms === null) throw new BadRequestError(`Invalid max_stale value ${JSON.stringify(maxStale)}`);
    if (ms > 0) stale = true;
  }
  if (stale && consistent) throw new BadRequestError('Cannot specify ?stale with ?consistent, conflicting semantics.');
  if (flag(req, 'cached') && consistent) throw new BadRequestError('Cannot specify ?cached with ?consistent, conflicting semantics.');
  return consistent ? 'consistent' : stale ? 'stale' : 'default';
}

/**
 * Consul's discovery_max_stale default: a /v1/catalog or /v1/health read that chose no consistency
 * (no ?stale, ?consistent, ?leader, ?cached with the cache on, nor a positive ?max_stale) is stale.
 */
export function discoveryStale(req: HttpRequest, cfg: Pick<RequestConfig, 'discoveryMaxStaleMs' | 'useCache'>): boolean {
  if (!cfg.discoveryMaxStaleMs || cfg.discoveryMaxStaleMs <= 0) return false;
  if (!req.path.startsWith('/v1/catalog') && !req.path.startsWith('/v1/health')) return false;
  if (flag(req, 'stale') || flag(req, 'consistent') || flag(req, 'leader') || (flag(req, 'cached') && cfg.useCache !== false)) return false;
  const maxStale = req.query.get('max_stale');
  return !maxStale || !((parseGoDuration(maxStale) ?? 0) > 0);
}

/**
 * Consistency, Cache-Control, ?wait and ?index checked and read in Consul's parse() order. Every
 * read parses them, and so do KV writes (Consul's KVSEndpoint calls parse() for every method).
 */
export function parseOptions(req: HttpRequest): { consistency: Consistency; waitMs: number; minIndex: number } {
  const mode = consistency(req);
  // Refused on every parsed request, cached or not.
  if (req.headers['cache-control'] !== undefined) parseCacheControl(req.headers['cache-control']);
  let waitMs = 0;
  const wait = req.query.get('wait');
  if (wait) {
    const ms = parseGoDuration(wait);
    if (ms === null) throw new BadRequestError('Invalid wait time');
    // Go accepts a negative duration; the blocking query then uses the default wait.
    waitMs = Math.max(0, ms);
  }
  let minIndex = 0;
  const index = req.query.get('index');
  if (index) {
    if (!/^\d+$/.test(index) || !Number.isSafeInteger(Number(index))) throw new BadRequestError('Invalid index');
    minIndex = Number(index);
  }
  return { consistency: mode, waitMs, minIndex };
}

/**
 * Parses the options of a read: target, token, blocking and consistency (Consul's parse()).
 * `tenancy`: absent or true, Consul CE's 400 for any namespace or partition (handlers not converted
 * to tenancy); false, not read at all; a mode, the request's tenant is resolved into `ent`.
 */
export function queryOptions(req: HttpRequest, cfg: RequestConfig, opts: { tenancy?: boolean | TenancyMode } = {}): QueryOptions {
  const mode = typeof opts.tenancy === 'string' ? opts.tenancy : undefined;
  if (opts.tenancy === false || mode) checkDatacenter(req, cfg);
  else checkTarget(req, cfg);
  const input = mode ? entInput(req, mode) : undefined;
  const parsed = parseOptions(req);
  const { waitMs, minIndex } = parsed;
  const consistencyMode = parsed.consistency === 'default' && discoveryStale(req, cfg) ? 'stale' : parsed.consistency;
  const token = parseToken(req, cfg);
  const q = new RequestQueryOptions(req, minIndex, waitMs, consistencyMode, token, cfg.acl?.resolve(token));
  if (input) {
    // Nothing chooses another tenant (every CE request): the default one, without resolving it.
    q.ent = !input.explicit && !cfg.partition && !q.authz?.ent ? DEFAULT_ENT
      : resolveEnt({ request: input, agentPartition: cfg.partition, token: q.authz?.ent, peer: !!req.query.get('peer') });
    q.entNamed = input.explicit;
  }
  if (consistencyMode === 'stale') {
    const bound = maxStaleBound(req, cfg);
    if (bound > 0) q.maxStaleMs = bound;
  }
  return q;
}

/**
 * The staleness bound of a stale /v1/catalog or /v1/health read: a positive ?max_stale, else
 * discovery_max_stale when it made the read stale (0: unbounded). Consul's catalog and health
 * endpoints re-ask the leader (RETRY_ONCE) when the stale answer's LastContact passes it.
 */
function maxStaleBound(req: HttpRequest, cfg: RequestConfig): number {
  if (!req.path.startsWith('/v1/catalog') && !req.path.startsWith('/v1/health')) return 0;
  const given = req.query.get('max_stale');
  const ms = given ? parseGoDuration(given) ?? 0 : 0;
  if (ms > 0) return ms;
  return discoveryStale(req, cfg) ? cfg.discoveryMaxStaleMs ?? 0 : 0;
}

/**
 * The QueryOptions of one request. Its abort is the request's (its lighter `aborts` when the
 * transport has one), taken only when a query actually waits: most reads answer at once, and the
 * transport wires a request's abort (a close listener) only on first use.
 */
class RequestQueryOptions implements QueryOptions {
  readonly #req: HttpRequest;
  minIndex: number;
  waitMs: number;
  consistency: Consistency;
  token: string;
  authz: AclIdentity | undefined;
  shareKey: string | undefined = undefined;
  maxStaleMs: number | undefined = undefined;
  ent: EnterpriseMeta | undefined = undefined;
  entNamed: boolean | undefined = undefined;

  constructor(req: HttpRequest, minIndex: number, waitMs: number, consistency: Consistency, token: string, authz: AclIdentity | undefined) {
    this.#req = req;
    this.minIndex = minIndex;
    this.waitMs = waitMs;
    this.consistency = consistency;
    this.token = token;
    this.authz = authz;
  }

  get signal(): Abortable {
    return this.#req.aborts ?? this.#req.signal;
  }
}

/** Parameters that never change a read's answer: blocking, rendering and the token (keyed by its value). */
const UNSHARED_PARAMS = ['index', 'wait', 'pretty', 'token'];

/**
 * The key under which identical reads share one result (QueryOptions.shareKey): path, the other
 * parameters in a stable order, the token in effect, and the tenant outside the default one (a
 * header or the token's scope may choose it). Only for reads whose answer depends on nothing else
 * of the request (no agent-local state, no other headers).
 */
export function shareKey(req: HttpRequest, token: string, ent?: EnterpriseMeta): string {
  const params = new URLSearchParams(req.query);
  for (const p of UNSHARED_PARAMS) params.delete(p);
  params.sort();
  const key = `${req.path}?${params.toString()}\n${token}`;
  return isDefaultEnt(ent) ? key : `${key}\n${entKey(ent!)}`;
}

/** queryOptions() for a read whose identical copies at one revision may share their result. */
export function sharedQueryOptions(req: HttpRequest, cfg: RequestConfig, opts: { tenancy?: boolean | TenancyMode } = {}): QueryOptions {
  const q = queryOptions(req, cfg, opts);
  // A request naming the default tenant (a header may) is answered with the tenancy fields: not shared with one that does not.
  q.shareKey = q.entNamed ? `${shareKey(req, q.token, q.ent)}\n+tenancy` : shareKey(req, q.token, q.ent);
  return q;
}

/** Parses an unsigned integer query parameter the way Go's strconv.ParseUint reports errors. */
export function uintParam(req: HttpRequest, name: string): number | undefined {
  const v = uint64Param(req, name);
  return v === undefined ? undefined : Number(v);
}

const UINT64_MAX = (1n << 64n) - 1n;

/** Parses a full-range uint64 query parameter (KV flags) with Go's ParseUint errors. */
export function uint64Param(req: HttpRequest, name: string): bigint | undefined {
  if (!req.query.has(name)) return undefined;
  const v = req.query.get(name) ?? '';
  if (!/^\d+$/.test(v)) throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(v)}: invalid syntax`);
  const n = BigInt(v);
  if (n > UINT64_MAX) throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(v)}: value out of range`);
  return n;
}

/** Consul's 413 text for an oversize KV value. */
export function kvTooLarge(limit: number): (size: number) => string {
  return (size) => `Request body(${size} bytes) too large, max size: ${limit} bytes. See https://developer.hashicorp.com/docs/agent/config/config-files#kv_max_value_size.`;
}

/** Rejects a body over `limit` with a TooLargeError. */
export function assertSize(size: number, limit: number, message: (size: number) => string): void {
  if (size > limit) throw new TooLargeError(message(size));
}
