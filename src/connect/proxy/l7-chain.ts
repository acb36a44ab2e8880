// An upstream's discovery chain for the L7 path: the compiled chain kept fresh by a blocking
// query on /v1/discovery-chain (so config entry writes apply without a restart), and a watch of
// the instances of each target the chain can send traffic to while its protocol is http.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConsulClient, QueryOptions } from '../../api/index.ts';
import type { Logger } from '../../log.ts';
import type { CompiledDiscoveryChain, DiscoveryTarget } from '../discovery-chain/index.ts';
import { blockingWatch, Readiness } from '../watch.ts';
import type { Tenancy } from './agent-calls.ts';
import type { UpstreamConfig } from './config.ts';
import { upstreamTenancy } from './resolver.ts';
import type { BalanceState } from './l7-balance.ts';
import { TargetInstances, type GatewayVia } from './l7-targets.ts';

/** The protocols the L7 upstream speaks (HTTP/1.1 for http, h2c for http2 and grpc); other chains stay on the L4 path. */
export function isL7Protocol(protocol: string | undefined): boolean {
  return protocol === 'http' || isH2Protocol(protocol);
}

/** The protocols spoken as HTTP/2. */
export function isH2Protocol(protocol: string | undefined): boolean {
  return protocol === 'http2' || protocol === 'grpc';
}

/** One upstream's chain and target instances; start(), then read `chain` once ready() resolves. */
export class ChainWatch {
  #client: ConsulClient;
  #upstream: UpstreamConfig;
  #trustDomain: () => string;
  #localDc: () => string;
  #localDcKnown: Promise<unknown>;
  #log: Logger;
  /** The proxied service's namespace and partition as API options (none for the default ones). */
  #tenancy: Tenancy;
  #abort = new AbortController();
  #ready = new Readiness();
  #chain: CompiledDiscoveryChain | undefined;
  #targets = new Map<string, { key: string; instances: TargetInstances }>();
  /** Called after each new chain is in place. */
  onChange: (() => void) | undefined;

  /**
   * `localDc` (the proxy's datacenter, known once `localDcKnown` resolves: the chain is read after)
   * tells which targets are in another one, for the mesh gateway modes.
   */
  constructor(
    client: ConsulClient, upstream: UpstreamConfig, trustDomain: () => string, log: Logger,
    localDc: () => string = () => '', localDcKnown: Promise<unknown> = Promise.resolve(), tenancy: Tenancy = {},
  ) {
    this.#client = client;
    this.#tenancy = tenancy;
    this.#localDc = localDc;
    this.#localDcKnown = localDcKnown;
    this.#trustDomain = trustDomain;
    this.#upstream = upstream;
    this.#log = log;
  }

  /** True once ready() has resolved. */
  get settled(): boolean {
    return this.#ready.settled;
  }

  /** The chain last read; undefined before the first read or while it has never succeeded. */
  get chain(): CompiledDiscoveryChain | undefined {
    return this.#chain;
  }

