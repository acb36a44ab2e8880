// The built-in data plane's API gateway (what Consul has Envoy do for a gateway of Kind
// api-gateway): the listeners of its api-gateway entry, with the http-routes and tcp-routes bound
// to them (api-routes.ts) and TLS from the inline or file-system certificates they name. An http
// request picks its hostname's first matching route, a weighted leg of the route's services, the
// route's header changes, path rewrite, retries and timeout, and goes along the service's
// discovery chain over mTLS with the gateway's own leaf, so the services' intentions from the
// gateway apply. The entry, routes and certificates (and certificate files) are followed: changes
// apply without a restart.
import { readFileSync, realpathSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../../log.ts';
import type { DiscoverySplit } from '../discovery-chain/index.ts';
import { matchRoute, pickSplit, type L7Request } from '../proxy/l7-route.ts';
import type { ConnectService } from '../proxy/service.ts';
import { blockingWatch, configEntryRead } from '../watch.ts';
import {
  planApiGateway, type ApiGatewayEntry, type ApiGatewayState, type CertificateEntry, type GatewayHttpRoute,
} from './api-routes.ts';
import { HostedGatewayCore, type GatewayRoute, type HostedGatewayOptions, type ListenerSpec, type Selected } from './listeners.ts';

/** What an API gateway needs. */
export type ApiGatewayOptions = HostedGatewayOptions;

type Lists = Omit<ApiGatewayState, 'gateway'>;

/** The kinds the gateway follows, and where each lands. */
const WATCHED: [string, keyof Lists][] = [
  ['http-route', 'httpRoutes'], ['tcp-route', 'tcpRoutes'], ['inline-certificate', 'certificates'], ['file-system-certificate', 'certificates'],
];

/** A running API gateway: start() watches and binds, close() stops everything. */
export class ApiGateway {
  readonly #o: ApiGatewayOptions;
  readonly #log: Logger;
  readonly #core: HostedGatewayCore;
  #entry: ApiGatewayEntry | null | undefined;
  readonly #lists = new Map<string, unknown[]>();
  /** Watches of the folders holding file-system certificates (and their symlinks' targets), by folder. */
  readonly #dirs = new Map<string, FSWatcher>();
  #queued = false;
  #unwatchLeaf: (() => void) | undefined;
  /** The last pair read from each file-system certificate's paths. */
  readonly #lastFiles = new Map<string, { cert: string; key: string }>();

  constructor(o: ApiGatewayOptions) {
    this.#o = o;
    this.#log = o.logger;
    // A TLS listener without a certificate of its own serves the gateway's Connect leaf (Consul's listener TLS context).
    this.#core = new HostedGatewayCore(o, 'API gateway', () => this.#core.svc.leafCert);
  }

  /** The gateway's identity (its leaf and the roots). */
  get service(): ConnectService {
    return this.#core.svc;
  }

  /** The bound listeners by port, `host:port`. */
  get addresses(): Map<number, string> {
    return this.#core.listeners.addresses;
  }

  /** Starts the watches; resolves once the entry, routes and certificates were read and the listeners opened. */
  async start(): Promise<void> {
    const signal = this.#core.abort.signal;
    this.#core.svc.start();
    // A new leaf reaches the listeners serving it.
    this.#unwatchLeaf = this.#core.svc.onTlsChange(() => this.#core.listeners.refreshTls());
    void blockingWatch('api-gateway config entry', configEntryRead<ApiGatewayEntry>(this.#o.client, 'api-gateway', this.#o.service),
      (e) => { this.#entry = e; this.#schedule(); }, this.#log, signal);
    for (const [kind] of WATCHED) {
      void blockingWatch(`${kind} config entries`,
        (opts) => this.#o.client.json<unknown[] | null>({ method: 'GET', path: `/v1/config/${kind}`, options: opts }),
        (rows) => { this.#lists.set(kind, rows ?? []); this.#schedule(); }, this.#log, signal);
    }
    await this.#core.queue.first;
  }

  /** Stops the watches, closes the listeners and their connections. */
  close(): Promise<void> {
    this.#unwatchLeaf?.();
    for (const w of this.#dirs.values()) w.close();
    this.#dirs.clear();
    return this.#core.close();
  }

  /**
   * Follows the files of the file-system certificates: their folders and, for a file that is a
   * symlink, the folder of what it points at, so a file replaced by a rename and a symlink swapped
   * (a Kubernetes secret volume's `..data`) are seen. Any change there re-plans (the files are read
   * again, and listeners take a new certificate in place).
   */
  #watchFiles(certs: readonly CertificateEntry[]): void {
    const wanted = new Set<string>();
    for (const c of certs) {
      if (c.Kind !== 'file-system-certificate') continue;
      for (const f of [c.Certificate, c.PrivateKey]) {
        if (!f) continue;
        wanted.add(dirname(f));
        try {
          wanted.add(dirname(realpathSync(f)));
        } catch {
          // Missing for now: its folder's watch sees it come.
        }
      }
    }
    const current = new Set(certs.filter((c) => c.Kind === 'file-system-certificate').map((c) => `${c.Certificate}\0${c.PrivateKey}`));
    for (const key of this.#lastFiles.keys()) if (!current.has(key)) this.#lastFiles.delete(key);
    for (const [dir, watcher] of this.#dirs) if (!wanted.has(dir)) { watcher.close(); this.#dirs.delete(dir); }
    for (const dir of wanted) {
      if (this.#dirs.has(dir)) continue;
      try {
        const watcher = watch(dir, () => this.#schedule());
        watcher.on('error', (err) => this.#log.warn({ dir, error: err.message }, 'certificate folder watch failed'));
        this.#dirs.set(dir, watcher);
      } catch (err) {
        this.#log.warn({ dir, error: (err as Error).message }, 'could not watch the certificate folder');
      }
    }
  }

  /**
   * Reads a file-system certificate's files; when they cannot be read (removed before being
   * written again) the last pair read from the same paths is served, as Envoy keeps its last
   * secret, instead of the listener closing.
   */
  readonly #readFiles = (c: CertificateEntry): { cert: string; key: string } => {
    const key = `${c.Certificate}\0${c.PrivateKey}`;
    try {
      const pair = { cert: readFileSync(c.Certificate, 'utf8'), key: readFileSync(c.PrivateKey, 'utf8') };
      this.#lastFiles.set(key, pair);
      return pair;
    } catch (err) {
      const last = this.#lastFiles.get(key);
      if (!last) throw err;
      this.#log.warn({ certificate: c.Name, error: (err as Error).message }, 'API gateway certificate files unreadable: serving the last ones read');
      return last;
    }
  };

  /** Queues an apply unless one is queued and not yet started (it reads the state when it starts). */
  #schedule(): void {
    if (this.#entry === undefined || WATCHED.some(([kind]) => !this.#lists.has(kind)) || this.#queued) return;
    this.#queued = true;
    this.#core.queue.schedule(() => {
      this.#queued = false;
      return this.#apply();
    });
  }

  #state(): ApiGatewayState {
    const lists: Lists = { entry: this.#entry ?? null, httpRoutes: [], tcpRoutes: [], certificates: [] };
    for (const [kind, field] of WATCHED) (lists[field] as unknown[]).push(...this.#lists.get(kind) ?? []);
    return { gateway: this.#o.service, ...lists } as ApiGatewayState;
  }

  /** Brings the listeners in line with the entry and the routes bound to them. */
  async #apply(): Promise<void> {
    if (this.#core.abort.signal.aborted) return;
    const state = this.#state();
    this.#watchFiles(state.certificates);
    const plans = planApiGateway(state, (msg, name) => this.#log.warn({ listener_or_certificate: name, error: msg }, 'API gateway certificate not served'), this.#readFiles);
    const used = new Set<string>();
    const specs: ListenerSpec[] = plans.map((p) => ({
      port: p.port, protocol: p.protocol, tls: p.tls, services: p.routes,
      ...(p.protocol === 'tcp'
        ? { tcpService: p.tcpService }
        : { vhosts: [...p.hosts].map(([host, routes]) => ({ domains: host === '*' ? ['*'] : [host, `${host}:${p.port}`], value: this.#route(routes, used) })) }),
    }));
    await this.#core.listeners.apply(specs);
    this.#core.chains.sweep(used);
    for (const p of plans) this.#log.debug({ port: p.port, routes: p.routes }, 'API gateway listener routes');
  }

  /** A hostname's routes: the first whose match accepts the request, then a weighted leg of its services. */
  #route(routes: GatewayHttpRoute[], used: Set<string>): GatewayRoute {
    const compiled = routes.map((r) => ({
      r,
      legs: r.services.map((s) => {
        const deps = this.#core.chains.deps(s.name, 'http', used);
        return { s, deps: r.adjust ? { ...deps, adjust: r.adjust } : deps };
      }),
      splits: r.services.map((s, i): DiscoverySplit => ({ Definition: {}, Weight: (s.weight / r.services.reduce((n, x) => n + x.weight, 0)) * 100, NextNode: String(i) })),
    }));
    return {
      select: (req: L7Request): Selected | null => {
        for (const c of compiled) {
          const m = matchRoute(c.r.match, req);
          if (!m) continue;
          const split = c.legs.length === 1 ? { NextNode: '0' } : pickSplit(c.splits, this.#core.random);
          if (!split) return null;
          const { s, deps } = c.legs[Number(split.NextNode)];
          // URLRewrite is Consul's PrefixRewrite: what the path match consumed is replaced (all of
          // it for a regex match, as Envoy rewrites a regex route's path).
          const consumed = c.r.match.HTTP.PathRegex !== undefined ? req.path : m.matched;
          const path = s.rewrite !== undefined && consumed !== '' ? s.rewrite + req.path.slice(consumed.length) : undefined;
          return { deps, request: s.request, response: s.response, ...(path !== undefined ? { path } : {}) };
        }
        return null;
      },
    };
  }
}
