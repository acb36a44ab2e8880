// The agent's seat in the LAN gossip pool: builds the gossip node from the runtime config
// (ports.serf_lan, encrypt, timings, `<data_dir>/serf` for the peer snapshot and keyring),
// runs retry_join, and leaves or shuts down. Without config.gossip (an in-process agent built
// from a bare RuntimeConfig) there is no pool and the agent is its own only member.
// Client agents (server = false) join the pool with role=node and the leader registers their
// node and serfHealth; they find the servers to forward to among the members (server-list.ts).
import path from 'node:path';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import { createGossip, parseAddress, type Gossip, type GossipConfig, type Member, type Transport } from '../gossip/index.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import { memberTags } from './member-tags.ts';
import { lanMergeCheck } from './lan-merge.ts';
import { retryJoin, type RetryJoin } from './retry-join.ts';
import { parseGoDuration } from '../duration.ts';

/** Collaborators of the pool. */
export interface LanPoolDeps {
  clock: Clock;
  logger: Logger;
  random: () => number;
  /** Default: real UDP+TCP sockets. */
  transport?: Transport;
  /** retry_max exhausted (Consul's agent exits). */
  onJoinExhausted?: (err: Error) => void;
}

/** Maps the agent configuration to the gossip node's configuration. */
export function gossipConfigFrom(c: RuntimeConfig, log?: Logger): GossipConfig | null {
  const g = c.gossip;
  if (!g) return null;
  const t = g.timings;
  return {
    name: c.nodeName, bindAddr: g.bindAddr, bindPort: g.bindPort, advertiseAddr: c.advertiseAddr,
    tags: memberTags(c), defaultPort: g.bindPort,
    probeIntervalMs: t.probeIntervalMs, probeTimeoutMs: t.probeTimeoutMs, suspicionMult: t.suspicionMult,
    retransmitMult: t.retransmitMult, gossipIntervalMs: t.gossipIntervalMs, gossipNodes: t.gossipNodes,
    reconnectTimeoutMs: g.reconnectTimeoutMs, rejoinAfterLeave: g.rejoinAfterLeave,
    encryptKeys: g.encrypt ? [g.encrypt] : undefined,
    encryptVerifyIncoming: g.encryptVerifyIncoming, encryptVerifyOutgoing: g.encryptVerifyOutgoing, disableKeyringFile: g.disableKeyringFile,
    // Consul's event envelope (ID and filters) rides inside the serf payload; the 512-byte limit
    // on name + payload is enforced before it is wrapped (agent/events.ts).
    userEventSizeLimit: 1024,
    dataDir: c.dataDir ? path.join(c.dataDir, 'serf') : undefined,
    mergeCheck: lanMergeCheck(c), allowedCidrs: g.allowedCidrs, reconnectTimeoutOverride: reconnectOverride(log),
  };
}

/** Go's largest time.Duration in milliseconds. */
const MAX_GO_DURATION_MS = 9_223_372_036_854.775;

/**
 * Consul's ReconnectOverride: a member advertising `rc_tm` (advertise_reconnect_timeout) is reaped
 * after its own timeout; a malformed one is warned about and, like 0, leaves the pool's timeout.
 */
export function reconnectOverride(log: Logger | undefined): (m: { name: string; tags: Record<string, string> }, timeoutMs: number) => number {
  return (m, timeoutMs) => {
    const raw = m.tags.rc_tm;
    if (raw === undefined) return timeoutMs;
    const ms = parseGoDuration(raw);
    // Past Go's largest duration (2^63-1 ns, about 2562047h) time.ParseDuration fails: malformed too.
    if (ms === null || Math.abs(ms) > MAX_GO_DURATION_MS) {
      log?.warn({ member: m.name, rc_tm: raw }, 'Member is advertising a malformed reconnect timeout');
      return timeoutMs;
    }
    return ms === 0 ? timeoutMs : ms;
  };
}

