// A store file in the embedded store's format 1, as builds before format 2 (90be560) wrote it:
// the migration tests' starting point.
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

/** Format 1's tables (meta, kv WITHOUT ROWID ordered by key with the values inline, lease). */
export const FORMAT1_SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE kv (
  key TEXT PRIMARY KEY, value BLOB NOT NULL, create_rev INTEGER NOT NULL,
  mod_rev INTEGER NOT NULL, version INTEGER NOT NULL, lease INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE lease (id INTEGER PRIMARY KEY, ttl_seconds INTEGER NOT NULL);
`;

/** Writes `<dir>/store.db` in format 1 with `keys` keys of 200-byte values, key i at revision i; its size. */
export function writeFormat1(dir: string, keys: number): number {
  mkdirSync(dir, { recursive: true });
  const db = new DatabaseSync(join(dir, 'store.db'));
  db.exec(`PRAGMA journal_mode = WAL;
${FORMAT1_SCHEMA}
INSERT INTO meta VALUES ('format', 1), ('revision', ${keys}), ('last_lease', 0);
BEGIN;`);
  const put = db.prepare('INSERT INTO kv (key, value, create_rev, mod_rev, version) VALUES (?, ?, ?, ?, 1)');
  const value = Buffer.alloc(200, 7);
  for (let i = 1; i <= keys; i++) put.run(`kv/${(i * 7919) % keys}/${i}`, value, i, i);
  db.exec('COMMIT');
  db.close();
  return statSync(join(dir, 'store.db')).size;
}

/** The format recorded in `<dir>/store.db`. */
export function storedFormat(dir: string): number {
  const db = new DatabaseSync(join(dir, 'store.db'));
  try {
    return (db.prepare("SELECT value FROM meta WHERE key = 'format'").get() as { value: number }).value;
  } finally {
    db.close();
  }
}
