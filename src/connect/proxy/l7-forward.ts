// One attempt of an L7 upstream request: an HTTP/1.1 request over mTLS to one instance, through
// the target's keep-alive agent (which verifies the instance's SPIFFE ID), with the proxy's leaf; it
// settles with the response headers or with why no response came (connect failure, reset, timeout).
// The route timeout runs from the end of the request body, as Envoy's does.
import type http from 'node:http';
import type * as https from 'node:https';
import type { Readable } from 'node:stream';
import type tls from 'node:tls';
import { nodeHttps } from '../../node-http.ts';

/** Headers that describe one connection, never forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

/** `headers` without the hop-by-hop ones (and those the Connection header names). */
export function endToEnd(headers: http.IncomingHttpHeaders): Record<string, string | string[] | undefined> {
  const named = new Set(String(headers.connection ?? '').toLowerCase().split(',').map((s) => s.trim()).filter(Boolean));
  const out: Record<string, string | string[] | undefined> = {};
  for (const [k, v] of Object.entries(headers)) if (!HOP_BY_HOP.has(k) && !named.has(k)) out[k] = v;
  return out;
}

/** Methods RFC 9110 §9.2.2 makes idempotent: sending one twice has the effect of sending it once. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/**
 * Whether a request that failed on a pooled connection may be sent again on a new one without
 * the route asking for retries: the instance may have received and acted on it before the
 * connection went, so only idempotent methods (or a request carrying an Idempotency-Key) are,
 * as Go's HTTP transport does.
 */
export function replayableOnStale(method: string, headers: Record<string, string | string[] | undefined>): boolean {
  return IDEMPOTENT.has(method) || headers['idempotency-key'] !== undefined || headers['x-idempotency-key'] !== undefined;
}

/**
 * Envoy's local reply body when no attempt got response headers: `connected` tells a reset
 * (connection termination) from a connect failure; after retries Envoy says so.
 */
export function resetReplyText(connected: boolean, retried: boolean): string {
  const reason = connected ? 'connection termination' : 'connection failure';
  return `upstream connect error or disconnect/reset before headers. ${retried ? 'retried and the latest ' : ''}reset reason: ${reason}`;
}

/** What one attempt produced. */
export type Attempt =
  | { kind: 'response'; res: http.IncomingMessage; req: http.ClientRequest }
  /** No response: `connected` tells a connection failure (false) from a reset (true); `stale` a pooled connection the peer had closed. */
  | { kind: 'failed'; connected: boolean; stale: boolean; error: Error }
  | { kind: 'timeout' };

/** Where and what to send. */
export interface AttemptSpec {
  /** The target's pool, which checks the instance's SPIFFE ID. */
  agent: https.Agent;
  to: { host: string; port: number };
  secureContext: tls.SecureContext;
  method: string;
  path: string;
  /** Sent as given (a client's content-length is kept; without one the body is chunked). */
  headers: Record<string, string | string[] | undefined>;
  /** The body as it streams in (first attempt) or held whole (a retry). */
  body: Readable | Buffer;
  /** When the attempt times out (ms since the epoch; Infinity: never), known once the request body has arrived. */
  deadline: Promise<number>;
  /** Aborts the attempt (the client went away). */
  signal: AbortSignal;
  /** Bounds a new connection's TCP and TLS handshakes (the target's ConnectTimeout). */
  connectTimeoutMs: number;
  /** The target's SNI, which mesh and terminating gateways route by. */
  servername?: string;
}

/** Sends one attempt; never rejects. */
export function attempt(spec: AttemptSpec): Promise<Attempt> {
  return new Promise((resolve) => {
    let connected = false;
    let settled = false;
    const done = (a: Attempt) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(a);
    };
    // The agent hands these options to tls.connect (its types do not list secureContext). The
    // identity check is the agent's: one given per request keeps Node from reusing connections.
    const options = {
      agent: spec.agent, host: spec.to.host, port: spec.to.port, method: spec.method, path: spec.path,
      headers: spec.headers, secureContext: spec.secureContext, noDelay: true, signal: spec.signal,
      ...(spec.servername ? { servername: spec.servername } : {}),
    } as https.RequestOptions & tls.ConnectionOptions;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let req: http.ClientRequest;
    try {
      req = nodeHttps.request(options);
    } catch (error) {
      // A path or header value Node refuses (a route's rewrite or header change with a line break).
      return done({ kind: 'failed', connected: false, stale: false, error: error as Error });
    }
    void spec.deadline.then((at) => {
      if (settled || !Number.isFinite(at)) return;
      timer = setTimeout(() => { done({ kind: 'timeout' }); req.destroy(); }, Math.max(0, at - Date.now()));
    });
    req.on('socket', (s) => {
      if (req.reusedSocket) return void (connected = true);
      const slow = setTimeout(() => req.destroy(new Error('connect timeout')), spec.connectTimeoutMs);
      s.once('secureConnect', () => { connected = true; clearTimeout(slow); });
      s.once('close', () => clearTimeout(slow));
    });
    req.on('response', (res) => done({ kind: 'response', res, req }));
    req.on('error', (error) => {
      const code = (error as NodeJS.ErrnoException).code;
      done({ kind: 'failed', connected, stale: req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE'), error });
    });
    if (Buffer.isBuffer(spec.body)) {
      // An empty body adds nothing (no content-length of its own on a GET).
      if (spec.body.length > 0) req.end(spec.body);
      else req.end();
    }
    else spec.body.pipe(req);
  });
}
