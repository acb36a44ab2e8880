// The embedded backend: the engine persisted to SQLite (node:sqlite) in `<dir>/store.db`, WAL
// journal with synchronous=FULL so a commit is fsynced before it is acknowledged. A writer thread
// (writer.ts) owns the write connection and group-commits: everything queued while the event
// loop turns is one message, and every message that arrives while a commit syncs joins the next
// commit. The event loop never waits for a disk. Values live on disk: the engine keeps only
// revisions once a write is durable and reads values back here, on a read-only connection, for
// gets, ranges and value compares. `<dir>/store.lock`, held exclusively, keeps a second process out.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { ClosedError, InternalError, NotFoundError } from '../../errors.ts';
import { EngineStore, type EngineStoreDeps, type PendingMutation } from '../engine-store.ts';
import type { LoadedKey } from '../engine.ts';
import {
  CHECKPOINT_TUNING, encodeGroup, encodeIntoSlot, slotViews, SLOT_BYTES, type CheckpointTuning, type Slot, type WriterReply,
} from './writer-protocol.ts';
import { EMBEDDED_FORMAT_VERSION, prepareSchema, type SchemaReport } from './schema.ts';

/** On-disk format version kept in `meta` (schema.ts). */
export { EMBEDDED_FORMAT_VERSION } from './schema.ts';

/** The structured-logger subset the store uses (a pino logger fits). */
export interface StoreLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Dependencies of the embedded store. */
export interface EmbeddedStoreDeps extends EngineStoreDeps {
  /** Data directory; created if missing. */
  dir: string;
  logger?: StoreLogger;
  /** When WAL frames are copied into the database file; CHECKPOINT_TUNING unless tests say otherwise. */
  checkpoint?: CheckpointTuning;
}

interface Reads {
  value: StatementSync;
  from: StatementSync;
}

interface KeyRow {
  key: string;
  create_rev: number;
  mod_rev: number;
  version: number;
  lease: number;
}

/** Groups posted to the writer and not yet acknowledged, at most. */
const MAX_INFLIGHT = 2;

// Written in the same language as this file, so that the built package finds writer.js.
const WRITER = new URL(import.meta.url.endsWith('.ts') ? './writer.ts' : './writer.js', import.meta.url);

/** A durable single-server Store on SQLite with group commit on a writer thread. */
export class EmbeddedStore extends EngineStore {
  readonly kind = 'embedded';
  /** Path of the SQLite database file. */
  readonly path: string;
  readonly #dir: string;
  readonly #logger: StoreLogger | undefined;
  readonly #checkpoint: CheckpointTuning;
  #lock: DatabaseSync | null = null;
  #db: DatabaseSync | null = null;
  #reads: Reads | null = null;
  #writer: Worker | null = null;
  #writerClosed: Promise<void> | null = null;
  #queue: PendingMutation[] = [];
  #scheduled = false;
  #seq = 0;
  /** Posted groups awaiting their ack, oldest first, with the shared slot each occupies (-1: none). */
  #inflight: { seq: number; items: PendingMutation[]; slot: number }[] = [];
  /** One shared slot per group that can be in flight. */
  readonly #shared = Array.from({ length: MAX_INFLIGHT }, () => new SharedArrayBuffer(SLOT_BYTES));
  readonly #slots: Slot[] = this.#shared.map(slotViews);
  #failed: Error | null = null;

  constructor(deps: EmbeddedStoreDeps) {
    super(deps);
    this.#dir = deps.dir;
    this.path = join(deps.dir, 'store.db');
    this.#logger = deps.logger;
    this.#checkpoint = deps.checkpoint ?? CHECKPOINT_TUNING;
  }

