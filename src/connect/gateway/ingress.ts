// The built-in data plane's ingress gateway (what Consul has Envoy do for a gateway of Kind
// ingress-gateway): clients outside the mesh reach mesh services through the listeners of its
// config entry. A tcp listener forwards each connection over mTLS to an instance of its one
// service; an http listener picks the service by the request's Host (ingress-hosts.ts), applies
// the service's RequestHeaders and ResponseHeaders and sends the request along the service's
// discovery chain (routes, splits, subsets, failover) as the proxy's L7 upstreams do. Outbound
// connections carry the gateway's own leaf, so the services' intentions from the gateway apply.
// The entry and the gateway's linked services (wildcard `*` expanded) are followed by blocking
// queries: listeners open, change and close without a restart.
import type * as http from 'node:http';
import type * as http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { nodeHttp, nodeHttp2 } from '../../node-http.ts';
import type { ConsulClient } from '../../api/index.ts';
import type { GatewayService } from '../../api/config-entries.ts';
import type { Logger } from '../../log.ts';
import { parseServiceUri } from '../spiffe.ts';
import { upstreamDefaults } from '../proxy/config.ts';
import { ChainWatch } from '../proxy/l7-chain.ts';
import { applyHeaderOps, type HeaderOps } from '../proxy/l7-route.ts';
import { acceptH1OrH2c, handleH2 } from '../proxy/l7-h2.ts';
import { handle, type L7Deps } from '../proxy/l7-upstream.ts';
import { proxyUpgrade } from '../proxy/l7-upgrade.ts';
import { listen, splice, startUpstreamListener, type ProxyListener } from '../proxy/listener.ts';
import { resolveUpstream } from '../proxy/resolver.ts';
import type { LeafCert } from '../proxy/agent-calls.ts';
import { ConnectService } from '../proxy/service.ts';
import { blockingWatch } from '../watch.ts';
import { ingressDomains, matchHost, type VirtualHost } from './ingress-hosts.ts';
import { IngressLeaf, ingressDnsSans, listenerTls, type IngressTlsBlock, type ListenerTls } from './ingress-tls.ts';

/** One service of a listener in the ingress-gateway config entry. */
export interface IngressEntryService {
  Name: string;
  Hosts?: string[] | null;
  RequestHeaders?: HeaderOps | null;
  ResponseHeaders?: HeaderOps | null;
}

/** One listener of the ingress-gateway config entry. */
export interface IngressEntryListener {
  Port: number;
  Protocol?: string;
  Services?: IngressEntryService[] | null;
  TLS?: IngressTlsBlock | null;
}

/** The ingress-gateway config entry, the fields the gateway reads. */
export interface IngressEntry {
  Listeners?: IngressEntryListener[] | null;
  TLS?: IngressTlsBlock | null;
}

/** The listener protocols served over HTTP: http as HTTP/1.1, http2 and grpc as HTTP/2 (h2c, or h2 over TLS). */
export type HttpProtocol = 'http' | 'http2' | 'grpc';

/** What one listener serves: its protocol and its services with their hosts and header changes. */
export interface ListenerPlan {
  port: number;
  protocol: 'tcp' | HttpProtocol;
  /** How it serves TLS; null for plain TCP. */
  tls: ListenerTls | null;
  services: { name: string; domains: string[]; request?: HeaderOps; response?: HeaderOps }[];
}

/**
 * The listeners to run from the entry and the linked services (which expand a wildcard `*`): a
 * service's header changes are its own entry's, else the wildcard's. A tcp listener serves its
 * first service only.
 */
