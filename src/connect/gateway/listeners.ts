// The listeners of the built-in data plane's ingress and API gateways (what Envoy runs for them):
// a tcp listener forwards each connection over mTLS to an instance of its one service; an http
// (http2, grpc) listener picks a virtual host by the request's Host, lets the host's route choose
// the service and the request's changes, and sends the request along that service's discovery
// chain as the proxy's L7 upstreams do. TLS from clients ends here. Listeners open, change and
// close as the gateway's plans say, without a restart.
import type * as http from 'node:http';
import type * as http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { TLS13_SUITES } from '../../agent/tls.ts';
import { nodeHttp, nodeHttp2 } from '../../node-http.ts';
import type { ConsulClient } from '../../api/index.ts';
import type { Logger } from '../../log.ts';
import { parseServiceUri } from '../spiffe.ts';
import { upstreamDefaults } from '../proxy/config.ts';
import { ChainWatch } from '../proxy/l7-chain.ts';
import { applyHeaderOps, requestPath, type HeaderOps, type L7Request } from '../proxy/l7-route.ts';
import { acceptH1OrH2c, handleH2 } from '../proxy/l7-h2.ts';
import { handle, type L7Deps } from '../proxy/l7-upstream.ts';
import { proxyUpgrade } from '../proxy/l7-upgrade.ts';
import { listen, splice, startUpstreamListener, type ProxyListener } from '../proxy/listener.ts';
import { resolveUpstream } from '../proxy/resolver.ts';
import type { LeafCert } from '../proxy/agent-calls.ts';
import { ConnectService } from '../proxy/service.ts';
import { ApplyQueue } from '../watch.ts';
import { matchHost, type VirtualHost } from './ingress-hosts.ts';
import type { ListenerTls } from './ingress-tls.ts';

/** The listener protocols served over HTTP: http as HTTP/1.1, http2 and grpc as HTTP/2 (h2c, or h2 over TLS). */
export type HttpProtocol = 'http' | 'http2' | 'grpc';

/** Where a request goes: the service's L7 path, the changes to make, and the path to send (unchanged when absent). */
export interface Selected {
  deps: L7Deps;
  request: HeaderOps[];
  response: HeaderOps[];
  path?: string;
}

/** What a virtual host routes a request to; null: no route (Envoy's 404). */
export interface GatewayRoute {
  select(req: L7Request): Selected | null;
}

/** One listener to run. */
export interface ListenerSpec {
  port: number;
  protocol: 'tcp' | HttpProtocol;
  /** How it serves TLS; null for none. */
  tls: ListenerTls | null;
  /** A tcp listener's service. */
  tcpService?: string;
  /** An http listener's virtual hosts. */
  vhosts?: VirtualHost<GatewayRoute>[];
  /** The services it serves, for the log. */
  services: string[];
}

/** What the listeners need of their gateway. */
export interface GatewayListenersOptions {
  client: ConsulClient;
  svc: ConnectService;
  logger: Logger;
  bindHost: string;
  connectTimeoutMs: number;
  random: () => number;
  /** The certificate a TLS listener serves when its spec carries none (the gateway's leaf). */
  leaf: () => LeafCert | undefined;
  /** How the log names the gateway ('ingress gateway', 'API gateway'). */
  what: string;
}

/** What an ingress or API gateway is given. */
export interface HostedGatewayOptions {
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

/** What an ingress or API gateway is made of: its identity, listeners and service chains, and its watches' abort and applies. */
export class HostedGatewayCore {
  readonly svc: ConnectService;
  readonly listeners: GatewayListeners;
  readonly chains: GatewayChains;
  readonly abort = new AbortController();
  readonly queue: ApplyQueue;
  readonly random: () => number;

  /** `what` names the gateway in logs; `leaf` is the certificate of TLS listeners that name none. */
  constructor(o: HostedGatewayOptions, what: string, leaf: () => LeafCert | undefined) {
    this.random = o.random ?? Math.random;
    this.queue = new ApplyQueue(o.logger, what, this.abort.signal);
    this.svc = new ConnectService(o.service, o.client, o.logger.child({ identity: o.service }));
    const common = { client: o.client, svc: this.svc, logger: o.logger, bindHost: o.bindHost, connectTimeoutMs: o.connectTimeoutMs ?? 5000, random: this.random, leaf, what };
    this.listeners = new GatewayListeners(common);
    this.chains = new GatewayChains(common);
  }