  /** True when the current chain's protocol is one the L7 path speaks. */
  get isL7(): boolean {
    return isL7Protocol(this.#chain?.Protocol);
  }

  /** True when the current chain's protocol is spoken as HTTP/2. */
  get isH2(): boolean {
    return isH2Protocol(this.#chain?.Protocol);
  }

  /** The watched instances of target `id`, once the chain names it. */
  instances(id: string): TargetInstances | undefined {
    return this.#targets.get(id)?.instances;
  }

  /**
   * An instance of the first of `targets` (failover order) that has any, chosen by `choose` (among
   * instance keys, with the target's balance state) or at random, with its key and its target's
   * watch; waits at most `waitMs` for a target's first read. Null when none has an instance.
   */
  async pick(
    targets: DiscoveryTarget[], random: () => number, waitMs: number, choose?: (keys: string[], state: BalanceState) => number,
  ): Promise<{ to: { host: string; port: number }; key: string; instances: TargetInstances } | null> {
    for (const t of targets) {
      const instances = this.instances(t.ID);
      if (!instances) continue;
      if (!instances.settled) await Promise.race([instances.ready(), sleep(waitMs, undefined, { ref: false })]);
      const entries = instances.entries;
      if (entries.length === 0) continue;
      const keys = entries.map((e) => `${e.Node.Node}/${e.Service.ID}`);
      const i = choose ? choose(keys, instances.balance) : Math.floor(random() * entries.length);
      const e = entries[i];
      return { to: { host: e.Service.Address || e.Node.Address, port: e.Service.Port }, key: keys[i], instances };
    }
    return null;
  }

  /** Starts the blocking watch. */
  start(): void {
    // The last chain read stays in use when a read fails; before any, connections take the L4 path.
    void blockingWatch('discovery chain', (options) => this.#read(options), (d) => {
      this.#chain = d.Chain;
      this.#syncTargets();
      this.onChange?.();
      this.#ready.mark();
    }, this.#log, this.#abort.signal, {
      after: this.#localDcKnown,
      failed: () => this.#ready.mark(),
      fields: () => ({ protocol: this.#chain?.Protocol }),
    });
  }

  /** Resolves once the chain has been read once (or the read failed). */
  ready(): Promise<void> {
    return this.#ready.promise;
  }

  /** Stops the watches and closes the pooled connections. */
  close(): void {
    this.#abort.abort();
    this.#ready.mark();
    for (const t of this.#targets.values()) t.instances.close();
    this.#targets.clear();
  }

  #read(options: QueryOptions) {
    const u = this.#upstream;
    const query: Record<string, string> = {};
    if (u.Datacenter) query['compile-dc'] = u.Datacenter;
    // A namespaced proxy names the upstream's tenant on every read (`default` written out, as the
    // L4 resolver does), so the client's own namespace never stands in for it; a default proxy reads as before.
    if (this.#tenancy.namespace || this.#tenancy.partition) options = { ...options, ...upstreamTenancy(u, this.#tenancy) };
    else if (u.DestinationNamespace && u.DestinationNamespace !== 'default') query.ns = u.DestinationNamespace;
    const path = `/v1/discovery-chain/${encodeURIComponent(u.DestinationName)}`;
    // An upstream's own protocol overrides the chain's, as Consul's proxycfg asks for it.
    if (u.Protocol) return this.#client.json<{ Chain: CompiledDiscoveryChain }>({ method: 'POST', path, query, options, json: { OverrideProtocol: u.Protocol } });
    return this.#client.json<{ Chain: CompiledDiscoveryChain }>({ method: 'GET', path, query, options });
  }

  /**
   * Starts watches for the chain's targets (a target whose subset or connect timeout changed is
   * watched anew, with new pools) and stops the rest.
   */
  #syncTargets(): void {
    const wanted = new Map<string, string>();
    if (this.isL7) for (const [id, t] of Object.entries(this.#chain?.Targets ?? {})) wanted.set(id, JSON.stringify([t.Subset ?? {}, t.ConnectTimeout ?? '', this.#via(t) ?? '']));
    for (const [id, t] of this.#targets) {
      if (wanted.get(id) === t.key) continue;
      // Requests already sent to it finish; new ones go where the new chain says.
      t.instances.close(true);
      this.#targets.delete(id);
    }
    for (const [id, key] of wanted) {
      if (this.#targets.has(id)) continue;
      const target = this.#chain!.Targets![id];
      const instances = new TargetInstances(this.#client, target, this.#trustDomain, this.#log, this.#via(target), this.#tenancy);
      instances.start();
      this.#targets.set(id, { key, instances });
    }
  }

  /**
   * The mesh gateway a target in another datacenter is reached through: the upstream's mode, else
   * the target's from the chain (service-defaults, proxy-defaults), as Consul's override ranks them.
   */
  #via(t: DiscoveryTarget): GatewayVia | undefined {
    const local = this.#localDc();
    if (!local || !t.Datacenter || t.Datacenter === local || t.External) return undefined;
    const mode = this.#upstream.MeshGatewayMode || t.MeshGateway?.Mode || '';
    return mode === 'local' || mode === 'remote' ? mode : undefined;
  }
}