export function planListeners(entry: IngressEntry | null, linked: readonly GatewayService[]): ListenerPlan[] {
  const out: ListenerPlan[] = [];
  for (const l of entry?.Listeners ?? []) {
    const port = Number(l.Port);
    const protocol = l.Protocol === 'tcp' || !l.Protocol ? 'tcp' : l.Protocol === 'http' || l.Protocol === 'http2' || l.Protocol === 'grpc' ? l.Protocol : null;
    if (!protocol || !(port > 0)) continue;
    const own = l.Services ?? [];
    const byName = new Map(own.map((s) => [s.Name.toLowerCase(), s]));
    const wildcard = byName.get('*');
    const rows = linked.filter((r) => r.GatewayKind === 'ingress-gateway' && Number(r.Port) === port);
    const names = rows.length ? rows.map((r) => r.Service.Name) : own.filter((s) => s.Name !== '*').map((s) => s.Name);
    const services = [...new Set(names)].sort().map((name) => {
      const s = byName.get(name.toLowerCase()) ?? wildcard;
      const hosts = s && s.Name !== '*' ? s.Hosts : null;
      return {
        name, domains: ingressDomains(name, hosts, port),
        ...(s?.RequestHeaders ? { request: s.RequestHeaders } : {}),
        ...(s?.ResponseHeaders ? { response: s.ResponseHeaders } : {}),
      };
    });
    if (services.length === 0) continue;
    out.push({ port, protocol, tls: listenerTls(entry?.TLS, l.TLS), services: protocol === 'tcp' ? services.slice(0, 1) : services });
  }
  return out;
}

/** What an ingress gateway needs. */
export interface IngressGatewayOptions {
  client: ConsulClient;
  logger: Logger;
  /** The gateway's service name: its identity and the name of its config entry. */
  service: string;
  /** The address its listeners bind (the registration's address, else every interface). */
  bindHost: string;
  /** How long a dial of a mesh instance may take (Consul's cluster default, 5 s). */
  connectTimeoutMs?: number;
  /** Picks split legs and instances (Math.random unless a test fixes it). */
  random?: () => number;
}

interface Route {
  name: string;
  deps: L7Deps;
  request?: HeaderOps;
  response?: HeaderOps;
}

type HttpRunning = Extract<Running, { protocol: HttpProtocol }>;

type Running =
  | { protocol: HttpProtocol; key: string; address: string; server: net.Server; tls?: tls.Server; tlsSettings?: ListenerTls; conns: Set<net.Socket>; vhosts: VirtualHost<Route>[] }
  | { protocol: 'tcp'; key: string; address: string; listener: ProxyListener; tls?: tls.Server; tlsSettings?: ListenerTls };

/** A running ingress gateway: start() watches and binds, close() stops everything. */
export class IngressGateway {
  readonly #o: IngressGatewayOptions;
  readonly #log: Logger;
  readonly #abort = new AbortController();
  readonly #svc: ConnectService;
  readonly #running = new Map<number, Running>();
  readonly #chains = new Map<string, ChainWatch>();
  readonly #leaf: IngressLeaf;
  #dns: { domain: string; altDomain?: string; datacenter: string } | undefined;
  #entry: IngressEntry | null | undefined;
  #linked: GatewayService[] | undefined;
  #applying: Promise<void> = Promise.resolve();
  #firstApplied!: () => void;
  readonly #applied = new Promise<void>((resolve) => { this.#firstApplied = resolve; });

  constructor(o: IngressGatewayOptions) {
    this.#o = o;
    this.#log = o.logger;
    this.#svc = new ConnectService(o.service, o.client, o.logger.child({ identity: o.service }));
    this.#leaf = new IngressLeaf(o.client, o.service, o.logger.child({ tls: 'leaf' }));
    this.#leaf.onChange = (leaf) => {
      for (const r of this.#running.values()) r.tls?.setSecureContext(tlsOptions(leaf, r.tlsSettings));
    };
  }

  /** The gateway's identity (its leaf and the roots). */
  get service(): ConnectService {
    return this.#svc;
  }

