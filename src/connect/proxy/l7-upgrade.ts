// Upgrade requests (WebSocket and the like) on an L7 upstream, which Consul's Envoy listeners
// allow: the request is routed by the chain like any other, sent over a new mTLS connection to an
// instance of the chosen target, and from then on the two connections are spliced byte for byte.
import type http from 'node:http';
import type net from 'node:net';
import type { ConnectService } from './service.ts';
import type { ChainWatch } from './l7-chain.ts';
import { endToEnd } from './l7-forward.ts';
import { applyHeaderOps, requestPath, routeRequest } from './l7-route.ts';
import { splice } from './listener.ts';
import type { Logger } from '../../log.ts';

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

/** The request head as it goes upstream: the routed path, end-to-end headers changed by the route, and the upgrade itself. */
function head(req: http.IncomingMessage, path: string, headers: Record<string, string | string[] | undefined>): string {
  const lines = [`${req.method} ${path} HTTP/1.1`];
  for (const [k, v] of Object.entries(headers)) for (const x of Array.isArray(v) ? v : [v ?? '']) lines.push(`${k}: ${x}`);
  lines.push('connection: upgrade', `upgrade: ${req.headers.upgrade ?? ''}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Routes one upgrade request and splices it to the chosen instance (Envoy's 503 texts when it cannot). */
export async function proxyUpgrade(d: UpgradeDeps, req: http.IncomingMessage, socket: net.Socket, early: Buffer): Promise<void> {
  socket.on('error', () => socket.destroy());
  const { path, search } = requestPath(req.url ?? '/');
  const chain = d.chain.chain;
  const decision = chain && d.chain.isL7
    ? routeRequest(chain, { method: req.method ?? 'GET', path, query: new URLSearchParams(search), headers: req.headers }, d.random)
    : null;
  const picked = decision && d.svc.leafCert && d.svc.caRoots ? await d.chain.pick(decision.targets, d.random, d.connectTimeoutMs) : null;
  if (!decision || !picked) return refuse(socket, '503 Service Unavailable', 'no healthy upstream');
  const headers = endToEnd(req.headers);
  applyHeaderOps(headers, decision.requestHeaders);
  let upstream: net.Socket;
  try {
    upstream = await d.svc.dial({ ...picked.to, certUri: picked.instances.certUri() }, d.connectTimeoutMs);
  } catch (err) {
    d.log.debug({ error: (err as Error).message, host: picked.to.host, port: picked.to.port }, 'upgrade dial failed');
    return refuse(socket, '503 Service Unavailable', 'upstream connect error or disconnect/reset before headers. reset reason: connection failure');
  }
  upstream.write(head(req, decision.path + search, headers));
  if (early.length > 0) upstream.write(early);
  splice(socket, upstream, d.log);
}
