// The HTTP transport: node:http listeners, HTTPS listeners speaking HTTP/1.1 and HTTP/2 (ALPN),
// both on TCP or unix sockets, and an in-process `handle()`, sharing one dispatch path: path
// cleaning (301), routing (404/405), the handler call, and one writer for status, Consul's
// headers, JSON (?pretty) and error bodies.
import type http from 'node:http';
import type http2 from 'node:http2';
import type { TlsOptions, TLSSocket } from 'node:tls';
import fs from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { MethodNotAllowedError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ListenAddr } from '../agent/config/runtime.ts';
import { createRequire } from 'node:module';
import type { Router } from './router.ts';
import type { HttpRequest } from './request.ts';
import type { Abortable } from '../state/notify.ts';
import { errorResponse } from './errors.ts';
import { cleanPath, notFoundText, render, text, type Outcome } from './response.ts';
import { RenderedBodies } from './rendered-bodies.ts';
import { Exchange, Injected, type AnyRequest, type AnyResponse, type Live, type RequestSource } from './exchange.ts';
import {
  createHttp1Server, endConnections, H2_HEADERS_TOO_LARGE, h2HeaderListLimit, h2HeaderListSize, handshakeDeadline, handshakeDone, headerLimit, hostPort,
  HTTP1_TIMEOUTS, NODE_HANDSHAKE_TIMEOUT_OFF, rawSocket, reloadTls,
} from './listener.ts';
import { nodeHttp, nodeHttp2 } from '../node-http.ts';
import { operationFor, type RateOperation } from './rate-limit-ops.ts';
import { RETRY_LATER } from './rate-limit.ts';
import { joinHostPort } from '../host-port.ts';
import { AuditedSource, type AuditRecorder } from './audit.ts';
import { writeAccess } from './write-access.ts';
import { parseTarget, withoutCached } from './target.ts';


// Unix socket permissions (socket-permissions.ts) load only for a unix socket listener (issue #9).
const require = createRequire(import.meta.url);
/** Settings of the HTTP transport. */
export interface HttpServerConfig {
  defaultAclPolicy: 'allow' | 'deny';
  responseHeaders: Record<string, string>;
  /** CIDRs allowed to write (non GET/HEAD/OPTIONS); empty allows everyone. */
  allowWriteHttpFrom?: string[];
  /** http_config.block_endpoints: paths starting with one of these get Consul's 403 before any handler runs. */
  blockEndpoints?: string[];
  /** Pretty-print every JSON answer, as Consul does in -dev. */
  prettyAll?: boolean;
  /** Concurrent connections per client IP (0: unlimited). Consul's default is 200. */
  maxConnsPerClient?: number;
  /** http_config.use_cache; false makes `?cached` count as absent, as Consul never reads it then. */
  useCache?: boolean;
  /** http_config.max_header_bytes (0 or unset: Go's default, 1 MiB); see headerLimit(). */
  maxHeaderBytes?: number;
  /** disable_http_unprintable_char_filter: serve paths with unprintable characters instead of a bare 400. */
  allowUnprintablePaths?: boolean;
}

/**
 * A character Go's unicode.IsPrint refuses: anything but letters, marks, numbers, punctuation,
 * symbols and the ASCII space. Consul wraps its whole mux in go-cleanhttp's
 * PrintablePathCheckHandler, which answers a decoded path holding one with a bare 400.
 */
const UNPRINTABLE = /[^\p{L}\p{M}\p{N}\p{P}\p{S} ]/u;
/** That 400: no body and none of the headers Consul's endpoint wrapper would set. */
const unprintablePath = (): Outcome => ({ status: 400, headers: {}, body: Buffer.alloc(0) });

/** Consul's answer to a write from outside http_config.allow_write_http_from. */
const WRITE_RESTRICTED = 'Access is restricted';
/**
 * The peer stream's routes (agent/peer-stream.ts): authenticated by peering secrets, and in Consul
 * gRPC rather than HTTP API calls, so neither allow_write_http_from nor the audit log applies to them.
 */
