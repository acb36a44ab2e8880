// `?cached` reads: the read routes Consul serves from its agent cache answer from the AgentCache,
// whose entries are whole answers (status, headers, body) to this agent's reads, with Consul's
// X-Cache (HIT or MISS) and Age headers. A client's entries are its forwarded reads (no round
// trip to a server on a hit); a server's, its own reads made in-process. Reads without `?cached`
// go on as before.
import type { Clock } from '../../clock.ts';
import { BadRequestError } from '../../errors.ts';
import { parseGoDuration } from '../../duration.ts';
import { consistency } from '../../http/request.ts';
import { parseCacheControl, type Handler, type HttpRequest, type HttpResult, type HttpServer, type Router } from '../../http/index.ts';
import { sourceAddr } from '../../http/source.ts';
import { forwardedRequest, type ForwardRequest, type ForwardResponse } from '../forward.ts';
import type { Telemetry } from '../../telemetry/metrics.ts';
import { AgentCache, type CacheEvent, type CacheTypeOptions, type FetchOptions, type FetchResult } from './cache.ts';

/** A server's answer to a read, as kept in the cache. */
export interface CachedAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** A fetch the server answered with something other than 200: passed on to the reader as it came. */
export class ServerAnswerError extends Error {
  readonly answer: ForwardResponse;
  constructor(answer: ForwardResponse) {
    super(`server answered ${answer.status}`);
    this.answer = answer;
  }
}

/** Blocking types, kept current by a background query (Consul's RegisterOptionsBlockingRefresh). */
const REFRESH: CacheTypeOptions = { refresh: true, supportsBlocking: true, fatal: endsRefresh, revokes: refused };
/** Fetched on a miss only, Cache-Control applying (Consul's RegisterOptionsNoRefresh). */
const SIMPLE: CacheTypeOptions = { refresh: false, supportsBlocking: false, revokes: refused };

/** The cached read types, under Consul's cache-type names. */
export const CACHE_TYPES = {
  /** /v1/catalog/service/:s and /v1/catalog/connect/:s */
  catalog_services: REFRESH,
  /** /v1/catalog/services */
  catalog_list_services: REFRESH,
  /** /v1/health/service/:s, /v1/health/connect/:s, /v1/health/ingress/:s */
  health_services: REFRESH,
  /** /v1/discovery-chain/:s */
  compiled_discovery_chain: REFRESH,
  /** /v1/query/:id/execute */
  prepared_query: SIMPLE,
  /** /v1/catalog/datacenters */
  catalog_datacenters: SIMPLE,
} as const satisfies Record<string, CacheTypeOptions>;

/** A cached read type's name. */
export type CacheTypeName = keyof typeof CACHE_TYPES;

// A token that no longer exists ends background refresh, as Consul's acl.IsErrNotFound does; so
// does a request the servers refuse as malformed (400: a bad filter, an unknown option), which
// asking again cannot mend. The next read fetches again and gets the answer itself.
function endsRefresh(err: unknown): boolean {
  if (!(err instanceof ServerAnswerError)) return false;
  const { status, body } = err.answer;
  return status === 400 || (status === 403 && body.toString('utf8').includes('ACL not found'));
}

// Any 403 (ACL not found, Permission denied): the token may no longer read what it read before.
function refused(err: unknown): boolean {
  return err instanceof ServerAnswerError && err.answer.status === 403;
}

/** What the cached routes need. */
export interface HttpCacheDeps {
  clock: Clock;
  random?: () => number;
  /** Sends a request to a server (the Forwarder over the agent's server list). */
  send: (req: ForwardRequest) => Promise<ForwardResponse>;
  defaultToken: () => string;
  /** cache.entry_fetch_rate and entry_fetch_max_burst (absent: no limit). */
  entryFetch?: { rate: number; maxBurst: number };
  /** The agent's blocking defaults: ?wait when absent, and its cap. */
  defaultQueryTimeMs: number;
  maxQueryTimeMs: number;
  /** Where consul.cache.* metrics go. */
  telemetry?: Pick<Telemetry, 'counter' | 'gauge'>;
}

/** Parameters that never make a different entry: the cache flag, blocking and consistency (fetches read stale). */
const UNKEYED = ['cached', 'index', 'wait', 'stale', 'max_stale', 'leader'];
/** Request headers left out of the fetches: the reader's own cache directives. */
const UNSENT = new Set(['cache-control']);

/** Route patterns (as the router reports them) of the cached reads, and their types. */
const CACHED_ROUTES = new Map<string, CacheTypeName>([
  ['/v1/catalog/services', 'catalog_list_services'], ['/v1/catalog/service/', 'catalog_services'], ['/v1/catalog/connect/', 'catalog_services'],
  ['/v1/health/service/', 'health_services'], ['/v1/health/connect/', 'health_services'], ['/v1/health/ingress/', 'health_services'],
  ['/v1/discovery-chain/', 'compiled_discovery_chain'], ['/v1/query/', 'prepared_query'], ['/v1/catalog/datacenters', 'catalog_datacenters'],
]);

