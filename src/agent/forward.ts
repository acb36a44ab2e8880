// The internal RPC client (DESIGN §6: HTTP/1.1 keep-alive with JSON): proxies a request to one
// of a list of servers, moving on to the next when a connection fails before any answer came
// back (Consul's client RPC retry), and passing status, headers and body through unchanged.
// With tls.internal_rpc.verify_outgoing the connections are TLS (tls-configurator.ts).
import type http from 'node:http';
import type https from 'node:https';
import { InternalError, RpcRateExceededError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Handler, HttpRequest, HttpResult } from '../http/index.ts';
import type { TlsConfigurator } from './tls-configurator.ts';
import type { Abortable } from '../state/notify.ts';
import { nodeHttp, nodeHttps } from '../node-http.ts';
import type { Clock } from '../clock.ts';
import type { Telemetry } from '../telemetry/metrics.ts';
import { RETRY_ELSEWHERE, discoveryStale } from '../http/index.ts';
import { formatGoDuration, parseGoDuration } from '../duration.ts';
import { systemClock } from '../clock.ts';

/** Consul's structs.ErrNoServers text, answered with 500 when no server is known. */
export const NO_SERVERS = 'No known Consul servers';

/** A server's answer while its internal RPC is not serving yet (managed mode binds the port early). */
export const AGENT_STARTING = 'agent is starting';

/** The servers to try, in order, and where to report one that failed. */
export interface ServerSource {
  /** `host:port` of each server's internal RPC listener; the first is tried first. */
  servers(): string[];
  /** A connection to `addr` failed: Consul's router moves it to the back of the list. */
  failed?(addr: string): void;
  /** The servers' datacenter, when not the agent's own (the name their certificates must hold). */
  datacenter?: string;
}

/** A request to send to a server. */
export interface ForwardRequest {
  method: string;
  /** Path and query, already encoded (`/v1/kv/a%20b?recurse=`). */
  url: string;
  headers: Record<string, string>;
  body?: Buffer;
  /**
   * Aborts the call (the caller left, e.g. during a blocking query): an AbortSignal, or the HTTP
   * exchange's lighter abort (no AbortController made per forwarded request).
   */
  signal?: Abortable;
}

/** A server's complete answer. */
export interface ForwardResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The server that answered. */
  server: string;
}

// Hop-by-hop headers (RFC 9110 §7.6.1) and those the sender recomputes.
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host', 'content-length']);

/** Failures to connect at all: the server never saw the request. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT']);
/** A connection that broke before any answer. */
const BROKEN = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

// Another server may get the request when this one never saw it (no connection), or when
// repeating it is harmless (a read), as Consul's client retries only reads on EOF. A write on a
// connection that broke, pooled or fresh, may already have been applied (a server killed after
// its commit, before its answer), so it is never resent: the caller gets the error.
function retryable(err: NodeJS.ErrnoException, method: string): boolean {
  if (NOT_CONNECTED.has(err.code ?? '')) return true;
  const broken = BROKEN.has(err.code ?? '') || err.message === 'socket hang up';
  return tlsFailure(err) || (broken && (method === 'GET' || method === 'HEAD'));
}

// A TLS handshake that failed on either side (certificate checks, alerts): no request was served.
function tlsFailure(err: NodeJS.ErrnoException): boolean {
  const code = err.code ?? '';
  // OpenSSL's verify codes (UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_HAS_EXPIRED, ...) or Node's TLS and SSL error codes.
  return code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || (/^[A-Z_]+$/.test(code) && /CERT|SIGNATURE|ISSUER|VERIFY/.test(code));
}

/** Why a call ends when its caller left: one shared AbortError, as an aborted request's. */
const CALLER_LEFT = Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });

/** Thrown when a connection failed before any answer; the next server may be tried. */
class ConnectionFailed extends Error {}

/**
 * Idle connections kept per server. At 64 callers a limit of 16 closed 48 connections after each
 * round of answers and opened as many again (bench/client-forward.ts); servers close idle ones
 * after their keep-alive timeout anyway.
 */
const MAX_FREE_SOCKETS = 1024;