const PEER_STREAM_PREFIX = '/v1/internal/peering/';
/** Consul's answer for a path in http_config.block_endpoints. */
const BLOCKED = 'Endpoint is blocked by agent configuration';
const TOO_MANY_CONNS = 'Your IP is issuing too many concurrent connections, please rate limit your calls\n';
const TOO_MANY_CONNS_RESPONSE = 'HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain\r\n'
  + `Content-Length: ${Buffer.byteLength(TOO_MANY_CONNS)}\r\nConnection: close\r\n\r\n${TOO_MANY_CONNS}`;

/**
 * Consul's answer to a connection over http_max_conns_per_client once TLS is up (go-connlimit in
 * the ConnState hook): the raw 429 over TLS, then the connection closed, whatever protocol ALPN
 * chose. What the client already sent is read and dropped, so closing does not reset the
 * connection before the 429 arrives; a client that does not close its side is cut off soon after.
 */
function refuseTooMany(tls: TLSSocket): void {
  tls.on('error', () => {});
  tls.on('data', () => {});
  const cut = setTimeout(() => tls.destroy(), REFUSED_LINGER_MS);
  cut.unref();
  tls.once('close', () => clearTimeout(cut));
  tls.end(TOO_MANY_CONNS_RESPONSE);
}

/** How long a refused connection may stay half-closed, waiting for the client's side to close. */
const REFUSED_LINGER_MS = 1000;


/** Request timing sink (Consul's consul.api.http metric). */
export interface HttpMetrics {
  observe(method: string, path: string, seconds: number): void;
}

/** Dependencies of the HTTP transport. */
export interface HttpServerDeps {
  router: Pick<Router, 'match' | 'list'>;
  logger: Logger;
  config: HttpServerConfig;
  metrics?: HttpMetrics;
  /** JSON of shared answer bodies, rendered once (default: a cache of this server's own). */
  rendered?: RenderedBodies;
  /** The audit log of routed requests (audit.enabled); absent, nothing is recorded. */
  audit?: AuditRecorder;
  /**
   * A server's request rate limiter (limits.request_limits): counts each routed request that
   * stands for a Consul RPC, and throws when an enforcing limit refuses it. Absent: no limits.
   * While `active` is false (every limit off: the default) no request is classified or counted.
   */
  rateLimit?: { readonly active: boolean; check(op: RateOperation, sourceIp: string): void };
}

/** A request for the in-process `handle()`. */
export interface InjectRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Ends a streamed answer (e.g. /v1/agent/monitor). */
  signal?: AbortSignal;
  /**
   * The agent's own call (remote exec's KV writes, which Consul makes as RPCs): not an HTTP
   * client, so allow_write_http_from does not apply.
   */
  internal?: boolean;
}

/** A complete response. */
export interface InjectResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** Body parsed as JSON (undefined if not JSON). */
  json(): unknown;
}


/**
 * Streams one HTTP/2 connection may carry at once. Consul enables HTTP/2 with
 * http2.ConfigureServer(server, nil), i.e. Go's default of 250; clients that respect the
 * setting open another connection past it.
 */
export const H2_MAX_CONCURRENT_STREAMS = 250;

/** An HTTPS listener's settings: the TLS server options and the handshake deadline. */
export interface HttpsListenOptions {
  tls: TlsOptions;
  /** Milliseconds a connection has to complete its handshake (Consul's https_handshake_timeout). */
  handshakeTimeout: number;
}

type AnyServer = http.Server | http2.Http2SecureServer;

/** HTTP/1-style headers for an HTTP/2 request: no pseudo-headers, `:authority` as `host`. */
function h1Headers(h: http2.IncomingHttpHeaders): http.IncomingHttpHeaders {
  const out: http.IncomingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) if (k[0] !== ':') out[k] = v;
  if (out.host === undefined && typeof h[':authority'] === 'string') out.host = h[':authority'];
  return out;
}

