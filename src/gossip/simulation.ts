// A deterministic in-process gossip simulation: many nodes on one ManualClock and one
// MemoryNetwork with seeded randomness, for tests of convergence, failure detection,
// partitions and events (here and in the agent's tests).
import { ManualClock } from '../clock.ts';
import type { Address } from './address.ts';
import { silentLogger, type Logger } from '../log.ts';
import type { GossipConfig } from './config.ts';
import type { GossipEvent } from './gossip-events.ts';
import { createGossip, type Gossip } from './index.ts';
import { decodePacket, encodePacket, type PacketMsg } from './messages.ts';
import { seededRandom } from './random.ts';
import { open, seal, type WireSecurity } from './security.ts';
import { MemoryNetwork, type MemoryNetworkOptions } from './transport-memory.ts';

// Simulated nodes run without encryption: injected and filtered packets are plaintext frames.
const PLAIN: WireSecurity = { keyring: undefined, verifyIncoming: false, verifyOutgoing: false };

/** One simulated node and everything it reported. */
export interface SimNode {
  name: string;
  gossip: Gossip;
  events: GossipEvent[];
}

/** A simulated cluster. */
export class Simulation {
  readonly clock = new ManualClock();
  readonly net: MemoryNetwork;
  readonly nodes = new Map<string, SimNode>();
  readonly #seed: number;
  readonly #base: Partial<GossipConfig>;
  readonly #log: Logger;
  #count = 0;

  /** `base` applies to every node's config. */
  constructor(opts: { seed?: number; base?: Partial<GossipConfig>; latencyMs?: MemoryNetworkOptions['latencyMs']; logger?: Logger } = {}) {
    this.#seed = opts.seed ?? 1;
    this.#base = opts.base ?? {};
    this.#log = opts.logger ?? silentLogger();
    this.net = new MemoryNetwork(this.clock, { latencyMs: opts.latencyMs ?? 1, random: seededRandom(this.#seed) });
  }

  /** Creates and starts a node at `host` (default: the next free 10.0.x.y), port 8301. */
  async add(name: string, config: Partial<GossipConfig> = {}, host?: string): Promise<SimNode> {
    const i = ++this.#count;
    host ??= `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`;
    const gossip = createGossip({ ...this.#base, ...config, name, bindAddr: host, bindPort: 8301 }, {
      clock: this.clock, logger: this.#log, random: seededRandom(this.#seed * 7919 + i),
      transport: this.net.transport(host, 8301),
    });
    const node: SimNode = { name, gossip, events: [] };
    gossip.on((e) => node.events.push(e));
    this.nodes.set(name, node);
    await gossip.start();
    return node;
  }

  /** Starts `n` nodes named `prefix0…` and has each join the first; returns them. */
  async addMany(n: number, prefix = 'node'): Promise<SimNode[]> {
    const out: SimNode[] = [];
    for (let i = 0; i < n; i++) out.push(await this.add(`${prefix}${i}`));
    const seed = `${out[0].gossip.localMember().addr}:8301`;
    for (const node of out.slice(1)) await this.joinNow(node, [seed]);
    return out;
  }

  /** Joins while driving the clock so the stream exchange can complete. */
  joinNow(node: SimNode, addrs: string[]): Promise<number> {
    return this.drive(node.gossip.join(addrs));
  }

  /** Drives the clock in small steps until `p` settles (for stream requests and leaves). */
  async drive<T>(p: Promise<T>): Promise<T> {
    let settled = false;
    p.then(() => { settled = true; }, () => { settled = true; });
    while (!settled) await this.run(5, 1);
    return p;
  }

  /** Advances virtual time by `ms` in `step` increments, letting promise callbacks run between steps. */
  async run(ms: number, step = 10): Promise<void> {
    for (let t = 0; t < ms; t += step) {
      this.clock.advance(Math.min(step, ms - t));
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Runs until `cond` holds (checked every `step`), up to `maxMs`; returns the virtual time taken or -1. */
  async until(cond: () => boolean, maxMs: number, step = 10): Promise<number> {
    for (let t = 0; t <= maxMs; t += step) {
      if (cond()) return t;
      await this.run(step, step);
    }
    return -1;
  }

  /** Kills a node abruptly (no leave): its transport disappears. */
  async kill(name: string): Promise<void> {
    await this.nodes.get(name)!.gossip.shutdown();
    this.nodes.delete(name);
  }

  /** The gossip address of a running node. */
  addr(name: string): Address {
    const m = this.nodes.get(name)!.gossip.localMember();
    return { host: m.addr, port: m.port };
  }

  /** Delivers a crafted packet to `to` only, as if sent from `from` (default an address no node uses). */
  inject(to: string, msgs: PacketMsg[], from: Address = { host: '10.255.255.254', port: 8301 }): void {
    this.net.send(from, this.addr(to), seal(PLAIN, encodePacket(msgs)));
  }

  /** Drops every gossip message matching `drop` (the rest of its packet still arrives); undefined stops dropping. */
  dropMessages(drop: ((msg: PacketMsg, from: Address, to: Address) => boolean) | undefined): void {
    if (!drop) return this.net.setFilter(undefined);
    this.net.setFilter((from, to, data) => {
      const msgs = decodePacket(open(PLAIN, data));
      const kept = msgs.filter((m) => !drop(m, from, to));
      if (kept.length === msgs.length) return data;
      return kept.length === 0 ? null : seal(PLAIN, encodePacket(kept));
    });
  }

  /** The incarnation `observer` holds for `subject`, or undefined when unknown. */
  incarnationOf(observer: string, subject: string): number | undefined {
    return this.nodes.get(observer)?.gossip.members().find((m) => m.name === subject)?.incarnation;
  }

  /** The state `observer` holds for `subject`, or undefined when unknown. */
  stateOf(observer: string, subject: string): string | undefined {
    return this.nodes.get(observer)?.gossip.members().find((m) => m.name === subject)?.state;
  }

  /** True when every running node sees exactly the running nodes as alive. */
  converged(): boolean {
    const names = [...this.nodes.keys()].sort().join(',');
    for (const n of this.nodes.values()) {
      const alive = n.gossip.members().filter((m) => m.state === 'alive').map((m) => m.name).sort().join(',');
      if (alive !== names) return false;
    }
    return true;
  }
}