/** How a client agent retries a request a server's rate limit refused (Consul's canRetry). */
export interface RateLimitRetry {
  clock: Clock;
  /** performance.rpc_hold_timeout in milliseconds. */
  holdMs: number;
  random: () => number;
}

/** How long a call may go unanswered (Consul's ConnPool read deadline). */
export interface CallTimeouts {
  /** limits.rpc_client_timeout in milliseconds (0: none; Consul caps it at an hour). */
  clientMs: number;
  /** performance.rpc_hold_timeout, added to a blocking read's wait. */
  holdMs: number;
  /** max_query_time and default_query_time: the wait a blocking read gets. */
  maxQueryMs: number;
  defaultQueryMs: number;
  /** Default: the system clock. */
  clock?: Clock;
}

/**
 * The deadlines of an agent's calls to servers, from its limits and query times. The agent leaves
 * `clock` unset: a deadline on network I/O is real time even in a test that drives the agent's clock.
 */
export function callTimeouts(c: {
  limits: { rpcClientTimeout?: number }; rpcHoldTimeout?: number; maxQueryTime: number; defaultQueryTime: number;
}, clock?: Clock): CallTimeouts {
  return {
    clientMs: c.limits?.rpcClientTimeout ?? 60_000, holdMs: c.rpcHoldTimeout ?? 7_000,
    maxQueryMs: c.maxQueryTime, defaultQueryMs: c.defaultQueryTime, clock,
  };
}

/** rpc-server.ts's INTERNAL_RPC_PREFIX (not imported: that module depends on much of the agent). */
const INTERNAL_RPC_PREFIX = '/v1/internal/rpc/';

/** The error of a call past its deadline, as Consul's client words a yamux read timeout. */
export const DEADLINE_REACHED = 'rpc error making call: i/o deadline reached';

/**
 * The deadline of one call, as Consul's ConnPool.rpc sets it: a blocking read (`?index=` above 0)
 * gets its wait (capped at max_query_time, default_query_time when unset) plus 1/16 of jitter and
 * rpc_hold_timeout, instead of rpc_client_timeout; 0 is none.
 */
export function callTimeout(t: CallTimeouts, method: string, url: string): number {
  // Snapshots stream over their own RPC in Consul (SnapshotRPC), which sets no read deadline.
  if (url.startsWith('/v1/snapshot')) return 0;
  const q = url.indexOf('?');
  // A query is a GET, or a POST to the internal RPC (a client's blocking ResolveServiceConfig).
  if (q >= 0 && (method === 'GET' || url.startsWith(INTERNAL_RPC_PREFIX)) && url.includes('index=', q)) {
    const query = new URLSearchParams(url.slice(q + 1));
    if (Number(query.get('index') ?? 0) > 0) {
      let wait = parseGoDuration(query.get('wait') ?? '') ?? 0;
      if (wait > t.maxQueryMs) wait = t.maxQueryMs;
      else if (wait <= 0) wait = t.defaultQueryMs;
      return wait + wait / JITTER_FRACTION + t.holdMs;
    }
  }
  return Math.min(t.clientMs, 3_600_000);
}

/** Consul's first wait between tries is at most rpc_hold_timeout / 16 (structs.JitterFraction). */
const JITTER_FRACTION = 16;

/**
 * The wait before retry `n` (1-based), as Consul's client: a random time between the previous
 * wait and a ceiling that starts at rpc_hold_timeout / 16 (at least 1 ms) and doubles each retry
 * (getWaitTime, RandomStaggerWithRange), so a refused caller backs off instead of retrying at a
 * constant pace for the whole hold timeout.
 */
export function retryWait(holdMs: number, n: number, previousMs: number, random: () => number): number {
  const ceiling = Math.max(1, Math.floor(holdMs / JITTER_FRACTION)) * 2 ** (n - 1);
  return previousMs + random() * Math.max(0, ceiling - previousMs);
}

