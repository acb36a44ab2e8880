// A server's seat in the WAN gossip pool (Consul's serf WAN): the servers of every datacenter
// on ports.serf_wan, named `<node>.<dc>`, with memberlist's WAN timings and gossip_wan, its own
// peer snapshot and keyring (`<data_dir>/serf/remote.snapshot`, `remote.keyring`), and
// retry_join_wan. It is the routing table for `?dc=` forwarding (each server's address and its
// `port` tag, the internal RPC port) and for the datacenter listings.
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import { createGossip, formatAddress, parseAddress, WAN_DEFAULTS, type Gossip, type GossipConfig, type Member, type Transport } from '../gossip/index.ts';
import type { CoordinateDatacenterMap } from '../api/coordinate-types.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import { memberTags } from './member-tags.ts';
import { retryJoin, type RetryJoin } from './retry-join.ts';
import { startFlood } from './wan-flood.ts';
import type { WanServer } from './wan-datacenters.ts';

const require = createRequire(import.meta.url);
let datacentersModule: typeof import('./wan-datacenters.ts') | undefined;
/** The datacenters' listings and servers (wan-datacenters.ts), loaded by the first read or forward, not at start (issue #9). */
const datacenters = () => datacentersModule ??= require('./wan-datacenters.ts') as typeof import('./wan-datacenters.ts');

/** Collaborators of the pool. */
export interface WanPoolDeps {
  clock: Clock;
  logger: Logger;
  random: () => number;
  /** Default: real UDP+TCP sockets on the serf WAN address. */
  transport?: Transport;
  /** retry_max_wan exhausted (Consul's agent exits). */
  onJoinExhausted?: (err: Error) => void;
  /** Called with the pool's gossip node before it starts (memberlist's metrics). */
  instrument?: (g: Gossip) => void;
}

/** Consul's WAN serf tags: the LAN server tags without wan_join_port (`port` is the server RPC port forwarding uses). */
export function wanTags(c: RuntimeConfig): Record<string, string> {
  const tags = memberTags(c);
  delete tags.wan_join_port;
  return tags;
}

/** Consul's wanMergeDelegate: only servers (role=consul with a dc tag) may enter the WAN pool. */
export function wanMergeCheck(members: Array<{ name: string; tags: Record<string, string> }>): string | null {
  const bad = members.find((m) => m.tags.role !== 'consul' || !m.tags.dc);
  return bad ? `Member '${bad.name}' is not a server` : null;
}

/** The WAN gossip node's configuration; null when this agent has no WAN pool. */
export function wanGossipConfig(c: RuntimeConfig): GossipConfig | null {
  const w = c.gossipWan;
  if (!w) return null;
  const t = w.timings;
  return {
    ...WAN_DEFAULTS,
    name: `${c.nodeName}.${c.datacenter}`, bindAddr: w.bindAddr, bindPort: w.bindPort, advertiseAddr: w.advertiseAddr,
    tags: wanTags(c), defaultPort: w.bindPort,
    probeIntervalMs: t.probeIntervalMs, probeTimeoutMs: t.probeTimeoutMs, suspicionMult: t.suspicionMult,
    retransmitMult: t.retransmitMult, gossipIntervalMs: t.gossipIntervalMs, gossipNodes: t.gossipNodes,
    reconnectTimeoutMs: w.reconnectTimeoutMs, rejoinAfterLeave: c.gossip?.rejoinAfterLeave ?? false,
    encryptKeys: c.gossip?.encrypt ? [c.gossip.encrypt] : undefined,
    encryptVerifyIncoming: c.gossip?.encryptVerifyIncoming, encryptVerifyOutgoing: c.gossip?.encryptVerifyOutgoing,
    disableKeyringFile: c.gossip?.disableKeyringFile,
    dataDir: c.dataDir ? path.join(c.dataDir, 'serf') : undefined, fileStem: 'remote', mergeCheck: wanMergeCheck,
    allowedCidrs: w.allowedCidrs,
  };
}

/** The server's WAN pool membership (a client or a disabled WAN port has none: every call is a no-op or empty). */
export class WanPool {
  readonly #config: RuntimeConfig;
  readonly #deps: WanPoolDeps;
  readonly #log: Logger;
  #gossip: Gossip | null = null;
  #retry: RetryJoin | null = null;
  #stopped = false;
  #flooder: { stop(): void } | null = null;
  #leaving = false;
  /** Whether servers of other datacenters are known; recomputed after a member event. */
  #remoteDcs: boolean | null = null;

  constructor(config: RuntimeConfig, deps: WanPoolDeps) {
    this.#config = config;
    this.#deps = deps;
    this.#log = deps.logger.child({ '@module': 'agent.wan' });
  }

  /** Whether this agent takes part in a WAN pool at all. */
  get enabled(): boolean {
    return this.#config.gossipWan !== undefined;
  }

  /** The gossip node once started (null before, and without a WAN pool). */
  get gossip(): Gossip | null {
    return this.#gossip;
  }

