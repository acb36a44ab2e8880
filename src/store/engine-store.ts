// A Store built on StoreEngine: transactions apply in order in memory, are handed to the
// backend's `persist()` (a no-op for memory, group-committed SQLite for embedded), and are
// acknowledged and published to watchers only once durable. Reads wait for durability first.
import { ClosedError, NotFoundError } from '../errors.ts';
import { systemClock, type Clock, type TimerHandle } from '../clock.ts';
import { StoreEngine, type LeaseState } from './engine.ts';
import { readSnapshot, writeSnapshot } from './snapshot.ts';
import type {
  KeyValue, LeaseGrant, RangeResult, Store, TxnRequest, TxnResponse, Watch, WatchBatch, WatchHandlers,
} from './store.ts';

/** One durable unit handed to a backend: a batch of key changes and/or lease changes. */
export interface Mutation {
  batch: WatchBatch | null;
  leasePut?: { id: number; ttlSeconds: number };
  leaseDelete?: number;
}

/**
 * A mutation handed to `persist()`: the backend calls `done()` once it is durable, or
 * `done(err)` if it cannot be made durable. Calls may come in any order and at any time (even
 * during `persist()`); the store acknowledges and publishes in commit order regardless.
 */
export interface PendingMutation extends Mutation {
  done(err?: Error): void;
}

/**
 * A commit on its way to durability. One object per write carries the mutation, its
 * acknowledgement and the reads waiting behind it: no promise chain per commit (each link a
 * promise and a microtask, several per write).
 */
class Commit implements PendingMutation {
  readonly batch: WatchBatch | null;
  readonly leasePut: { id: number; ttlSeconds: number } | undefined;
  readonly leaseDelete: number | undefined;
  readonly response: unknown;
  settled = false;
  error: Error | null = null;
  resolve: (value: unknown) => void = noop;
  reject: (err: Error) => void = noop;
  /** Reads (and close) waiting until everything up to this commit is durable. */
  waiters: (() => void)[] | null = null;
  readonly #settle: (c: Commit) => void;

  constructor(
    settle: (c: Commit) => void, batch: WatchBatch | null, response: unknown,
    leasePut: { id: number; ttlSeconds: number } | undefined, leaseDelete: number | undefined,
  ) {
    this.#settle = settle;
    this.batch = batch;
    this.leasePut = leasePut;
    this.leaseDelete = leaseDelete;
    this.response = response;
  }

  done(err?: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.error = err ?? null;
    this.#settle(this);
  }
}

function noop(): void {}

/** Dependencies shared by engine-backed stores. */
export interface EngineStoreDeps {
  clock?: Clock;
  historyLimit?: number;
}

