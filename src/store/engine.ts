// The in-memory state machine behind the memory and embedded backends: current keys in a
// B+tree, transactions evaluated and applied in order, a bounded history for watches, leases.
// Backends decide when a batch is durable and then call `publish()`.
import { sortedMap, forPrefix } from '../sorted-map.ts';
import { CompactedError, NotFoundError, BadRequestError } from '../errors.ts';
import type {
  Compare, KeyValue, Op, OpResult, TxnRequest, TxnResponse, WatchBatch, WatchEvent, WatchHandlers, Watch,
} from './store.ts';

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

/** Options for the engine. */
export interface EngineOptions {
  /** How many revisions of history watches can replay (default 100,000). */
  historyLimit?: number;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

function holds(c: Compare, kv: KeyValue | undefined): boolean {
  let cmp: number;
  if (c.target === 'value') {
    if (!kv) return false;
    cmp = compareBytes(kv.value, c.value as Uint8Array);
  } else {
    const actual = kv ? kv[c.target] : 0;
    cmp = actual - (c.value as number);
  }
  switch (c.op) {
    case '=': return cmp === 0;
    case '!=': return cmp !== 0;
    case '<': return cmp < 0;
    case '>': return cmp > 0;
  }
}

/** The ordered state machine shared by the memory and embedded backends. */
export class StoreEngine {
  readonly keys = sortedMap<string, KeyValue>();
  readonly leases = new Map<number, LeaseState>();
  #revision = 0;
  #published = 0;
  #history: WatchBatch[] = [];
  #compactRevision = 0;
  #watchers = new Set<Watcher>();
  #historyLimit: number;
  #nextLease = 1;

  constructor(opts: EngineOptions = {}) {
    this.#historyLimit = opts.historyLimit ?? 10_000;
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
    kvs: Iterable<KeyValue>,
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
      this.keys.set(kv.key, kv);
      if (kv.lease) this.leases.get(kv.lease)?.keys.add(kv.key);
    }
    this.#revision = revision;
    this.#published = revision;
    this.#compactRevision = revision;
  }

  /** Evaluates and applies a transaction synchronously, in commit order. */
  apply(req: TxnRequest): Committed {
    const succeeded = (req.compares ?? []).every((c) => holds(c, this.keys.get(c.key)));
    const ops = succeeded ? req.success : (req.failure ?? []);
    // Validate before mutating so that a failing op never leaves a half-applied transaction.
    for (const op of ops) {
      if (op.type === 'put' && op.lease && !this.leases.has(op.lease)) throw new NotFoundError(`lease ${op.lease} not found`);
    }
    const revision = this.#revision + 1;
    const events: WatchEvent[] = [];
    const results: OpResult[] = [];
    for (const op of ops) results.push(this.#applyOp(op, revision, events));
    if (events.length === 0) {
      return { response: { succeeded, revision: this.#revision, results }, batch: null };
    }
    this.#revision = revision;
    return { response: { succeeded, revision, results }, batch: { revision, events } };
  }

  #applyOp(op: Op, revision: number, events: WatchEvent[]): OpResult {
    switch (op.type) {
      case 'get':
        return { type: 'get', kv: this.keys.get(op.key) ?? null };
      case 'range': {
        const kvs: KeyValue[] = [];
        forPrefix(this.keys, op.prefix, (_k, v) => { kvs.push(v); });
        return { type: 'range', kvs };
      }
      case 'put': {
        const lease = op.lease ?? 0;
        const prev = this.keys.get(op.key) ?? null;
        const kv: KeyValue = {
          key: op.key,
          value: op.value,
          createRevision: prev ? prev.createRevision : revision,
          modRevision: revision,
          version: prev ? prev.version + 1 : 1,
          lease,
        };
        if (prev?.lease) this.leases.get(prev.lease)?.keys.delete(op.key);
        if (lease) this.leases.get(lease)!.keys.add(op.key);
        this.keys.set(op.key, kv);
        events.push({ type: 'put', kv });
        return { type: 'put', prev };
      }
      case 'delete': {
        const prev = this.keys.get(op.key);
        if (!prev) return { type: 'delete', deleted: [] };
        this.#deleteKey(prev, revision, events);
        return { type: 'delete', deleted: [prev] };
      }
      case 'deletePrefix': {
        const victims: KeyValue[] = [];
        forPrefix(this.keys, op.prefix, (_k, v) => { victims.push(v); });
        for (const v of victims) this.#deleteKey(v, revision, events);
        return { type: 'delete', deleted: victims };
      }
      default:
        throw new BadRequestError(`unknown op ${(op as { type: string }).type}`);
    }
  }

  #deleteKey(prev: KeyValue, revision: number, events: WatchEvent[]): void {
    this.keys.delete(prev.key);
    if (prev.lease) this.leases.get(prev.lease)?.keys.delete(prev.key);
    events.push({ type: 'delete', kv: { ...prev, modRevision: revision } });
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
    const kvs: KeyValue[] = [];
    forPrefix(this.keys, prefix, (_k, v) => { kvs.push(v); });
    return kvs;
  }
}
