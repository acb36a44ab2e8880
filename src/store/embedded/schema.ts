// The embedded store's on-disk layout (SQLite tables in `store.db`) and its migrations: a new file
// gets the current schema, an older format is migrated in one transaction, anything else is refused.
import type { DatabaseSync } from 'node:sqlite';
import { InternalError } from '../../errors.ts';
import { rollbackOpen } from './writer-protocol.ts';

/** On-disk format version kept in `meta`; bump with a tested migration. */
export const EMBEDDED_FORMAT_VERSION = 2;

/**
 * Format 2 keeps each key's row in a rowid table, new keys appended in commit order, with a unique
 * index on the key. Format 1 was a WITHOUT ROWID table ordered by key with the values inline: a
 * catalog registration's two or three new keys each landed on their own 4 KiB leaf among their
 * node's records (≈ 13 rows a page), so every registration dirtied two or three pages, written to
 * the WAL and again at checkpoint. Appended rows share the last pages of the table, and the index's
 * small entries (≈ 80 a page) cluster the keys a group commit touches. An update rewrites its row
 * in place (the upsert keeps the rowid), so it still dirties one table page and no index page.
 */
const KV_TABLE = `
CREATE TABLE kv (
  id INTEGER PRIMARY KEY, key TEXT NOT NULL, create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL,
  version INTEGER NOT NULL, lease INTEGER NOT NULL DEFAULT 0, value BLOB NOT NULL
)`;
const KV_INDEX = 'CREATE UNIQUE INDEX kv_key ON kv (key)';

const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
${KV_TABLE};
${KV_INDEX};
CREATE TABLE lease (id INTEGER PRIMARY KEY, ttl_seconds INTEGER NOT NULL);
`;

/** The writer's put: a new key appended, an existing one updated where it is. */
export const PUT_KV = `INSERT INTO kv (key, create_rev, mod_rev, version, lease, value) VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT (key) DO UPDATE SET create_rev = excluded.create_rev, mod_rev = excluded.mod_rev,
  version = excluded.version, lease = excluded.lease, value = excluded.value`;

/** Format 1 → 2: the rows copied into the rowid table (in key order), the old table dropped. */
function migrateFrom1(db: DatabaseSync): void {
  db.exec(`${KV_TABLE.replace('CREATE TABLE kv', 'CREATE TABLE kv_2')};
INSERT INTO kv_2 (key, create_rev, mod_rev, version, lease, value)
  SELECT key, create_rev, mod_rev, version, lease, value FROM kv ORDER BY key;
DROP TABLE kv;
ALTER TABLE kv_2 RENAME TO kv;
${KV_INDEX};
UPDATE meta SET value = 2 WHERE key = 'format';`);
}

/** What prepareSchema did to an existing file, for the log. */
export interface SchemaReport {
  /** The format the file was migrated from, if it was. */
  migratedFrom?: number;
  /** Why the migrated file could not be compacted (it keeps the old table's pages free). */
  compactError?: string;
}

/**
 * Creates the schema in a new file, migrates an older format, or refuses a file that is not a
 * proconsul store or has a newer format. `path` names the file in errors.
 */
export function prepareSchema(db: DatabaseSync, path: string): SchemaReport {
  if (!createOrMigrate(db, path)) return {};
  // The old table's pages are free after a migration, the file twice its size: rewrite it once
  // (a crash here leaves the migrated file as it was), and copy the rewrite out of the WAL.
  try {
    db.exec('VACUUM');
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  } catch (err) {
    // The migration is committed and whole; VACUUM needs as much space again (a disk the
    // migration just fitted on fails here). Later writes reuse the free pages, and failing the
    // open would not help: the next one finds format 2 and does not compact.
    return { migratedFrom: 1, compactError: (err as Error).message };
  }
  return { migratedFrom: 1 };
}

/** prepareSchema's transaction; true when it migrated the file. */
function createOrMigrate(db: DatabaseSync, path: string): boolean {
  let migrated = false;
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
      throw new InternalError(`${path} is not a proconsul store (no meta table)`);
    } else {
      const row = db.prepare("SELECT value FROM meta WHERE key = 'format'").get() as { value: number } | undefined;
      if (row?.value === 1) {
        migrateFrom1(db);
        migrated = true;
      } else if (row?.value !== EMBEDDED_FORMAT_VERSION) {
        throw new InternalError(
          `${path} has store format version ${String(row?.value)}, this build reads version ${EMBEDDED_FORMAT_VERSION}`,
        );
      }
    }
    db.exec('COMMIT');
  } catch (err) {
    // A full disk or an I/O error may have rolled the transaction back already: the error to
    // report is that one, not ROLLBACK's "no transaction is active".
    rollbackOpen(db);
    throw err;
  }
  return migrated;
}