/** The HTTP API server. */
export class HttpServer {
  readonly #deps: HttpServerDeps;
  #servers: AnyServer[] = [];
  /** Open sockets and HTTP/2 sessions of the HTTPS listeners, ended by close(). */
  #tlsConns = new Set<Socket>();
  #sessions = new Set<http2.ServerHttp2Session>();
  readonly #writeAllowed: ((remoteAddr: string) => boolean) | null;
  #conns = new Map<string, number>();
  #labels = new Map<string, string>();
  readonly #rendered: RenderedBodies;
  /** What this server's exchanges share. */
  readonly #live: Live;
  #base: { policy: string; headers: Record<string, string> } | null = null;

  constructor(deps: HttpServerDeps) {
    this.#deps = deps;
    this.#rendered = deps.rendered ?? new RenderedBodies();
    this.#writeAllowed = writeAccess(deps.config.allowWriteHttpFrom);
    this.#live = { closing: false, inflight: new Set(), logger: deps.logger, metrics: deps.metrics };
  }

  /** The route table's methods and patterns (for tests that walk every route). */
  routes(): { method: string; pattern: string }[] {
    return this.#deps.router.list();
  }

  /** Serves one request in-process (tests, embedding) through the same path as the sockets. */
  async handle(req: InjectRequest): Promise<InjectResponse> {
    const injected = new Injected(req);
    this.#dispatch(req.method, req.url, lowerHeaders(req.headers ?? {}), '127.0.0.1', injected, req.internal === true);
    const out = await injected.outcome;
    if (out.stream) {
      const chunks: Buffer[] = [];
      await out.stream((c) => chunks.push(Buffer.from(c)), injected.signal);
      out.body = Buffer.concat(chunks);
    }
    const answer = typeof out.body === 'string' ? Buffer.from(out.body) : out.body;
    return { status: out.status, headers: out.headers, body: answer, json: () => (answer.length ? JSON.parse(answer.toString('utf8')) : undefined) };
  }

