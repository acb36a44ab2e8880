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
  #tail: Promise<void> = Promise.resolve();
  #leaseTimers = new Map<number, TimerHandle>();

  constructor(deps: EngineStoreDeps = {}) {
    this.engine = new StoreEngine({ historyLimit: deps.historyLimit });
    this.clock = deps.clock ?? systemClock;
  }

  /** Makes a mutation durable; resolves when it may be acknowledged. Called in commit order. */
  protected abstract persist(m: Mutation): Promise<void>;

  abstract open(): Promise<void>;

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#leaseTimers.values()) t.cancel();
    this.#leaseTimers.clear();
    await this.#tail.catch(() => undefined);
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

  /** Queues a mutation; publication follows durability, in order. */
  #commit(m: Mutation): Promise<void> {
    const durable = this.persist(m);
    // The engine already holds the mutation, so memory and disk now disagree: fail-stop rather
    // than serve state that a restart would not have.
    durable.catch((err: unknown) => { this.#failure ??= err instanceof Error ? err : new Error(String(err)); });
    const done = this.#tail.then(() => durable).then(() => {
      if (!m.batch) return;
      this.engine.release(m.batch);
      this.engine.publish(m.batch);
    });
    this.#tail = done.catch(() => undefined);
    return done;
  }

  /** Waits until everything applied so far is durable; rejects if persistence has failed. */
  protected async durable(): Promise<void> {
    await this.#tail;
    if (this.#failure) throw this.#failure;
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

  async txn(req: TxnRequest): Promise<TxnResponse> {
    this.#check();
    const { response, batch } = this.engine.apply(req);
    if (batch) await this.#commit({ batch });
    else await this.durable();
    return response;
  }

  watch(afterRevision: number, handlers: WatchHandlers): Watch {
    this.#check();
    return this.engine.watch(afterRevision, handlers);
  }

  async leaseGrant(ttlSeconds: number): Promise<LeaseGrant> {
    this.#check();
    const lease = this.engine.grantLease(ttlSeconds);
    await this.#commit({ batch: null, leasePut: { id: lease.id, ttlSeconds } });
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
    await this.#commit({ batch, leaseDelete: id });
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
