// HTTP/2 on an L7 upstream whose chain's protocol is http2 or grpc: the local listener speaks
// h2c (prior knowledge, as gRPC clients do), each stream is routed by the chain as an HTTP/1.1
// request is, and sent as an h2 stream over one multiplexed mTLS session per instance (the far
// side's public listener splices it to the application); response trailers (gRPC status) pass on.
import type http from 'node:http';
import type * as http2 from 'node:http2';
import type net from 'node:net';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import tls, { type PeerCertificate } from 'node:tls';
import { nodeHttp2 } from '../../node-http.ts';
import { RequestBody } from './l7-body.ts';
import { endToEnd, replayableOnStale, resetReplyText } from './l7-forward.ts';
import { chooseInstance, hold } from './l7-balance.ts';
import { applyHeaderOps, requestPath, retriesOnFailure, retriesOnStatus, retryBackoffMs, routeRequest, type L7Request, type RouteDecision } from './l7-route.ts';
import { within, type L7Deps } from './l7-upstream.ts';
import { XFCC } from './l7-xfcc.ts';

const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;
/**
 * Hands `socket` to `h2` when it opens with the HTTP/2 connection preface (h2c with prior
 * knowledge), else to `h1`, as Envoy's AUTO codec tells them apart; the first bytes stay unread.
 */
export function acceptH1OrH2c(socket: net.Socket, h1: net.Server, h2: net.Server): void {
  socket.once('data', (first: Buffer) => {
    socket.pause();
    socket.unshift(first);
    if (first.subarray(0, 3).toString('latin1') !== 'PRI') {
      h1.emit('connection', socket);
      return void socket.resume();
    }
    h2.emit('connection', socket);
    // The h2 session reads what is buffered on the next tick and then takes the socket's
    // reads itself; flowing before that would hand it the rest out of order.
    setImmediate(() => socket.resume());
  });
  socket.resume();
}

/** Connection-specific headers HTTP/2 forbids (RFC 9113 §8.2.2), and Host (its :authority). */
const NOT_FORWARDED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'http2-settings']);

export type Headers = Record<string, string | string[] | undefined>;

/** `h` without pseudo-headers and connection-specific ones (`te` only as `trailers`, which gRPC sends). */
export function forwardable(h: http2.IncomingHttpHeaders): Headers {
  const out: Headers = {};
  for (const [k, v] of Object.entries(h)) {
    if (k.startsWith(':') || NOT_FORWARDED.has(k) || (k === 'te' && v !== 'trailers')) continue;
    out[k] = v;
  }
  return out;
}

/** One multiplexed h2 session per instance of a target, each instance's certificate checked as on the other paths. */
export class H2Sessions {
  #sessions = new Map<string, http2.ClientHttp2Session>();
  #connected = new WeakSet<http2.ClientHttp2Session>();
  /** Every session not yet closed, the replaced ones too. */
  #all = new Set<http2.ClientHttp2Session>();
  /** The TLS context each session was made with. */
  #contexts = new WeakMap<http2.ClientHttp2Session, tls.SecureContext>();
  #check: (host: string, cert: PeerCertificate) => Error | undefined;
  #servername: string;

  /** `servername`: the target's SNI, sent on every connection (mesh and terminating gateways route by it). */
  constructor(check: (host: string, cert: PeerCertificate) => Error | undefined, servername = '') {
    this.#check = check;
    this.#servername = servername;
  }

