// Upgrade requests (WebSocket and the like) on an L7 upstream, which Consul's Envoy listeners
// allow: the request is routed by the chain like any other, sent over a new mTLS connection to an
// instance of the chosen target, and from then on the two connections are spliced byte for byte.
import type * as http from 'node:http';
import type net from 'node:net';
import { nodeHttp } from '../../node-http.ts';
import type { ConnectService } from './service.ts';
import type { ChainWatch } from './l7-chain.ts';
import { endToEnd } from './l7-forward.ts';
import { chooseInstance, type BalanceState } from './l7-balance.ts';
import { applyHeaderOps, requestPath, routeRequest, type L7Request } from './l7-route.ts';
import { splice } from './listener.ts';
import type { Logger } from '../../log.ts';
import { XFCC } from './l7-xfcc.ts';

/** What an upgrade needs (a subset of the L7 upstream's dependencies). */
export interface UpgradeDeps {
  svc: Pick<ConnectService, 'dial' | 'leafCert' | 'caRoots'>;
  chain: ChainWatch;
  random: () => number;
  connectTimeoutMs: number;
  log: Logger;
}

function refuse(socket: net.Socket, status: string, text: string): void {
  socket.end(`HTTP/1.1 ${status}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
}

/** What a request target may hold (no whitespace or control characters, which would end or split the request line). */
const TARGET = /^[\x21-\x7e\x80-\uffff]+$/;

/**
 * The request head as it goes upstream: the routed path, end-to-end headers changed by the route,
 * and the upgrade itself. Throws when the route's rewrite or header changes (from config entries,
 * which Envoy would refuse) would put a line break or other invalid character into the head.
 */
export function requestHead(req: http.IncomingMessage, path: string, headers: Record<string, string | string[] | undefined>): string {
  if (!TARGET.test(path)) throw new Error(`invalid request path ${JSON.stringify(path)}`);
  const all: Record<string, string | string[] | undefined> = { ...headers, connection: 'upgrade', upgrade: req.headers.upgrade ?? '' };
  // The body's bytes pass as the client framed them: a chunked one keeps its Transfer-Encoding.
  if (req.headers['transfer-encoding'] !== undefined) all['transfer-encoding'] = req.headers['transfer-encoding'];
  const lines = [`${req.method} ${path} HTTP/1.1`];
  for (const [k, v] of Object.entries(all)) {
    for (const x of Array.isArray(v) ? v : [v ?? '']) {
      nodeHttp.validateHeaderName(k);
      nodeHttp.validateHeaderValue(k, x);
      lines.push(`${k}: ${x}`);
    }
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** A response head larger than this is not waited for. */
const MAX_HEAD_BYTES = 64 * 1024;

/** The upstream's bytes through the end of its response head (and any after it); null when it closes first or the head is too large. */
function responseHead(upstream: net.Socket): Promise<Buffer | null> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const done = (v: Buffer | null) => {
      upstream.off('data', onData);
      upstream.off('close', onClose);
      upstream.pause();
      resolve(v);
    };
    const onData = (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.indexOf('\r\n\r\n') !== -1) done(buf);
      else if (buf.length > MAX_HEAD_BYTES) done(null);
    };
    const onClose = () => done(null);
    upstream.on('data', onData);
    upstream.on('close', onClose);
  });
}

/**
 * Routes one upgrade request and splices it to the chosen instance (Envoy's 503 texts when it
 * cannot). Only a 101 answer splices the connections: any other answer is relayed and both close,
 * so later requests on the client's connection cannot reach that instance unrouted.
 */
export async function proxyUpgrade(d: UpgradeDeps, req: http.IncomingMessage, socket: net.Socket, early: Buffer): Promise<void> {
  socket.on('error', () => socket.destroy());
  const { path, search } = requestPath(req.url ?? '/');
  const chain = d.chain.chain;
  const l7req: L7Request = { method: req.method ?? 'GET', path, query: new URLSearchParams(search), headers: req.headers, sourceIp: req.socket.remoteAddress };
  const decision = chain && d.chain.isL7 ? routeRequest(chain, l7req, d.random) : null;
  // The resolver's load balancer picks the instance, as for any request (a hash policy keeps a session's upgrades on one instance).
  const choose = (keys: string[], state: BalanceState) => chooseInstance(keys, decision?.loadBalancer, l7req, state, d.random);
  const picked = decision && d.svc.leafCert && d.svc.caRoots ? await d.chain.pick(decision.targets, d.random, d.connectTimeoutMs, choose) : null;
  if (!decision || !picked) return refuse(socket, '503 Service Unavailable', 'no healthy upstream');
  const headers = endToEnd(req.headers);
  // Consul's outbound listeners keep Envoy's SANITIZE: the caller's x-forwarded-client-cert is not passed on.
  delete headers[XFCC];
  applyHeaderOps(headers, decision.requestHeaders);
  let head: string;
  try {
    head = requestHead(req, decision.path + search, headers);
  } catch (err) {
    d.log.error({ error: (err as Error).message }, 'upgrade request refused');
    return refuse(socket, '503 Service Unavailable', 'no healthy upstream');
  }
  let upstream: net.Socket;
  try {
    upstream = await d.svc.dial({ ...picked.to, certUri: picked.instances.certUri(), ...(picked.instances.target.SNI ? { sni: picked.instances.target.SNI } : {}) }, picked.instances.connectTimeoutMs);
  } catch (err) {
    d.log.debug({ error: (err as Error).message, host: picked.to.host, port: picked.to.port }, 'upgrade dial failed');
    return refuse(socket, '503 Service Unavailable', 'upstream connect error or disconnect/reset before headers. reset reason: connection failure');
  }
  upstream.on('error', () => upstream.destroy());
  const gone = () => upstream.destroy();
  socket.once('close', gone);
  // Bytes after the head are the request's body only as far as it declares one; the rest waits for the 101.
  const body = req.headers['transfer-encoding'] !== undefined ? early : early.subarray(0, Number(req.headers['content-length'] ?? 0) || 0);
  upstream.write(head);
  if (body.length > 0) upstream.write(body);
  const answer = await responseHead(upstream);
  socket.off('close', gone);
  if (answer === null || socket.destroyed) {
    upstream.destroy();
    if (!socket.destroyed) refuse(socket, '503 Service Unavailable', 'upstream connect error or disconnect/reset before headers. reset reason: connection termination');
    return;
  }
  if (/^HTTP\/1\.[01] 101[ \r]/.test(answer.toString('latin1', 0, 16))) {
    socket.write(answer);
    if (early.length > body.length) upstream.write(early.subarray(body.length));
    return splice(socket, upstream, d.log);
  }
  relayRefusal(socket, upstream, answer);
}

/**
 * Relays an answer that did not switch protocols, then closes both connections: with a
 * Content-Length once that much has passed, else when the instance closes (it is told the request
 * side is done). What the client sends meanwhile is not for this instance and is dropped.
 */
function relayRefusal(socket: net.Socket, upstream: net.Socket, answer: Buffer): void {
  const headEnd = answer.indexOf('\r\n\r\n') + 4;
  const length = /\r\ncontent-length:[ \t]*(\d+)[ \t]*\r\n/i.exec(answer.toString('latin1', 0, headEnd));
  let left = length ? headEnd + Number(length[1]) : Infinity;
  const forward = (c: Buffer) => {
    const part = c.subarray(0, left);
    left -= part.length;
    socket.write(part);
    if (left <= 0) {
      socket.end();
      upstream.destroy();
    }
  };
  socket.once('close', () => upstream.destroy());
  upstream.once('close', () => socket.end());
  upstream.on('data', forward);
  upstream.end();
  upstream.resume();
  socket.resume();
  forward(answer);
}
