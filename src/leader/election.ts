// Leader election among Proconsul servers on the Store's leases (DESIGN §3): each server
// registers `servers/<node>` on its own lease and campaigns for the `leader` key with a
// create-only compare; the key lives on the winner's lease, so it vanishes when the winner dies
// or resigns and the others campaign again. The leader re-puts the key every heartbeat (TTL/3)
// so followers see its liveness in their watch; that is their "last contact". Followers also
// keep a liveness request open to the leader's server port (liveness.ts): when its process dies
// they revoke its lease at once instead of waiting for the TTL.
import type { Clock, TimerHandle } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { KeyValue, Store, Watch, WatchBatch } from '../store/index.ts';
import { InternalError, ProconsulError } from '../errors.ts';
import {
  LEADER_KEY, SERVERS_PREFIX, decodeJson, encodeJson, leaderRecordOf, type LeaderRecord, type ServerRecord,
} from './servers.ts';
import type { LeaderElection, ServerIdentity } from './election-types.ts';
import type { ConnectionOptions } from 'node:tls';
import { LeaderProbe, type LivenessHost } from './liveness.ts';

/** Waits between attempts to register with a store that is not answering yet at start. */
const START_RETRY_MIN_MS = 250;
const START_RETRY_MAX_MS = 2_000;

/** Dependencies of an election. */
export interface ElectionDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Who this server is. */
  self: ServerIdentity;
  /** The local replica's applied revision and last contact (ms epoch), for status records. */
  replica: { appliedRevision: number; lastContact: number };
  /** Lease TTL in seconds (default 3): a dead leader is replaced within about this long. */
  ttlSeconds?: number;
  /** Where this server greets followers' probes; without one, a dead leader is only noticed by its lease expiring. */
  liveness?: LivenessHost;
  /** Whether this server may lead now (a managed server: only while its etcd member votes). */
  canLead?: () => boolean;
  /** TLS options of the probes to the leader's server port (null: plain TCP). */
  probeTls?: () => ConnectionOptions | null;
}

/** Status records of followers are rewritten every this many heartbeats. */
const STATUS_EVERY = 3;
/**
 * Lease keepalives per heartbeat (every TTL/6): the step-down timer counts from the last
 * answered keepalive, so renewing often keeps an etcd election (about 1–1.6 s at etcd's default
 * timings) from making the leader drop its duties while its lease is in fact safe.
 */
const KEEPALIVES_PER_BEAT = 2;
/**
 * A leader stops leading this long before its lease could expire, counted from the sending of
 * the last keepalive etcd answered (the lease runs at least TTL from there): room for a late timer.
 */
const STEP_DOWN_MARGIN_MS = 500;
/** Revocations of a dead leader's lease are launched this often until one is answered. */
const REVOKE_EVERY_MS = 50;

/** An election on a shared Store (etcd). */
export class StoreElection implements LeaderElection {
  readonly #d: ElectionDeps;
  readonly #ttlMs: number;
  #self: ServerRecord;
  readonly #servers = new Map<string, ServerRecord>();
  #leader: LeaderRecord | null = null;
  #leaderMod = 0;
  #leaderRev = 0;
  #configIndex = 0;
  #term = 0;
  #isLeader = false;
  #lastContact: number;
  #keptAlive = 0;
  #watch: Watch | null = null;
  #timer: TimerHandle | null = null;
  #ticks = 0;
  #running = false;
  #campaigning = false;
  #stepDown: TimerHandle | null = null;
  readonly #probe: LeaderProbe | null;
  #revoking = 0;
  readonly #leadershipFns: ((leader: boolean) => void)[] = [];
  readonly #batchFns: ((b: WatchBatch) => void)[] = [];