  /**
   * The open session to `to` made with `secureContext`, or a new one whose handshakes must finish
   * within `connectTimeoutMs`. A session made with an older context (before a leaf rotation or a
   * roots change) takes no new streams and closes once its open ones end.
   */
  get(to: { host: string; port: number }, secureContext: tls.SecureContext, connectTimeoutMs: number): http2.ClientHttp2Session {
    const key = `${to.host}:${to.port}`;
    const open = this.#sessions.get(key);
    if (open && !open.closed && !open.destroyed) {
      if (this.#contexts.get(open) === secureContext) return open;
      open.close();
    }
    const s = nodeHttp2().connect(`https://${key}`, {
      createConnection: () => tls.connect({
        host: to.host, port: to.port, secureContext, checkServerIdentity: this.#check, noDelay: true, ...(this.#servername ? { servername: this.#servername } : {}),
      } as tls.ConnectionOptions),
    });
    this.#sessions.set(key, s);
    this.#contexts.set(s, secureContext);
    this.#all.add(s);
    s.on('close', () => this.#all.delete(s));
    const forget = () => { if (this.#sessions.get(key) === s) this.#sessions.delete(key); };
    const slow = setTimeout(() => s.destroy(new Error('connect timeout')), connectTimeoutMs);
    s.on('connect', () => { this.#connected.add(s); clearTimeout(slow); });
    s.on('close', () => clearTimeout(slow));
    s.on('error', forget);
    s.on('goaway', forget);
    s.on('close', forget);
    return s;
  }

  /** Whether `s` got as far as a connection (a later failure is a reset, not a connect failure). */
  connected(s: http2.ClientHttp2Session): boolean {
    return this.#connected.has(s);
  }

  /** Takes no new streams: each session closes once its open streams end. */
  drain(): void {
    for (const s of this.#all) s.close();
    this.#sessions.clear();
  }

  /** Closes every session. */
  close(): void {
    for (const s of this.#all) s.destroy();
    this.#all.clear();
    this.#sessions.clear();
  }
}

type H2Attempt =
  /** `ended`: the HEADERS frame ended the stream (no body, no trailers). */
  | { kind: 'response'; stream: http2.ClientHttp2Stream; headers: http2.IncomingHttpHeaders; ended: boolean }
  /** `unsent`: the instance cannot have acted on the stream (it was never opened, or refused by GOAWAY or REFUSED_STREAM). */
  | { kind: 'failed'; connected: boolean; unsent: boolean; error: Error }
  | { kind: 'timeout' };

function attemptH2(
  session: http2.ClientHttp2Session, connected: () => boolean, head: http2.OutgoingHttpHeaders, body: Readable | Buffer,
  deadline: Promise<number>, signal: AbortSignal,
): Promise<H2Attempt> {
  return new Promise((resolve) => {
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = (a: H2Attempt) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(a);
    };
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request(head, { signal });
    } catch (error) {
      return done({ kind: 'failed', connected: connected(), unsent: true, error: error as Error });
    }
    void deadline.then((at) => {
      if (settled || !Number.isFinite(at)) return;
      timer = setTimeout(() => { done({ kind: 'timeout' }); stream.close(nodeHttp2().constants.NGHTTP2_CANCEL); }, Math.max(0, at - Date.now()));
    });
    stream.on('response', (headers, flags) => done({ kind: 'response', stream, headers, ended: (flags & nodeHttp2().constants.NGHTTP2_FLAG_END_STREAM) !== 0 }));
    const unsent = (error?: Error) => stream.rstCode === nodeHttp2().constants.NGHTTP2_REFUSED_STREAM || (error as NodeJS.ErrnoException | undefined)?.code === 'ERR_HTTP2_GOAWAY_SESSION';
    stream.on('error', (error) => done({ kind: 'failed', connected: connected(), unsent: unsent(error), error }));
    stream.on('close', () => done({ kind: 'failed', connected: connected(), unsent: unsent(), error: new Error(`stream reset (code ${stream.rstCode})`) }));
    if (Buffer.isBuffer(body)) stream.end(body.length > 0 ? body : undefined);
    else body.pipe(stream);
  });
}

/**
 * A downstream request on an http2 or grpc chain: h2c, or HTTP/1.1 (Envoy's listeners take either
 * and speak HTTP/2 to the instance).
 */
type DownReq = http2.Http2ServerRequest | http.IncomingMessage;
type DownRes = http2.Http2ServerResponse | http.ServerResponse;

function isH2(res: DownRes): res is http2.Http2ServerResponse {
  return 'stream' in res;
}

/** Ends an answer already under way abnormally (the stream reset, or the HTTP/1.1 connection closed). */
function abort(res: DownRes): void {
  if (isH2(res)) res.stream.close(nodeHttp2().constants.NGHTTP2_INTERNAL_ERROR);
  else res.destroy();
}

function head(res: DownRes, status: number, headers: http2.OutgoingHttpHeaders): void {
  if (isH2(res)) res.writeHead(status, headers);
  else res.writeHead(status, headers as http.OutgoingHttpHeaders);
}

function reply(res: DownRes, status: number, text: string): void {
  if (res.headersSent) return void abort(res);
  head(res, status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function relay(a: Extract<H2Attempt, { kind: 'response' }>, res: DownRes, decision: RouteDecision): void {
  const headers = forwardable(a.headers);
  applyHeaderOps(headers, decision.responseHeaders);
  const status = Number(a.headers[':status'] ?? 502);
  // A headers-only answer (gRPC's trailers-only status) stays one HEADERS frame that ends the stream.
  if (a.ended && isH2(res)) return void res.stream.respond({ ...headers, ':status': status }, { endStream: true });
  head(res, status, headers as http2.OutgoingHttpHeaders);
  if (a.ended) return void res.end();
  a.stream.on('trailers', (t) => res.addTrailers(forwardable(t) as http2.OutgoingHttpHeaders));
  a.stream.pipe(res);
  a.stream.on('error', () => abort(res));
  res.on('close', () => { if (!a.stream.readableEnded) a.stream.close(nodeHttp2().constants.NGHTTP2_CANCEL); });
}

/** Serves one request of an http2 or grpc chain (h2c or HTTP/1.1): route, pick, send as h2 with retries as the route allows, relay. */
export async function handleH2(d: L7Deps, req: DownReq, res: DownRes): Promise<void> {
  const { path, search } = requestPath(req.url ?? '/');
  const chain = d.chain.chain;
  const method = req.method ?? 'GET';
  const l7req: L7Request = { method, path, query: new URLSearchParams(search), headers: req.headers, sourceIp: req.socket?.remoteAddress };
  const decision = chain && d.chain.isL7 ? routeRequest(chain, l7req, d.random) : null;
  if (!decision) return reply(res, 503, 'no healthy upstream');
  d.adjust?.(decision);
  const body = 'stream' in req ? new RequestBody(req, undefined, req.stream.endAfterHeaders) : new RequestBody(req);
  // What is held for retries is let go once the answer is done (or being relayed, below).
  res.once('close', () => body.release());
  // An HTTP/1.1 request's hop-by-hop headers go first; its Host becomes the :authority.
  const headers = forwardable('stream' in req ? req.headers : endToEnd(req.headers) as http2.IncomingHttpHeaders);
  // Consul's outbound listeners keep Envoy's SANITIZE: the caller's x-forwarded-client-cert is not passed on.
  delete headers[XFCC];
  applyHeaderOps(headers, decision.requestHeaders);
  const authority = 'stream' in req ? req.authority : req.headers.host ?? '';
  const head = { ...headers, ':method': method, ':path': decision.path + search, ':authority': authority, ':scheme': ('stream' in req && req.scheme) || 'http' };
  // Until the proxy has its leaf and roots a request waits for them, as on the HTTP/1.1 path.
  if (!d.svc.leafCert || !d.svc.caRoots) await within(d.svc.ready(), d.connectTimeoutMs);
  if (!d.svc.leafCert || !d.svc.caRoots) return reply(res, 503, 'no healthy upstream');
  const t = decision.requestTimeoutMs;
  const deadline = body.ended.then(() => (t < 0 ? Infinity : Date.now() + (t || DEFAULT_REQUEST_TIMEOUT_MS)));
  const gone = new AbortController();
  res.once('close', () => { if (!res.writableEnded) gone.abort(); });
  let payload: Readable | Buffer | undefined;
  for (let retries = 0, stale = 0; ;) {
    const picked = await d.chain.pick(decision.targets, d.random, d.connectTimeoutMs, (keys, state) => chooseInstance(keys, decision.loadBalancer, l7req, state, d.random));
    if (!picked) return reply(res, 503, 'no healthy upstream');
    const release = hold(picked.instances.balance, picked.key);
    const session = picked.instances.h2.get(picked.to, d.svc.clientContext(), picked.instances.connectTimeoutMs);
    const reused = picked.instances.h2.connected(session);
    payload ??= body.first();
    const a = await attemptH2(session, () => picked.instances.h2.connected(session), head, payload, deadline, gone.signal);
    if (a.kind !== 'response' || gone.signal.aborted) release();
    else res.once('close', release);
    if (gone.signal.aborted) return;
    if (a.kind === 'timeout') return reply(res, 504, 'upstream request timeout');
    const more = retries < decision.retry.numRetries;
    if (a.kind === 'response') {
      const replay = more && retriesOnStatus(Number(a.headers[':status']), decision.retry) ? await body.replay() : null;
      if (replay === null) {
        body.release();
        return relay(a, res, decision);
      }
      a.stream.close(nodeHttp2().constants.NGHTTP2_CANCEL);
      release();
      payload = replay;
      await sleep(retryBackoffMs(++retries, d.random));
      continue;
    }
    d.log.debug({ error: a.error.message, host: picked.to.host, port: picked.to.port }, 'upstream h2 attempt failed');
    // A pooled session the instance had already closed (its stream never started) is not a failure of the request.
    const wasStale = reused && (session.closed || session.destroyed) && (a.unsent || replayableOnStale(method, req.headers)) && stale++ < 3;
    const replay = wasStale || (more && retriesOnFailure(a.connected, decision.retry)) ? await body.replay() : null;
    if (replay === null) {
      return reply(res, 503, resetReplyText(a.connected, retries > 0));
    }
    payload = replay;
    if (!wasStale) await sleep(retryBackoffMs(++retries, d.random));
  }
}
