// The embedded store's on-disk formats: a format-1 file (values inline in a WITHOUT ROWID table
// ordered by key) is migrated to format 2 on open, with every key, revision and lease kept.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { EmbeddedStore } from './embedded.ts';
import { EMBEDDED_FORMAT_VERSION } from './schema.ts';
import { FORMAT1_SCHEMA } from '../../../test/support/format1-store.ts';

/** A store file as format 1 wrote it: its schema and meta rows, then `rows` and one lease. */
function writeFormat1(path: string, rows: [key: string, value: string, create: number, mod: number, version: number, lease: number][]): void {
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec(`
${FORMAT1_SCHEMA}
INSERT INTO meta VALUES ('format', 1), ('revision', 7), ('last_lease', 3);
INSERT INTO lease VALUES (3, 60);`);
  const put = db.prepare('INSERT INTO kv (key, value, create_rev, mod_rev, version, lease) VALUES (?, ?, ?, ?, ?, ?)');
  for (const [key, value, c, m, v, l] of rows) put.run(key, Buffer.from(value), c, m, v, l);
  db.close();
}

test('embedded: a format-1 store is migrated on open and keeps every key, revision and lease', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'proconsul-embedded-schema-'));
  try {
    writeFormat1(join(dir, 'store.db'), [
      ['catalog/node/a', '{"Node":"a"}', 1, 5, 3, 0],
      ['kv/held', 'locked', 6, 6, 1, 3],
      ['kv/x', 'x'.repeat(5000), 2, 7, 4, 0],
    ]);
    const store = new EmbeddedStore({ dir });
    await store.open();
    const file = new DatabaseSync(join(dir, 'store.db'));
    // The old table's pages are not left behind as free space.
    assert.equal((file.prepare('PRAGMA freelist_count').get() as { freelist_count: number }).freelist_count, 0);
    file.close();
    const all = await store.range('');
    assert.equal(all.revision, 7);
    assert.deepEqual(all.kvs.map((kv) => [kv.key, kv.createRevision, kv.modRevision, kv.version, kv.lease, kv.value.byteLength]), [
      ['catalog/node/a', 1, 5, 3, 0, 12], ['kv/held', 6, 6, 1, 3, 6], ['kv/x', 2, 7, 4, 0, 5000],
    ]);
    assert.equal(Buffer.from((await store.get('catalog/node/a'))!.value).toString(), '{"Node":"a"}');
    // Writes after the migration: an update in place, a new key, a delete; then a reopen.
    await store.txn({ success: [{ type: 'put', key: 'kv/x', value: Buffer.from('y') }, { type: 'put', key: 'kv/new', value: Buffer.from('n') }] });
    await store.txn({ success: [{ type: 'delete', key: 'catalog/node/a' }] });
    const lease = await store.leaseGrant(30);
    assert.ok(lease.id > 3, `lease ${lease.id} after the migrated last lease 3`);
    await store.close();

    const again = new EmbeddedStore({ dir });
    await again.open();
    const after = await again.range('');
    assert.equal(after.revision, 9);
    assert.deepEqual(after.kvs.map((kv) => [kv.key, kv.modRevision, kv.version, Buffer.from(kv.value).toString().slice(0, 6)]), [
      ['kv/held', 6, 1, 'locked'], ['kv/new', 8, 1, 'n'], ['kv/x', 8, 5, 'y'],
    ]);
    await again.close();
    const db = new DatabaseSync(join(dir, 'store.db'));
    assert.equal((db.prepare("SELECT value FROM meta WHERE key = 'format'").get() as { value: number }).value, EMBEDDED_FORMAT_VERSION);
    db.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
