// The in-memory state machine behind the memory and embedded backends: current keys in a
// KeyMap (in order, the catalog's hashed), transactions evaluated and applied in order, a bounded
// history for watches, leases.
// Backends decide when a batch is durable and then call `publish()`. A backend with a durable
// copy of the values (embedded) passes a ValueSource and calls `release()` once a batch is
// durable: the key map holds only revisions for such a backend, values not yet durable wait in a
// side map until their batch is released, and the engine reads values back on the rare paths that
// need them (gets, ranges, value compares, previous values, snapshots).
import { KeyMap } from './key-map.ts';
import { CompactedError, NotFoundError, BadRequestError } from '../errors.ts';
import type {
  Compare, KeyValue, Op, OpResult, TxnRequest, TxnResponse, WatchBatch, WatchEvent, WatchHandlers, Watch,
} from './store.ts';
import { holds } from './compare.ts';

interface Watcher {
  next: number;
  live: boolean;
  cancelled: boolean;
  handlers: WatchHandlers;
}

/** What one committed transaction changed; backends persist it before publishing. */
export interface Committed {
  response: TxnResponse;
  /** Null when the transaction wrote nothing (no new revision). */
  batch: WatchBatch | null;
}

/** Lease bookkeeping: TTL and the keys attached. */
export interface LeaseState {
  id: number;
  ttlSeconds: number;
  keys: Set<string>;
}

/** A current key as the engine keeps it: its revisions, and its value while resident. */
export interface Entry {
  createRevision: number;
  modRevision: number;
  version: number;
  lease: number;
  /** Null once released: the durable copy (the ValueSource) has it. */
  value: Uint8Array | null;
}

/**
 * How the key map stores an entry: a released key at its first version without a lease, the
 * common case for catalog records, is just its revision (a small integer, no object); any other
 * key is its Entry.
 */
type Slot = Entry | number;

function entryOf(slot: Slot): Entry;
function entryOf(slot: Slot | undefined): Entry | undefined;
function entryOf(slot: Slot | undefined): Entry | undefined {
  return typeof slot === 'number'
    ? { createRevision: slot, modRevision: slot, version: 1, lease: 0, value: null }
    : slot;
}

/** Where released values are read back from; reads must see every durable write. */
export interface ValueSource {
  /** The durable value of a key the engine holds. */
  get(key: string): Uint8Array;
  /** The durable values of every key under a prefix. */
  range(prefix: string): Map<string, Uint8Array>;
}

/** Options for the engine. */
export interface EngineOptions {
  /** How many revisions of history watches can replay (default 1,000). */
  historyLimit?: number;
  /** Durable values; without one, every value stays in memory. */
  values?: ValueSource;
  /** Keys kept hashed (KeyMap): the default catalog's (`catalog/`, the default); '' keeps all in order. */
  hashedPrefix?: string;
}

/** A key to load at start; a null value is read from the ValueSource when needed. */
export type LoadedKey = Omit<KeyValue, 'value'> & { value: Uint8Array | null };

/** True when every op is a put (no op reads the key map or removes from it). */
function onlyPuts(ops: readonly Op[]): boolean {
  for (const op of ops) if (op.type !== 'put') return false;
  return true;
}