  /** Binds the WAN sockets and, given the LAN pool, starts the flood joins of this datacenter's servers. */
  async start(lan?: Gossip | null): Promise<void> {
    const w = this.#config.gossipWan;
    if (!w || this.#gossip) return;
    const gc = wanGossipConfig(this.#config)!;
    const d = this.#deps;
    const g = createGossip(gc, { clock: d.clock, logger: d.logger.child({ pool: 'wan' }), random: d.random, transport: d.transport });
    g.on((e) => { if (e.type !== 'user') this.#remoteDcs = null; });
    d.instrument?.(g);
    await g.start();
    this.#gossip = g;
    if (lan) this.#flooder = startFlood({ lan, wan: g, datacenter: this.#config.datacenter, clock: d.clock, logger: this.#log });
  }

  /** Starts retry_join_wan in the background; the agent calls it once its listeners are up (as LanPool.startJoins). */
  startJoins(): void {
    const w = this.#config.gossipWan;
    const d = this.#deps;
    if (!w || !this.#gossip || this.#retry || this.#stopped) return;
    this.#retry = retryJoin({
      // No "already joined by a peer" shortcut here: the flood join brings in servers of our own
      // datacenter, which says nothing about reaching the others.
      addrs: w.retryJoin, intervalMs: w.retryIntervalMs, max: w.retryMax, join: (a) => this.join(a), cluster: 'WAN',
      clock: d.clock, logger: this.#log,
      onExhausted: (err) => (d.onJoinExhausted ?? ((e: Error) => this.#log.error({ error: e.message }, 'retry_join_wan gave up')))(err),
    });
  }

  /** Joins servers of other datacenters now (PUT /v1/agent/join?wan, `proconsul join -wan`). */
  join(addrs: string[]): Promise<number> {
    const g = this.#gossip;
    if (!g) return Promise.reject(new Error(this.enabled ? 'WAN pool not started' : 'Must be a server to join WAN cluster'));
    const me = g.localMember();
    const w = this.#config.gossipWan!;
    const others = addrs.filter((a) => {
      try {
        const p = parseAddress(a, w.bindPort);
        return !(p.port === me.port && (p.host === me.addr || p.host === w.bindAddr));
      } catch {
        return true;
      }
    });
    if (others.length === 0) return Promise.resolve(1);
    return g.join(others);
  }

  /** Leaves the WAN pool gracefully; idempotent. */
  async leave(): Promise<void> {
    this.#stopped = true;
    this.#retry?.stop();
    this.#flooder?.stop();
    if (!this.#gossip || this.#leaving) return;
    this.#leaving = true;
    this.#log.info({}, 'Gracefully leaving the WAN pool');
    await this.#gossip.leave();
  }

  /** Stops gossiping without leaving. */
  async shutdown(): Promise<void> {
    this.#stopped = true;
    this.#retry?.stop();
    this.#flooder?.stop();
    await this.#gossip?.shutdown();
  }

  /** Whether a graceful leave has begun. */
  get leaving(): boolean {
    return this.#leaving;
  }

  /** Every WAN member (empty without a pool). */
  members(): Member[] {
    return this.#gossip?.members() ?? [];
  }

  /** This server as a WAN member; throws without a pool. */
  localMember(): Member {
    if (!this.#gossip) throw new Error('no WAN pool');
    return this.#gossip.localMember();
  }

  /** Datacenters known in the pool, nearest first (just ours without a pool). */
  datacenters(): string[] {
    const g = this.#gossip;
    if (!g) return [this.#config.datacenter];
    const coords = g.coordinates;
    const dcs = datacenters().datacentersByDistance(g.members(), this.#config.datacenter, coords?.local(), (n) => coords?.cached(n));
    return dcs.includes(this.#config.datacenter) ? dcs : [this.#config.datacenter, ...dcs];
  }

  /** True when the pool knows servers of another datacenter (cheap: cached between member events). */
  hasRemoteDatacenters(): boolean {
    if (!this.#gossip) return false;
    this.#remoteDcs ??= this.#gossip.members().some((m) => m.tags.role === 'consul' && m.tags.dc !== undefined && m.tags.dc !== this.#config.datacenter);
    return this.#remoteDcs;
  }

  /** WAN coordinates per datacenter, or null without a pool (the caller falls back to the LAN view). */
  coordinateMaps(): CoordinateDatacenterMap[] | null {
    const g = this.#gossip;
    if (!g) return null;
    const coords = g.coordinates;
    return datacenters().datacenterMaps(g.members(), (n) => coords?.cached(n));
  }

  /** The alive servers of `dc` in random order (empty for an unknown datacenter). */
  servers(dc: string): WanServer[] {
    return datacenters().serversOf(this.members(), dc, this.#deps.random);
  }

  /** Internal RPC addresses (`addr:port` tag) of the alive servers of `dc`, in the order to try them. */
  rpcAddresses(dc: string): string[] {
    return this.servers(dc).filter((s) => s.member.tags.port).map((s) => formatAddress({ host: s.member.addr, port: Number(s.member.tags.port) }));
  }
}