/** Consul's rpc.cross-dc counter, labelled with the datacenter called; one per agent. */
export function crossDcCounter(t: Pick<Telemetry, 'labeledCounter'>): (datacenter: string) => void {
  const inc = t.labeledCounter('rpc.cross-dc', 'Increments when a server sends a (potentially blocking) cross datacenter RPC query.', ['datacenter']);
  return (datacenter) => inc({ datacenter });
}

/** Proxies requests to servers over pooled keep-alive connections. */
export class Forwarder {
  readonly #agent: http.Agent;
  readonly #tlsAgent: https.Agent;
  readonly #tls: Pick<TlsConfigurator, 'outgoingRpc'> | undefined;
  readonly #log: Logger;
  readonly #split = new Map<string, [string, number]>();
  readonly #retry: RateLimitRetry | undefined;
  readonly #rpcLimit: (() => boolean) | undefined;
  readonly #crossDc: ((datacenter: string) => void) | undefined;
  readonly #timeouts: CallTimeouts | undefined;

  /**
   * `localAddress`: the address connections leave from (the agent's bind address), so servers see
   * the agent's own IP. `tls`: the agent's TLS settings, read per request (absent: plaintext).
   */
  constructor(deps: {
    logger: Logger; agent?: http.Agent; localAddress?: string; tls?: Pick<TlsConfigurator, 'outgoingRpc'>; rateLimitRetry?: RateLimitRetry;
    /** A client agent's limits.rpc_rate: whether one more RPC may go out now. */
    rpcLimit?: () => boolean;
    /** Counts each call to another datacenter's servers (a source naming its datacenter): Consul's rpc.cross-dc. */
    crossDc?: (datacenter: string) => void;
    /** Gives up calls unanswered past their deadline (absent: calls wait as long as the caller does). */
    timeouts?: CallTimeouts;
  }) {
    this.#timeouts = deps.timeouts;
    this.#crossDc = deps.crossDc;
    this.#retry = deps.rateLimitRetry;
    this.#rpcLimit = deps.rpcLimit;
    this.#log = deps.logger.child({ '@module': 'agent.rpc' });
    const local = deps.localAddress && !['0.0.0.0', '::', ''].includes(deps.localAddress) ? { localAddress: deps.localAddress } : {};
    // Every connection a burst of callers opened stays pooled (up to MAX_FREE_SOCKETS): a smaller
    // limit closed those past it after each answer and opened new ones for the next requests.
    this.#agent = deps.agent ?? new nodeHttp.Agent({ keepAlive: true, maxFreeSockets: MAX_FREE_SOCKETS, ...local });
    // Pooled per TLS material too: after a reload, new requests open connections with the new one.
    this.#tlsAgent = new nodeHttps.Agent({ keepAlive: true, maxFreeSockets: MAX_FREE_SOCKETS, ...local });
    this.#tls = deps.tls;
  }

  /**
   * Sends `req` to the first server that answers; throws 500 `No known Consul servers` when none
   * is known. With `rateLimitRetry`, a server's refusal to retry elsewhere (its request rate
   * limit, before the request ran) is sent again, after a jittered wait, to the next server, as
   * Consul's client does until rpc_hold_timeout has passed since the first try.
   */
  async send(source: ServerSource, req: ForwardRequest): Promise<ForwardResponse> {
    const retry = this.#retry;
    if (!retry) return this.#limitedSend(source, req);
    const first = retry.clock.now();
    let wait = 0;
    for (let n = 1; ; n++) {
      const res = await this.#limitedSend(source, req);
      if (res.status !== 429 || res.body.toString() !== RETRY_ELSEWHERE || req.signal?.aborted) return res;
      if (retry.clock.now() - first >= retry.holdMs) return res;
      source.failed?.(res.server);
      this.#log.warn({ server: res.server, method: req.method }, 'Retrying RPC to server');
      wait = retryWait(retry.holdMs, n, wait, retry.random);
      await new Promise<void>((resolve) => retry.clock.setTimer(wait, resolve));
    }
  }

  // Consul's client checks its RPC limit on every try (a retry takes a token too), before the
  // server is called: past the limit, the caller gets the limit's error instead of retrying on.
  #limitedSend(source: ServerSource, req: ForwardRequest): Promise<ForwardResponse> {
    if (this.#rpcLimit && !this.#rpcLimit()) return Promise.reject(new RpcRateExceededError());
    return this.#sendOnce(source, req);
  }