/**
 * Types whose POST reads are cached too: Consul's discovery chain handler serves a POST (its body
 * overriding protocol, connect timeout, mesh gateway mode) from the cache, the overrides in the key.
 */
const POST_CACHED = new Set<CacheTypeName>(['compiled_discovery_chain']);

/** Only a prepared query's execution is cached, not its definition. */
export const isQueryExecute = (req: HttpRequest): boolean => req.path.endsWith('/execute');

/**
 * A server's router whose cached read routes answer `?cached` reads from `cache` (the wrapped
 * handler made once per route handler).
 */
export function cachingRouter(router: Pick<Router, 'match' | 'list'>, cache: HttpCache): Pick<Router, 'match' | 'list'> {
  const wrapped = new WeakMap<Handler, Handler>();
  return {
    list: () => router.list(),
    match(method, path) {
      const m = router.match(method, path);
      const type = m && (method === 'GET' || method === 'POST') ? CACHED_ROUTES.get(m.pattern) : undefined;
      if (type !== undefined && method === 'POST' && !POST_CACHED.has(type)) return m;
      if (!m || type === undefined) return m;
      let handler = wrapped.get(m.handler);
      if (!handler) wrapped.set(m.handler, handler = cache.handler(type, m.handler, type === 'prepared_query' ? isQueryExecute : undefined));
      return { ...m, handler };
    },
  };
}

/** A server's own read through its HTTP dispatch in-process (an agent call: no audit, no write rules). */
export function inProcessSend(http: Pick<HttpServer, 'handle'>): (req: ForwardRequest) => Promise<ForwardResponse> {
  return async (r) => {
    const res = await http.handle({ method: r.method, url: r.url, headers: r.headers, body: r.body, signal: r.signal as AbortSignal | undefined, internal: true });
    return { status: res.status, headers: res.headers, body: res.body, server: '' };
  };
}

/** The agent cache of reads and the route wrapper that uses it. */
export class HttpCache {
  readonly cache: AgentCache<CachedAnswer>;
  readonly #deps: HttpCacheDeps;

  constructor(deps: HttpCacheDeps) {
    this.#deps = deps;
    this.cache = new AgentCache<CachedAnswer>({ clock: deps.clock, random: deps.random, sizeOf: (a) => a.body.length + 512, count: cacheCounters(deps.telemetry),
      entryFetchRate: deps.entryFetch?.rate, entryFetchMaxBurst: deps.entryFetch?.maxBurst,
    });
    for (const [name, opts] of Object.entries(CACHE_TYPES)) this.cache.registerType(name, opts);
    deps.telemetry?.gauge('cache.entries_count', 'Represents the number of entries in this cache.', () => this.cache.size);
  }

  /** `forward` for reads without `?cached` (or not GET, or POST where cached); `?cached` reads through the cache as `type`. */
  handler(type: CacheTypeName, forward: Handler, applies: (req: HttpRequest) => boolean = () => true): Handler {
    const post = POST_CACHED.has(type);
    return (req) => ((req.method === 'GET' || (post && req.method === 'POST')) && req.query.has('cached') && applies(req) ? this.#read(type, req) : forward(req));
  }

  /** Stops background queries and drops every entry. */
  close(): void {
    this.cache.close();
  }

  async #read(type: CacheTypeName, req: HttpRequest): Promise<HttpResult> {
    // Consul's parse() order: consistency (?stale with ?consistent, ?max_stale, ?cached with ?consistent), Cache-Control, wait, index.
    const mode = consistency(req);
    const cc = parseCacheControl(req.headers['cache-control']);
    const { minIndex, waitMs } = this.#blocking(req);
    const fwd = await forwardedRequest(req, this.#deps.defaultToken());
    const headers = Object.fromEntries(Object.entries(fwd.headers).filter(([k]) => !UNSENT.has(k)));
    const q = fwd.url.indexOf('?');
    const path = q < 0 ? fwd.url : fwd.url.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : fwd.url.slice(q + 1));
    for (const p of UNKEYED) query.delete(p);
    query.sort();
    // A prepared query may sort by the caller's address (Near "_ip", asked or in its definition):
    // the fetch carries it (a server's own read would come from 127.0.0.1) and it is in the key.
    let source = '';
    if (type === 'prepared_query') {
      source = sourceAddr(req);
      if (source) headers['x-forwarded-for'] = source;
      else delete headers['x-forwarded-for'];
    }
    // A POST's body (the discovery chain's overrides) is part of its entry, apart from the GET's.
    const body = req.method === 'POST' ? (fwd.body ?? Buffer.alloc(0)) : undefined;
    // The namespace and partition headers choose the answer as ?ns and ?partition do (the query is in the key).
    const tenancy = headers['x-consul-namespace'] || headers['x-consul-partition'] ? [headers['x-consul-namespace'] ?? '', headers['x-consul-partition'] ?? ''] : [];
    const key = JSON.stringify([headers['x-consul-token'] ?? '', headers.authorization ?? '', source, path, query.toString(), body === undefined ? null : body.toString('utf8'), ...tenancy]);
    const fetch = (opts: FetchOptions) => this.#fetch(path, query, headers, opts, body);
    try {
      const { value, meta } = await this.cache.get({
        type, key, minIndex, timeoutMs: minIndex > 0 ? waitMs : 0, maxAgeMs: cc.maxAgeMs, mustRevalidate: cc.mustRevalidate,
        staleIfErrorMs: cc.staleIfErrorMs, signal: req.aborts ?? req.signal,
      }, fetch);
      // Consul's setCacheMeta: X-Cache always, Age (whole seconds) on a hit; the consistency is the reader's.
      const extra: Record<string, string> = meta.hit ? { 'X-Cache': 'HIT', Age: Math.round(meta.ageMs / 1000).toFixed(0) } : { 'X-Cache': 'MISS' };
      if ('X-Consul-Effective-Consistency' in value.headers) extra['X-Consul-Effective-Consistency'] = mode === 'stale' ? 'stale' : 'leader';
      return answer(value, extra);
    } catch (err) {
      if (err instanceof ServerAnswerError) return answer(err.answer, {});
      throw err;
    }
  }