  /**
   * Routes one request, renders its answer and hands it to `source.answer()` (once, now or when
   * the handler settles). Neither an async function nor a promise of the answer: a blocking query
   * holds the handler's promise for minutes, and each suspended frame, promise or closure here is
   * kept by every held query (an async frame cost ≈ 0.2 KiB more than one then() reaction; the
   * transport's own then() on a returned promise, ≈ 0.2 KiB more than calling `answer()`).
   */
  #dispatch(
    method: string, url: string, headers: http.IncomingHttpHeaders, remoteAddr: string, source: RequestSource, internal = false, remotePort?: number,
  ): void {
    const base = this.#baseHeaders();
    const target = parseTarget(url);
    if (!target) return source.answer(text(400, 'Invalid URL path', base));
    const { path, search, query } = this.#deps.config.useCache === false && target.query.has('cached') ? withoutCached(target) : target;
    if (!target.clean) {
      // Only here: a clean target is printable ASCII (PLAIN_PATH), so the hot path checks nothing.
      if (this.#deps.config.allowUnprintablePaths !== true && UNPRINTABLE.test(path)) return source.answer(unprintablePath());
      const clean = cleanPath(path);
      if (clean !== path) {
        return source.answer({ status: 301, headers: { ...base, Location: clean + search }, body: Buffer.alloc(0) });
      }
    }
    let out: Outcome;
    try {
      if (!internal && this.#deps.config.blockEndpoints?.some((p) => path.startsWith(p))) {
        this.#deps.logger.error({ method, url: path, from: remoteAddr, error: BLOCKED }, 'Request error');
        return source.answer(text(403, BLOCKED, base));
      }
      const m = this.#deps.router.match(method, path);
      if (!m) return source.answer(text(404, notFoundText(path), base));
      // Consul's checkWriteAccess runs inside its endpoint wrapper: after an unknown path (404)
      // or method (405), and its refusal is logged as a request error.
      if (this.#writeAllowed && !internal && !['GET', 'HEAD', 'OPTIONS'].includes(method) && !path.startsWith(PEER_STREAM_PREFIX) && !this.#writeAllowed(remoteAddr)) {
        this.#deps.logger.error({ method, url: path, from: remoteAddr, error: WRITE_RESTRICTED }, 'Request error');
        return source.answer(text(403, WRITE_RESTRICTED, base));
      }
      // Consul limits the RPC a request makes, so only routes that stand for one are counted;
      // the agent's own calls (internal) are counted where they reach a server's RPC.
      // Nothing is looked up while every limit is off (the default): no per-request cost.
      const limit = !internal && this.#deps.rateLimit?.active === true ? this.#deps.rateLimit : undefined;
      if (limit) {
        const op = operationFor(method, m.pattern, m.rest, query);
        if (op) limit.check(op, remoteAddr);
      }
      // The agent's own calls (remote exec) are not HTTP API calls: Consul makes them as RPCs; nor
      // is the peer stream, gRPC in Consul (and its heartbeats would fill the log).
      if (this.#deps.audit && !internal && !path.startsWith(PEER_STREAM_PREFIX)) {
        const done = this.#deps.audit.begin({ method, path, query, headers, remoteAddr: remotePort === undefined ? remoteAddr : joinHostPort(remoteAddr, remotePort) });
        source = new AuditedSource(source, done);
      }
      const pretty = query.has('pretty') || this.#deps.config.prettyAll === true;
      const req = new DispatchedRequest(method, path, target.pathname + search, m.rest, query, headers, remoteAddr, source, limit);
      Promise.resolve(m.handler(req)).then(
        (res) => {
          let done: Outcome;
          try {
            done = render(res, pretty, base, this.#rendered);
            done.label = this.#label(m.pattern);
          } catch (err) {
            done = this.#failed(err, method, path, base);
          }
          source.answer(done);
        },
        (err: unknown) => source.answer(this.#failed(err, method, path, base)),
      );
      return;
    } catch (err) {
      out = this.#failed(err, method, path, base);
    }
    source.answer(out);
  }

  /** The answer to a request whose routing, handler or rendering threw. */
  #failed(err: unknown, method: string, path: string, base: Record<string, string>): Outcome {
    if (err instanceof MethodNotAllowedError) {
      if (method === 'OPTIONS') return { status: 200, headers: { ...base, Allow: err.allow.join(',') }, body: Buffer.alloc(0) };
      return text(405, `method ${method} not allowed`, { ...base, Allow: err.allow.join(',') });
    }
    const { status, message } = errorResponse(err);
    // A refusal by the rate limiter was logged by it already (as Consul's RPC server skips those).
    if (status >= 500 && !(err instanceof Error && err.message === RETRY_LATER)) this.#deps.logger.error({ err, method, path }, 'request failed');
    return text(status, message, base);
  }

  /**
   * The headers every answer starts from, built once per default ACL policy (it is read per
   * request: enabling ACLs at runtime switches it to deny). Callers copy before adding to it.
   */
  #baseHeaders(): Record<string, string> {
    const policy = this.#deps.config.defaultAclPolicy;
    if (this.#base?.policy !== policy) {
      this.#base = { policy, headers: { 'X-Consul-Default-ACL-Policy': policy, ...this.#deps.config.responseHeaders } };
    }
    return this.#base.headers;
  }

  /** Consul's metric path label for a route pattern (`/v1/kv/` → `v1_kv_`), computed once per pattern. */
  #label(pattern: string): string {
    let label = this.#labels.get(pattern);
    if (label === undefined) this.#labels.set(pattern, label = pattern.slice(1).replaceAll('/', '_'));
    return label;
  }

  /**
   * Consul's http_max_conns_per_client: excess connections get a raw 429 and are closed. On an
   * HTTPS listener the 429 goes out once the handshake is done, over TLS, as Go's does.
   */
  #limitConnection(sock: Socket, overTls = false): void {
    const limit = this.#deps.config.maxConnsPerClient ?? 0;
    const ip = sock.remoteAddress;
    if (limit <= 0 || !ip) return;
    const n = (this.#conns.get(ip) ?? 0) + 1;
    if (n > limit) {
      if (overTls) (sock as Socket & { tooMany?: boolean }).tooMany = true;
      else sock.write(TOO_MANY_CONNS_RESPONSE, () => sock.destroy());
      return;
    }
    this.#conns.set(ip, n);
    sock.once('close', () => {
      const left = (this.#conns.get(ip) ?? 1) - 1;
      if (left <= 0) this.#conns.delete(ip);
      else this.#conns.set(ip, left);
    });
  }

  /** Binds every listener, HTTPS ones when `https` is given; resolves when all are listening. */
  async listen(addrs: ListenAddr[], https?: HttpsListenOptions): Promise<void> {
    for (const a of addrs) {
      const srv = https ? this.#secureServer(https, a.kind === 'tcp') : createHttp1Server((req, res) => this.#serve(req, res), headerLimit(this.#deps.config.maxHeaderBytes));
      if (a.kind === 'tcp' && !https) srv.on('connection', (sock: Socket) => this.#limitConnection(sock));
      if (a.kind === 'unix') {
        fs.rmSync(a.path, { force: true });
        await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(a.path, resolve));
        try {
          (require('./socket-permissions.ts') as typeof import('./socket-permissions.ts')).setFilePermissions(a.path, a);
        } catch (err) {
          srv.close();
          throw new Error(`Failed setting up socket: ${(err as Error).message}`);
        }
      } else {
        await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(a.port, a.host, resolve));
      }
      this.#servers.push(srv);
    }
  }

  /**
   * An HTTPS server as Consul's setupHTTPS makes it: HTTP/2 negotiated by ALPN (h2, then
   * http/1.1) on the same handlers, a handshake deadline, and the per-client connection limit.
   * Plain HTTP listeners stay HTTP/1.1 only: Consul serves h2c solely on its HCP SCADA listener.
   */
  #secureServer(opts: HttpsListenOptions, limit: boolean): http2.Http2SecureServer {
    // TCP_NODELAY as Go sets on every connection (and node:http on its own): with Nagle, the
    // answers a wake-up writes one by one wait for the client's delayed ACKs (40+ ms).
    const srv = nodeHttp2().createSecureServer({
      // The handshake deadline is handshakeDeadline's (node's fires early on a busy event loop).
      ...opts.tls, allowHTTP1: true, handshakeTimeout: NODE_HANDSHAKE_TIMEOUT_OFF, noDelay: true,
      settings: { maxConcurrentStreams: H2_MAX_CONCURRENT_STREAMS },
    }, (req, res) => this.#serve(req, res));
    // The HTTP/1.1 side with the plain listeners' timeouts and header limit (http2 takes no such options).
    Object.assign(srv, HTTP1_TIMEOUTS, { maxHeaderSize: headerLimit(this.#deps.config.maxHeaderBytes) });
    srv.on('connection', (sock: Socket) => {
      this.#tlsConns.add(sock);
      sock.once('close', () => this.#tlsConns.delete(sock));
      handshakeDeadline(sock, opts.handshakeTimeout);
      if (limit) this.#limitConnection(sock, true);
    });
    // An over-limit connection must never reach the server's own 'secureConnection' listener:
    // it would start an HTTP/2 session (or HTTP/1.1 parser) that reads the client's requests and
    // writes beside the 429, and two writers on one TLS socket abort the process. So the server's
    // listeners run only for connections within the limit.
    const serve = srv.listeners('secureConnection') as ((tls: TLSSocket) => void)[];
    srv.removeAllListeners('secureConnection');
    srv.on('secureConnection', (tls: TLSSocket) => {
      const raw = rawSocket(tls) ?? tls;
      handshakeDone(raw);
      if ((raw as Socket & { tooMany?: boolean }).tooMany || (tls as Socket & { tooMany?: boolean }).tooMany) refuseTooMany(tls);
      else for (const l of serve) l.call(srv, tls);
    });
    srv.on('session', (session: http2.ServerHttp2Session) => {
      this.#sessions.add(session);
      session.once('close', () => this.#sessions.delete(session));
    });
    return srv;
  }

  /** New TLS settings for the HTTPS listeners' new connections (a reload); open ones keep theirs. */
  updateTls(options: TlsOptions): void {
    for (const srv of this.#servers) {
      if (srv instanceof nodeHttp.Server) continue;
      reloadTls(srv, options);
    }
  }

  /** The bound addresses (`host:port` or socket path), in listen order. */
  addresses(): string[] {
    return this.#servers.map((s) => {
      const a = s.address();
      return typeof a === 'string' ? a : hostPort(a as AddressInfo);
    });
  }

  /** Serves a request that arrived on a listener this server does not own (e.g. a shared port). */
  serveRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.#serve(req, res);
  }

  #serve(req: AnyRequest, response: AnyResponse): void {
    // max_header_bytes over HTTP/2: Go's server answers a header list past its limit with a 431 of
    // its own (node's parser enforces the limit only on HTTP/1.1).
    if (req.httpVersionMajor === 2 && h2HeaderListSize(req.headers) > h2HeaderListLimit(this.#deps.config.maxHeaderBytes)) {
      const res = response as http2.Http2ServerResponse;
      res.writeHead(431, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(H2_HEADERS_TOO_LARGE);
      return;
    }
    const headers = req.httpVersionMajor === 2 ? h1Headers(req.headers) : req.headers as http.IncomingHttpHeaders;
    this.#dispatch(req.method ?? 'GET', req.url ?? '/', headers, req.socket.remoteAddress ?? '', new Exchange(this.#live, req, response), false, req.socket.remotePort);
  }

  /** Stops listening, ends blocked queries and closes connections. */
  async close(): Promise<void> {
    this.#live.closing = true;
    for (const ex of this.#live.inflight) ex.abort();
    for (const session of this.#sessions) session.close();
    await Promise.all(this.#servers.map((s) => new Promise<void>((resolve) => {
      s.close(() => resolve());
      if (s instanceof nodeHttp.Server) endConnections(s, 100);
      else {
        setTimeout(() => {
          for (const session of this.#sessions) session.destroy();
          for (const sock of this.#tlsConns) sock.destroy();
        }, 100).unref();
      }
    })));
    this.#servers = [];
  }
}


/**
 * A request as dispatch hands it to a handler; the signal and body are its source's (the signal
 * is made on first use: most requests never look at it). A spread copy must carry both explicitly.
 */
class DispatchedRequest implements HttpRequest {
  readonly method: string;
  readonly path: string;
  readonly url: string;
  readonly params: { rest: string };
  readonly query: URLSearchParams;
  readonly headers: http.IncomingHttpHeaders;
  readonly remoteAddr: string;
  readonly #source: RequestSource;
  readonly #limit: HttpServerDeps['rateLimit'];

  constructor(
    method: string, path: string, url: string, rest: string, query: URLSearchParams,
    headers: http.IncomingHttpHeaders, remoteAddr: string, source: RequestSource, limit?: HttpServerDeps['rateLimit'],
  ) {
    this.method = method;
    this.path = path;
    this.url = url;
    this.params = { rest };
    this.query = query;
    this.headers = headers;
    this.remoteAddr = remoteAddr;
    this.#source = source;
    this.#limit = limit;
  }

  countRpc(op: RateOperation): void {
    this.#limit?.check(op, this.remoteAddr);
  }

  get signal(): AbortSignal {
    return this.#source.signal;
  }

  get aborts(): Abortable {
    return this.#source.aborts;
  }

  body(limit?: number, tooLarge?: (size: number) => string): Promise<Buffer> {
    return this.#source.body(limit, tooLarge);
  }
}

function lowerHeaders(h: Record<string, string>): http.IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}
