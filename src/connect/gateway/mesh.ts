// The built-in data plane's mesh gateway (what Consul has Envoy do for a gateway of Kind
// mesh-gateway): it carries mesh traffic between datacenters WITHOUT terminating TLS. It reads the
// SNI of each client's ClientHello and routes by it (Consul's sni_cluster filter chains): a
// service of its own datacenter (`[<subset>.]<service>.<namespace>.<dc>.internal.<trust domain>`)
// goes to one of that service's passing mesh-capable instances (its sidecar's public listener);
// any name in another datacenter (`*.<dc>.internal.<trust domain>`) goes to one of that
// datacenter's mesh gateways at its WAN address. The bytes peeked are replayed and then spliced,
// so the mutual TLS runs end to end between the proxies.
import net from 'node:net';
import type { ConsulClient } from '../../api/index.ts';
import type { Logger } from '../../log.ts';
import { roots as readRoots } from '../proxy/agent-calls.ts';
import { listen } from '../proxy/listener.ts';
import { blockingWatch } from '../watch.ts';
import { localServiceEndpoints, localSubsetEndpoints, meshGateways, type Endpoint } from './mesh-endpoints.ts';
import { MAX_CLIENT_HELLO, peekSni } from './sni.ts';

/** Where an SNI goes: a service of the gateway's datacenter, or another datacenter's gateways. */
export type MeshRoute =
  | { local: { service: string; namespace: string; partition: string; subset: string } }
  | { remoteDc: string };

/**
 * Consul's SNI forms (agent/connect/sni.go) routed as a mesh gateway's filter chains route them:
 * `[subset.]service.namespace.dc.internal.<td>`, `[subset.]service.namespace.partition.dc.internal-v1.<td>`
 * and `dc.internal.<td>`; null for a name of another trust domain or one the gateway cannot place.
 */
export function meshRoute(sni: string, localDc: string, trustDomain: string): MeshRoute | null {
  const name = sni.toLowerCase().replace(/\.$/, '');
  const td = trustDomain.toLowerCase();
  let labels: string[];
  let v1 = false;
  if (name.endsWith(`.internal.${td}`)) labels = name.slice(0, -`.internal.${td}`.length).split('.');
  else if (name.endsWith(`.internal-v1.${td}`)) [labels, v1] = [name.slice(0, -`.internal-v1.${td}`.length).split('.'), true];
  else return null;
  if (labels.some((l) => l === '')) return null;
  const dc = labels.at(-1)!;
  if (dc !== localDc.toLowerCase()) return { remoteDc: dc };
  const rest = labels.slice(0, -1);
  const [partition, nsAt] = v1 ? [rest.at(-1)!, rest.length - 2] : ['default', rest.length - 1];
  const want = v1 ? [3, 4] : [2, 3];
  if (!want.includes(rest.length)) return null;
  const service = rest[nsAt - 1];
  const subset = nsAt === 2 ? rest[0] : '';
  return { local: { service, namespace: rest[nsAt], partition, subset } };
}

/** What a mesh gateway needs. */
export interface MeshGatewayOptions {
  client: ConsulClient;
  logger: Logger;
  /** The gateway's service name. */
  service: string;
  /** Where it listens. */
  binds: { host: string; port: number }[];
  /** How long a client may take to send its ClientHello (Envoy's tls_inspector: 15 s unless set). */
  helloTimeoutMs?: number;
  /** How long the dial of an instance or gateway may take (Consul's cluster default, 5 s). */
  connectTimeoutMs?: number;
  /** Picks an endpoint (Math.random unless a test fixes it). */
  random?: () => number;
  /** How long another datacenter's gateway list is reused (5 s unless set; a failed dial forgets it). */
  remoteTtlMs?: number;
  /** The clock (Date.now unless a test passes its own). */
  now?: () => number;
}

/** Counters a test or the admin endpoint can read. */
export interface MeshGatewayStats {
  /** Connections accepted. */
  accepted: number;
  /** Connections spliced to a local instance. */
  local: number;
  /** Connections spliced to another datacenter's gateway. */
  remote: number;
  /** Connections closed without a route (bad hello, unknown SNI, no endpoint, failed dial). */
  rejected: number;
}

/** A running mesh gateway: start() binds and reads the roots and datacenter, close() stops everything. */
export class MeshGateway {
  readonly #o: MeshGatewayOptions;
  readonly #log: Logger;
  readonly #abort = new AbortController();
  readonly #servers: net.Server[] = [];
  readonly #conns = new Set<net.Socket>();
  /** The local ends of the connections this gateway dialled: one arriving back from them is a routing loop. */
  readonly #dialled = new Set<string>();
  #trustDomain = '';
  #dc = '';
  /** Other datacenters' gateways as last read (a cross-datacenter read per connection is too slow), by datacenter. */
  readonly #remote = new Map<string, { at: number; list: Promise<Endpoint[]> }>();
  /** The federation's datacenters as last read (an SNI naming another is closed without a cross-datacenter read). */
  #datacenters: { at: number; list: Promise<string[]> } | null = null;
  /** The bound listener addresses, once started. */
  readonly addresses: string[] = [];
  readonly stats: MeshGatewayStats = { accepted: 0, local: 0, remote: 0, rejected: 0 };