  /** Takes the directory's lock, creates or opens the database, loads it and starts the writer. */
  async open(): Promise<void> {
    if (this.closed) throw new ClosedError();
    if (this.#db) return;
    mkdirSync(this.#dir, { recursive: true });
    const lock = new DatabaseSync(join(this.#dir, 'store.lock'));
    let db: DatabaseSync | null = null;
    try {
      // One process owns the data dir: a second opener fails fast ("database is locked") instead
      // of diverging. The exclusive lock is held until close.
      lock.exec('PRAGMA locking_mode = EXCLUSIVE');
      lock.exec('BEGIN EXCLUSIVE');
      lock.exec('COMMIT');
      db = new DatabaseSync(this.path);
      const mode = db.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode: string };
      if (mode.journal_mode !== 'wal') throw new InternalError(`${this.path}: cannot enable WAL journal`);
      db.exec('PRAGMA synchronous = FULL');
      this.#logSchema(prepareSchema(db, this.path));
      db.exec('PRAGMA query_only = ON');
      db.exec('PRAGMA busy_timeout = 5000');
      this.#reads = {
        value: db.prepare('SELECT value FROM kv WHERE key = ?'),
        from: db.prepare('SELECT key, value FROM kv WHERE key >= ? ORDER BY key'),
      };
      this.engine.useValues({ get: (key) => this.#readValue(key), range: (prefix) => this.#readRange(prefix) });
      this.#load(db);
      this.#writer = await startWriter(this.path, this.#shared, this.#checkpoint, (r) => this.#onReply(r), (err) => {
        if (this.#writer) this.#fail(err);
      });
    } catch (err) {
      db?.close();
      lock.close();
      throw err;
    }
    this.#writerClosed = new Promise((resolve) => this.#writer!.once('exit', () => resolve()));
    this.#lock = lock;
    this.#db = db;
    for (const lease of this.engine.leases.values()) this.armLease(lease);
    this.#logger?.info({ path: this.path, revision: this.engine.revision, keys: this.engine.keys.size }, 'embedded store opened');
  }

  #logSchema(report: SchemaReport): void {
    if (!report.migratedFrom) return;
    this.#logger?.info({ path: this.path, from: report.migratedFrom, to: EMBEDDED_FORMAT_VERSION }, 'embedded store format migrated');
    if (report.compactError) {
      this.#logger?.error({ path: this.path, err: report.compactError }, 'embedded store not compacted after its migration');
    }
  }

  #load(db: DatabaseSync): void {
    const meta = new Map(
      (db.prepare('SELECT key, value FROM meta').all() as { key: string; value: number }[]).map((r) => [r.key, r.value]),
    );
    const leases = (db.prepare('SELECT id, ttl_seconds FROM lease').all() as { id: number; ttl_seconds: number }[])
      .map((r) => ({ id: r.id, ttlSeconds: r.ttl_seconds }));
    const rows = db.prepare('SELECT key, create_rev, mod_rev, version, lease FROM kv').iterate() as Iterable<KeyRow>;
    this.engine.load(mapRows(rows), leases, meta.get('revision') ?? 0, meta.get('last_lease') ?? 0);
  }

  #readValue(key: string): Uint8Array {
    const row = this.#reads!.value.get(key) as { value: Uint8Array } | undefined;
    if (!row) throw new NotFoundError(`embedded store: no stored value for ${key}`);
    return row.value;
  }

