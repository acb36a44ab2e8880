// One gossip node: wires transport, keyring, member state machine, prober, push-pull, user
// events, network coordinates and the background loops together; implements the Gossip interface.
import { systemClock, type Clock } from '../clock.ts';
import { silentLogger, type Logger } from '../log.ts';
import { formatAddress, parseAddress, type Address } from './address.ts';
import { Awareness } from './awareness.ts';
import { BroadcastQueue } from './broadcast-queue.ts';
import { EventCoalescer } from './coalesce.ts';
import { pushPullScale, resolveConfig, retransmitLimit, type GossipConfig, type ResolvedConfig } from './config.ts';
import type { GossipEvent, GossipListener, UserEvent } from './gossip-events.ts';
import { GossipKeyring } from './gossip-keyring.ts';
import { Keyring } from './keyring.ts';
import { applyKeyOp } from './keyring-ops.ts';
import { cloneMember, type Member } from './member.ts';
import { Membership } from './membership.ts';
import { Loops, pickReconnect, reap } from './maintenance.ts';
import type { PacketMsg, StreamMsg } from './messages.ts';
import { PingCoordinates } from './ping-coordinates.ts';
import { Prober } from './probe.ts';
import { answerPushPull, pushPull } from './push-pull.ts';
import { pickRandom, seededRandom, stringSeed } from './random.ts';
import { lastEventClock, PeerSnapshot, SNAPSHOT_MIN_INTERVAL_MS, type SnapshotData } from './snapshot.ts';
import { GossipStats, type GossipStatsHooks } from './stats.ts';
import { createNetTransport } from './transport-net.ts';
import { cidrMatcher } from '../cidr.ts';
import type { Transport } from './transport.ts';
import { UserEvents } from './user-events.ts';
import { broadcastBudget, Wire } from './wire.ts';

/** memberlist's QueueCheckInterval: how often the broadcast queue's depth is sampled (queue.broadcasts). */
export const QUEUE_CHECK_INTERVAL_MS = 30_000;

/** Injected collaborators; all optional. */
export interface GossipDeps {
  clock?: Clock;
  logger?: Logger;
  /** Default: real UDP+TCP sockets on bindAddr:bindPort. */
  transport?: Transport;
  random?: () => number;
  /** Monotonic ms for probe round trips (default: performance.now with the system clock, else clock.now). */
  rttClock?: () => number;
}

/** A gossip pool member node (SWIM + Lifeguard + Serf semantics). */
export class GossipNode {
  readonly config: ResolvedConfig;
  readonly keyring: GossipKeyring;
  /** Our Vivaldi coordinate and the peers' last reported ones; null with disableCoordinates. */
  readonly coordinates: PingCoordinates | null;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #random: () => number;
  readonly #queue: BroadcastQueue;
  readonly #awareness: Awareness;
  readonly #m: Membership;
  readonly #events: UserEvents;
  readonly #wire: Wire;
  readonly #prober: Prober;
  readonly #loops: Loops;
  readonly #snapshot: PeerSnapshot | undefined;
  readonly #coalescer: EventCoalescer | undefined;
  readonly #listeners = new Set<GossipListener>();
  /** memberlist's metrics hooks, shared with the transport, state machine and prober (instrument()). */
  readonly #stats = new GossipStats();
  #keys: Keyring | undefined;
  #snapshotPending = false;
  #lastSnapshotAt = -Infinity;
  /** Peers read from the snapshot at start, kept in later snapshots until we are back in the pool. */
  #carriedPeers: SnapshotData['peers'] = [];
  #closed = false;

