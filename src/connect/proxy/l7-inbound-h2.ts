// The public listener's HTTP/2 path for an http2 or grpc service: each stream of the mTLS
// connection is authorized against the intentions as an HTTP/1.1 request is, denied ones get
// Envoy's local reply (403, or gRPC status 7 for a gRPC request), allowed ones go to the local
// application as streams of one h2c (prior knowledge) session, with trailers passed on.
import type * as http2 from 'node:http2';
import { nodeHttp2 } from '../../node-http.ts';
import type { Logger } from '../../log.ts';
import { resetReplyText } from './l7-forward.ts';
import type { InboundPolicy } from './l7-inbound-policy.ts';
import type { InboundCaller } from './l7-inbound.ts';
import { appHeaders, normalizeRequest, type LocalAnswer } from './l7-normalize.ts';
import { RBAC_DENIED } from './l7-rbac.ts';
import { forwardable } from './l7-h2.ts';
import type { MeshHttp } from './mesh-http.ts';


/** One h2c session to the local application, opened anew once it closes or goes away. */
export class LocalH2 {
  #url: string;
  #connectTimeoutMs: number;
  #session: http2.ClientHttp2Session | undefined;
  #all = new Set<http2.ClientHttp2Session>();

  constructor(address: string, connectTimeoutMs: number) {
    this.#url = `http://${address}`;
    this.#connectTimeoutMs = connectTimeoutMs;
  }

  /** The open session, or a new one that must connect within the local connect timeout. */
  get(): http2.ClientHttp2Session {
    const open = this.#session;
    if (open && !open.closed && !open.destroyed) return open;
    const s = nodeHttp2().connect(this.#url);
    this.#session = s;
    this.#all.add(s);
    const forget = () => { if (this.#session === s) this.#session = undefined; };
    const slow = setTimeout(() => s.destroy(new Error('connect timeout')), this.#connectTimeoutMs);
    s.on('connect', () => clearTimeout(slow));
    s.on('error', forget);
    s.on('goaway', forget);
    s.on('close', () => { clearTimeout(slow); forget(); this.#all.delete(s); });
    return s;
  }

  close(): void {
    for (const s of this.#all) s.destroy();
    this.#all.clear();
    this.#session = undefined;
  }
}

function isGrpc(headers: http2.IncomingHttpHeaders): boolean {
  return String(headers['content-type'] ?? '').startsWith('application/grpc');
}

/** Envoy's local reply on a stream: a gRPC request gets its status in a trailers-only answer. */
function localReply(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse, status: number, text: string, grpcStatus: number, headers: Record<string, string> = {}): void {
  if (res.headersSent) return void res.stream.close(nodeHttp2().constants.NGHTTP2_INTERNAL_ERROR);
  if (isGrpc(req.headers)) {
    const message = text ? { 'grpc-message': text } : {};
    return void res.stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(grpcStatus), ...message }, { endStream: true });
  }
  res.writeHead(status, { ...(text ? { 'content-type': 'text/plain' } : {}), 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * Envoy's answer on a stream before any filter: a refused header name resets the stream (its
 * HTTP/2 codec fails the header), a gRPC request is not redirected but refused (INTERNAL, 13),
 * and a target that is not a path is UNIMPLEMENTED (12) to gRPC, as Envoy maps its 404.
 */
function normalizationReply(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse, a: LocalAnswer): void {
  if (a.close) return void res.stream.close(nodeHttp2().constants.NGHTTP2_INTERNAL_ERROR);
  if (a.status === 307 && isGrpc(req.headers)) return localReply(req, res, 400, '', 13);
  localReply(req, res, a.status, a.text, a.status === 404 ? 12 : 13, a.headers);
}

/** Serves one stream: authorize, then forward to the local application and relay the answer. */
export async function serveH2(
  policy: InboundPolicy, mesh: MeshHttp, local: LocalH2, caller: InboundCaller, req: http2.Http2ServerRequest, res: http2.Http2ServerResponse, log: Logger,
): Promise<void> {
  const method = req.method ?? 'GET';
  const n = normalizeRequest(method, req.url ?? '/', req.rawHeaders, req.authority, mesh, caller.xfcc);
  if (!('l7' in n)) return normalizationReply(req, res, n);
  const gone = new AbortController();
  res.once('close', () => { if (!res.writableEnded) gone.abort(); });
  const l7req = n.l7;
  // gRPC's PERMISSION_DENIED (7) is what Envoy maps a 403 local reply to.
  if (!(await policy.allows(caller, l7req, gone.signal))) {
    log.debug({ source: caller.uri, method, path: req.url }, 'request denied by intentions');
    return localReply(req, res, RBAC_DENIED.status, RBAC_DENIED.text, 7);
  }
  if (gone.signal.aborted) return;
  const headers = appHeaders(forwardable(req.headers), n.dropped, mesh, caller.xfcc);
  const head = { ...headers, ':method': method, ':path': l7req.url, ':authority': req.authority, ':scheme': req.scheme || 'http' };
  const session = local.get();
  let stream: http2.ClientHttp2Stream;
  try {
    stream = session.request(head, { signal: gone.signal, endStream: req.stream.endAfterHeaders });
  } catch (err) {
    log.debug({ error: (err as Error).message }, 'local application request failed');
    return localReply(req, res, 503, resetReplyText(false, false), 14);
  }
  stream.on('response', (headers, flags) => {
    const out = forwardable(headers);
    const status = Number(headers[':status'] ?? 502);
    // A headers-only answer (gRPC's trailers-only status) stays one HEADERS frame that ends the stream.
    if (flags & nodeHttp2().constants.NGHTTP2_FLAG_END_STREAM) return void res.stream.respond({ ...out, ':status': status }, { endStream: true });
    res.writeHead(status, out as http2.OutgoingHttpHeaders);
    stream.on('trailers', (t) => res.addTrailers(forwardable(t) as http2.OutgoingHttpHeaders));
    stream.pipe(res);
  });
  stream.on('error', (err) => {
    if (gone.signal.aborted) return;
    log.debug({ error: err.message }, 'local application stream failed');
    localReply(req, res, 503, resetReplyText(session.connecting === false, false), 14);
  });
  stream.on('close', () => {
    if (!res.headersSent && !gone.signal.aborted) localReply(req, res, 503, resetReplyText(true, false), 14);
  });
  res.on('close', () => { if (!stream.readableEnded) stream.close(nodeHttp2().constants.NGHTTP2_CANCEL); });
  if (!req.stream.endAfterHeaders) req.pipe(stream);
}