/** The ordered state machine shared by the memory and embedded backends. */
export class StoreEngine {
  readonly keys: KeyMap<Slot>;
  readonly leases = new Map<number, LeaseState>();
  #revision = 0;
  #published = 0;
  #history: WatchBatch[] = [];
  #compactRevision = 0;
  #watchers = new Set<Watcher>();
  #historyLimit: number;
  #nextLease = 1;
  #values: ValueSource | undefined;
  /**
   * With a ValueSource: the batches applied and not released yet (not yet durable, so their values
   * are not readable from the source), oldest first. The key map then never holds values, and a
   * write costs no per-key bookkeeping here: reads of values, which are rare on a write path, look
   * in these batches (see #pendingPut).
   */
  #unreleased: WatchBatch[] = [];
  /**
   * The latest unreleased put of each key, built from #unreleased by the first read that needs it
   * and then kept up to date by apply() and release() until every batch is released.
   */
  #pendingIndex: Map<string, KeyValue> | null = null;
  /**
   * The events of the transaction being applied, the first #eventCount of them (its own earlier
   * puts are readable by its later ops); the batch gets an exact-size copy. The list is never
   * shortened (that would drop its storage, and an empty list reserves 16 slots on its first push).
   */
  #events: WatchEvent[] = [];
  #eventCount = 0;
  #applying = false;
  /** The slots the current transaction's compares looked up (key, slot), so its puts skip a lookup. */
  #seenKeys: string[] = [];
  #seenSlots: (Slot | undefined)[] = [];
  /**
   * Whether compare i put its key in the key map already (see apply()): a create's one descent.
   * These lists hold the first #seenCount entries and are never shortened (that would drop their
   * storage, and an emptied list reserves 16 slots on its next push).
   */
  #placed: boolean[] = [];
  #seenCount = 0;

  constructor(opts: EngineOptions = {}) {
    // Watchers in this process follow every batch as it is published, so the history only serves
    // watches started from a recent revision (e.g. right after a range); it holds each value it
    // covers, so it is kept short.
    this.#historyLimit = opts.historyLimit ?? 1_000;
    this.#values = opts.values;
    this.keys = new KeyMap<Slot>(opts.hashedPrefix ?? 'catalog/');
  }

  /** Sets the durable value source (before `load()`); from then on `release()` drops values. */
  useValues(values: ValueSource): void {
    this.#values = values;
  }