  /** Stops the watches, lets a running apply finish, closes the listeners, chains and identity. */
  async close(): Promise<void> {
    this.abort.abort();
    await this.queue.idle();
    await this.listeners.close();
    this.chains.close();
    this.svc.close();
  }
}

type HttpRunning = Extract<Running, { protocol: HttpProtocol }>;

type Running =
  | { protocol: HttpProtocol; key: string; address: string; server: net.Server; tls?: tls.Server; tlsSettings?: ListenerTls; conns: Set<net.Socket>; vhosts: VirtualHost<GatewayRoute>[] }
  | { protocol: 'tcp'; key: string; address: string; listener: ProxyListener; tls?: tls.Server; tlsSettings?: ListenerTls };

/** The L7 paths of the services a gateway routes to: one chain watch per service and protocol, closed once unused. */
export class GatewayChains {
  readonly #o: GatewayListenersOptions;
  readonly #chains = new Map<string, ChainWatch>();

  constructor(o: GatewayListenersOptions) {
    this.#o = o;
  }

  /** The L7 path of `service` with its chain compiled for `protocol` (marked used in `used`). */
  deps(service: string, protocol: string, used: Set<string>): L7Deps {
    // The chain is compiled with the listener's protocol, as Consul's gateway upstreams ask for it.
    const key = `${protocol}/${service.toLowerCase()}`;
    used.add(key);
    let chain = this.#chains.get(key);
    const connectTimeoutMs = this.#o.connectTimeoutMs;
    const log = this.#o.logger.child({ upstream: service });
    if (!chain) {
      const u = upstreamDefaults({ DestinationName: service, ConnectTimeoutMs: connectTimeoutMs, Protocol: protocol });
      chain = new ChainWatch(this.#o.client, u, () => this.#o.svc.caRoots?.TrustDomain ?? '', log);
      chain.start();
      this.#chains.set(key, chain);
    }
    return { svc: this.#o.svc, chain, random: this.#o.random, connectTimeoutMs, log };
  }

  /** Closes the chains not in `used`. */
  sweep(used: Set<string>): void {
    for (const [key, c] of this.#chains) if (!used.has(key)) { c.close(); this.#chains.delete(key); }
  }

  close(): void {
    this.sweep(new Set());
  }
}

/** A gateway's running listeners by port. */
export class GatewayListeners {
  readonly #o: GatewayListenersOptions;
  readonly #log: Logger;
  readonly #running = new Map<number, Running>();
  #closed = false;

  constructor(o: GatewayListenersOptions) {
    this.#o = o;
    this.#log = o.logger;
  }

  /** The bound listeners by port, `host:port`. */
  get addresses(): Map<number, string> {
    return new Map([...this.#running].map(([port, r]) => [port, r.address]));
  }

  /** Gives every TLS listener its current certificate (new connections get it). */
  refreshTls(): void {
    for (const [port, r] of this.#running) {
      if (!r.tls || !r.tlsSettings) continue;
      try {
        r.tls.setSecureContext(this.#tlsOptions(r.tlsSettings));
      } catch (err) {
        this.#log.warn({ port, error: (err as Error).message }, `${this.#o.what} listener keeps its certificate: the new one does not load`);
      }
    }
  }

  /** Brings the listeners in line with `specs`: new ports open, gone ones close, http ones take new hosts in place, others reopen when changed. */
  async apply(specs: ListenerSpec[]): Promise<void> {
    if (this.#closed) return;
    const wanted = new Map(specs.map((s) => [s.port, s]));
    for (const [port, r] of [...this.#running]) {
      const s = wanted.get(port);
      if (s && r.key === listenerKey(s)) {
        // New certificates are taken in place: new connections get them, open ones go on. One that
        // does not load (a key of another certificate, a file half written) leaves the old one.
        if (r.tls && s.tls && JSON.stringify(r.tlsSettings) !== JSON.stringify(s.tls)) {
          try {
            r.tls.setSecureContext(this.#tlsOptions(s.tls));
            r.tlsSettings = s.tls;
          } catch (err) {
            this.#log.warn({ port, error: (err as Error).message }, `${this.#o.what} listener keeps its certificate: the new one does not load`);
          }
        }
        continue;
      }
      this.#running.delete(port);
      await stop(r);
      this.#log.info({ port }, `Stopped ${this.#o.what} listener`);
    }
    for (const s of specs) {
      const r = this.#running.get(s.port);
      try {
        if (s.protocol === 'tcp') {
          if (!r) await this.#startTcp(s);
        } else if (r && r.protocol !== 'tcp') {
          r.vhosts = s.vhosts ?? [];
        } else {
          await this.#startHttp(s);
        }
      } catch (err) {
        this.#log.error({ port: s.port, error: (err as Error).message }, `failed to start ${this.#o.what} listener`);
      }
    }
  }

  /** Closes every listener and its connections. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#running.values()].map(stop));
    this.#running.clear();
  }

  async #startTcp(s: ListenerSpec): Promise<void> {
    const name = s.tcpService ?? '';
    const cfg = upstreamDefaults({ DestinationName: name, LocalBindAddress: this.#o.bindHost, LocalBindPort: s.port, ConnectTimeoutMs: this.#o.connectTimeoutMs });
    const svc = this.#o.svc;
    const resolve = (signal: AbortSignal) => {
      const dc = parseServiceUri(svc.leafCert?.ServiceURI ?? '')?.datacenter ?? '';
      return resolveUpstream(this.#o.client, cfg, svc.caRoots?.TrustDomain ?? '', dc, this.#o.random, signal);
    };
    const log = this.#log.child({ listener: s.port, upstream: name });
    let listener: ProxyListener;
    let server: tls.Server | undefined;
    let tlsState: { tlsSettings?: ListenerTls } | undefined;
    if (s.tls) {
      // TLS from the client is ended here; the far side is the service's mTLS as without it.
      const conns = new Set<net.Socket>();
      const track = (c: net.Socket) => { conns.add(c); c.once('close', () => conns.delete(c)); };
      tlsState = { tlsSettings: s.tls };
      server = this.#tlsServer(tlsState, conns, (src) => {
        track(src);
        void (async () => {
          try {
            const ms = cfg.ConnectTimeoutMs;
            const dst = await svc.dial(await resolve(AbortSignal.timeout(ms)), ms);
            track(dst);
            splice(src, dst, log);
          } catch (err) {
            log.error({ error: (err as Error).message }, 'failed to dial');
            src.destroy();
          }
        })();
      });
      await listen(server, this.#o.bindHost, s.port, log);
      const t = server;
      listener = {
        address: bound(t),
        close: () => new Promise<void>((done) => { t.close(() => done()); for (const c of conns) c.destroy(); }),
      };
    } else {
      listener = await startUpstreamListener(svc, cfg, resolve, log);
    }
    if (this.#closed) return void (await listener.close());
    // With TLS the record is the state its server's SNI callback reads, so new certificates reach it.
    const running = Object.assign(tlsState ?? {}, { protocol: 'tcp', key: listenerKey(s), address: listener.address, listener, ...(server ? { tls: server } : {}) }) as Running;
    this.#running.set(s.port, running);
    this.#log.info({ bind_addr: listener.address, service: name, tls: !!s.tls }, `Starting ${this.#o.what} tcp listener`);
  }

  /** The TLS server settings of a listener: its own certificate, else the gateway's leaf. */
  #tlsOptions(t: ListenerTls): tls.SecureContextOptions {
    const leaf = this.#o.leaf();
    const pair = t.cert ?? (leaf ? { cert: leaf.CertPEM, key: leaf.PrivateKeyPEM } : undefined);
    return { ...(pair ? { cert: pair.cert, key: pair.key } : {}), ...protocolOptions(t) };
  }

  /** A TLS listener (new connections get the latest certificate), handing each handshaken connection to `serve`. */
  #tlsServer(state: { tlsSettings?: ListenerTls }, conns: Set<net.Socket>, serve: (socket: tls.TLSSocket) => void, alpn?: string[]): tls.Server {
    const server = tls.createServer({
      ...this.#tlsOptions(state.tlsSettings!), handshakeTimeout: 10_000, ...(alpn ? { ALPNProtocols: alpn } : {}), SNICallback: sniCallback(state, (error) => this.#log.warn({ error }, `${this.#o.what} certificate not served by name: it does not load`)),
    });
    // The raw connections too, so closing the listener ends those still in their handshake.
    server.on('connection', (c: net.Socket) => { conns.add(c); c.once('close', () => conns.delete(c)); });
    server.on('secureConnection', (socket: tls.TLSSocket) => { socket.on('error', () => socket.destroy()); serve(socket); });
    server.on('tlsClientError', (err) => this.#log.debug({ error: err.message }, 'failed to handshake'));
    return server;
  }

  async #startHttp(s: ListenerSpec): Promise<void> {
    const conns = new Set<net.Socket>();
    const protocol = s.protocol as HttpProtocol;
    const running: HttpRunning = { protocol, key: listenerKey(s), address: '', server: undefined as unknown as http.Server, conns, vhosts: s.vhosts ?? [] };
    if (protocol !== 'http') return this.#startH2(s, running);
    const server = nodeHttp.createServer({ keepAliveTimeout: 60_000, requestTimeout: 0 }, (req, res) => this.#serve(running, req, res));
    server.on('connection', (c: net.Socket) => { conns.add(c); c.once('close', () => conns.delete(c)); });
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, early: Buffer) => {
      const sel = select(running, req, req.headers.host);
      if (!sel) return void socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      proxyUpgrade(sel.deps, req, socket, early).catch((err: Error) => {
        sel.deps.log.error({ error: err.message }, 'upgrade failed');
        socket.destroy();
      });
    });
    running.server = server;
    await this.#bindHttp(s, running);
  }

  /**
   * An http2 or grpc listener: HTTP/2 without TLS (h2c) or h2 over TLS, each stream routed by its
   * :authority, and HTTP/1.1 too (told by the connection preface), as Envoy's AUTO codec takes
   * either; both go through the service's http2 chain.
   */
  async #startH2(s: ListenerSpec, running: HttpRunning): Promise<void> {
    const h2 = nodeHttp2().createServer((req, res) => this.#serveH2(running, req, res));
    const h1 = nodeHttp.createServer({ keepAliveTimeout: 60_000, requestTimeout: 0 }, (req, res) => this.#serve(running, req, res, true));
    const server = net.createServer();
    server.on('connection', (c: net.Socket) => {
      running.conns.add(c);
      c.once('close', () => running.conns.delete(c));
      // A reset before the first bytes is not the servers' to see (and would be an unhandled 'error').
      c.on('error', () => c.destroy());
      acceptH1OrH2c(c, h1, h2);
    });
    running.server = server;
    await this.#bindHttp(s, running);
  }

  /** Binds an HTTP listener's server, behind a TLS listener handing it each handshaken connection when the listener has TLS. */
  async #bindHttp(s: ListenerSpec, running: HttpRunning): Promise<void> {
    const server = running.server;
    let bindServer: net.Server = server;
    if (s.tls) {
      running.tlsSettings = s.tls;
      const t = running.tls = this.#tlsServer(running, running.conns, (socket) => server.emit('connection', socket), running.protocol === 'http' ? undefined : ['h2', 'http/1.1']);
      t.on('close', () => server.close());
      bindServer = t;
    }
    await listen(bindServer, this.#o.bindHost, s.port, this.#log);
    if (this.#closed) return void bindServer.close();
    running.address = bound(bindServer);
    this.#running.set(s.port, running);
    this.#log.info({ bind_addr: running.address, services: s.services, tls: !!s.tls }, `Starting ${this.#o.what} http listener`);
  }

  #serveH2(r: HttpRunning, req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void {
    const sel = select(r, req, req.authority || req.headers.host);
    if (!sel) return void res.writeHead(404, { 'content-length': 0 }).end();
    if (sel.response.length) {
      // Every HTTP/2 answer head goes out through the stream's respond(), with or without a body.
      const respond = res.stream.respond.bind(res.stream);
      res.stream.respond = (headers, options) => {
        const h = { ...headers } as Record<string, string | string[] | undefined>;
        applyHeaderOps(h, sel.response);
        respond(h as http2.OutgoingHttpHeaders, options);
      };
    }
    handleH2(sel.deps, req, res).catch((err: Error) => {
      sel.deps.log.error({ error: err.message }, 'request failed');
      res.stream.close(nodeHttp2().constants.NGHTTP2_INTERNAL_ERROR);
    });
  }

  /** An HTTP/1.1 request; `h2chain`: on an http2 or grpc listener, sent along as h2. */
  #serve(r: HttpRunning, req: http.IncomingMessage, res: http.ServerResponse, h2chain = false): void {
    const sel = select(r, req, req.headers.host);
    // No virtual host for the Host, or no route in it: Envoy's 404 with no body.
    if (!sel) return void res.writeHead(404, { 'content-length': 0 }).end();
    if (sel.response.length) withResponseOps(res, sel.response);
    (h2chain ? handleH2(sel.deps, req, res) : handle(sel.deps, req, res)).catch((err: Error) => {
      sel.deps.log.error({ error: err.message }, 'request failed');
      if (res.headersSent) return void res.destroy();
      const text = 'upstream connect error or disconnect/reset before headers. reset reason: connection failure';
      res.writeHead(503, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) }).end(text);
    });
  }
}

/**
 * The route of a request on a running http listener: its virtual host by `host`, then the host's
 * choice; the request's headers and path are changed as the choice says.
 */
function select(r: HttpRunning, req: http.IncomingMessage | http2.Http2ServerRequest, host: string | undefined): Selected | null {
  const route = matchHost(r.vhosts, host);
  if (!route) return null;
  const { path, search } = requestPath(req.url ?? '/');
  const headers = req.headers as Record<string, string | string[] | undefined>;
  const sel = route.select({ method: req.method ?? 'GET', path, query: new URLSearchParams(search), headers, sourceIp: req.socket?.remoteAddress });
  if (!sel) return null;
  applyHeaderOps(headers, sel.request);
  if (sel.path !== undefined && sel.path !== path) req.url = sel.path + search;
  return sel;
}

const sniLists = new WeakMap<ListenerTls, { names: string[]; ctx: tls.SecureContext }[]>();

/**
 * Picks the certificate of the listener's current `sni` list whose names cover the requested
 * server name (exact, else `*.` one label); none: the default context.
 */
function sniCallback(
  state: { tlsSettings?: ListenerTls }, warn: (error: string) => void,
): (name: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void) => void {
  return (name, cb) => {
    const t = state.tlsSettings;
    if (!t?.sni?.length) return cb(null, undefined);
    let list = sniLists.get(t);
    if (!list) {
      const versions = protocolOptions(t);
      list = [];
      // A certificate that does not load is left out (its names get the default), not every handshake failed.
      for (const c of t.sni) {
        try {
          list.push({ names: c.names.map((n) => n.toLowerCase()), ctx: tls.createSecureContext({ cert: c.cert, key: c.key, ...versions }) });
        } catch (err) {
          warn((err as Error).message);
        }
      }
      sniLists.set(t, list);
    }
    const n = name.toLowerCase();
    const wild = `*${n.slice(n.indexOf('.'))}`;
    cb(null, (list.find((c) => c.names.includes(n)) ?? list.find((c) => n.includes('.') && c.names.includes(wild)))?.ctx);
  };
}

/**
 * A listener's versions and cipher suites. The suites apply to TLS 1.2 and below, as Envoy's
 * cipher_suites do; TLS 1.3's are listed too, or OpenSSL's cipher list would turn TLS 1.3 off.
 */
function protocolOptions(t: ListenerTls): tls.SecureContextOptions {
  return {
    minVersion: t.minVersion, ...(t.maxVersion ? { maxVersion: t.maxVersion } : {}),
    ...(t.ciphers?.length ? { ciphers: `${TLS13_SUITES}:${t.ciphers.join(':')}` } : {}),
  };
}

async function stop(r: Running): Promise<void> {
  if (r.protocol === 'tcp') return r.listener.close();
  await new Promise<void>((resolve) => {
    if (r.tls) r.tls.close(() => resolve());
    else r.server.close(() => resolve());
    for (const c of r.conns) c.destroy();
  });
}

function bound(server: net.Server): string {
  const a = server.address() as net.AddressInfo;
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** What a running listener cannot change in place: protocol and TLS versions, and a tcp listener's service (certificates are swapped in place). */
function listenerKey(s: ListenerSpec): string {
  const t = s.tls && { minVersion: s.tls.minVersion, maxVersion: s.tls.maxVersion };
  return JSON.stringify([s.protocol, t, s.protocol === 'tcp' ? s.tcpService?.toLowerCase() ?? '' : '']);
}

/** Applies a virtual host's response header changes after the route's, as Envoy evaluates them, to whatever head `res` sends. */
function withResponseOps(res: http.ServerResponse, ops: HeaderOps[]): void {
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
    applyHeaderOps(headers, ops);
    for (const [k, v] of Object.entries(headers)) if (v === undefined) delete headers[k];
    return reason ? writeHead(status, reason, headers) : writeHead(status, headers);
  }) as typeof res.writeHead;
}
