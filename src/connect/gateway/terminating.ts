// The built-in data plane's terminating gateway (what Consul has Envoy do for a gateway of Kind
// terminating-gateway): mesh clients reach the services its config entry links through it. It
// terminates their mTLS with a leaf of the LINKED service, one per service, picked by the SNI
// `<service>.default.<dc>.internal.<trust domain>`; authorizes each client against that
// service's intentions; and opens a plain connection, or TLS with the link's CAFile, CertFile,
// KeyFile and SNI, to a passing instance at the address the service registered.
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import type { ConsulClient } from '../../api/index.ts';
import type { GatewayService } from '../../api/config-entries.ts';
import type { Logger } from '../../log.ts';
import { parseServiceUri } from '../spiffe.ts';
import { roots as readRoots, type CARoots } from '../proxy/agent-calls.ts';
import { bytesReceived, listen, splice } from '../proxy/listener.ts';
import { serviceSni } from '../proxy/resolver.ts';
import { ConnectService } from '../proxy/service.ts';
import { blockingWatch } from '../watch.ts';
import { dialExternal, upstreamTls, type ExternalInstance, type UpstreamTls } from './terminating-upstream.ts';

/** What a terminating gateway needs. */
export interface TerminatingGatewayOptions {
  client: ConsulClient;
  logger: Logger;
  /** The gateway's service name: the name of the terminating-gateway config entry it serves. */
  service: string;
  /** Where its mTLS listeners bind. */
  binds: { host: string; port: number }[];
  /** How long a client's handshake and authorization may take (Envoy's 10 s unless set). */
  handshakeTimeoutMs?: number;
  /** How long the dial of a linked service may take (Consul's cluster default, 5 s). */
  connectTimeoutMs?: number;
  /** Picks an instance (Math.random unless a test fixes it). */
  random?: () => number;
  /** Reads a link's CAFile, CertFile and KeyFile (the file system unless a test passes its own). */
  readFile?: (path: string) => string;
}

/** One linked service: its identity (leaf, roots, authorization), its instances and open connections. */
interface Link {
  name: string;
  row: GatewayService;
  svc: ConnectService;
  /** The server-side TLS context with the service's leaf, once both leaf and roots are read. */
  context: tls.SecureContext | undefined;
  instances: ExternalInstance[];
  tls: UpstreamTls | undefined;
  conns: Set<net.Socket>;
  abort: AbortController;
}

/** A running terminating gateway: start() binds and watches, close() stops everything. */
export class TerminatingGateway {
  readonly #o: TerminatingGatewayOptions;
  readonly #log: Logger;
  readonly #abort = new AbortController();
  readonly #links = new Map<string, Link>();
  readonly #servers: tls.Server[] = [];
  readonly #sockets = new Set<net.Socket>();
  #roots: CARoots | undefined;
  #linksRead!: () => void;
  readonly #linksReady = new Promise<void>((resolve) => { this.#linksRead = resolve; });
  /** The bound listener addresses, once started. */
  readonly addresses: string[] = [];

  constructor(o: TerminatingGatewayOptions) {
    this.#o = o;
    this.#log = o.logger;
  }

