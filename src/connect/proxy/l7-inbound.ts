// The public listener's HTTP path for an http, http2 or grpc service (Envoy's inbound HTTP
// connection manager with Consul's RBAC filter): each HTTP/1.1 request (HTTP/2 stream: see
// l7-inbound-h2.ts) on an mTLS connection is authorized against the current intentions, denied ones get Envoy's 403, allowed ones go to the local application
// over a keep-alive pool. Connections arrive already handshaken from the public listener.
import type * as http from 'node:http';
import type * as http2 from 'node:http2';
import net from 'node:net';
import type tls from 'node:tls';
import { nodeHttp, nodeHttp2 } from '../../node-http.ts';
import type { Logger } from '../../log.ts';
import { LocalH2, serveH2 } from './l7-inbound-h2.ts';
import { InboundPolicy, type Caller } from './l7-inbound-policy.ts';
import { endToEnd, replayableOnStale, resetReplyText } from './l7-forward.ts';
import { appHeaders, normalizeRequest, withoutUnderscored, type LocalAnswer } from './l7-normalize.ts';
import { RBAC_DENIED } from './l7-rbac.ts';
import { certUris, encodeSerial } from './tls-peer.ts';
import { XFCC, xfccElement } from './l7-xfcc.ts';
import type { MeshHttpSource } from './mesh-http.ts';

/** What the inbound HTTP path needs. */
export interface InboundDeps {
  policy: InboundPolicy;
  /** The mesh entry's HTTP settings (which it starts and closes). */
  mesh: MeshHttpSource;
  /** host:port of the local application. */
  localAddress: string;
  localConnectTimeoutMs: number;
  /** This proxy's SPIFFE URI (the By of x-forwarded-client-cert). */
  identity: () => string;
  log: Logger;
}

/** How the public listener hands connections to the HTTP path. */
export interface InboundHandoff {
  /** Resolves once the protocol, intentions and mesh entry have been read (or could not be). */
  ready(): Promise<void>;
  settled(): boolean;
  /** True while the service speaks http. */
  active(): boolean;
  /** Serves HTTP on a handshaken mTLS connection. */
  accept(socket: tls.TLSSocket): void;
  close(): void;
}

function hostPort(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i).replace(/^\[(.*)\]$/, '$1') || '127.0.0.1', port: Number(address.slice(i + 1)) };
}