  /** The bound listeners by port, `host:port`. */
  get addresses(): Map<number, string> {
    return new Map([...this.#running].map(([port, r]) => [port, r.address]));
  }

  /** Starts the watches; resolves once the entry and linked services were read and the listeners opened. */
  async start(): Promise<void> {
    const signal = this.#abort.signal;
    this.#svc.start();
    this.#dns = await this.#dnsConfig();
    const name = encodeURIComponent(this.#o.service);
    void blockingWatch('ingress-gateway config entry',
      async (opts) => {
        const res = await this.#o.client.request({ method: 'GET', path: `/v1/config/ingress-gateway/${name}`, options: opts, accept: [404] });
        return { data: res.status === 404 ? null : JSON.parse(res.body.toString('utf8')) as IngressEntry, meta: res.meta };
      },
      (e) => { this.#entry = e; this.#schedule(); }, this.#log, signal);
    void blockingWatch('gateway services',
      (opts) => this.#o.client.json<GatewayService[] | null>({ method: 'GET', path: `/v1/catalog/gateway-services/${name}`, options: opts }),
      (rows) => { this.#linked = rows ?? []; this.#schedule(); }, this.#log, signal);
    await Promise.race([this.#applied, new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))]);
  }

  /** The agent's DNS domains and datacenter for the TLS leaf's SANs (Consul's defaults when the agent does not say). */
  async #dnsConfig(): Promise<{ domain: string; altDomain?: string; datacenter: string }> {
    try {
      const self = (await this.#o.client.json<{ Config?: { Datacenter?: string }; DebugConfig?: { DNSDomain?: string; DNSAltDomain?: string } }>(
        { method: 'GET', path: '/v1/agent/self', options: { signal: this.#abort.signal } })).data;
      return { domain: self.DebugConfig?.DNSDomain || 'consul', altDomain: self.DebugConfig?.DNSAltDomain || undefined, datacenter: self.Config?.Datacenter || 'dc1' };
    } catch (err) {
      this.#log.warn({ error: (err as Error).message }, 'could not read the agent configuration; TLS names use the consul domain');
      const dc = parseServiceUri(this.#svc.leafCert?.ServiceURI ?? '')?.datacenter;
      return { domain: 'consul', datacenter: dc || 'dc1' };
    }
  }

  /** Stops the watches, closes the listeners and their connections. */
  async close(): Promise<void> {
    this.#abort.abort();
    this.#leaf.close();
    await this.#applying;
    await Promise.all([...this.#running.values()].map((r) => this.#stop(r)));
    this.#running.clear();
    for (const c of this.#chains.values()) c.close();
    this.#chains.clear();
    this.#svc.close();
  }

  #schedule(): void {
    if (this.#entry === undefined || this.#linked === undefined) return;
    this.#applying = this.#applying.then(() => this.#apply()).catch((err: Error) => this.#log.error({ error: err.message }, 'failed to apply the ingress gateway configuration'));
  }

  /** Brings the listeners in line with the entry: new ports open, gone ones close, changed ones are updated (http) or reopened (tcp or a protocol change). */
  async #apply(): Promise<void> {
    if (this.#abort.signal.aborted) return;
    const plans = planListeners(this.#entry ?? null, this.#linked ?? []);
    const wanted = new Map(plans.map((p) => [p.port, p]));
    for (const [port, r] of [...this.#running]) {
      const p = wanted.get(port);
      if (p && r.key === listenerKey(p)) continue;
      this.#running.delete(port);
      await this.#stop(r);
      this.#log.info({ port }, 'Stopped ingress gateway listener');
    }
    const tlsOn = plans.some((p) => p.tls);
    if (plans.some((p) => p.tls && this.#entry?.TLS?.SDS)) this.#log.warn('ingress gateway TLS from SDS is not supported; the Connect CA leaf is served');
    this.#leaf.setSans(tlsOn ? ingressDnsSans(this.#linked ?? [], this.#dns ?? { domain: 'consul', datacenter: 'dc1' }) : []);
    // A TLS listener opens with its certificate when it can (Envoy warms it until SDS or the leaf answers).
    if (tlsOn) await this.#leaf.ready(this.#o.connectTimeoutMs ?? 5000);
    const used = new Set<string>();
    for (const p of plans) {
      const r = this.#running.get(p.port);
      try {
        if (p.protocol === 'tcp') {
          if (!r) await this.#startTcp(p);
        } else {
          const vhosts = p.services.map((s) => ({ domains: s.domains, value: this.#route(s, p.protocol, used) }));
          if (r && r.protocol !== 'tcp') r.vhosts = vhosts;
          else await this.#startHttp(p, vhosts);
        }
      } catch (err) {
        this.#log.error({ port: p.port, error: (err as Error).message }, 'failed to start ingress gateway listener');
      }
    }
    for (const [key, c] of this.#chains) if (!used.has(key)) { c.close(); this.#chains.delete(key); }
    this.#firstApplied();
  }

  #route(s: ListenerPlan['services'][number], protocol: string, used: Set<string>): Route {
    // The chain is compiled with the listener's protocol, as Consul's ingress upstreams ask for it.
    const key = `${protocol}/${s.name.toLowerCase()}`;
    used.add(key);
    let chain = this.#chains.get(key);
    const connectTimeoutMs = this.#o.connectTimeoutMs ?? 5000;
    if (!chain) {
      const u = upstreamDefaults({ DestinationName: s.name, ConnectTimeoutMs: connectTimeoutMs, Protocol: protocol });
      chain = new ChainWatch(this.#o.client, u, () => this.#svc.caRoots?.TrustDomain ?? '', this.#log.child({ upstream: s.name }));
      chain.start();
      this.#chains.set(key, chain);
    }
    const deps: L7Deps = { svc: this.#svc, chain, random: this.#o.random ?? Math.random, connectTimeoutMs, log: this.#log.child({ upstream: s.name }) };
    return { name: s.name, deps, ...(s.request ? { request: s.request } : {}), ...(s.response ? { response: s.response } : {}) };
  }

  async #startTcp(p: ListenerPlan): Promise<void> {
    const name = p.services[0].name;
    const cfg = upstreamDefaults({
      DestinationName: name, LocalBindAddress: this.#o.bindHost, LocalBindPort: p.port, ConnectTimeoutMs: this.#o.connectTimeoutMs ?? 5000,
    });
    const resolve = (signal: AbortSignal) => {
      const dc = parseServiceUri(this.#svc.leafCert?.ServiceURI ?? '')?.datacenter ?? '';
      return resolveUpstream(this.#o.client, cfg, this.#svc.caRoots?.TrustDomain ?? '', dc, this.#o.random ?? Math.random, signal);
    };
    const log = this.#log.child({ listener: p.port, upstream: name });
    let listener: ProxyListener;
    let server: tls.Server | undefined;
    if (p.tls) {
      // TLS from the client is ended here; the far side is the service's mTLS as without it.
      const conns = new Set<net.Socket>();
      const track = (c: net.Socket) => { conns.add(c); c.once('close', () => conns.delete(c)); };
      server = this.#tlsServer(p.tls, conns, (src) => {
        track(src);
        void (async () => {
          try {
            const ms = cfg.ConnectTimeoutMs;
            const dst = await this.#svc.dial(await resolve(AbortSignal.timeout(ms)), ms);
            track(dst);
            splice(src, dst, log);
          } catch (err) {
            log.error({ error: (err as Error).message }, 'failed to dial');
            src.destroy();
          }
        })();
      });
      await listen(server, this.#o.bindHost, p.port, log);
      const s = server;
      listener = {
        address: bound(s),
        close: () => new Promise<void>((done) => { s.close(() => done()); for (const c of conns) c.destroy(); }),
      };
    } else {
      listener = await startUpstreamListener(this.#svc, cfg, resolve, log);
    }
    if (this.#abort.signal.aborted) return void (await listener.close());
    this.#running.set(p.port, { protocol: 'tcp', key: listenerKey(p), address: listener.address, listener, ...(server && p.tls ? { tls: server, tlsSettings: p.tls } : {}) });
    this.#log.info({ bind_addr: listener.address, service: name, tls: !!p.tls }, 'Starting ingress gateway tcp listener');
  }

  /** A TLS listener with the gateway's leaf (new connections get the latest), handing each handshaken connection to `serve`. */
  #tlsServer(t: ListenerTls, conns: Set<net.Socket>, serve: (socket: tls.TLSSocket) => void, alpn?: string[]): tls.Server {
    const server = tls.createServer({ ...tlsOptions(this.#leaf.leaf, t), handshakeTimeout: 10_000, ...(alpn ? { ALPNProtocols: alpn } : {}) });
    // The raw connections too, so closing the listener ends those still in their handshake.
    server.on('connection', (c: net.Socket) => { conns.add(c); c.once('close', () => conns.delete(c)); });
    server.on('secureConnection', (socket: tls.TLSSocket) => { socket.on('error', () => socket.destroy()); serve(socket); });
    server.on('tlsClientError', (err) => this.#log.debug({ error: err.message }, 'failed to handshake'));
    return server;
  }

  async #startHttp(p: ListenerPlan, vhosts: VirtualHost<Route>[]): Promise<void> {
    const conns = new Set<net.Socket>();
    const protocol = p.protocol as HttpProtocol;
    const running: HttpRunning = { protocol, key: listenerKey(p), address: '', server: undefined as unknown as http.Server, conns, vhosts };
    if (protocol !== 'http') return this.#startH2(p, running);
    const server = nodeHttp.createServer({ keepAliveTimeout: 60_000, requestTimeout: 0 }, (req, res) => this.#serve(running, req, res));
    server.on('connection', (s: net.Socket) => { conns.add(s); s.once('close', () => conns.delete(s)); });
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, early: Buffer) => {
      const route = matchHost(running.vhosts, req.headers.host);
      if (!route) return void socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      if (route.request) applyHeaderOps(req.headers, [route.request]);
      proxyUpgrade(route.deps, req, socket, early).catch((err: Error) => {
        route.deps.log.error({ error: err.message }, 'upgrade failed');
        socket.destroy();
      });
    });
    running.server = server;
    await this.#bindHttp(p, running);
  }

  /**
   * An http2 or grpc listener: HTTP/2 without TLS (h2c) or h2 over TLS, each stream routed by its
   * :authority, and HTTP/1.1 too (told by the connection preface), as Envoy's AUTO codec takes
   * either; both go through the service's http2 chain.
   */
  async #startH2(p: ListenerPlan, running: HttpRunning): Promise<void> {
    const h2 = nodeHttp2().createServer((req, res) => this.#serveH2(running, req, res));
    const h1 = nodeHttp.createServer({ keepAliveTimeout: 60_000, requestTimeout: 0 }, (req, res) => this.#serve(running, req, res, true));
    const server = net.createServer();
    server.on('connection', (s: net.Socket) => {
      running.conns.add(s);
      s.once('close', () => running.conns.delete(s));
      // A reset before the first bytes is not the servers' to see (and would be an unhandled 'error').
      s.on('error', () => s.destroy());
      acceptH1OrH2c(s, h1, h2);
    });
    running.server = server;
    await this.#bindHttp(p, running);
  }

  /** Binds an HTTP listener's server, behind a TLS listener handing it each handshaken connection when the listener has TLS. */
  async #bindHttp(p: ListenerPlan, running: HttpRunning): Promise<void> {
    const server = running.server;
    let bindServer: net.Server = server;
    if (p.tls) {
      const t = running.tls = this.#tlsServer(p.tls, running.conns, (socket) => server.emit('connection', socket), running.protocol === 'http' ? undefined : ['h2', 'http/1.1']);
      running.tlsSettings = p.tls;
      t.on('close', () => server.close());
      bindServer = t;
    }
    await listen(bindServer, this.#o.bindHost, p.port, this.#log);
    if (this.#abort.signal.aborted) return void bindServer.close();
    running.address = bound(bindServer);
    this.#running.set(p.port, running);
    this.#log.info({ bind_addr: running.address, services: p.services.map((s) => s.name), tls: !!p.tls }, 'Starting ingress gateway http listener');
  }

  #serveH2(r: HttpRunning, req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void {
    const route = matchHost(r.vhosts, req.authority || req.headers.host);
    if (!route) return void res.writeHead(404, { 'content-length': 0 }).end();
    if (route.request) applyHeaderOps(req.headers as Record<string, string | string[] | undefined>, [route.request]);
    if (route.response) {
      // Every HTTP/2 answer head goes out through the stream's respond(), with or without a body.
      const ops = route.response;
      const respond = res.stream.respond.bind(res.stream);
      res.stream.respond = (headers, options) => {
        const h = { ...headers } as Record<string, string | string[] | undefined>;
        applyHeaderOps(h, [ops]);
        respond(h as http2.OutgoingHttpHeaders, options);
      };
    }
    handleH2(route.deps, req, res).catch((err: Error) => {
      route.deps.log.error({ error: err.message }, 'request failed');
      res.stream.close(nodeHttp2().constants.NGHTTP2_INTERNAL_ERROR);
    });
  }

  /** An HTTP/1.1 request; `h2chain`: on an http2 or grpc listener, sent along as h2. */
  #serve(r: HttpRunning, req: http.IncomingMessage, res: http.ServerResponse, h2chain = false): void {
    const route = matchHost(r.vhosts, req.headers.host);
    // No virtual host for the Host: Envoy's 404 with no body.
    if (!route) return void res.writeHead(404, { 'content-length': 0 }).end();
    if (route.request) applyHeaderOps(req.headers, [route.request]);
    if (route.response) withResponseOps(res, route.response);
    (h2chain ? handleH2(route.deps, req, res) : handle(route.deps, req, res)).catch((err: Error) => {
      route.deps.log.error({ error: err.message }, 'request failed');
      if (res.headersSent) return void res.destroy();
      const text = 'upstream connect error or disconnect/reset before headers. reset reason: connection failure';
      res.writeHead(503, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) }).end(text);
    });
  }

  async #stop(r: Running): Promise<void> {
    if (r.protocol === 'tcp') return r.listener.close();
    await new Promise<void>((resolve) => {
      if (r.tls) r.tls.close(() => resolve());
      else r.server.close(() => resolve());
      for (const c of r.conns) c.destroy();
    });
  }
}

function bound(server: net.Server): string {
  const a = server.address() as net.AddressInfo;
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** What a running listener cannot change in place: protocol and TLS, and a tcp listener's service. */
function listenerKey(p: ListenerPlan): string {
  return JSON.stringify([p.protocol, p.tls, p.protocol === 'tcp' ? p.services[0]?.name.toLowerCase() ?? '' : '']);
}

/** The TLS server settings of a listener with the gateway's leaf. */
function tlsOptions(leaf: LeafCert | undefined, t: ListenerTls | undefined): tls.SecureContextOptions {
  return { ...(leaf ? { cert: leaf.CertPEM, key: leaf.PrivateKeyPEM } : {}), minVersion: t?.minVersion ?? 'TLSv1.2', ...(t?.maxVersion ? { maxVersion: t.maxVersion } : {}) };
}

/** Applies a virtual host's response header changes after the route's, as Envoy evaluates them, to whatever head `res` sends. */
function withResponseOps(res: http.ServerResponse, ops: HeaderOps): void {
  const writeHead = res.writeHead.bind(res) as (status: number, ...rest: unknown[]) => http.ServerResponse;
  res.writeHead = ((status: number, ...rest: unknown[]) => {
    // writeHead(status, [reason,] headers): the reason may be given as undefined.
    const reason = rest.length >= 2 ? rest[0] as string | undefined : undefined;
    const given = (rest.length >= 2 ? rest[1] : rest[0] ?? {}) as Record<string, string | string[] | number | undefined>;
    const headers: Record<string, string | string[] | undefined> = {};
    for (const [k, v] of Object.entries(given)) headers[k.toLowerCase()] = typeof v === 'number' ? String(v) : v;
    for (const k of res.getHeaderNames()) {
      if (headers[k] === undefined) {
        const v = res.getHeader(k);
        headers[k] = typeof v === 'number' ? String(v) : v;
      }
      res.removeHeader(k);
    }
    applyHeaderOps(headers, [ops]);
    for (const [k, v] of Object.entries(headers)) if (v === undefined) delete headers[k];
    return reason ? writeHead(status, reason, headers) : writeHead(status, headers);
  }) as typeof res.writeHead;
}