  /** Starts the watches, binds the listeners and resolves once the linked services were first read. */
  async start(): Promise<void> {
    const signal = this.#abort.signal;
    void blockingWatch('roots', (opts) => readRoots(this.#o.client, opts), (r) => this.#setRoots(r), this.#log, signal);
    void blockingWatch('gateway services',
      (opts) => this.#o.client.json<GatewayService[] | null>({ method: 'GET', path: `/v1/catalog/gateway-services/${encodeURIComponent(this.#o.service)}`, options: opts }),
      (rows) => { this.#setLinks(rows ?? []); this.#linksRead(); }, this.#log, signal);
    for (const b of this.#o.binds) {
      const server = this.#server();
      await listen(server, b.host, b.port, this.#log);
      if (signal.aborted) return void server.close();
      this.#servers.push(server);
      const a = server.address() as net.AddressInfo;
      this.addresses.push(a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`);
      this.#log.info({ bind_addr: this.addresses.at(-1), gateway: this.#o.service }, 'Starting terminating gateway listener');
    }
    await Promise.race([this.#linksReady, new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))]);
  }

  /** The linked services whose leaf is ready to serve, sorted. */
  linked(): string[] {
    return [...this.#links.values()].filter((l) => l.context).map((l) => l.name).sort();
  }

  /** Stops the watches, closes the listeners and every open connection. */
  async close(): Promise<void> {
    this.#abort.abort();
    for (const l of [...this.#links.values()]) this.#unlink(l);
    for (const s of this.#sockets) s.destroy();
    await Promise.all(this.#servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  #server(): tls.Server {
    const server = tls.createServer({
      ...this.#rootsOnly(), requestCert: true, rejectUnauthorized: true,
      handshakeTimeout: this.#o.handshakeTimeoutMs ?? 10_000,
      SNICallback: (name, cb) => {
        const link = this.#linkBySni(name);
        if (!link?.context) return cb(new Error(`no linked service is served as ${JSON.stringify(name)}`), undefined);
        cb(null, link.context);
      },
    });
    // Every accepted socket, handshaking ones included, so close() ends them all.
    server.on('connection', (s: net.Socket) => { this.#sockets.add(s); s.once('close', () => this.#sockets.delete(s)); });
    server.on('tlsClientError', (err, s) => {
      // The gateway's own TCP check connects and closes without a byte: not a failed handshake. A
      // reset after the client sent bytes is one.
      const probe = (err as NodeJS.ErrnoException).code === 'ECONNRESET' && bytesReceived(s) === 0;
      // Node only reports a handshake timeout: the socket stays open unless it is closed here.
      s.destroy();
      if (probe) return void this.#log.debug({ error: err.message }, 'connection closed before the TLS handshake began');
      this.#log.error({ error: err.message }, 'failed to handshake');
    });
    server.on('secureConnection', (src) => void this.#serve(src));
    return server;
  }

  /** The default context: no certificate (a client without a linked service's SNI gets none), the roots to verify clients with. */
  #rootsOnly(): tls.SecureContextOptions {
    return { ca: (this.#roots?.Roots ?? []).map((r) => r.RootCert), minVersion: 'TLSv1.2' };
  }

  #setRoots(r: CARoots): void {
    this.#roots = r;
    for (const s of this.#servers) s.setSecureContext(this.#rootsOnly());
  }

  async #serve(src: tls.TLSSocket): Promise<void> {
    src.on('error', () => src.destroy());
    const link = this.#linkBySni(src.servername || '');
    if (!link) return void src.destroy();
    link.conns.add(src);
    src.once('close', () => link.conns.delete(src));
    const log = this.#log.child({ service: link.name });
    try {
      await link.svc.authorize(src, AbortSignal.timeout(this.#o.handshakeTimeoutMs ?? 10_000));
    } catch (err) {
      log.error({ error: (err as Error).message }, 'failed to authorize');
      return void src.destroy();
    }
    if (link.instances.length === 0) {
      log.error('failed to dial: no healthy instances found');
      return void src.destroy();
    }
    const target = link.instances[Math.floor((this.#o.random ?? Math.random)() * link.instances.length)];
    let dst: net.Socket;
    try {
      dst = await dialExternal(target, link.tls, this.#o.connectTimeoutMs ?? 5_000);
    } catch (err) {
      log.error({ error: (err as Error).message }, 'failed to dial');
      return void src.destroy();
    }
    if (src.destroyed || !this.#links.has(link.name.toLowerCase())) return void (dst.destroy(), src.destroy());
    link.conns.add(dst);
    dst.once('close', () => link.conns.delete(dst));
    splice(src, dst, log);
  }

  /** The link whose SNI is `name` (compared without case), in the datacenter and trust domain of its leaf and roots. */
  #linkBySni(name: string): Link | undefined {
    const want = name.toLowerCase();
    for (const l of this.#links.values()) {
      const dc = parseServiceUri(l.svc.leafCert?.ServiceURI ?? '')?.datacenter;
      const td = l.svc.caRoots?.TrustDomain;
      if (dc && td && serviceSni(l.name, 'default', dc, td).toLowerCase() === want) return l;
    }
    return undefined;
  }

  /** Applies the gateway's linked services: new ones start, gone ones stop (their connections close), changed TLS applies to new dials. */
  #setLinks(rows: GatewayService[]): void {
    const wanted = new Map<string, GatewayService>();
    for (const r of rows) if (r.GatewayKind === 'terminating-gateway') wanted.set(r.Service.Name.toLowerCase(), r);
    for (const [key, l] of this.#links) if (!wanted.has(key)) this.#unlink(l);
    for (const [key, row] of wanted) {
      const l = this.#links.get(key);
      if (l) {
        if (tlsKey(l.row) !== tlsKey(row)) l.tls = this.#upstreamTls(row);
        l.row = row;
        continue;
      }
      this.#link(key, row);
    }
  }

  #link(key: string, row: GatewayService): void {
    const name = row.Service.Name;
    const log = this.#log.child({ service: name });
    const svc = new ConnectService(name, this.#o.client, log);
    const link: Link = { name, row, svc, context: undefined, instances: [], tls: this.#upstreamTls(row), conns: new Set(), abort: new AbortController() };
    this.#links.set(key, link);
    svc.onTlsChange((m) => { link.context = tls.createSecureContext({ ...m, minVersion: 'TLSv1.2' }); });
    svc.start();
    const signal = AbortSignal.any([this.#abort.signal, link.abort.signal]);
    void blockingWatch('linked service instances',
      (opts) => this.#o.client.json<HealthEntry[] | null>({ method: 'GET', path: `/v1/health/service/${encodeURIComponent(name)}`, query: { passing: true }, options: opts }),
      (entries) => { link.instances = (entries ?? []).map((e) => ({ host: e.Service.Address || e.Node.Address, port: e.Service.Port })); },
      log, signal);
    log.info('linked service added');
  }

  #unlink(l: Link): void {
    this.#links.delete(l.name.toLowerCase());
    l.abort.abort();
    l.svc.close();
    for (const c of l.conns) c.destroy();
    this.#log.info({ service: l.name }, 'linked service removed');
  }

  #upstreamTls(row: GatewayService): UpstreamTls | undefined {
    try {
      return upstreamTls(row, this.#o.readFile ?? ((p) => readFileSync(p, 'utf8')));
    } catch (err) {
      this.#log.error({ service: row.Service.Name, error: (err as Error).message }, 'failed to load the TLS settings of a linked service');
      return { failed: (err as Error).message };
    }
  }
}

/** One entry of /v1/health/service/<name>, the fields the gateway reads. */
interface HealthEntry {
  Node: { Address: string };
  Service: { Address: string; Port: number };
}

function tlsKey(r: GatewayService): string {
  return JSON.stringify([r.CAFile ?? '', r.CertFile ?? '', r.KeyFile ?? '', r.SNI ?? '']);
}
