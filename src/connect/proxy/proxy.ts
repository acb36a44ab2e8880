// The built-in Connect proxy (Consul's connect/proxy/proxy.go): one service identity, its
// public mTLS listener once the leaf and roots are known, and one local listener per upstream.
import { X509Certificate } from 'node:crypto';
import type { ConsulClient } from '../../api/index.ts';
import type { Logger } from '../../log.ts';
import { parseServiceUri } from '../spiffe.ts';
import { upstreamString, type ProxyConfig, type UpstreamConfig } from './config.ts';
import { startPublicListener, startUpstreamListener, type ProxyListener } from './listener.ts';
import { ChainWatch } from './l7-chain.ts';
import { l7Inbound } from './l7-inbound.ts';
import { InboundPolicy } from './l7-inbound-policy.ts';
import { MeshHttpWatch } from './mesh-http.ts';
import { l7Upstream, type L7Handoff } from './l7-upstream.ts';
import { resolveUpstream } from './resolver.ts';
import { ConnectService } from './service.ts';

/** What a proxy needs. */
export interface ProxyDeps {
  client: ConsulClient;
  logger: Logger;
  /** Picks L7 split legs and instances (Math.random unless a test fixes it). */
  random?: () => number;
}

/** A running proxy: start() binds the listeners, close() stops everything. */
export class Proxy {
  readonly config: ProxyConfig;
  readonly service: ConnectService;
  #deps: ProxyDeps;
  #log: Logger;
  #listeners: ProxyListener[] = [];
  #closed = false;
  #upstreamNames = new Set<string>();
  /** The public listener's bound address, once started. */
  publicAddress: string | undefined;
  /** Each upstream's bound address, by upstreamString(). */
  readonly upstreamAddresses = new Map<string, string>();

  constructor(config: ProxyConfig, deps: ProxyDeps) {
    this.config = config;
    this.#deps = deps;
    this.#log = deps.logger;
    this.service = new ConnectService(config.ProxiedServiceName, deps.client, deps.logger, { namespace: config.ProxiedServiceNamespace, partition: config.ProxiedServicePartition });
  }

  /** Starts the watches and the upstream listeners, then the public listener once the leaf is ready. */
  async start(): Promise<void> {
    this.service.start();
    const pl = this.config.PublicListener;
    const publicLog = this.#log.child({ listener: 'public' });
    // Read alongside the leaf, so an http service's first connections need not wait for it.
    const inbound = pl && pl.BindPort !== 0 ? l7Inbound({
      policy: new InboundPolicy(this.#deps.client, this.config.ProxiedServiceName, () => this.service.caRoots?.TrustDomain ?? '', publicLog, this.service.tenancy),
      mesh: new MeshHttpWatch(this.#deps.client, publicLog),
      localAddress: pl.LocalServiceAddress, localConnectTimeoutMs: pl.LocalConnectTimeoutMs, log: publicLog,
      identity: () => this.service.leafCert?.ServiceURI ?? '',
    }) : undefined;
    await this.addUpstreams(this.config.Upstreams);
    await this.service.ready();
    if (this.#closed) return void inbound?.close();
    this.#logIdentity();
    if (pl && inbound) {
      await this.#add('public listener', startPublicListener(this.service, pl, publicLog, inbound), (a) => { this.publicAddress = a; });
    }
  }

  /**
   * Starts listeners for the upstreams not running yet (a changed sidecar registration adds
   * upstreams; as in Consul, running ones are neither changed nor stopped).
   */
  async addUpstreams(upstreams: UpstreamConfig[]): Promise<void> {
    for (const u of upstreams) {
      const name = upstreamString(u);
      if (this.#upstreamNames.has(name) || this.#closed) continue;
      if (u.LocalBindPort < 1) {
        this.#log.error({ upstream: name }, "upstream has no local_bind_port. Can't start upstream.");
        continue;
      }
      this.#upstreamNames.add(name);
      const resolve = (signal: AbortSignal) => {
        const dc = parseServiceUri(this.service.leafCert?.ServiceURI ?? '')?.datacenter ?? '';
        return resolveUpstream(this.#deps.client, u, this.service.caRoots?.TrustDomain ?? '', dc, Math.random, signal, this.service.tenancy);
      };
      const log = this.#log.child({ upstream: name });
      try {
        await this.#add(name, startUpstreamListener(this.service, u, resolve, log, this.#l7(u, log)), (a) => this.upstreamAddresses.set(name, a));
      } catch (err) {
        this.#log.error({ upstream: name, error: (err as Error).message }, 'failed to start upstream');
      }
    }
  }

  /** The L7 path of a service upstream, used while its discovery chain's protocol is http; prepared queries stay L4. */
  #l7(u: UpstreamConfig, log: Logger): L7Handoff | undefined {
    if (u.DestinationType !== 'service') return undefined;
    const chain = new ChainWatch(this.#deps.client, u, () => this.service.caRoots?.TrustDomain ?? '', log,
      () => parseServiceUri(this.service.leafCert?.ServiceURI ?? '')?.datacenter ?? '', this.service.ready(), this.service.tenancy);
    return l7Upstream({ svc: this.service, chain, random: this.#deps.random ?? Math.random, connectTimeoutMs: u.ConnectTimeoutMs, log });
  }

  async #add(name: string, started: Promise<ProxyListener>, bound: (address: string) => void): Promise<void> {
    const l = await started;
    if (this.#closed) return void (await l.close());
    this.#listeners.push(l);
    bound(l.address);
    this.#log.info({ listener: name, bind_addr: l.address }, 'Starting listener');
  }

  #logIdentity(): void {
    this.#log.info('Proxy loaded config and ready to serve');
    const names = (this.service.caRoots?.Roots ?? []).map((r) => {
      try {
        return /(?:^|\n)CN=([^\n]*)/.exec(new X509Certificate(r.RootCert).subject)?.[1] ?? r.Name;
      } catch {
        return r.Name;
      }
    });
    this.#log.info({ uri: this.service.leafCert?.ServiceURI, roots: `[${names.join(' ')}]` }, 'Parsed TLS identity');
  }

  /** Stops the watches, closes the listeners and every open connection. */
  async close(): Promise<void> {
    this.#closed = true;
    this.service.close();
    await Promise.all(this.#listeners.map((l) => l.close()));
    this.#listeners = [];
  }
}
