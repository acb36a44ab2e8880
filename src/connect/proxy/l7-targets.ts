// The instances of one discovery-chain target for the L7 upstream: the passing mesh-capable
// instances that match the target's subset filter, kept fresh by a blocking query, and the
// keep-alive HTTPS agent that pools the mTLS connections to them.
import type * as https from 'node:https';
import type { PeerCertificate, SecureContext } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { nodeHttps } from '../../node-http.ts';
import type { ConsulClient, QueryOptions } from '../../api/index.ts';
import { parseGoDuration } from '../../duration.ts';
import type { Logger } from '../../log.ts';
import type { DiscoveryTarget } from '../discovery-chain/index.ts';
import type { ConnectServiceEntry, Tenancy } from './agent-calls.ts';
import { meshGateways } from '../gateway/mesh-endpoints.ts';
import { serviceUri } from '../spiffe.ts';
import { blockingWatch, Readiness } from '../watch.ts';
import { balanceState } from './l7-balance.ts';
import { H2Sessions } from './l7-h2.ts';
import { serverIdentityCheck } from './tls-peer.ts';

/** How often the mesh gateways a target is reached through are read again (they are found by a catalog filter, not one blocking query). */
const GATEWAY_REFRESH_MS = 10_000;

/** A target in another datacenter reached through a mesh gateway: this datacenter's (`local`) or the target's (`remote`). */
export type GatewayVia = 'local' | 'remote';

/** One target's instances; start() begins the watch, ready() resolves after the first answer (or failure). */
export class TargetInstances {
  readonly target: DiscoveryTarget;
  /** Round-robin position and in-flight counts for the resolver's load balancer. */
  readonly balance = balanceState();
  /** One h2 session per instance, for http2 and grpc chains. */
  readonly h2: H2Sessions;
  /** How long a new connection's handshakes may take: the resolver's ConnectTimeout (5 s unset, as in Consul). */
  readonly connectTimeoutMs: number;
  /** The SPIFFE ID every instance must present. */
  readonly certUri: () => string;
  #check: (host: string, cert: PeerCertificate) => Error | undefined;
  #agent: https.Agent | undefined;
  #agentContext: SecureContext | undefined;
  /** Pools replaced after a leaf or roots change, closed once their last request is done. */
  #retired = new Set<https.Agent>();
  #client: ConsulClient;
  #log: Logger;
  /** The target's namespace and partition as API options, for a namespaced proxy's reads. */
  #tenancy: Tenancy | undefined;
  #abort = new AbortController();
  #ready = new Readiness();
  #entries: ConnectServiceEntry[] = [];
  /** Set when the target is reached through mesh gateways: `entries` are then the gateways. */
  readonly via: GatewayVia | undefined;

