// The proxy's listeners (Consul's connect/proxy/listener.go): the public mTLS listener that
// authorizes each client and forwards to the local application, and an upstream's plain TCP
// listener that forwards over mTLS to a resolved instance; both splice bytes both ways.
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../../log.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PublicListenerConfig, UpstreamConfig } from './config.ts';
import type { InboundHandoff } from './l7-inbound.ts';
import type { L7Handoff } from './l7-upstream.ts';
import type { ConnectService, DialTarget } from './service.ts';

/** A started listener. */
export interface ProxyListener {
  /** The bound address, `host:port`. */
  readonly address: string;
  close(): Promise<void>;
}

/** Pipes `a` and `b` into each other; either side closing or failing ends both. */
export function splice(a: net.Socket, b: net.Socket, log: Logger): void {
  const end = (err?: Error) => {
    if (err && (err as NodeJS.ErrnoException).code !== 'ECONNRESET') log.error({ error: err.message }, 'connection failed');
    a.destroy();
    b.destroy();
  };
  // A side that closed while the other was being dialled or authorized will not emit 'close' again.
  if (a.destroyed || b.destroyed) return end();
  // Go's connections (Consul's proxy) are TCP_NODELAY: with Nagle, a small write waiting for the
  // peer's delayed ACK stalls request/response traffic on a kept-alive connection by ~40 ms.
  a.setNoDelay(true);
  b.setNoDelay(true);
  a.on('error', end);
  b.on('error', end);
  a.on('close', () => b.end());
  b.on('close', () => a.end());
  a.pipe(b);
  b.pipe(a);
}

function dialPlain(address: string, timeoutMs: number): Promise<net.Socket> {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const socket = net.connect({ host, port: Number(address.slice(i + 1)) });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`dial tcp ${address}: i/o timeout`)); }, timeoutMs);
    socket.once('connect', () => { clearTimeout(timer); socket.off('error', reject); resolve(socket); });
    socket.once('error', (err) => { clearTimeout(timer); reject(new Error(`dial tcp ${address}: ${err.message}`)); });
  });
}

function bound(server: net.Server): string {
  const a = server.address() as net.AddressInfo;
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/**
 * Binds `server`; once bound, a server error (an accept failing with EMFILE, say) is logged
 * instead of being an unhandled 'error' event that ends the proxy process.
 */
export function listen(server: net.Server, host: string, port: number, log: Logger): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      server.on('error', (err) => log.error({ error: err.message }, 'listener error'));
      resolve();
    });
  });
}

function closer(server: net.Server, conns: Set<net.Socket>, cleanup: () => void): () => Promise<void> {
  return () => new Promise((resolve) => {
    cleanup();
    for (const c of conns) c.destroy();
    server.close(() => resolve());
  });
}

function track(conns: Set<net.Socket>, s: net.Socket): void {
  conns.add(s);
  s.once('close', () => conns.delete(s));
}

/**
 * The bytes a server-side TLS socket's client sent, handshake included (the TLS socket's own
 * bytesRead counts application data only); undefined when Node no longer keeps the TCP socket
 * under it as `_parent`.
 */
export function bytesReceived(s: tls.TLSSocket): number | undefined {
  const raw = (s as tls.TLSSocket & { _parent?: unknown })._parent;
  return raw instanceof net.Socket ? raw.bytesRead : undefined;
}

/**
 * Starts the public listener: a TLS server with the service's leaf that requires a client
 * certificate chained to the roots, authorizes each client with the agent (within the handshake
 * timeout) and forwards allowed connections to the local application; while `l7` says the service
 * speaks http, connections are handed to it instead. New connections use the latest leaf and roots.
 */