  /** ?index and ?wait as Consul's parseWait reads them; the wait defaults to, and is capped by, the agent's. */
  #blocking(req: HttpRequest): { minIndex: number; waitMs: number } {
    let waitMs = this.#deps.defaultQueryTimeMs;
    const wait = req.query.get('wait');
    if (wait) {
      const ms = parseGoDuration(wait);
      if (ms === null) throw new BadRequestError('Invalid wait time');
      if (ms > 0) waitMs = Math.min(ms, this.#deps.maxQueryTimeMs);
    }
    const index = req.query.get('index');
    if (index && (!/^\d+$/.test(index) || !Number.isSafeInteger(Number(index)))) throw new BadRequestError('Invalid index');
    return { minIndex: index ? Number(index) : 0, waitMs };
  }

  /** One read from a server (a POST when it has a body): a blocking one at the entry's index for background refresh. */
  async #fetch(path: string, query: URLSearchParams, headers: Record<string, string>, opts: FetchOptions, body?: Buffer): Promise<FetchResult<CachedAnswer>> {
    const q = new URLSearchParams(query);
    // Consul's cache types always read stale: an answer served from a cache gains nothing from the leader.
    q.set('stale', '');
    if (opts.minIndex > 0) {
      q.set('index', String(opts.minIndex));
      q.set('wait', `${Math.ceil(opts.timeoutMs / 1000)}s`);
    }
    const qs = q.toString();
    const url = qs ? `${path}?${qs}` : path;
    const res = await this.#deps.send(body ? { method: 'POST', url, headers, body, signal: opts.signal } : { method: 'GET', url, headers, signal: opts.signal });
    if (res.status !== 200) throw new ServerAnswerError(res);
    return { value: { status: res.status, headers: res.headers, body: res.body }, index: Number(res.headers['X-Consul-Index'] ?? 0) || 0 };
  }
}

// Consul's names: consul.cache.<type>.hit, miss_new and miss_block; consul.cache.fetch_success,
// fetch_error and evict_expired (and the per-type fetch counts). Counters are made on first use.
function cacheCounters(telemetry: Pick<Telemetry, 'counter'> | undefined): ((event: CacheEvent, type: string) => void) | undefined {
  if (!telemetry) return undefined;
  const counters = new Map<string, (n?: number) => void>();
  const inc = (name: string): void => {
    let c = counters.get(name);
    if (!c) counters.set(name, c = telemetry.counter(name, `Counts ${name.split('.').pop()} events of the agent cache.`));
    c();
  };
  return (event, type) => {
    inc(`cache.${type}.${event}`);
    if (event === 'fetch_success' || event === 'fetch_error' || event === 'evict_expired') inc(`cache.${event}`);
  };
}

function answer(a: CachedAnswer, extra: Record<string, string>): HttpResult {
  const { 'Content-Type': contentType, ...headers } = a.headers;
  const all = { ...headers, ...extra };
  if (contentType) return { status: a.status, raw: a.body, contentType, headers: all };
  return a.body.length ? { status: a.status, raw: a.body, headers: all } : { status: a.status, headers: all };
}
