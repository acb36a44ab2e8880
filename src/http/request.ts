// The transport-neutral request handlers see, and the parsing of Consul's cross-cutting query
// parameters: token precedence, dc, blocking (index/wait), consistency flags and conflicts.
import type { IncomingHttpHeaders } from 'node:http';
import { BadRequestError, TooLargeError, errNoPathToDatacenter } from '../errors.ts';
import { parseGoDuration } from '../cli/flags.ts';
import type { QueryOptions, Consistency } from '../endpoint/index.ts';

/** A request as handlers see it. `params.rest` is the decoded path tail matched by `*`. */
export interface HttpRequest {
  method: string;
  path: string;
  params: { rest: string };
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  remoteAddr: string;
  signal: AbortSignal;
  /** Reads the body, rejecting past `limit` bytes with `tooLarge(size)`'s message. */
  body(limit?: number, tooLarge?: (size: number) => string): Promise<Buffer>;
}

/** Settings the parsers need. */
export interface RequestConfig {
  datacenter: string;
  defaultToken: string;
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
  return cfg.defaultToken;
}

/** Rejects requests for another datacenter (federation comes later) and foreign tenancy. */
export function checkTarget(req: HttpRequest, cfg: RequestConfig): void {
  const dc = req.query.get('dc');
  if (dc && dc !== cfg.datacenter) throw errNoPathToDatacenter();
  for (const [param, header, what] of [['ns', 'x-consul-namespace', 'Namespaces'], ['partition', 'x-consul-partition', 'Partitions']] as const) {
    const v = req.query.get(param) ?? req.headers[header];
    if (typeof v === 'string' && v !== '' && v !== 'default') {
      throw new BadRequestError(`Invalid query parameter: "${param}" - ${what} are a Consul Enterprise feature`);
    }
  }
}

function consistency(req: HttpRequest): Consistency {
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

/** Parses the options of a read: target, token, blocking and consistency. */
export function queryOptions(req: HttpRequest, cfg: RequestConfig): QueryOptions {
  checkTarget(req, cfg);
  let waitMs = 0;
  const wait = req.query.get('wait');
  if (wait) {
    const ms = parseGoDuration(wait);
    if (ms === null || ms < 0) throw new BadRequestError('Invalid wait time');
    waitMs = ms;
  }
  let minIndex = 0;
  const index = req.query.get('index');
  if (index) {
    if (!/^\d+$/.test(index) || !Number.isSafeInteger(Number(index))) throw new BadRequestError('Invalid index');
    minIndex = Number(index);
  }
  return { minIndex, waitMs, consistency: consistency(req), token: parseToken(req, cfg), signal: req.signal };
}

/** Parses an unsigned integer query parameter the way Go's strconv.ParseUint reports errors. */
export function uintParam(req: HttpRequest, name: string): number | undefined {
  if (!req.query.has(name)) return undefined;
  const v = req.query.get(name) ?? '';
  if (!/^\d+$/.test(v)) throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number(v);
}

/** Consul's 413 text for an oversize KV value. */
export function kvTooLarge(limit: number): (size: number) => string {
  return (size) => `Request body(${size} bytes) too large, max size: ${limit} bytes. See https://developer.hashicorp.com/docs/agent/config/config-files#kv_max_value_size.`;
}

/** Rejects a body over `limit` with a TooLargeError. */
export function assertSize(size: number, limit: number, message: (size: number) => string): void {
  if (size > limit) throw new TooLargeError(message(size));
}