  constructor(o: MeshGatewayOptions) {
    this.#o = o;
    this.#log = o.logger;
  }

  /** Reads the datacenter, starts the roots watch (the trust domain) and binds the listeners. */
  async start(): Promise<void> {
    const signal = this.#abort.signal;
    const self = await this.#o.client.json<{ Config: { Datacenter: string } }>({ method: 'GET', path: '/v1/agent/self', options: { signal } });
    this.#dc = self.data.Config.Datacenter;
    let first!: () => void;
    const rootsRead = new Promise<void>((resolve) => { first = resolve; });
    void blockingWatch('roots', (opts) => readRoots(this.#o.client, opts), (r) => { this.#trustDomain = r.TrustDomain; first(); }, this.#log, signal);
    for (const b of this.#o.binds) {
      const server = net.createServer({ allowHalfOpen: true }, (sock) => this.#serve(sock));
      await listen(server, b.host, b.port, this.#log);
      if (signal.aborted) return void server.close();
      this.#servers.push(server);
      const a = server.address() as net.AddressInfo;
      this.addresses.push(a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`);
      this.#log.info({ bind_addr: this.addresses.at(-1), gateway: this.#o.service, datacenter: this.#dc }, 'Starting mesh gateway listener');
    }
    await Promise.race([rootsRead, new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))]);
  }

  /** Stops the watch, closes the listeners and every open connection. */
  async close(): Promise<void> {
    this.#abort.abort();
    for (const c of this.#conns) c.destroy();
    await Promise.all(this.#servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  #track(s: net.Socket): void {
    this.#conns.add(s);
    s.once('close', () => this.#conns.delete(s));
  }

  #serve(src: net.Socket): void {
    this.stats.accepted++;
    this.#track(src);
    src.on('error', () => src.destroy());
    // The bytes so far, in a buffer grown by doubling: a client sending its hello a byte per
    // packet would otherwise have every packet copy all the bytes before it (quadratic).
    let store: Buffer = Buffer.alloc(0);
    let used = 0;
    const timer = setTimeout(() => this.#reject(src, 'no ClientHello in time'), this.#o.helloTimeoutMs ?? 15_000);
    const onData = (chunk: Buffer) => {
      if (used + chunk.length > store.length) {
        const grown = Buffer.allocUnsafe(Math.max(used + chunk.length, Math.min(2 * store.length, MAX_CLIENT_HELLO + 5), 512));
        store.copy(grown, 0, 0, used);
        store = grown;
      }
      chunk.copy(store, used);
      used += chunk.length;
      const buf = store.subarray(0, used);
      const r = peekSni(buf);
      if ('more' in r) return;
      clearTimeout(timer);
      src.off('data', onData);
      src.off('end', onEnd);
      src.pause();
      if ('error' in r) return this.#reject(src, r.error);
      void this.#route(src, r.sni, Buffer.from(buf));
    };
    // Half-open sockets (a client's end is passed on once spliced): one ending before its hello is closed here.
    const onEnd = () => src.destroy();
    src.on('data', onData);
    src.once('end', onEnd);
    // A client that closes before its hello (the gateway's TCP check) is not a failure.
    src.once('close', () => clearTimeout(timer));
  }

  /** The passing gateways of `dc` at their WAN address, read again once older than the TTL (a failed read is not kept). */
  #remoteGateways(dc: string): Promise<Endpoint[]> {
    const now = (this.#o.now ?? Date.now)();
    const hit = this.#remote.get(dc);
    if (hit && now - hit.at < (this.#o.remoteTtlMs ?? 5_000)) return hit.list;
    const list = meshGateways(this.#o.client, dc, 'wan', this.#abort.signal);
    const entry = { at: now, list };
    this.#remote.set(dc, entry);
    list.catch(() => { if (this.#remote.get(dc) === entry) this.#remote.delete(dc); });
    return list;
  }

  /** The known datacenters, read again once older than the TTL (a failed read is not kept). */
  #knownDatacenters(): Promise<string[]> {
    const now = (this.#o.now ?? Date.now)();
    const hit = this.#datacenters;
    if (hit && now - hit.at < (this.#o.remoteTtlMs ?? 5_000)) return hit.list;
    const list = this.#o.client.json<string[] | null>({ method: 'GET', path: '/v1/catalog/datacenters', options: { signal: this.#abort.signal } }).then((r) => r.data ?? []);
    const entry = { at: now, list };
    this.#datacenters = entry;
    list.catch(() => { if (this.#datacenters === entry) this.#datacenters = null; });
    return list;
  }

  #reject(src: net.Socket, why: string, fields: Record<string, unknown> = {}): void {
    this.stats.rejected++;
    if (!src.destroyed) this.#log.warn({ ...fields, reason: why }, 'mesh gateway closed a connection');
    src.destroy();
  }

  async #route(src: net.Socket, sni: string, hello: Buffer): Promise<void> {
    // An instance or gateway entry at this gateway's own address (or a WAN address leading back
    // to it) would have every hop dial a new connection to itself until file descriptors run out.
    if (this.#dialled.has(endpointKey(src.remoteAddress, src.remotePort))) return this.#reject(src, 'routing loop: the connection came from this gateway', { sni });
    const route = this.#trustDomain ? meshRoute(sni, this.#dc, this.#trustDomain) : null;
    if (!route) return this.#reject(src, 'no route for the server name', { sni });
    let endpoints: Endpoint[] | null;
    try {
      const signal = this.#abort.signal;
      // Consul's gateway has filter chains for the known datacenters only: any other name in the
      // SNI would otherwise cost a forwarded read per connection (and a cache entry per name).
      if ('remoteDc' in route) {
        const dc = (await this.#knownDatacenters()).find((d) => d.toLowerCase() === route.remoteDc);
        if (!dc) return this.#reject(src, 'unknown datacenter', { sni });
        route.remoteDc = dc;
      }
      endpoints = 'remoteDc' in route ? await this.#remoteGateways(route.remoteDc)
        : route.local.subset ? await localSubsetEndpoints(this.#o.client, route.local.service, route.local.subset, signal)
          : await localServiceEndpoints(this.#o.client, route.local.service, signal);
    } catch (err) {
      return this.#reject(src, `failed to look up endpoints: ${(err as Error).message}`, { sni });
    }
    if (!endpoints) return this.#reject(src, 'no such subset', { sni });
    if (endpoints.length === 0) return this.#reject(src, 'no healthy endpoints', { sni });
    const target = endpoints[Math.floor((this.#o.random ?? Math.random)() * endpoints.length)];
    let dst: net.Socket;
    try {
      dst = await dial(target, this.#o.connectTimeoutMs ?? 5_000);
    } catch (err) {
      if ('remoteDc' in route) this.#remote.delete(route.remoteDc);
      return this.#reject(src, `failed to dial: ${(err as Error).message}`, { sni, target: `${target.host}:${target.port}` });
    }
    if (src.destroyed || this.#abort.signal.aborted) return void (dst.destroy(), src.destroy());
    this.#track(dst);
    const key = endpointKey(dst.localAddress, dst.localPort);
    this.#dialled.add(key);
    dst.once('close', () => this.#dialled.delete(key));
    if ('local' in route) this.stats.local++;
    else this.stats.remote++;
    this.#log.debug({ sni, target: `${target.host}:${target.port}` }, 'routed');
    dst.write(hello);
    spliceHalfOpen(src, dst, this.#log);
    src.resume();
  }
}

/**
 * Copies each way with backpressure, passing a side's end (FIN) on to the other so an answer
 * still flows after a client's half-close (as Envoy's tcp_proxy); a socket closes once both of
 * its directions are done. An error or abrupt close of either side destroys both.
 */
function spliceHalfOpen(a: net.Socket, b: net.Socket, log: Logger): void {
  const kill = (err?: Error) => {
    if (err && (err as NodeJS.ErrnoException).code !== 'ECONNRESET') log.error({ error: err.message }, 'connection failed');
    a.destroy();
    b.destroy();
  };
  if (a.destroyed || b.destroyed) return kill();
  a.setNoDelay(true);
  b.setNoDelay(true);
  a.on('error', kill);
  b.on('error', kill);
  // A close after both directions ended leaves the other side to finish its own writes; any other close ends both.
  const closed = (s: net.Socket) => () => { if (!(s.readableEnded && s.writableFinished)) kill(); };
  a.once('close', closed(a));
  b.once('close', closed(b));
  a.pipe(b);
  b.pipe(a);
}

/** A socket end as `address|port`, an IPv4-mapped IPv6 address as its IPv4 form. */
function endpointKey(address: string | undefined, port: number | undefined): string {
  return `${(address ?? '').replace(/^::ffff:/i, '')}|${port ?? 0}`;
}

/** A TCP connection to `e`, or the dial's error (a timeout after `timeoutMs`). */
function dial(e: Endpoint, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: e.host, port: e.port, allowHalfOpen: true });
    const t = setTimeout(() => { s.destroy(); reject(new Error('connect timeout')); }, timeoutMs);
    // The error listener stays: an error after the connect is a no-op here, and splice() adds its own.
    s.once('connect', () => { clearTimeout(t); resolve(s); });
    s.on('error', (err) => { clearTimeout(t); reject(err); });
  });
}