/** Base class for backends whose state lives in a StoreEngine. */
export abstract class EngineStore implements Store {
  abstract readonly kind: string;
  protected readonly engine: StoreEngine;
  protected readonly clock: Clock;
  #closed = false;
  #failure: Error | null = null;
  /** Commits not yet acknowledged, oldest first (from #head on). */
  #commits: Commit[] = [];
  #head = 0;
  readonly #settled = (c: Commit): void => {
    if (c.error) this.#failure ??= c.error;
    this.#drain();
  };
  #leaseTimers = new Map<number, TimerHandle>();

  constructor(deps: EngineStoreDeps = {}) {
    this.engine = new StoreEngine({ historyLimit: deps.historyLimit });
    this.clock = deps.clock ?? systemClock;
  }

  /** Makes a mutation durable and then calls `m.done()` (`m.done(err)` on failure). Called in commit order. */
  protected abstract persist(m: PendingMutation): void;

  abstract open(): Promise<void>;

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#leaseTimers.values()) t.cancel();
    this.#leaseTimers.clear();
    await this.durable().catch(() => undefined);
  }

  protected get closed(): boolean {
    return this.#closed;
  }

  /** The persistence failure that stopped the store, if any. */
  protected get failure(): Error | null {
    return this.#failure;
  }

  #check(): void {
    if (this.#closed) throw new ClosedError();
    if (this.#failure) throw this.#failure;
  }

  /** Queues a mutation; resolves with `response` once durable. Publication follows durability, in order. */
  #commit(
    batch: WatchBatch | null, response: unknown,
    leasePut?: { id: number; ttlSeconds: number }, leaseDelete?: number,
  ): Promise<unknown> {
    const c = new Commit(this.#settled, batch, response, leasePut, leaseDelete);
    const acked = new Promise((resolve, reject) => {
      c.resolve = resolve;
      c.reject = reject;
    });
    this.#commits.push(c);
    try {
      this.persist(c);
    } catch (err) {
      // The engine already holds the mutation, so memory and disk now disagree: fail-stop rather
      // than serve state that a restart would not have.
      c.done(err instanceof Error ? err : new Error(String(err)));
    }
    return acked;
  }

  /** Acknowledges and publishes every settled commit at the head of the queue, in order. */
  #drain(): void {
    const commits = this.#commits;
    while (this.#head < commits.length && commits[this.#head].settled) {
      const c = commits[this.#head];
      commits[this.#head++] = undefined as unknown as Commit;
      if (c.error) c.reject(c.error);
      else {
        if (c.batch) {
          this.engine.release(c.batch);
          this.engine.publish(c.batch);
        }
        c.resolve(c.response);
      }
      if (c.waiters) for (const w of c.waiters) w();
    }
    if (this.#head === commits.length) {
      commits.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= commits.length) {
      // Under steady writes a commit is always in flight at drain time (the embedded store sends
      // the next group before acknowledging the last): drop the drained head so the queue stays bounded.
      commits.splice(0, this.#head);
      this.#head = 0;
    }
  }

  /** Commits queued and not yet acknowledged, plus drained slots still held (for tests). */
  get queuedSlots(): number {
    return this.#commits.length;
  }

  /** Waits until everything applied so far is durable; rejects if persistence has failed. */
  protected durable(): Promise<void> {
    const commits = this.#commits;
    if (this.#head === commits.length) return this.#failure ? Promise.reject(this.#failure) : Promise.resolve();
    const last = commits[commits.length - 1];
    return new Promise((resolve, reject) => {
      (last.waiters ??= []).push(() => (this.#failure ? reject(this.#failure) : resolve()));
    });
  }

  // Reads capture the state synchronously and answer once everything they saw is durable: reading
  // after the wait could return writes applied meanwhile that are not durable yet (dirty reads).
  async currentRevision(): Promise<number> {
    this.#check();
    const revision = this.engine.revision;
    await this.durable();
    return revision;
  }

  async range(prefix: string): Promise<RangeResult> {
    this.#check();
    const result = { kvs: this.engine.range(prefix), revision: this.engine.revision };
    await this.durable();
    return result;
  }

  async get(key: string): Promise<KeyValue | null> {
    this.#check();
    const kv = this.engine.get(key);
    await this.durable();
    return kv;
  }

  // Not async: a write is one promise (its acknowledgement), not a chain of them.
  txn(req: TxnRequest): Promise<TxnResponse> {
    let response: TxnResponse;
    let batch: WatchBatch | null;
    try {
      this.#check();
      ({ response, batch } = this.engine.apply(req));
    } catch (err) {
      return Promise.reject(err);
    }
    if (batch) return this.#commit(batch, response) as Promise<TxnResponse>;
    return this.durable().then(() => response);
  }

  watch(afterRevision: number, handlers: WatchHandlers): Watch {
    this.#check();
    return this.engine.watch(afterRevision, handlers);
  }

  async leaseGrant(ttlSeconds: number): Promise<LeaseGrant> {
    this.#check();
    const lease = this.engine.grantLease(ttlSeconds);
    await this.#commit(null, undefined, { id: lease.id, ttlSeconds });
    this.armLease(lease);
    return { id: lease.id, ttlSeconds };
  }

  async leaseKeepAlive(id: number): Promise<void> {
    this.#check();
    const lease = this.engine.leases.get(id);
    if (!lease) throw new NotFoundError(`lease ${id} not found`);
    this.armLease(lease);
  }

  async leaseRevoke(id: number): Promise<void> {
    this.#check();
    const lease = this.engine.leases.get(id);
    if (!lease) throw new NotFoundError(`lease ${id} not found`);
    this.#leaseTimers.get(id)?.cancel();
    this.#leaseTimers.delete(id);
    const { batch } = this.engine.apply({ success: [...lease.keys].map((key) => ({ type: 'delete' as const, key })) });
    this.engine.leases.delete(id);
    await this.#commit(batch, undefined, undefined, id);
  }

  /** (Re)starts a lease's expiry timer at its full TTL. */
  protected armLease(lease: LeaseState): void {
    this.#leaseTimers.get(lease.id)?.cancel();
    this.#leaseTimers.set(lease.id, this.clock.setTimer(lease.ttlSeconds * 1000, () => {
      this.#leaseTimers.delete(lease.id);
      if (!this.#closed) this.leaseRevoke(lease.id).catch(() => undefined);
    }));
  }

  async *snapshot(): AsyncIterable<Uint8Array> {
    this.#check();
    const revision = this.engine.revision;
    const kvs = this.engine.range('');
    const leases = [...this.engine.leases.values()].map((l) => ({ id: l.id, ttlSeconds: l.ttlSeconds }));
    await this.durable();
    yield* writeSnapshot(revision, kvs, leases);
  }

  async restore(stream: AsyncIterable<Uint8Array>): Promise<number> {
    this.#check();
    const snap = await readSnapshot(stream);
    // Fresh leases replace the snapshot's; keys are re-pointed at the new ids.
    const leaseMap = new Map<number, number>();
    for (const old of [...this.engine.leases.keys()]) await this.leaseRevoke(old);
    for (const l of snap.leases) leaseMap.set(l.id, (await this.leaseGrant(l.ttlSeconds)).id);
    const res = await this.txn({
      success: [
        { type: 'deletePrefix', prefix: '' },
        ...snap.kvs.map((kv) => ({ type: 'put' as const, key: kv.key, value: kv.value, lease: leaseMap.get(kv.lease) ?? 0 })),
      ],
    });
    return res.revision;
  }
}