  async #sendOnce(source: ServerSource, req: ForwardRequest): Promise<ForwardResponse> {
    const servers = source.servers();
    if (servers.length === 0) throw new InternalError(NO_SERVERS);
    // Once per call that found a route, as Consul's forwardDC counts before its RPC.
    if (source.datacenter !== undefined) this.#crossDc?.(source.datacenter);
    let last: Error | undefined;
    for (const addr of servers) {
      try {
        return await this.#once(addr, req, source.datacenter);
      } catch (err) {
        if (!(err instanceof ConnectionFailed) || req.signal?.aborted) throw err;
        last = err;
        source.failed?.(addr);
        this.#log.warn({ server: addr, error: err.message, method: req.method }, 'RPC failed to server, trying the next one');
      }
    }
    throw new InternalError(`rpc error making call: ${last?.message ?? NO_SERVERS}`);
  }

  /** A route handler that answers every request by forwarding it; `defaultToken` fills in a missing token. */
  handler(source: ServerSource, opts: { defaultToken?: () => string; discovery?: Parameters<typeof discoveryStale>[1] } = {}): Handler {
    return async (req: HttpRequest): Promise<HttpResult> => {
      const fwd = await forwardedRequest(req, opts.defaultToken?.() ?? '');
      // The client agent's discovery_max_stale: the read it forwards is a stale one bounded by it, as its
      // RPC would be (the server answers as a default read past the bound, Consul's RETRY_ONCE).
      if (opts.discovery && discoveryStale(req, opts.discovery)) {
        const bound = formatGoDuration(opts.discovery.discoveryMaxStaleMs ?? 0);
        if (req.query.has('max_stale')) {
          // A ?max_stale of 0 or less chose nothing: the bound replaces it (Go's Query.Get reads the first).
          const u = new URL(fwd.url, 'http://agent');
          u.searchParams.set('max_stale', bound);
          fwd.url = u.pathname + u.search;
        } else {
          fwd.url += `${fwd.url.includes('?') ? '&' : '?'}max_stale=${bound}`;
        }
      }
      const res = await this.send(source, fwd);
      const { 'Content-Type': contentType, ...headers } = res.headers;
      if (contentType) return { status: res.status, raw: res.body, contentType, headers };
      return res.body.length ? { status: res.status, raw: res.body, headers } : { status: res.status, headers };
    };
  }

  /** Closes pooled connections. */
  close(): void {
    this.#agent.destroy();
    this.#tlsAgent.destroy();
  }

  /** splitHostPort, remembered per server (a handful of addresses, asked per request). */
  #hostPort(addr: string): [string, number] {
    let hp = this.#split.get(addr);
    if (!hp) {
      if (this.#split.size >= 64) this.#split.clear();
      this.#split.set(addr, hp = splitHostPort(addr));
    }
    return hp;
  }

  #once(addr: string, req: ForwardRequest, datacenter: string | undefined): Promise<ForwardResponse> {
    const [host, port] = this.#hostPort(addr);
    const tls = this.#tls?.outgoingRpc(datacenter);
    const signal = req.signal;
    if (signal?.aborted) return Promise.reject(CALLER_LEFT);
    return new Promise((resolve, reject) => {
      let answered = false;
      // The caller leaving ends the call (and its connection), as http.request's `signal` would.
      const onAbort = signal && { handleEvent: () => out.destroy(CALLER_LEFT) };
      if (onAbort) signal.addEventListener('abort', onAbort);
      // A server that took the call and never answers (stopped, partitioned with its connection
      // open) would hold the caller for good: past the deadline the call fails, as Consul's does.
      const ms = this.#timeouts ? callTimeout(this.#timeouts, req.method, req.url) : 0;
      const deadline = ms > 0 ? (this.#timeouts!.clock ?? systemClock).setTimer(ms, () => {
        settle();
        out.destroy();
        reject(new InternalError(DEADLINE_REACHED));
      }) : undefined;
      const settle = (): void => {
        if (onAbort) signal.removeEventListener('abort', onAbort);
        deadline?.cancel();
      };
      const headers = { ...req.headers, 'content-length': String(req.body?.length ?? 0) };
      const onResponse = (res: http.IncomingMessage): void => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => { settle(); reject(signal?.aborted ? CALLER_LEFT : err); });
        res.on('end', () => {
          settle();
          const body = Buffer.concat(chunks);
          // Not served at all: as good as a refused connection.
          if (res.statusCode === 503 && body.toString() === AGENT_STARTING) reject(new ConnectionFailed(`${addr}: ${AGENT_STARTING}`));
          else resolve({ status: res.statusCode ?? 500, headers: responseHeaders(res.headers), body, server: addr });
        });
      };
      const out = tls
        ? nodeHttps.request({ host, port, method: req.method, path: req.url, headers, ...tls, agent: this.#tlsAgent }, onResponse)
        : nodeHttp.request({ host, port, method: req.method, path: req.url, headers, agent: this.#agent }, onResponse);
      out.on('error', (err: NodeJS.ErrnoException) => {
        settle();
        if (!answered && retryable(err, req.method)) {
          reject(new ConnectionFailed(`${err.code ?? 'error'} ${addr}: ${err.message}`));
        } else reject(signal?.aborted ? CALLER_LEFT : new InternalError(`rpc error making call: ${err.message}`));
      });
      out.end(req.body);
    });
  }
}