  /** The value of a key the engine holds, read back from the ValueSource if released. */
  #valueOf(key: string, e: Entry): Uint8Array {
    return e.value ?? this.#pendingPut(key)?.value ?? this.#values!.get(key);
  }

  /** The latest put of `key` not released yet (the running transaction's own first), if any. */
  #pendingPut(key: string): KeyValue | undefined {
    if (this.#applying) {
      const own = this.#events;
      for (let i = this.#eventCount - 1; i >= 0; i--) if (own[i].type === 'put' && own[i].kv.key === key) return own[i].kv;
    }
    return this.#pending().get(key);
  }

  /** The index of unreleased puts by key (built on first use, then maintained). */
  #pending(): Map<string, KeyValue> {
    if (this.#pendingIndex) return this.#pendingIndex;
    const index = new Map<string, KeyValue>();
    for (const b of this.#unreleased) for (const ev of b.events) if (ev.type === 'put') index.set(ev.kv.key, ev.kv);
    return (this.#pendingIndex = index);
  }

  #kv(key: string, e: Entry, value = this.#valueOf(key, e)): KeyValue {
    return { key, value, createRevision: e.createRevision, modRevision: e.modRevision, version: e.version, lease: e.lease };
  }

  /** Every key under a prefix with its value, in key order (one read of released values). */
  #rangeKvs(prefix: string): KeyValue[] {
    const entries: [string, Entry][] = [];
    const pending: (Uint8Array | undefined)[] = [];
    let released = 0;
    const values = this.#values;
    this.keys.forPrefix(prefix, (k, slot) => {
      const e = entryOf(slot);
      const p = e.value || !values ? undefined : this.#pendingPut(k)?.value;
      entries.push([k, e]);
      pending.push(p);
      if (!e.value && !p) released++;
    });
    const durable = released > 1 ? values!.range(prefix) : null;
    return entries.map(([k, e], i) => this.#kv(k, e, e.value ?? pending[i] ?? durable?.get(k) ?? values!.get(k)));
  }

  /** One key with its value, or null. */
  get(key: string): KeyValue | null {
    const e = entryOf(this.keys.get(key));
    return e ? this.#kv(key, e) : null;
  }

  /**
   * Drops the values a durable batch wrote from memory (keys written again since keep theirs);
   * a no-op without a ValueSource.
   */
  release(batch: WatchBatch): void {
    if (!this.#values) return;
    const unreleased = this.#unreleased;
    // Batches are released in commit order: the oldest is almost always this one.
    if (unreleased[0] === batch) unreleased.shift();
    else {
      const i = unreleased.indexOf(batch);
      if (i < 0) return;
      unreleased.splice(i, 1);
    }
    if (unreleased.length === 0) this.#pendingIndex = null;
    const pending = this.#pendingIndex;
    if (!pending) return;
    for (const ev of batch.events) {
      if (ev.type === 'put' && pending.get(ev.kv.key) === ev.kv) pending.delete(ev.kv.key);
    }
  }

  /** How many keys have a put waiting for release() (with a ValueSource); for tests. */
  get pendingValues(): number {
    return this.#values ? this.#pending().size : 0;
  }

  /** Revision of the last applied transaction (possibly not yet durable). */
  get revision(): number {
    return this.#revision;
  }

  /** Revision of the last batch delivered to watchers. */
  get published(): number {
    return this.#published;
  }

  /**
   * Loads state from disk at start: keys, leases and the revision they were at. `lastLeaseId` is
   * the highest lease id ever granted, so ids of revoked leases are not handed out again.
   */
  load(
    kvs: Iterable<LoadedKey>,
    leases: Iterable<{ id: number; ttlSeconds: number }>,
    revision: number,
    lastLeaseId = 0,
  ): void {
    this.#nextLease = Math.max(this.#nextLease, lastLeaseId + 1);
    for (const l of leases) {
      this.leases.set(l.id, { id: l.id, ttlSeconds: l.ttlSeconds, keys: new Set() });
      this.#nextLease = Math.max(this.#nextLease, l.id + 1);
    }
    for (const kv of kvs) {
      if (kv.value === null && !this.#values) throw new BadRequestError(`no value for ${kv.key} and no value source`);
      const compact = kv.value === null && kv.version === 1 && kv.lease === 0 && kv.createRevision === kv.modRevision;
      this.keys.set(kv.key, compact ? kv.modRevision
        : { createRevision: kv.createRevision, modRevision: kv.modRevision, version: kv.version, lease: kv.lease, value: kv.value });
      if (kv.lease) this.leases.get(kv.lease)?.keys.add(kv.key);
    }
    this.#revision = revision;
    this.#published = revision;
    this.#compactRevision = revision;
  }

  /** Evaluates and applies a transaction synchronously, in commit order. */
  apply(req: TxnRequest): Committed {
    this.#seenCount = 0;
    const revision = this.#revision + 1;
    // A key created by this txn (compared absent, then put at its first version without a lease:
    // the slot is this revision) goes into the key map when its compare finds it absent, in the
    // same descent; the put then leaves it. Only with a ValueSource (slots are bare revisions) and
    // when the txn only puts, so no op reads the key map before the puts; a placed key the txn
    // does not put, or a failed txn's, is taken out again.
    const place = this.#values !== undefined && onlyPuts(req.success);
    let succeeded = true;
    try {
      succeeded = this.#compare(req.compares ?? [], place, revision);
    } catch (err) {
      this.#forgetSeen();
      throw err;
    }
    if (!succeeded) this.#unplace();
    const ops = succeeded ? req.success : (req.failure ?? []);
    // Validate before mutating so that a failing op never leaves a half-applied transaction.
    for (const op of ops) {
      if (op.type === 'put' && op.lease && !this.leases.has(op.lease)) {
        this.#unplace();
        throw new NotFoundError(`lease ${op.lease} not found`);
      }
    }
    const results: OpResult[] = new Array(ops.length);
    this.#eventCount = 0;
    this.#applying = true;
    let events: WatchEvent[];
    try {
      for (let i = 0; i < ops.length; i++) results[i] = this.#applyOp(ops[i], revision);
    } finally {
      this.#applying = false;
      this.#unplace();
      // The batch (kept in the watch history) gets exactly its events; the list lets go of them.
      const n = this.#eventCount;
      events = this.#events.slice(0, n);
      this.#events.fill(undefined as unknown as WatchEvent, 0, n);
      this.#eventCount = 0;
    }
    this.#forgetSeen();
    if (events.length === 0) {
      return { response: { succeeded, revision: this.#revision, results }, batch: null };
    }
    this.#revision = revision;
    const batch: WatchBatch = { revision, events };
    if (this.#values) {
      this.#unreleased.push(batch);
      const pending = this.#pendingIndex;
      if (pending) for (const ev of events) if (ev.type === 'put') pending.set(ev.kv.key, ev.kv);
    }
    return { response: { succeeded, revision, results }, batch };
  }

  /** Adds an event of the transaction being applied. */
  #emit(ev: WatchEvent): void {
    this.#events[this.#eventCount++] = ev;
  }

  #applyOp(op: Op, revision: number): OpResult {
    switch (op.type) {
      case 'get':
        return { type: 'get', kv: this.get(op.key) };
      case 'range':
        return { type: 'range', kvs: this.#rangeKvs(op.prefix) };
      case 'put': {
        const lease = op.lease ?? 0;
        // The compares of this txn usually looked the key up already.
        const seen = this.#seenIndex(op.key);
        const old = entryOf(seen >= 0 ? this.#seenSlots[seen] : this.keys.get(op.key));
        const prev = old && op.prevKv ? this.#kv(op.key, old) : null;
        const kv: KeyValue = {
          key: op.key,
          value: op.value,
          createRevision: old ? old.createRevision : revision,
          modRevision: revision,
          version: old ? old.version + 1 : 1,
          lease,
        };
        if (old?.lease) this.leases.get(old.lease)?.keys.delete(op.key);
        if (lease) this.leases.get(lease)!.keys.add(op.key);
        let slot: Slot;
        if (this.#values) {
          // The value waits in this txn's batch until release(); a first version without a lease
          // is just its revision in the key map from the start.
          slot = kv.version === 1 && lease === 0
            ? revision
            : { createRevision: kv.createRevision, modRevision: revision, version: kv.version, lease, value: null };
        } else {
          slot = { createRevision: kv.createRevision, modRevision: revision, version: kv.version, lease, value: op.value };
        }
        // A key its compare placed (see apply()) is the put's now; it already holds a bare revision.
        if (seen >= 0 && this.#placed[seen]) {
          this.#placed[seen] = false;
          if (slot !== revision) this.keys.set(op.key, slot);
        } else this.keys.set(op.key, slot);
        if (seen >= 0) this.#seenSlots[seen] = slot;
        this.#emit({ type: 'put', kv });
        return { type: 'put', prev };
      }
      case 'delete': {
        this.#forgetSeen();
        const prev = this.get(op.key);
        if (!prev) return { type: 'delete', deleted: [] };
        this.#deleteKey(prev, revision);
        return { type: 'delete', deleted: [prev] };
      }
      case 'deletePrefix': {
        this.#forgetSeen();
        const victims = this.#rangeKvs(op.prefix);
        for (const v of victims) this.#deleteKey(v, revision);
        return { type: 'delete', deleted: victims };
      }
      default:
        throw new BadRequestError(`unknown op ${(op as { type: string }).type}`);
    }
  }

  /** Evaluates the compares in order, recording each lookup (see apply()); false at the first that fails. */
  #compare(compares: readonly Compare[], place: boolean, revision: number): boolean {
    const seenKeys = this.#seenKeys;
    const seenSlots = this.#seenSlots;
    const placed = this.#placed;
    for (const c of compares) {
      const n = this.#seenCount;
      let slot: Slot | undefined;
      let wasPlaced = false;
      if (place && c.target === 'createRevision' && c.op === '=' && c.value === 0 && this.#seenIndex(c.key) < 0) {
        // Absent: now placed (the compare holds). Present: the compare fails on its real slot.
        wasPlaced = this.keys.set(c.key, revision, false);
        slot = wasPlaced ? undefined : this.keys.get(c.key);
      } else {
        // A key compared before keeps the slot it had before the txn (a placed one: absent).
        const i = this.#seenIndex(c.key);
        slot = i >= 0 ? seenSlots[i] : this.keys.get(c.key);
      }
      seenKeys[n] = c.key;
      seenSlots[n] = slot;
      placed[n] = wasPlaced;
      this.#seenCount = n + 1;
      const e = entryOf(slot);
      if (!holds(c, e, c.target === 'value' && e ? this.#valueOf(c.key, e) : null)) return false;
    }
    return true;
  }

  /** Index of `key` among this txn's compare lookups, or -1. */
  #seenIndex(key: string): number {
    const keys = this.#seenKeys;
    for (let i = 0; i < this.#seenCount; i++) if (keys[i] === key) return i;
    return -1;
  }

  /** Takes out of the key map every key a compare placed that no put has taken. */
  #unplace(): void {
    const placed = this.#placed;
    for (let i = 0; i < this.#seenCount; i++) {
      if (!placed[i]) continue;
      placed[i] = false;
      this.keys.delete(this.#seenKeys[i]);
    }
  }

  /** Drops the compares' lookups once an op may have removed keys. */
  #forgetSeen(): void {
    this.#unplace();
    this.#seenCount = 0;
  }

  #deleteKey(prev: KeyValue, revision: number): void {
    this.keys.delete(prev.key);
    if (prev.lease) this.leases.get(prev.lease)?.keys.delete(prev.key);
    this.#emit({ type: 'delete', kv: { ...prev, modRevision: revision } });
  }

  /** Creates a lease (id chosen here unless given, e.g. when loading). */
  grantLease(ttlSeconds: number): LeaseState {
    const lease: LeaseState = { id: this.#nextLease++, ttlSeconds, keys: new Set() };
    this.leases.set(lease.id, lease);
    return lease;
  }

  /** Delivers a durable batch to history and live watchers; batches must come in order. */
  publish(batch: WatchBatch): void {
    this.#published = batch.revision;
    this.#history.push(batch);
    // Trim in chunks of a quarter of the limit: trimming one batch per commit would make every
    // commit O(limit) once the history is full.
    if (this.#history.length > this.#historyLimit + Math.ceil(this.#historyLimit / 4)) {
      const dropped = this.#history.splice(0, this.#history.length - this.#historyLimit);
      this.#compactRevision = dropped[dropped.length - 1].revision;
    }
    for (const w of this.#watchers) {
      if (w.live && !w.cancelled && w.next === batch.revision) this.#deliver(w, batch);
    }
  }

  #deliver(w: Watcher, batch: WatchBatch): void {
    w.next = batch.revision + 1;
    try {
      w.handlers.onBatch(batch);
    } catch (err) {
      w.handlers.onError?.(err as Error);
    }
  }

  /** Starts a watch; history after `afterRevision` is replayed on the next microtask. */
  watch(afterRevision: number, handlers: WatchHandlers): Watch {
    const w: Watcher = { next: afterRevision + 1, live: false, cancelled: false, handlers };
    this.#watchers.add(w);
    queueMicrotask(() => {
      if (w.cancelled) return;
      if (afterRevision < this.#compactRevision) {
        this.#watchers.delete(w);
        if (handlers.onCompacted) handlers.onCompacted(this.#compactRevision);
        else handlers.onError?.(new CompactedError(this.#compactRevision));
        return;
      }
      for (const b of this.#history) {
        if (w.cancelled) return;
        if (b.revision >= w.next) this.#deliver(w, b);
      }
      w.live = true;
    });
    return {
      cancel: () => {
        w.cancelled = true;
        this.#watchers.delete(w);
      },
    };
  }

  /** Sorted keys under a prefix at the current applied revision. */
  range(prefix: string): KeyValue[] {
    return this.#rangeKvs(prefix);
  }
}