function reply(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function answer(res: http.ServerResponse, a: LocalAnswer): void {
  const type: Record<string, string> = a.text ? { 'content-type': 'text/plain' } : {};
  res.writeHead(a.status, { ...type, 'content-length': String(Buffer.byteLength(a.text)), ...a.headers, ...(a.close ? { connection: 'close' } : {}) });
  res.end(a.text);
}

/** A caller and the x-forwarded-client-cert element its requests carry. */
export type InboundCaller = Caller & { xfcc: string };

const callers = new WeakMap<net.Socket, InboundCaller>();

/** The caller behind a connection, read once from its client certificate. */
export function callerOf(socket: net.Socket, by: string): InboundCaller {
  let c = callers.get(socket);
  if (!c) {
    const cert = (socket as tls.TLSSocket).getPeerCertificate?.(true);
    c = cert
      ? { uri: certUris(cert)[0] ?? '', serial: encodeSerial(cert.serialNumber ?? ''), xfcc: xfccElement(by, cert) }
      : { uri: '', serial: '', xfcc: '' };
    callers.set(socket, c);
  }
  return c;
}

/** Builds the HTTP path of the public listener over `policy` (which it starts and closes). */
export function l7Inbound(d: InboundDeps): InboundHandoff {
  const agent = new nodeHttp.Agent({ keepAlive: true });
  const to = hostPort(d.localAddress);
  const server = nodeHttp.createServer({ keepAliveTimeout: 60_000, requestTimeout: 0 }, (req, res) => {
    serve(d, agent, to, req, res).catch((err: Error) => {
      d.log.error({ error: err.message }, 'request failed');
      if (!res.headersSent) reply(res, 503, resetReplyText(false, false));
      else res.destroy();
    });
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, early: Buffer) => {
    upgrade(d, to, req, socket, early).catch((err: Error) => {
      d.log.error({ error: err.message }, 'upgrade failed');
      socket.destroy();
    });
  });
  const local2 = new LocalH2(d.localAddress, d.localConnectTimeoutMs);
  const h2 = nodeHttp2().createServer((req, res) => {
    serveH2(d.policy, d.mesh.current, local2, callerOf(req.socket as unknown as net.Socket, d.identity()), req, res, d.log).catch((err: Error) => {
      d.log.error({ error: err.message }, 'request failed');
      res.stream.close(nodeHttp2().constants.NGHTTP2_INTERNAL_ERROR);
    });
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on('session', (s) => { sessions.add(s); s.once('close', () => sessions.delete(s)); });
  // A service that changes how it is spoken drains the connections of the other way: idle
  // HTTP/1.1 ones close now, busy ones after their answer; h2 sessions get a GOAWAY.
  d.policy.onProtocolChange = () => {
    if (!d.policy.isHttp || d.policy.isH2) server.closeIdleConnections();
    if (!d.policy.isH2) for (const s of sessions) s.close();
  };
  d.policy.start();
  d.mesh.start();
  const ready = Promise.all([d.policy.ready(), d.mesh.ready()]).then(() => undefined);
  return {
    ready: () => ready,
    settled: () => d.policy.settled && d.mesh.settled,
    active: () => d.policy.isHttp,
    accept(socket) {
      socket.setNoDelay(true);
      if (d.policy.isH2) {
        // The mesh's h2 clients speak it by prior knowledge, without ALPN; Node's h2 server
        // refuses a TLS socket that negotiated none (it takes it for HTTP/1.1).
        if (!socket.alpnProtocol) (socket as { alpnProtocol: string | false | null }).alpnProtocol = 'h2';
        h2.emit('connection', socket);
      } else server.emit('connection', socket);
      socket.resume();
    },
    close() {
      d.policy.close();
      d.mesh.close();
      for (const s of sessions) s.destroy();
      h2.close();
      local2.close();
      server.close();
      server.closeAllConnections();
      agent.destroy();
    },
  };
}

async function serve(d: InboundDeps, agent: http.Agent, to: { host: string; port: number }, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const gone = new AbortController();
  res.once('close', () => { if (!res.writableFinished) gone.abort(); });
  const caller = callerOf(req.socket, d.identity());
  const mesh = d.mesh.current;
  const n = normalizeRequest(req.method ?? 'GET', req.url ?? '/', req.rawHeaders, undefined, mesh, caller.xfcc);
  if (!('l7' in n)) return answer(res, n);
  const l7req = { ...n.l7, sourceIp: req.socket.remoteAddress };
  if (!(await d.policy.allows(caller, l7req, gone.signal))) {
    d.log.debug({ source: caller.uri, method: req.method, path: req.url }, 'request denied by intentions');
    return reply(res, RBAC_DENIED.status, RBAC_DENIED.text);
  }
  if (gone.signal.aborted) return;
  const headers = appHeaders(endToEnd(req.headers), n.dropped, mesh, caller.xfcc);
  forward(d, { agent, to, req, res, url: l7req.url, headers, signal: gone.signal }, true);
}

interface Forward {
  agent: http.Agent;
  to: { host: string; port: number };
  req: http.IncomingMessage;
  res: http.ServerResponse;
  /** The normalized request target the application gets (Envoy forwards its normalized :path). */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  signal: AbortSignal;
}

/**
 * Sends the request to the application and relays its answer. A bodiless idempotent request that
 * meets a pooled connection the application had just closed (its keep-alive timeout) is sent
 * once more on a new one, as Go's transport does, instead of failing.
 */
function forward(d: InboundDeps, f: Forward, mayRetry: boolean): void {
  const { req, res } = f;
  const bodiless = req.headers['transfer-encoding'] === undefined && Number(req.headers['content-length'] ?? 0) === 0;
  const out = nodeHttp.request({ agent: f.agent, host: f.to.host, port: f.to.port, method: req.method, path: f.url, headers: f.headers, signal: f.signal });
  let connected = false;
  out.on('socket', (s) => {
    if (out.reusedSocket) return void (connected = true);
    const slow = setTimeout(() => out.destroy(new Error('connect timeout')), d.localConnectTimeoutMs);
    s.once('connect', () => { connected = true; clearTimeout(slow); });
    s.once('close', () => clearTimeout(slow));
  });
  out.on('response', (from) => {
    try {
      res.writeHead(from.statusCode ?? 502, from.statusMessage, endToEnd(from.headers));
    } catch {
      // A header value Node refuses: the answer is dropped, not left holding its pooled connection.
      from.destroy();
      return void reply(res, 503, resetReplyText(true, false));
    }
    from.pipe(res);
    from.on('error', () => res.destroy());
    res.on('close', () => { if (!from.complete) from.destroy(); });
  });
  out.on('error', (err) => {
    if (f.signal.aborted) return;
    const code = (err as NodeJS.ErrnoException).code;
    const stale = out.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE');
    if (mayRetry && stale && bodiless && replayableOnStale(req.method ?? 'GET', f.headers)) return forward(d, f, false);
    d.log.debug({ error: err.message }, 'local application request failed');
    if (!res.headersSent) reply(res, 503, resetReplyText(connected, false));
    else res.destroy();
  });
  if (bodiless) {
    req.resume();
    out.end();
  } else req.pipe(out);
}

/** An upgrade (WebSocket, …) allowed by the intentions becomes a byte stream to the application. */
async function upgrade(d: InboundDeps, to: { host: string; port: number }, req: http.IncomingMessage, socket: net.Socket, early: Buffer): Promise<void> {
  socket.on('error', () => socket.destroy());
  const caller = callerOf(socket, d.identity());
  const mesh = d.mesh.current;
  const n = normalizeRequest(req.method ?? 'GET', req.url ?? '/', req.rawHeaders, undefined, mesh, caller.xfcc);
  if (!('l7' in n)) return void socket.end(rawAnswer(n));
  const l7req = { ...n.l7, sourceIp: socket.remoteAddress };
  if (!(await d.policy.allows(caller, l7req))) {
    return void socket.end(rawAnswer({ status: RBAC_DENIED.status, text: RBAC_DENIED.text }));
  }
  const app = net.connect({ host: to.host, port: to.port, noDelay: true });
  const slow = setTimeout(() => app.destroy(new Error('connect timeout')), d.localConnectTimeoutMs);
  app.once('connect', () => clearTimeout(slow));
  app.on('error', () => { clearTimeout(slow); socket.destroy(); });
  socket.on('close', () => app.destroy());
  app.on('close', () => socket.destroy());
  const lines = [`${req.method} ${l7req.url} HTTP/${req.httpVersion}`];
  const raw = n.dropped.length > 0 ? withoutUnderscored(req.rawHeaders) : req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].toLowerCase() !== XFCC) lines.push(`${raw[i]}: ${raw[i + 1]}`);
  }
  const xfcc = appHeaders({ [XFCC]: req.headers[XFCC] }, [], mesh, caller.xfcc)[XFCC];
  if (xfcc) lines.push(`${XFCC}: ${xfcc}`);
  app.write(`${lines.join('\r\n')}\r\n\r\n`);
  if (early.length > 0) app.write(early);
  socket.pipe(app);
  app.pipe(socket);
}

const REASONS: Record<number, string> = { 307: 'Temporary Redirect', 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found' };

/** A local answer written on a raw (upgrade) connection, which then closes. */
function rawAnswer(a: LocalAnswer): string {
  const lines = [`HTTP/1.1 ${a.status} ${REASONS[a.status] ?? ''}`];
  if (a.text) lines.push('content-type: text/plain');
  lines.push(`content-length: ${Buffer.byteLength(a.text)}`);
  for (const [k, v] of Object.entries(a.headers ?? {})) lines.push(`${k}: ${v}`);
  lines.push('connection: close');
  return `${lines.join('\r\n')}\r\n\r\n${a.text}`;
}