/** Builds the request to forward from an incoming one: method, raw path and query, end-to-end headers, body. */
export async function forwardedRequest(req: HttpRequest, defaultToken = ''): Promise<ForwardRequest> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || HOP.has(k)) continue;
    headers[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  // The agent's default token applies when the caller gave none, as a client agent's RPC does.
  if (defaultToken && !req.query.get('token') && !headers['x-consul-token'] && !/^bearer\s/i.test(headers.authorization ?? '')) {
    headers['x-consul-token'] = defaultToken;
  }
  const body = ['GET', 'HEAD'].includes(req.method) ? undefined : await req.body();
  return { method: req.method, url: req.url ?? rebuildUrl(req), headers, body, signal: req.aborts ?? req.signal };
}

// Re-encodes the decoded path segment by segment (KV keys may hold `?`, `#`, `%` or spaces).
function rebuildUrl(req: HttpRequest): string {
  const path = req.path.split('/').map(encodeURIComponent).join('/');
  const q = req.query.toString();
  return q ? `${path}?${q}` : path;
}

function responseHeaders(h: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || HOP.has(k) || k === 'date') continue;
    out[canonicalHeader(k)] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

// Consul's header spellings, so a forwarded answer carries the same names as one from a server.
const CONSUL_HEADERS = new Map([
  'X-Consul-Index', 'X-Consul-KnownLeader', 'X-Consul-LastContact', 'X-Consul-Effective-Consistency',
  'X-Consul-Default-ACL-Policy', 'X-Consul-Results-Filtered-By-ACLs', 'X-Consul-Query-Backend', 'X-Cache',
].map((h) => [h.toLowerCase(), h]));

/** Canonical forms of other names seen, so each answer's headers are not rewritten by regex again. */
const canonicalSeen = new Map<string, string>();
const MAX_CANONICAL_SEEN = 256;

// Otherwise Go's canonical MIME header form.
function canonicalHeader(k: string): string {
  const known = CONSUL_HEADERS.get(k) ?? canonicalSeen.get(k);
  if (known !== undefined) return known;
  const c = k.replace(/(^|-)([a-z])/g, (_m, sep: string, ch: string) => sep + ch.toUpperCase());
  if (canonicalSeen.size < MAX_CANONICAL_SEEN) canonicalSeen.set(k, c);
  return c;
}

/** Splits `host:port` or `[v6]:port`. */
export function splitHostPort(addr: string): [string, number] {
  const i = addr.lastIndexOf(':');
  const host = addr.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return [host, Number(addr.slice(i + 1))];
}