  constructor(config: GossipConfig, deps: GossipDeps = {}) {
    const c = resolveConfig(config);
    this.config = c;
    this.#clock = deps.clock ?? systemClock;
    this.#log = (deps.logger ?? silentLogger()).child({ '@module': 'gossip', node: c.name });
    this.#random = deps.random ?? Math.random;
    this.#snapshot = c.dataDir ? new PeerSnapshot(c.dataDir, c.fileStem) : undefined;
    this.#keys = loadKeyring(c);
    this.#queue = new BroadcastQueue(() => retransmitLimit(c.retransmitMult, this.#m.liveCount()));
    this.#awareness = new Awareness(c.awarenessMaxMultiplier);
    const self = { host: c.advertiseAddr ?? c.bindAddr, port: c.advertisePort ?? c.bindPort };
    const emit = (e: GossipEvent) => this.#emit(e);
    this.#m = new Membership({ config: c, clock: this.#clock, log: this.#log, queue: this.#queue, awareness: this.#awareness, emit, stats: this.#stats }, self);
    this.#coalescer = c.coalesce ? new EventCoalescer(this.#clock, c.coalesce, (event) => this.#emit({ type: 'user', event })) : undefined;
    const deliver = (event: UserEvent) => {
      // Serf records each delivered event's time in its snapshot, so a restart neither reuses it nor delivers it again.
      this.#saveSnapshotSoon();
      if (this.#coalescer) this.#coalescer.push(event);
      else this.#emit({ type: 'user', event });
    };
    this.#events = new UserEvents({
      bufferSize: c.eventBufferSize, sizeLimit: c.userEventSizeLimit, maxEncoded: broadcastBudget(c.udpBufferSize), queue: this.#queue, deliver,
    });
    const security = { keyring: this.#keys, verifyIncoming: c.encryptVerifyIncoming, verifyOutgoing: c.encryptVerifyOutgoing };
    const transport = deps.transport ?? createNetTransport({ bindAddr: c.bindAddr, bindPort: c.bindPort, stats: this.#stats });
    this.#wire = new Wire({
      transport, queue: this.#queue, security, log: this.#log, udpBufferSize: c.udpBufferSize, tcpTimeoutMs: c.tcpTimeoutMs,
      allowed: cidrMatcher(c.allowedCidrs), stats: this.#stats,
    });
    this.coordinates = c.disableCoordinates ? null : new PingCoordinates(c.name, this.#log, seededRandom(stringSeed(c.name)));
    const rttClock = deps.rttClock ?? (this.#clock === systemClock ? () => performance.now() : undefined);
    this.#prober = new Prober({
      config: c, clock: this.#clock, log: this.#log, random: this.#random, membership: this.#m, wire: this.#wire, awareness: this.#awareness,
      coordinates: this.coordinates ?? undefined, rttClock, stats: this.#stats,
    });
    this.#loops = new Loops(this.#clock);
    this.keyring = new GossipKeyring(() => this.#keys, this.#m, this.#wire);
  }

  /** Binds the sockets, starts the loops and, with a snapshot, rejoins the previous peers in the background. */
  async start(): Promise<void> {
    const snap = this.#snapshot?.load();
    // Restored before any packet can bring an event, as Serf restores its clocks in Create.
    if (snap) this.#events.restore(lastEventClock(snap));
    await this.#wire.start({ packet: (msg, from) => this.#onPacket(msg, from), stream: (msg) => this.#onStream(msg) });
    const bound = this.#wire.address();
    const me = this.#m.local();
    me.addr = this.config.advertiseAddr ?? bound.host;
    me.port = this.config.advertisePort ?? bound.port;
    // memberlist's Create applies our own first alive message through aliveNode (setAlive), which counts it.
    this.#stats.msgAlive();
    this.#startLoops();
    if (snap) this.#rejoinFromSnapshot(snap);
  }

  /** Joins the pool through the given `host[:port]` addresses; resolves how many answered. */
  async join(addrs: string[], opts: { replayEvents?: boolean } = {}): Promise<number> {
    let ok = 0;
    const errors: string[] = [];
    for (const a of addrs) {
      try {
        const addr = parseAddress(a, this.config.defaultPort);
        await this.#pushPull(addr, !opts.replayEvents);
        ok++;
      } catch (err) {
        errors.push(`Failed to join ${a}: ${(err as Error).message}`);
      }
    }
    for (const e of errors) this.#log.warn({ error: e }, 'join failed');
    if (ok === 0 && errors.length > 0) {
      const n = errors.length;
      throw new Error(`${n} error${n === 1 ? '' : 's'} occurred:\n${errors.map((e) => `\t* ${e}`).join('\n')}`);
    }
    if (ok > 0) this.#carriedPeers = [];
    this.#saveSnapshotSoon();
    return ok;
  }

  /** Leaves gracefully: broadcasts that we left and waits for it to propagate. */
  async leave(): Promise<void> {
    if (this.#m.leaving) return;
    const peers = this.#m.liveCount() > 1;
    await new Promise<void>((resolve) => {
      const t = this.#clock.setTimer(this.config.broadcastTimeoutMs, resolve);
      this.#m.leaveSelf(() => { t.cancel(); resolve(); });
      if (!peers) { t.cancel(); resolve(); }
    });
    if (peers) await new Promise<void>((r) => this.#clock.setTimer(this.config.leavePropagateDelayMs, r));
    this.#saveSnapshot();
  }

  /** Stops everything without leaving (peers will see this node fail). */
  async shutdown(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#loops.stop();
    this.#prober.stop();
    this.#m.stop();
    this.#coalescer?.flush();
    this.#saveSnapshot();
    await this.#wire.close();
  }

  /** Every known member, ourselves included (copies). */
  members(): Member[] {
    return [...this.#m.members.values()].map(cloneMember);
  }

  /** This node (a copy). */
  localMember(): Member {
    return cloneMember(this.#m.local());
  }

  /** Replaces our tags and gossips them (member-update elsewhere). */
  setTags(tags: Record<string, string>): void {
    this.#m.setTags(tags);
  }

  /** Marks a member as left everywhere (`prune`: erases it); an alive member will refute. */
  forceLeave(name: string, prune = false): void {
    const cur = this.#m.members.get(name);
    if (!cur || name === this.#m.name) throw new Error(`No node found with name '${name}'`);
    this.#m.handleDead({ t: 'dead', node: name, inc: cur.incarnation, from: this.#m.name, left: true, prune });
  }

  /** Fires a user event to the whole pool (this node included). */
  userEvent(name: string, payload: Buffer | string, coalesce = false): void {
    this.#events.fire(name, Buffer.from(payload), coalesce);
  }

  /** Current Lamport time of user events. */
  eventClock(): number {
    return this.#events.clock.time;
  }

  /** Subscribes to member and user events; returns the unsubscribe function. */
  on(listener: GossipListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Sets memberlist's metrics hooks (counters and timers of this node's work); the rest stay no-ops. */
  instrument(hooks: Partial<GossipStatsHooks>): void {
    this.#stats.set(hooks);
  }

  /** Lifeguard local health score (0 is healthy). */
  healthScore(): number {
    return this.#awareness.score;
  }

  #startLoops(): void {
    const c = this.config;
    const jitter = (ms: number) => Math.floor(this.#random() * ms);
    this.#loops.every('probe', () => c.probeIntervalMs, () => this.#prober.tick(), jitter(c.probeIntervalMs));
    this.#loops.every('gossip', () => c.gossipIntervalMs, () => this.#gossipTick(), jitter(c.gossipIntervalMs));
    const ppInterval = () => pushPullScale(c.pushPullIntervalMs, this.#m.liveCount());
    this.#loops.every('pushpull', ppInterval, () => this.#pushPullTick(), jitter(c.pushPullIntervalMs));
    this.#loops.every('reconnect', () => c.reconnectIntervalMs, () => this.#reconnectTick());
    this.#loops.every('reap', () => c.reapIntervalMs, () => reap(this.#m, c, this.#clock.now()));
    // memberlist's queue holds its member messages (alive, suspect, dead) only; Serf queues user
    // events apart (serf.queue.Event), and here they share one queue under keys of their own.
    this.#loops.every('queue-check', () => QUEUE_CHECK_INTERVAL_MS, () => this.#stats.queueBroadcasts(this.#queue.countPrefixed('m:')));
  }

  // Timed every round, as memberlist's gossip(), which runs (and is measured) with nothing queued too.
  #gossipTick(): void {
    const t0 = performance.now();
    this.#gossipRound();
    const t1 = performance.now();
    this.#stats.gossip(t1 - t0, t1);
  }

  #gossipRound(): void {
    if (this.#queue.size === 0) return;
    const now = this.#clock.now();
    const targets = pickRandom([...this.#m.members.values()], this.config.gossipNodes, this.#random, (m) =>
      m.name !== this.#m.name && (m.state === 'alive' || m.state === 'suspect' ||
        now - m.stateChange < this.config.gossipToTheDeadMs));
    for (const t of targets) if (!this.#wire.gossip({ host: t.addr, port: t.port })) break;
  }

  #pushPullTick(): void {
    const [peer] = pickRandom([...this.#m.members.values()], 1, this.#random, (m) => m.name !== this.#m.name && m.state === 'alive');
    if (peer) this.#syncWith(peer, 'push-pull');
  }

  #reconnectTick(): void {
    const peer = pickReconnect(this.#m, this.#random);
    if (peer) this.#syncWith(peer, 'reconnect');
  }

  #syncWith(peer: Member, why: string): void {
    this.#pushPull({ host: peer.addr, port: peer.port }, false).catch((err: Error) => {
      this.#log.debug({ peer: peer.name, error: err.message }, `${why} failed`);
    });
  }

  /** A push-pull exchange, timed as memberlist's pushPullNode (failures too). */
  async #pushPull(to: Address, join: boolean): Promise<string> {
    const t0 = performance.now();
    try {
      return await pushPull(this.#wire, this.#m, this.#events, to, join);
    } finally {
      const t1 = performance.now();
      this.#stats.pushPullNode(t1 - t0, t1);
    }
  }

  #onPacket(msg: PacketMsg, from: Address): void {
    if (this.#closed) return;
    switch (msg.t) {
      case 'alive': return this.#m.handleAlive(msg);
      case 'suspect': return this.#m.handleSuspect(msg);
      case 'dead': return this.#m.handleDead(msg);
      case 'user': this.#events.handle(msg); return;
      default: return this.#prober.handle(msg, from);
    }
  }

  async #onStream(msg: StreamMsg): Promise<StreamMsg> {
    if (msg.t === 'pushpull') return answerPushPull(this.#m, this.#events, msg);
    if (msg.t === 'key') return applyKeyOp(this.#keys, msg, this.#m.name);
    throw new Error(`unexpected stream message ${msg.t}`);
  }

  #emit(e: GossipEvent): void {
    if (e.type === 'member-join') this.#carriedPeers = [];
    this.#saveSnapshotSoon();
    if (e.type === 'member-leave' || e.type === 'member-reap') this.coordinates?.forget(e.member.name);
    for (const l of this.#listeners) {
      try {
        l(e);
      } catch (err) {
        this.#log.error({ error: (err as Error).message }, 'gossip listener failed');
      }
    }
  }

  #rejoinFromSnapshot(snap: SnapshotData): void {
    if (snap.left && !this.config.rejoinAfterLeave) return;
    const previous = snap.peers.filter((p) => p.name !== this.#m.name);
    if (previous.length === 0) return;
    // Until a rejoin succeeds, later snapshots keep these peers: a restart (or a crash) before we
    // are back in the pool must not forget where the pool was.
    this.#carriedPeers = previous;
    this.#log.info({ peers: previous.length }, 'rejoining previous peers from the snapshot');
    // As Serf's handleRejoin (memberlist's Join, old events not ignored): events fired while this
    // node was down are delivered; those it had before are held back by the restored event time.
    this.join(previous.map((p) => formatAddress(p)), { replayEvents: true }).then(
      (n) => this.#log.info({ joined: n }, 'rejoined previous peers from the snapshot'),
      (err: Error) => this.#log.warn({ error: err.message }, 'could not rejoin previous peers'),
    );
  }

  // A change is written at the end of the current task when the last write is older than the
  // minimum interval (so a crash right after a join still finds the new peers on disk), else
  // once that interval has passed; a burst of changes (a push-pull merge) costs one write.
  #saveSnapshotSoon(): void {
    if (!this.#snapshot || this.#snapshotPending || this.#closed) return;
    this.#snapshotPending = true;
    const write = () => {
      this.#snapshotPending = false;
      if (!this.#closed) this.#saveSnapshot();
    };
    const wait = this.#lastSnapshotAt + SNAPSHOT_MIN_INTERVAL_MS - this.#clock.now();
    if (wait <= 0) queueMicrotask(write);
    else this.#clock.setTimer(wait, write);
  }

  // Failed peers are kept after the live ones: after a partition or a full-cluster restart they
  // may be the only way back (joining one that is still down just fails).
  #saveSnapshot(): void {
    if (!this.#snapshot) return;
    const others = [...this.#m.members.values()].filter((m) => m.name !== this.#m.name);
    const live = others.filter((m) => m.state === 'alive' || m.state === 'suspect');
    const failed = others.filter((m) => m.state === 'dead');
    const peers = [...live, ...failed].map((m) => ({ name: m.name, host: m.addr, port: m.port }));
    for (const p of this.#carriedPeers) if (!this.#m.members.has(p.name)) peers.push(p);
    this.#lastSnapshotAt = this.#clock.now();
    try {
      this.#snapshot.save({ peers, lastEventClock: this.#events.lastEventTime, left: this.#m.leaving });
    } catch (err) {
      this.#log.error({ error: (err as Error).message }, 'failed to write the peer snapshot');
    }
  }
}

function loadKeyring(c: ResolvedConfig): Keyring | undefined {
  const file = c.dataDir && !c.disableKeyringFile ? `${c.dataDir}/${c.fileStem}.keyring` : undefined;
  const persisted = file ? Keyring.load(file) : undefined;
  if (persisted) return persisted;
  if (!c.encryptKeys || c.encryptKeys.length === 0) return undefined;
  const k = new Keyring(c.encryptKeys, file);
  k.persist();
  return k;
}