  /**
   * `proxyTenancy`: the proxied service's namespace and partition as API options; when it names
   * any, the target's namespace and partition are named on its reads (`default` written out).
   */
  constructor(client: ConsulClient, target: DiscoveryTarget, trustDomain: () => string, log: Logger, via?: GatewayVia, proxyTenancy: Tenancy = {}) {
    this.target = target;
    this.via = via;
    this.#tenancy = proxyTenancy.namespace || proxyTenancy.partition
      ? { namespace: target.Namespace || 'default', partition: target.Partition || proxyTenancy.partition || 'default' } : undefined;
    const timeout = target.ConnectTimeout ? parseGoDuration(target.ConnectTimeout) : null;
    this.connectTimeoutMs = timeout && timeout > 0 ? timeout : 5_000;
    // The target's partition: its instances' SPIFFE IDs name it outside the default one (…/ap/<ap>/…).
    const ap = target.Partition && target.Partition.toLowerCase() !== 'default' ? { partition: target.Partition } : {};
    const id = { ...ap, namespace: target.Namespace || 'default', datacenter: target.Datacenter, service: target.Service };
    this.certUri = () => serviceUri({ host: trustDomain(), ...id });
    this.#check = (host: string, cert: PeerCertificate) => serverIdentityCheck(this.certUri())(host, cert);
    this.h2 = new H2Sessions(this.#check, target.SNI);
    this.#client = client;
    this.#log = log.child({ target: target.ID });
  }

  /**
   * The pool of connections made with `secureContext` (the proxy's leaf and roots) to this
   * target's instances (Node keys it by host and port, not by context); each instance must present
   * the target service's SPIFFE ID, as on the L4 path. A new context (a rotated leaf, changed
   * roots) starts a new pool: connections made and verified with the old one are not used again,
   * and close once their request is done.
   */
  pool(secureContext: SecureContext): https.Agent {
    if (this.#agent && this.#agentContext === secureContext) return this.#agent;
    if (this.#agent) retire(this.#agent, this.#retired);
    this.#agent = new nodeHttps.Agent({ keepAlive: true, maxSockets: Infinity, scheduling: 'lifo', checkServerIdentity: this.#check });
    this.#agentContext = secureContext;
    return this.#agent;
  }

  /** The passing instances last read. */
  get entries(): readonly ConnectServiceEntry[] {
    return this.#entries;
  }

  /** True once ready() has resolved. */
  get settled(): boolean {
    return this.#ready.settled;
  }

  /** Starts the blocking watch (or the gateways' refresh). */
  start(): void {
    if (this.via) return void this.#watchGateways(this.via);
    // The last instances read stay in use while the agent cannot be reached.
    void blockingWatch('target instances', (options) => this.#read(options), (data) => {
      this.#entries = (data ?? []).filter(healthy);
      this.#ready.mark();
    }, this.#log, this.#abort.signal, { failed: () => this.#ready.mark(), fields: () => ({ instances: this.#entries.length }) });
  }

  /** Resolves once the instances have been read once (or the read failed). */
  ready(): Promise<void> {
    return this.#ready.promise;
  }

  /**
   * Stops the watch and closes the pooled connections; with `drain` (the chain no longer names
   * the target) requests in flight finish first, as Envoy drains a removed cluster.
   */
  close(drain = false): void {
    this.#abort.abort();
    this.#ready.mark();
    if (drain) {
      if (this.#agent) retire(this.#agent, this.#retired);
      this.#agent = undefined;
      this.h2.drain();
      return;
    }
    this.#agent?.destroy();
    for (const a of this.#retired) a.destroy();
    this.#retired.clear();
    this.h2.close();
  }

  #read(blocking: QueryOptions) {
    const t = this.target;
    const options: QueryOptions = { ...blocking, ...(t.Datacenter ? { datacenter: t.Datacenter } : {}), ...this.#tenancy };
    // Namespaces and partitions other than the default are Enterprise query parameters; CE refuses any.
    // Only an OnlyPassing subset is read passing-only; otherwise instances with warnings take
    // traffic too and critical ones are left out here, as Consul marks endpoints for Envoy.
    const query: Record<string, string | boolean> = t.Subset?.OnlyPassing ? { passing: true } : {};
    if (t.Subset.Filter) query.filter = t.Subset.Filter;
    if (!this.#tenancy) {
      if (t.Namespace && t.Namespace !== 'default') query.ns = t.Namespace;
      if (t.Partition && t.Partition !== 'default') query.partition = t.Partition;
    }
    return this.#client.json<ConnectServiceEntry[] | null>({ method: 'GET', path: `/v1/health/connect/${encodeURIComponent(t.Service)}`, query, options });
  }

  /** Reads the gateways the target is reached through, again every GATEWAY_REFRESH_MS (the last list stays in use when a read fails). */
  async #watchGateways(via: GatewayVia): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      try {
        const list = await meshGateways(this.#client, via === 'local' ? '' : this.target.Datacenter, via === 'local' ? 'lan' : 'wan', signal);
        this.#entries = gatewayEntries(list);
        this.#log.debug({ via, gateways: list.length }, 'target mesh gateways updated');
      } catch (err) {
        if (signal.aborted) return;
        this.#log.error({ error: (err as Error).message }, 'target mesh gateways read failed');
      }
      this.#ready.mark();
      await sleep(GATEWAY_REFRESH_MS, undefined, { signal }).catch(() => undefined);
    }
  }
}

/** The mesh gateways as instances (their keys, addresses and the SNI the pool sends name the target). */
function gatewayEntries(list: { host: string; port: number }[]): ConnectServiceEntry[] {
  return list.map((g) => ({ Node: { Node: 'mesh-gateway', Address: g.host }, Service: { ID: `${g.host}:${g.port}`, Service: 'mesh-gateway', Kind: 'mesh-gateway', Address: g.host, Port: g.port } }));
}

/** Stops `agent` keeping connections: idle ones close now, busy ones once their answer is done. */
function retire(agent: https.Agent, retired: Set<https.Agent>): void {
  // Node's agent closes a freed socket instead of keeping it when keepAlive is off.
  (agent as https.Agent & { keepAlive: boolean }).keepAlive = false;
  for (const list of Object.values(agent.freeSockets)) for (const s of list ?? []) s.destroy();
  for (const a of retired) if (Object.keys(a.sockets).length === 0) retired.delete(a);
  retired.add(agent);
}

/**
 * Whether Consul would give Envoy this instance as a healthy endpoint (calculateEndpointHealthAndWeight):
 * no critical check, and a weight of at least 1 for its state (Weights.Warning with a warning check).
 */
export function healthy(e: ConnectServiceEntry): boolean {
  const checks = e.Checks ?? [];
  if (checks.some((c) => c.Status === 'critical')) return false;
  const w = e.Service.Weights;
  if (!w) return true;
  return (checks.some((c) => c.Status === 'warning') ? w.Warning : w.Passing) >= 1;
}