export async function startPublicListener(
  svc: Pick<ConnectService, 'tlsMaterial' | 'onTlsChange' | 'authorize'>, cfg: PublicListenerConfig, log: Logger, l7?: InboundHandoff,
): Promise<ProxyListener> {
  const options = (m: ReturnType<ConnectService['tlsMaterial']>): tls.SecureContextOptions => ({ ...m, minVersion: 'TLSv1.2' });
  const server = tls.createServer({
    ...options(svc.tlsMaterial()), requestCert: true, rejectUnauthorized: true, handshakeTimeout: cfg.HandshakeTimeoutMs,
  });
  const off = svc.onTlsChange((m) => server.setSecureContext(options(m)));
  const conns = new Set<net.Socket>();
  server.on('connection', (s) => track(conns, s));
  server.on('tlsClientError', (err, s) => {
    // A connection its client closed before sending a byte is a TCP probe (the sidecar's own TCP
    // check, every 10 s), not a failed handshake: an error line each time would drown the real ones.
    const probe = (err as NodeJS.ErrnoException).code === 'ECONNRESET' && bytesReceived(s) === 0;
    // Node does not close the socket on a handshake timeout, it only reports it here: without
    // this a client that never sent its hello held its connection forever.
    s.destroy();
    if (probe) return void log.debug({ error: err.message }, 'connection closed before the TLS handshake began');
    log.error({ error: err.message }, 'failed to handshake');
  });
  server.on('secureConnection', (src) => {
    // Bytes the client sends before it is authorized stay buffered in the paused socket.
    src.on('error', () => src.destroy());
    void (async () => {
      if (l7) {
        // An http service's intentions are enforced per request (Envoy's HTTP RBAC filter), not per connection.
        if (!l7.settled()) await Promise.race([l7.ready(), sleep(cfg.HandshakeTimeoutMs, undefined, { ref: false })]);
        if (l7.active()) return void (src.destroyed || l7.accept(src));
      }
      try {
        // The authorization call is part of the handshake in Consul (its verifier), so the
        // handshake timeout bounds it too.
        await svc.authorize(src, AbortSignal.timeout(cfg.HandshakeTimeoutMs));
      } catch (err) {
        log.error({ error: (err as Error).message }, 'failed to authorize');
        src.destroy();
        return;
      }
      await dialAndSplice(src, conns, log, () => dialPlain(cfg.LocalServiceAddress, cfg.LocalConnectTimeoutMs));
    })();
  });
  try {
    await listen(server, cfg.BindAddress, cfg.BindPort, log);
  } catch (err) {
    off();
    l7?.close();
    throw err;
  }
  return { address: bound(server), close: closer(server, conns, () => { off(); l7?.close(); }) };
}

/**
 * Starts an upstream's local listener: while `l7` says the chain speaks http, connections are
 * handed to it; otherwise each plain TCP connection is forwarded over mTLS to an instance `resolve` picks, whose certificate must carry the instance's SPIFFE URI. The connect
 * timeout bounds the resolution and the dial together, as Consul's dial context does; `resolve`
 * is aborted through its signal when the time is up.
 */
export async function startUpstreamListener(
  svc: Pick<ConnectService, 'dial'>, cfg: UpstreamConfig, resolve: (signal: AbortSignal) => Promise<DialTarget>, log: Logger, l7?: L7Handoff,
): Promise<ProxyListener> {
  const conns = new Set<net.Socket>();
  const server = net.createServer({ pauseOnConnect: true }, (src) => {
    track(conns, src);
    src.on('error', () => src.destroy());
    void (async () => {
      const started = Date.now();
      if (l7) {
        // Whether the chain speaks http decides each new connection's path, so a protocol change applies without a restart.
        if (!l7.settled()) await Promise.race([l7.ready(), sleep(cfg.ConnectTimeoutMs, undefined, { ref: false })]);
        if (l7.active()) return void (src.destroyed || l7.accept(src));
      }
      const dialed = await dialAndSplice(src, conns, log, async () => {
        const target = await resolveWithin(resolve, cfg.ConnectTimeoutMs);
        return svc.dial(target, Math.max(1, cfg.ConnectTimeoutMs - (Date.now() - started)));
      });
      if (dialed) src.resume();
    })();
  });
  try {
    await listen(server, cfg.LocalBindAddress, cfg.LocalBindPort, log);
  } catch (err) {
    l7?.close();
    throw err;
  }
  return { address: bound(server), close: closer(server, conns, () => l7?.close()) };
}

/** Dials the far side for `src` and splices the two; a failed dial is logged and `src` closed (false). */
async function dialAndSplice(src: net.Socket, conns: Set<net.Socket>, log: Logger, dial: () => Promise<net.Socket>): Promise<boolean> {
  let dst: net.Socket;
  try {
    dst = await dial();
  } catch (err) {
    log.error({ error: (err as Error).message }, 'failed to dial');
    src.destroy();
    return false;
  }
  track(conns, dst);
  splice(src, dst, log);
  return true;
}

/** `resolve` under a deadline: aborted and refused with Consul's context error once `ms` pass. */
async function resolveWithin(resolve: (signal: AbortSignal) => Promise<DialTarget>, ms: number): Promise<DialTarget> {
  const ac = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => { ac.abort(); reject(new Error('context deadline exceeded')); }, ms);
  });
  try {
    return await Promise.race([resolve(ac.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}
