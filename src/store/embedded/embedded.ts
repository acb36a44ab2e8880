// The embedded backend: the engine persisted to SQLite (node:sqlite) in `<dir>/store.db`, WAL
// journal with synchronous=FULL so a commit is fsynced before it is acknowledged. Mutations are
// group-committed: everything queued while the event loop turns shares one transaction and fsync.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { ClosedError, InternalError } from '../../errors.ts';
import { EngineStore, type EngineStoreDeps, type Mutation } from '../engine-store.ts';
import type { KeyValue } from '../store.ts';

/** On-disk format version kept in `meta`; bump with a tested migration. */
export const EMBEDDED_FORMAT_VERSION = 1;

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
}

const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE kv (
  key TEXT PRIMARY KEY, value BLOB NOT NULL, create_rev INTEGER NOT NULL,
  mod_rev INTEGER NOT NULL, version INTEGER NOT NULL, lease INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE lease (id INTEGER PRIMARY KEY, ttl_seconds INTEGER NOT NULL);
`;

interface Pending {
  m: Mutation;
  resolve(): void;
  reject(err: Error): void;
}

interface Statements {
  putKv: StatementSync;
  deleteKv: StatementSync;
  putLease: StatementSync;
  deleteLease: StatementSync;
  setMeta: StatementSync;
}

interface KvRow {
  key: string;
  value: Uint8Array;
  create_rev: number;
  mod_rev: number;
  version: number;
  lease: number;
}

/** A durable single-server Store on SQLite with group commit. */
export class EmbeddedStore extends EngineStore {
  readonly kind = 'embedded';
  /** Path of the SQLite database file. */
  readonly path: string;
  readonly #dir: string;
  readonly #logger: StoreLogger | undefined;
  #db: DatabaseSync | null = null;
  #stmts: Statements | null = null;
  #queue: Pending[] = [];
  #scheduled = false;
  #failed: Error | null = null;

  constructor(deps: EmbeddedStoreDeps) {
    super(deps);
    this.#dir = deps.dir;
    this.path = join(deps.dir, 'store.db');
    this.#logger = deps.logger;
  }

  /** Creates or opens the database, checks its format, loads it and re-arms leases. */
  async open(): Promise<void> {
    if (this.closed) throw new ClosedError();
    if (this.#db) return;
    mkdirSync(this.#dir, { recursive: true });
    const db = new DatabaseSync(this.path);
    try {
      // One process owns the data dir: a second opener fails fast instead of diverging.
      db.exec('PRAGMA locking_mode = EXCLUSIVE');
      const mode = db.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode: string };
      if (mode.journal_mode !== 'wal') throw new InternalError(`${this.path}: cannot enable WAL journal`);
      db.exec('PRAGMA synchronous = FULL');
      this.#migrate(db);
      this.#load(db);
    } catch (err) {
      db.close();
      throw err;
    }
    this.#db = db;
    this.#stmts = prepare(db);
    for (const lease of this.engine.leases.values()) this.armLease(lease);
    this.#logger?.info({ path: this.path, revision: this.engine.revision, keys: this.engine.keys.size }, 'embedded store opened');
  }

  /** Creates the schema in a new file, or checks that an existing file is one we can read. */
  #migrate(db: DatabaseSync): void {
    db.exec('BEGIN IMMEDIATE');
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
      if (tables.length === 0) {
        db.exec(SCHEMA);
        const set = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
        set.run('format', EMBEDDED_FORMAT_VERSION);
        set.run('revision', 0);
        set.run('last_lease', 0);
      } else if (!tables.some((t) => t.name === 'meta')) {
        throw new InternalError(`${this.path} is not a proconsul store (no meta table)`);
      } else {
        const row = db.prepare("SELECT value FROM meta WHERE key = 'format'").get() as { value: number } | undefined;
        if (row?.value !== EMBEDDED_FORMAT_VERSION) {
          throw new InternalError(
            `${this.path} has store format version ${String(row?.value)}, this build reads version ${EMBEDDED_FORMAT_VERSION}`,
          );
        }
      }
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
  }

  #load(db: DatabaseSync): void {
    const meta = new Map(
      (db.prepare('SELECT key, value FROM meta').all() as { key: string; value: number }[]).map((r) => [r.key, r.value]),
    );
    const leases = (db.prepare('SELECT id, ttl_seconds FROM lease').all() as { id: number; ttl_seconds: number }[])
      .map((r) => ({ id: r.id, ttlSeconds: r.ttl_seconds }));
    const kvs = (db.prepare('SELECT key, value, create_rev, mod_rev, version, lease FROM kv').iterate() as Iterable<KvRow>);
    this.engine.load(mapRows(kvs), leases, meta.get('revision') ?? 0, meta.get('last_lease') ?? 0);
  }

  /** Queues a mutation for the next group commit; resolves once it is fsynced. */
  protected persist(m: Mutation): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (!this.#db) return Promise.reject(new InternalError('embedded store is not open'));
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ m, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        // Let every writer that is ready in this turn of the event loop join the same commit.
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Writes every queued mutation in one SQLite transaction, then acknowledges them together. */
  #flush(): void {
    this.#scheduled = false;
    const items = this.#queue;
    this.#queue = [];
    if (items.length === 0) return;
    try {
      this.#write(items.map((p) => p.m));
    } catch (cause) {
      this.#failed = new InternalError('embedded store write failed; the store is stopped', { cause });
      this.#logger?.error({ err: cause, path: this.path, pending: items.length }, 'embedded store write failed');
      for (const p of [...items, ...this.#queue]) p.reject(this.#failed);
      this.#queue = [];
      return;
    }
    for (const p of items) p.resolve();
  }

  #write(ms: Mutation[]): void {
    const db = this.#db;
    const s = this.#stmts;
    if (!db || !s) throw new ClosedError();
    db.exec('BEGIN IMMEDIATE');
    try {
      let revision = 0;
      let lastLease = 0;
      for (const m of ms) {
        if (m.leasePut) {
          s.putLease.run(m.leasePut.id, m.leasePut.ttlSeconds);
          lastLease = Math.max(lastLease, m.leasePut.id);
        }
        for (const e of m.batch?.events ?? []) {
          if (e.type === 'put') s.putKv.run(e.kv.key, e.kv.value, e.kv.createRevision, e.kv.modRevision, e.kv.version, e.kv.lease);
          else s.deleteKv.run(e.kv.key);
        }
        if (m.batch) revision = m.batch.revision;
        if (m.leaseDelete) s.deleteLease.run(m.leaseDelete);
      }
      if (revision) s.setMeta.run(revision, 'revision');
      if (lastLease) s.setMeta.run(lastLease, 'last_lease');
      db.exec('COMMIT');
    } catch (err) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw err;
    }
  }

  /** Waits for every acknowledged-to-be write to be committed, then closes the database. */
  override async close(): Promise<void> {
    await super.close();
    if (this.#queue.length > 0 && !this.#failed) this.#flush();
    this.#db?.close();
    this.#db = null;
    this.#stmts = null;
  }
}

function prepare(db: DatabaseSync): Statements {
  return {
    putKv: db.prepare(
      'INSERT OR REPLACE INTO kv (key, value, create_rev, mod_rev, version, lease) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    deleteKv: db.prepare('DELETE FROM kv WHERE key = ?'),
    putLease: db.prepare('INSERT OR REPLACE INTO lease (id, ttl_seconds) VALUES (?, ?)'),
    deleteLease: db.prepare('DELETE FROM lease WHERE id = ?'),
    setMeta: db.prepare('UPDATE meta SET value = ? WHERE key = ?'),
  };
}

function* mapRows(rows: Iterable<KvRow>): Iterable<KeyValue> {
  for (const r of rows) {
    yield { key: r.key, value: r.value, createRevision: r.create_rev, modRevision: r.mod_rev, version: r.version, lease: r.lease };
  }
}