  #readRange(prefix: string): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>();
    for (const row of this.#reads!.from.iterate(prefix) as Iterable<{ key: string; value: Uint8Array }>) {
      if (!row.key.startsWith(prefix)) break;
      out.set(row.key, row.value);
    }
    return out;
  }

  /** Queues a mutation for the next group commit; `m.done()` once it is fsynced. */
  protected persist(m: PendingMutation): void {
    if (this.#failed) return m.done(this.#failed);
    if (!this.#writer) return m.done(new InternalError('embedded store is not open'));
    this.#queue.push(m);
    if (!this.#scheduled) {
      this.#scheduled = true;
      // Let every writer that is ready in this turn of the event loop join the same group.
      setImmediate(this.#postNow);
    }
  }

  readonly #postNow = (): void => this.#post();

  /**
   * Sends the queued mutations to the writer as one group. At most two groups are in flight: the
   * one being committed and the next, which the writer starts as soon as that commit returns;
   * later writes queue here and go as one message on the next ack (one message per commit is
   * cheaper than one per turn of the event loop, and the writer could not start on them sooner).
   */
  #post(): void {
    this.#scheduled = false;
    if (this.#inflight.length >= MAX_INFLIGHT || this.#queue.length === 0 || this.#failed || !this.#writer) return;
    const items = this.#queue;
    this.#queue = [];
    const seq = ++this.#seq;
    // Keep the process alive while writes are in flight, and only then.
    this.#writer.ref();
    const slot = this.#slots.findIndex((_, i) => !this.#inflight.some((g) => g.slot === i));
    const packed = slot >= 0 ? encodeIntoSlot(this.#slots[slot], items) : null;
    if (packed) {
      this.#inflight.push({ seq, items, slot });
      this.#writer.postMessage({ type: 'slot', seq, slot, ...packed });
      return;
    }
    const group = encodeGroup(seq, items);
    this.#inflight.push({ seq, items, slot: -1 });
    this.#writer.postMessage(group, [group.values.buffer as ArrayBuffer]);
  }

  #onReply(r: WriterReply): void {
    if (r.type === 'ack') {
      const acked: PendingMutation[][] = [];
      while (this.#inflight.length > 0 && this.#inflight[0].seq <= r.seq) acked.push(this.#inflight.shift()!.items);
      if (this.#inflight.length === 0) this.#writer?.unref();
      // Hand the writer its next group before acknowledging: done() publishes (the replica
      // applies the batches) synchronously, and the writer need not wait for that.
      this.#post();
      for (const items of acked) for (const m of items) m.done();
    } else if (r.type === 'failed') {
      const cause = Object.assign(new Error(r.message), { stack: r.stack });
      this.#fail(cause);
    } else if (r.type === 'checkpoint-failed') {
      // Acknowledged writes are safe in the WAL, which grows until a checkpoint succeeds.
      this.#logger?.error({ path: this.path, err: r.message }, 'embedded store checkpoint failed');
    }
  }

  /** Stops the store: every queued and in-flight write is rejected, later ones too. */
  #fail(cause: unknown): void {
    if (this.#failed) return;
    this.#failed = new InternalError('embedded store write failed; the store is stopped', { cause });
    const pending = [...this.#inflight.flatMap((g) => g.items), ...this.#queue];
    this.#logger?.error({ err: cause, path: this.path, pending: pending.length }, 'embedded store write failed');
    this.#inflight = [];
    this.#queue = [];
    for (const m of pending) m.done(this.#failed);
    this.#writer?.unref();
  }

  /** Waits for every acknowledged-to-be write to be committed, then closes the database. */
  override async close(): Promise<void> {
    await super.close();
    if (this.#queue.length > 0 && !this.#failed) this.#post();
    const writer = this.#writer;
    this.#writer = null;
    if (writer) {
      writer.ref();
      writer.postMessage({ type: 'close' });
      await this.#writerClosed;
    }
    this.#db?.close();
    this.#db = null;
    this.#reads = null;
    this.#lock?.close();
    this.#lock = null;
  }
}

/** Starts the writer thread on `path` and resolves once it has opened the database. */
function startWriter(
  path: string, slots: SharedArrayBuffer[], checkpoint: CheckpointTuning, onReply: (r: WriterReply) => void, onFail: (err: unknown) => void,
): Promise<Worker> {
  const worker = new Worker(WRITER, { name: 'store-writer', workerData: { path, slots, checkpoint } });
  return new Promise((resolve, reject) => {
    let ready = false;
    worker.on('message', (r: WriterReply) => {
      if (r.type === 'ready') {
        ready = true;
        worker.unref();
        resolve(worker);
      } else if (r.type !== 'closed') onReply(r);
    });
    worker.on('error', (err) => (ready ? onFail(err) : reject(err)));
    worker.on('exit', (code) => {
      const err = new InternalError(`embedded store writer exited with code ${code}`);
      if (ready) onFail(err);
      else reject(err);
    });
  });
}

function* mapRows(rows: Iterable<KeyRow>): Iterable<LoadedKey> {
  for (const r of rows) {
    yield { key: r.key, value: null, createRevision: r.create_rev, modRevision: r.mod_rev, version: r.version, lease: r.lease };
  }
}