  constructor(deps: ElectionDeps) {
    this.#d = deps;
    this.#ttlMs = (deps.ttlSeconds ?? 3) * 1000;
    this.#lastContact = deps.clock.now();
    this.#self = { ...deps.self, Lease: 0, LastIndex: 0, LastContactMs: 0, StatusAt: 0, Since: 0 };
    this.#probe = deps.liveness
      ? new LeaderProbe({ clock: deps.clock, logger: deps.logger, onDead: (lease) => void this.#revokeDead(lease), tls: deps.probeTls })
      : null;
  }

  /** Registers this server, follows the election keys and campaigns. */
  async start(): Promise<void> {
    this.#running = true;
    if (this.#d.liveness) this.#self.Liveness = await this.#d.liveness.listen(this.#self.Node, () => this.#self.Lease);
    // A store that cannot answer yet (etcd still forming its cluster, a deadline passed) is waited
    // for, as a Consul server starts without a leader and keeps trying: giving up here ended the
    // agent. Only 'unavailable' and 'no_leader' (etcd's election outlasted the store's hold) errors
    // are retried; registering again is harmless (the status put is the same value, a lease
    // granted by a failed attempt expires with its TTL).
    for (let wait = START_RETRY_MIN_MS; ; wait = Math.min(wait * 2, START_RETRY_MAX_MS)) {
      try {
        await this.#register();
        await this.#sync();
        break;
      } catch (err) {
        if (!this.#running || !(err instanceof ProconsulError) || (err.code !== 'unavailable' && err.code !== 'no_leader')) throw err;
        this.#d.logger.warn({ err, retryInMs: wait }, 'the store is not answering yet; retrying the server registration');
        await new Promise<void>((r) => this.#d.clock.setTimer(wait, r));
        if (!this.#running) return;
      }
    }
    await this.#campaign();
    this.#schedule();
  }

  /** Steps down, stops following and revokes the lease so another server wins at once. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#timer?.cancel();
    this.#stepDown?.cancel();
    this.#watch?.cancel();
    this.#probe?.stop();
    this.#setLeader(false);
    await this.#d.store.leaseRevoke(this.#self.Lease).catch(() => undefined);
    // Only now: followers take a refused connection after this lease's greeting as proof that it may be revoked.
    await this.#d.liveness?.close();
  }

  isLeader(): boolean { return this.#isLeader; }
  knownLeader(): boolean { return this.#leader !== null; }
  leaderAddr(): string { return this.#leader?.Address ?? ''; }
  peers(): string[] { return this.servers().filter((s) => !s.ReadReplica).map((s) => s.Address); }
  leader(): LeaderRecord | null { return this.#leader; }
  self(): ServerRecord { return this.#self; }
  index(): number { return Math.max(1, this.#configIndex); }

  /** Live servers, sorted by node name. */
  servers(): ServerRecord[] {
    return [...this.#servers.values()].sort((a, b) => (a.Node < b.Node ? -1 : a.Node > b.Node ? 1 : 0));
  }

  heartbeatMs(): number { return this.#ttlMs / 3; }
  term(): number { return Math.max(1, this.#term); }

  lastContactMs(): number {
    return this.#isLeader ? 0 : Math.max(0, this.#d.clock.now() - this.#lastContact);
  }

  onLeadership(fn: (leader: boolean) => void): void { this.#leadershipFns.push(fn); }
  onBatch(fn: (b: WatchBatch) => void): void { this.#batchFns.push(fn); }

  /** Hands the leader key to another voter's lease in one txn (no gap without a leader). */
  async transfer(targetId?: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const kv = await this.#d.store.get(LEADER_KEY);
      const current = kv ? decodeJson<LeaderRecord>(kv.value) : null;
      if (!kv || !current) throw new InternalError('cannot transfer leadership: no leader');
      const voters = this.servers().filter((s) => !s.ReadReplica && s.Lease !== current.Lease);
      const target = targetId ? voters.find((s) => s.ID === targetId) : voters[0];
      if (!target) throw new InternalError(targetId ? `cannot find peer ${targetId}` : 'cannot find peer');
      const res = await this.#d.store.txn({
        compares: [{ key: LEADER_KEY, target: 'modRevision', op: '=', value: kv.modRevision }],
        success: [{ type: 'put', key: LEADER_KEY, value: encodeJson(leaderRecordOf(target)), lease: target.Lease }],
      });
      if (res.succeeded) {
        this.#d.logger.info({ from: current.Node, to: target.Node }, 'leadership transferred');
        return;
      }
    }
    throw new InternalError('cannot transfer leadership: the leader key kept changing');
  }

  /** Removes a server: revokes its lease (its keys go with it); a live one re-registers. */
  async removePeer(by: { id?: string; address?: string }): Promise<void> {
    const s = this.servers().find((x) => (by.id ? x.ID === by.id : x.Address === by.address));
    if (!s) {
      throw new InternalError(by.id ? `id "${by.id}" was not found in the Raft configuration` : `address "${by.address}" was not found in the Raft configuration`);
    }
    await this.#d.store.leaseRevoke(s.Lease).catch((err) => { if (!isNotFound(err)) throw err; });
    await this.#d.store.txn({ success: [{ type: 'delete', key: SERVERS_PREFIX + s.Node }] });
  }

  async #register(): Promise<void> {
    const { store, clock } = this.#d;
    const sent = clock.now();
    const lease = await store.leaseGrant(this.#ttlMs / 1000);
    this.#renewed(sent);
    this.#self = { ...this.#self, Lease: lease.id, Since: clock.now() };
    await this.#writeStatus();
  }

  async #writeStatus(): Promise<void> {
    const { replica, clock } = this.#d;
    this.#self = {
      ...this.#self, LastIndex: replica.appliedRevision, StatusAt: clock.now(),
      LastContactMs: this.#isLeader ? 0 : Math.max(0, clock.now() - this.#lastContact),
    };
    await this.#d.store.txn({ success: [{ type: 'put', key: SERVERS_PREFIX + this.#self.Node, value: encodeJson(this.#self), lease: this.#self.Lease }] });
  }

  /** Reads servers and leader at one revision and watches from there. */
  async #sync(): Promise<void> {
    const res = await this.#d.store.txn({ success: [{ type: 'range', prefix: SERVERS_PREFIX }, { type: 'get', key: LEADER_KEY }] });
    const [servers, leader] = res.results;
    this.#servers.clear();
    if (servers.type === 'range') for (const kv of servers.kvs) this.#applyServer(kv, true);
    this.#configIndex = res.revision;
    this.#applyLeader(leader.type === 'get' ? leader.kv : null, res.revision);
    this.#watch?.cancel();
    this.#watch = this.#d.store.watch(res.revision, {
      onBatch: (b) => this.#onBatch(b),
      onCompacted: () => { if (this.#running) this.#sync().catch((err) => this.#d.logger.error({ err }, 'election re-sync failed')); },
      onError: (err) => this.#d.logger.error({ err }, 'election watch failed'),
    });
  }

  #onBatch(b: WatchBatch): void {
    for (const ev of b.events) {
      if (ev.kv.key === LEADER_KEY) this.#applyLeader(ev.type === 'put' ? ev.kv : null, b.revision);
      else if (ev.kv.key.startsWith(SERVERS_PREFIX)) {
        if (ev.type === 'put') this.#applyServer(ev.kv, ev.kv.version === 1);
        else if (this.#servers.delete(ev.kv.key.slice(SERVERS_PREFIX.length))) {
          this.#configIndex = b.revision;
          // A snapshot restore replaces the keyspace without server records: write ours again.
          if (this.#running && ev.kv.key === SERVERS_PREFIX + this.#self.Node) void this.#writeStatus().catch(() => undefined);
        }
      }
    }
    for (const fn of this.#batchFns) fn(b);
  }

  #applyServer(kv: KeyValue, created: boolean): void {
    const rec = decodeJson<ServerRecord>(kv.value);
    if (!rec) return;
    this.#servers.set(rec.Node, rec);
    if (created) this.#configIndex = Math.max(this.#configIndex, kv.modRevision);
  }

  #applyLeader(kv: KeyValue | null, revision: number): void {
    if (revision < this.#leaderRev) return;
    this.#leaderRev = revision;
    const rec = kv ? decodeJson<LeaderRecord>(kv.value) : null;
    if (rec?.Lease !== this.#leader?.Lease) {
      this.#configIndex = Math.max(this.#configIndex, revision);
      if (rec) this.#term = revision;
    }
    this.#leader = rec;
    this.#leaderMod = kv?.modRevision ?? 0;
    if (rec) this.#lastContact = this.#d.clock.now();
    const ours = rec !== null && rec.Lease === this.#self.Lease;
    this.#setLeader(this.#running && ours && this.#leaseFresh());
    this.#probe?.follow(this.#running && rec && !ours && rec.Liveness ? { address: rec.Liveness, lease: rec.Lease } : null);
    if (!rec) void this.#campaign();
  }

  /**
   * Tries to create the leader key on our lease; a loser learns the winner from the answer.
   * `revoked`: the lease of the leader we just revoked, whose record the watch has not yet removed.
   */
  async #campaign(revoked = 0): Promise<void> {
    const leaderless = !this.#leader || (revoked !== 0 && this.#leader.Lease === revoked);
    if (!this.#running || this.#self.ReadReplica || this.#campaigning || !leaderless || this.#d.canLead?.() === false) return;
    this.#campaigning = true;
    try {
      const res = await this.#d.store.txn({
        compares: [{ key: LEADER_KEY, target: 'createRevision', op: '=', value: 0 }],
        success: [{ type: 'put', key: LEADER_KEY, value: encodeJson(leaderRecordOf(this.#self)), lease: this.#self.Lease }],
        failure: [{ type: 'get', key: LEADER_KEY }],
      });
      const won = res.results[0];
      if (res.succeeded) {
        this.#applyLeader({ key: LEADER_KEY, value: encodeJson(leaderRecordOf(this.#self)), createRevision: res.revision, modRevision: res.revision, version: 1, lease: this.#self.Lease }, res.revision);
      } else if (won.type === 'get') this.#applyLeader(won.kv, res.revision);
    } catch (err) {
      this.#d.logger.warn({ err }, 'leader campaign failed; retrying at the next heartbeat');
    } finally {
      this.#campaigning = false;
    }
  }

  /** Ticks at a fixed rate: one that overran (a keepalive answered late) is followed at once. */
  #schedule(delay = this.heartbeatMs() / KEEPALIVES_PER_BEAT): void {
    if (!this.#running) return;
    const { clock, logger } = this.#d;
    this.#timer = clock.setTimer(delay, () => {
      const started = clock.now();
      this.#tick().catch((err) => logger.warn({ err }, 'election heartbeat failed'))
        .finally(() => this.#schedule(Math.max(0, this.heartbeatMs() / KEEPALIVES_PER_BEAT - (clock.now() - started))));
    });
  }

  /** One tick: keep the lease; every other one beat as leader or report status as follower; campaign if leaderless. */
  async #tick(): Promise<void> {
    this.#ticks++;
    if (!(await this.#keepAlive())) return;
    if (!this.#isLeader && this.#leader?.Lease === this.#self.Lease) await this.#reassert();
    if (this.#isLeader) {
      if (this.#ticks % KEEPALIVES_PER_BEAT === 0) await this.#beat();
    } else if (this.#ticks % (STATUS_EVERY * KEEPALIVES_PER_BEAT) === 0) await this.#writeStatus();
    if (!this.#leader) await this.#campaign();
  }

  /** Renews the lease; a lost lease means re-registering, an unreachable store stepping down in time. */
  async #keepAlive(): Promise<boolean> {
    const { store, clock, logger } = this.#d;
    const sent = clock.now();
    try {
      await store.leaseKeepAlive(this.#self.Lease);
      this.#renewed(sent);
      return true;
    } catch (err) {
      if (!this.#running) return false;
      if (isNotFound(err)) {
        logger.warn({ lease: this.#self.Lease }, 'server lease lost; registering again');
        this.#setLeader(false);
        await this.#register();
        return true;
      }
      throw err;
    }
  }

  /**
   * Records a keepalive etcd answered (sent at `sent`): the lease lasts at least TTL from then,
   * so leading is safe until the step-down timer, which fires however long the next keepalive
   * hangs (an unreachable etcd) — before another server can win the expired lease's key.
   */
  #renewed(sent: number): void {
    const { clock, logger } = this.#d;
    this.#keptAlive = Math.max(this.#keptAlive, sent);
    this.#stepDown?.cancel();
    this.#stepDown = clock.setTimer(this.#keptAlive + this.#stepDownMs() - clock.now(), () => {
      this.#stepDown = null;
      if (!this.#isLeader || this.#leaseFresh()) return;
      logger.warn({ lease: this.#self.Lease }, 'server lease not renewed in time; leader duties stop until it is');
      this.#setLeader(false);
    });
  }

  #stepDownMs(): number {
    return this.#ttlMs - Math.max(STEP_DOWN_MARGIN_MS, this.#ttlMs / 6);
  }

  #leaseFresh(): boolean {
    return this.#d.clock.now() - this.#keptAlive < this.#stepDownMs();
  }

  /** After a step-down whose lease survived (etcd answered again): lead again if the key is still ours. */
  async #reassert(): Promise<void> {
    const res = await this.#d.store.txn({ success: [{ type: 'get', key: LEADER_KEY }] });
    const got = res.results[0];
    if (got.type === 'get') this.#applyLeader(got.kv, res.revision);
  }

  /**
   * Revokes the lease of a leader whose process is gone (the probe's proof: its server port
   * refused a connection after having greeted us with this lease), while it still holds the
   * leader key; etcd deletes the key and every server campaigns at once. Attempts overlap: one
   * may wait on an etcd member that is itself electing, and revoking a revoked lease is harmless.
   */
  async #revokeDead(lease: number): Promise<void> {
    const { store, clock, logger } = this.#d;
    if (this.#revoking === lease) return;
    this.#revoking = lease;
    logger.warn({ leader: this.#leader?.Node, lease }, 'leader process is gone; revoking its lease');
    let done = false;
    const gone = () => {
      if (done) return;
      done = true;
      logger.info({ lease }, 'dead leader\'s lease revoked');
      // The key went with the lease: campaign now rather than when the watch reports the delete.
      void this.#campaign(lease);
    };
    const attempt = () => store.leaseRevoke(lease).then(gone, (err) => {
      if (isNotFound(err)) gone();
      else logger.debug({ err, lease }, 'revoking the dead leader\'s lease failed; retrying');
    });
    const limit = clock.now() + 2 * this.#ttlMs;
    try {
      while (!done && this.#running && this.#leader?.Lease === lease && clock.now() < limit) {
        await Promise.race([attempt(), new Promise((r) => clock.setTimer(REVOKE_EVERY_MS, () => r(undefined)))]);
      }
    } finally {
      this.#revoking = 0;
    }
  }

  async #beat(): Promise<void> {
    const next = { ...leaderRecordOf(this.#self), Beat: (this.#leader?.Beat ?? 0) + 1 };
    const res = await this.#d.store.txn({
      compares: [{ key: LEADER_KEY, target: 'modRevision', op: '=', value: this.#leaderMod }],
      success: [{ type: 'put', key: LEADER_KEY, value: encodeJson(next), lease: this.#self.Lease }],
    });
    if (!res.succeeded) this.#d.logger.debug({}, 'leader key changed under the heartbeat; the watch decides');
  }

  #setLeader(leader: boolean): void {
    if (leader === this.#isLeader) return;
    this.#isLeader = leader;
    this.#d.logger.info({ node: this.#self.Node, leader }, leader ? 'cluster leadership acquired' : 'cluster leadership lost');
    for (const fn of this.#leadershipFns) fn(leader);
  }
}

function isNotFound(err: unknown): boolean {
  return err instanceof ProconsulError && err.code === 'not_found';
}