/** The agent's LAN pool membership. */
export class LanPool {
  /** The gossip node, or null when the agent runs without a pool. */
  readonly gossip: Gossip | null;
  readonly #config: RuntimeConfig;
  readonly #deps: LanPoolDeps;
  readonly #log: Logger;
  #retry: RetryJoin | null = null;
  #stopped = false;
  #leaving = false;

  constructor(config: RuntimeConfig, deps: LanPoolDeps) {
    this.#config = config;
    this.#deps = deps;
    this.#log = deps.logger.child({ '@module': 'agent.gossip' });
    const gc = gossipConfigFrom(config, this.#log);
    this.gossip = gc ? createGossip(gc, { clock: deps.clock, logger: deps.logger, random: deps.random, transport: deps.transport }) : null;
  }

  /** Binds the gossip sockets (retry_join starts with startJoins, once the agent's listeners are up). */
  async start(): Promise<void> {
    if (this.gossip && this.#config.gossip) await this.gossip.start();
  }

  /**
   * Starts retry_join in the background. The agent calls it after its HTTP and DNS listeners are up,
   * as Consul's agent command joins only after the agent started: whoever sees this member can query it.
   */
  startJoins(): void {
    const g = this.gossip;
    const s = this.#config.gossip;
    if (!g || !s || this.#retry || this.#stopped) return;
    this.#retry = retryJoin({
      addrs: s.retryJoin, intervalMs: s.retryIntervalMs, max: s.retryMax, join: (a) => this.join(a),
      inPool: () => g.members().some((m) => m.name !== this.#config.nodeName && m.state === 'alive'),
      clock: this.#deps.clock, logger: this.#log,
      onExhausted: (err) => (this.#deps.onJoinExhausted ?? ((e: Error) => this.#log.error({ error: e.message }, 'retry_join gave up')))(err),
    });
  }

  /** Resolves when the start-up retry_join has finished (joined, gave up or stopped). */
  joined(): Promise<number> {
    return this.#retry?.done ?? Promise.resolve(0);
  }

  /** Joins the given addresses now (PUT /v1/agent/join, `proconsul join`). */
  join(addrs: string[]): Promise<number> {
    if (!this.gossip) return Promise.reject(new Error('No gossip pool: this agent was started without one'));
    // retry_join lists usually name every server, this one too; joining ourselves adds nothing
    // but would move our event join horizon past events peers are about to fire.
    const me = this.gossip.localMember();
    const others = addrs.filter((a) => {
      try {
        const p = parseAddress(a, this.#config.gossip?.bindPort ?? 8301);
        return !(p.port === me.port && (p.host === me.addr || p.host === this.#config.gossip?.bindAddr));
      } catch {
        return true;
      }
    });
    if (others.length === 0) return Promise.resolve(1);
    return this.gossip.join(others);
  }

  /** Leaves the pool gracefully (peers see `left`); idempotent. */
  async leave(): Promise<void> {
    this.#stopped = true;
    this.#retry?.stop();
    if (!this.gossip || this.#leaving) return;
    this.#leaving = true;
    this.#log.info({}, 'Gracefully leaving the LAN pool');
    await this.gossip.leave();
  }

  /** Stops gossiping without leaving (peers see `failed`). */
  async shutdown(): Promise<void> {
    this.#stopped = true;
    this.#retry?.stop();
    await this.gossip?.shutdown();
  }

  /** Whether a graceful leave has begun. */
  get leaving(): boolean {
    return this.#leaving;
  }

  /** Every known member (this agent alone without a pool). */
  members(): Member[] {
    return this.gossip ? this.gossip.members() : [this.localMember()];
  }

  /** This agent as a member. */
  localMember(): Member {
    if (this.gossip) return this.gossip.localMember();
    const c = this.#config;
    return { name: c.nodeName, addr: c.advertiseAddr, port: c.ports.serfLan, tags: memberTags(c), incarnation: 0, state: 'alive', stateChange: 0 };
  }
}
