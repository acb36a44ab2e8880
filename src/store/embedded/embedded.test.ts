// Runs the shared Store conformance suite against the SQLite-backed embedded store, plus what only
// a durable backend has: state survives reopening, and foreign or newer files are refused.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { ManualClock } from '../../clock.ts';
import { runStoreConformance } from '../conformance.ts';
import type { RangeResult } from '../store.ts';
import { EmbeddedStore } from './embedded.ts';
import { walReportable } from './writer-protocol.ts';

const tempDir = () => mkdtemp(join(tmpdir(), 'proconsul-embedded-'));
const enc = (s: string): Uint8Array => Buffer.from(s);

runStoreConformance('embedded', async ({ clock }) => {
  const dir = await tempDir();
  const store = new EmbeddedStore({ dir, clock });
  await store.open();
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

test('embedded: reopening keeps every key, revision and lease', async () => {
  const dir = await tempDir();
  try {
    const clock = new ManualClock();
    const first = new EmbeddedStore({ dir, clock });
    await first.open();
    const gone = await first.leaseGrant(5);
    const lease = await first.leaseGrant(30);
    await first.txn({ success: [
      { type: 'put', key: 'a', value: enc('1') },
      { type: 'put', key: 'b', value: Uint8Array.from([0, 255]) },
      { type: 'put', key: 'leased', value: enc('L'), lease: lease.id },
    ] });
    await first.txn({ success: [{ type: 'put', key: 'a', value: enc('2') }, { type: 'put', key: 'c', value: enc('3') }] });
    await first.txn({ success: [{ type: 'delete', key: 'c' }] });
    await first.leaseRevoke(gone.id);
    const before = await first.range('');
    await first.close();

    const second = new EmbeddedStore({ dir, clock });
    await second.open();
    assert.equal(await second.currentRevision(), before.revision);
    const asBuffers = (r: RangeResult) => ({ ...r, kvs: r.kvs.map((kv) => ({ ...kv, value: Buffer.from(kv.value) })) });
    assert.deepEqual(asBuffers(await second.range('')), asBuffers(before));
    assert.equal((await second.get('a'))?.version, 2);
    await second.leaseKeepAlive(lease.id);
    await assert.rejects(second.leaseKeepAlive(gone.id), { code: 'not_found' });
    const fresh = await second.leaseGrant(5);
    assert.ok(fresh.id > lease.id, 'a lease id was reused after restart');
    const next = await second.txn({ success: [{ type: 'put', key: 'd', value: enc('4') }] });
    assert.equal(next.revision, before.revision + 1);
    // Leases restart at their full TTL: the 30 s lease outlives 29 s and dies after 31.
    clock.advance(29_000);
    assert.ok(await second.get('leased'));
    clock.advance(2_000);
    await assert.rejects(second.leaseKeepAlive(lease.id), { code: 'not_found' });
    assert.equal(await second.get('leased'), null);
    await second.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('embedded: watch history does not survive a restart; older starts report compaction', async () => {
  const dir = await tempDir();
  try {
    const first = new EmbeddedStore({ dir });
    await first.open();
    for (let i = 0; i < 3; i++) await first.txn({ success: [{ type: 'put', key: 'k', value: enc(String(i)) }] });
    await first.close();
    const second = new EmbeddedStore({ dir });
    await second.open();
    const compacted = await new Promise<number>((resolve) => {
      second.watch(1, { onBatch: () => assert.fail('replayed lost history'), onCompacted: resolve });
    });
    assert.equal(compacted, 3);
    const live = new Promise<number>((resolve) => { second.watch(3, { onBatch: (b) => resolve(b.revision) }); });
    await second.txn({ success: [{ type: 'put', key: 'k', value: enc('x') }] });
    assert.equal(await live, 4);
    await second.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('embedded: an unknown format version or a foreign database is refused', async () => {
  const dir = await tempDir();
  try {
    const store = new EmbeddedStore({ dir });
    await store.open();
    await store.txn({ success: [{ type: 'put', key: 'a', value: enc('1') }] });
    await store.close();
    const db = new DatabaseSync(join(dir, 'store.db'));
    db.exec("UPDATE meta SET value = 99 WHERE key = 'format'");
    db.close();
    await assert.rejects(new EmbeddedStore({ dir }).open(), /store format version 99, this build reads version 2/);

    const foreignDir = join(dir, 'foreign');
    const foreign = new EmbeddedStore({ dir: foreignDir });
    await foreign.open();
    await foreign.close();
    const other = new DatabaseSync(join(foreignDir, 'store.db'));
    other.exec('DROP TABLE meta');
    other.close();
    await assert.rejects(new EmbeddedStore({ dir: foreignDir }).open(), /not a proconsul store/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('embedded: a second store on the same directory is refused while the first is open', async () => {
  const dir = await tempDir();
  try {
    const first = new EmbeddedStore({ dir });
    await first.open();
    await assert.rejects(new EmbeddedStore({ dir }).open(), /database is locked/);
    await first.txn({ success: [{ type: 'put', key: 'a', value: enc('1') }] });
    await first.close();
    const again = new EmbeddedStore({ dir });
    await again.open();
    assert.equal((await again.get('a'))?.modRevision, 1);
    await again.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('embedded: groups larger than a shared slot, and non-ASCII keys, are written in order and survive reopening', async () => {
  const dir = await tempDir();
  try {
    const first = new EmbeddedStore({ dir });
    await first.open();
    const big = Buffer.alloc(700 * 1024, 7);
    // Concurrent writes: small groups through the shared slots, a 2.1 MB one that cannot fit.
    await Promise.all([
      first.txn({ success: [{ type: 'put', key: 'ключ/ü', value: enc('a') }] }),
      first.txn({ success: [1, 2, 3].map((i) => ({ type: 'put' as const, key: `big/${i}`, value: big })) }),
      first.txn({ success: [{ type: 'put', key: 'ключ/ü', value: enc('b') }, { type: 'delete', key: 'big/2' }] }),
    ]);
    const before = await first.range('');
    await first.close();
    const second = new EmbeddedStore({ dir });
    await second.open();
    const after = await second.range('');
    assert.equal(after.revision, 3);
    assert.deepEqual(after.kvs.map((kv) => [kv.key, kv.value.byteLength, kv.modRevision]), [['big/1', big.length, 2], ['big/3', big.length, 2], ['ключ/ü', 1, 3]]);
    assert.deepEqual(after.kvs.map((kv) => Buffer.from(kv.value).toString('latin1').slice(0, 1)),
      before.kvs.map((kv) => Buffer.from(kv.value).toString('latin1').slice(0, 1)));
    assert.equal(Buffer.from((await second.get('ключ/ü'))!.value).toString(), 'b');
    await second.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** The WAL's length in frames and how many of them are in the database file, read on a connection of our own. */
function walState(dir: string): { log: number; checkpointed: number } {
  const db = new DatabaseSync(join(dir, 'store.db'));
  try {
    return db.prepare('PRAGMA wal_checkpoint(NOOP)').get() as { log: number; checkpointed: number };
  } finally {
    db.close();
  }
}

/** Whether this Node's SQLite reads the WAL's length without a checkpoint, so that the store runs its own. */
const ownCheckpoints = walReportable((new DatabaseSync(':memory:').prepare('SELECT sqlite_version() AS v').get() as { v: string }).v);

test('embedded: NOOP reports the WAL without copying it from SQLite 3.51.0 on', () => {
  for (const v of ['3.40.1', '3.47.2', '3.50.4', '2.8.17']) assert.equal(walReportable(v), false, v);
  for (const v of ['3.51.0', '3.53.4', '4.0.0']) assert.equal(walReportable(v), true, v);
});

test('embedded: on an SQLite before 3.51 checkpoints stay SQLite\'s own, every 1,000 frames', async () => {
  const dir = await tempDir();
  try {
    const store = new EmbeddedStore({ dir, checkpoint: { frames: 20, capFrames: 40, sqliteVersion: '3.50.4' } });
    await store.open();
    const dbBytes = () => statSync(join(dir, 'store.db')).size;
    const small = Buffer.alloc(2000, 1);
    for (let i = 0; i < 100; i++) await store.txn({ success: [{ type: 'put', key: `k/${i}`, value: small }] });
    await new Promise((resolve) => setTimeout(resolve, 500));
    // There NOOP would be a PASSIVE pass after every commit: no pass may run below 1,000 frames.
    assert.ok(dbBytes() < 100 * 2000, `the database file has ${dbBytes()} bytes`);
    const big = Buffer.alloc(200_000, 2);
    for (let i = 0; i < 30; i++) await store.txn({ success: [{ type: 'put', key: `b/${i}`, value: big }] });
    assert.ok(dbBytes() >= 2_000_000, `the database file has ${dbBytes()} bytes`);
    await store.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('embedded: the checkpointer copies the WAL into the database file while writes go on', { skip: !ownCheckpoints }, async () => {
  const dir = await tempDir();
  try {
    const store = new EmbeddedStore({ dir, checkpoint: { frames: 20, capFrames: 1_000_000 } });
    await store.open();
    const value = Buffer.alloc(2000, 1);
    for (let i = 0; i < 100; i++) await store.txn({ success: [{ type: 'put', key: `k/${i}`, value }] });
    // Until a checkpoint, the database file holds the schema only and every value is in the WAL.
    const dbBytes = () => statSync(join(dir, 'store.db')).size;
    for (let tries = 0; dbBytes() < 100 * 2000 && tries < 100; tries++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(dbBytes() >= 100 * 2000, `the database file has ${dbBytes()} bytes`);
    await store.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('embedded: under steady writes the WAL restarts by capFrames, and every write survives reopening', { skip: !ownCheckpoints }, async () => {
  const dir = await tempDir();
  try {
    // No background passes: only the writer's own pass at the cap keeps the WAL short.
    const store = new EmbeddedStore({ dir, checkpoint: { frames: 1_000_000, capFrames: 40 } });
    await store.open();
    let longest = 0;
    for (let i = 0; i < 300; i++) {
      await store.txn({ success: [{ type: 'put', key: `k/${i % 150}`, value: Buffer.from(`v${i}-`.padEnd(1500, 'x')) }] });
      if (i % 10 === 9) longest = Math.max(longest, walState(dir).log);
    }
    assert.ok(longest > 0 && longest <= 45, `the WAL grew to ${longest} frames`);
    await store.close();
    const again = new EmbeddedStore({ dir });
    await again.open();
    const kvs = (await again.range('k/')).kvs;
    assert.equal(kvs.length, 150);
    for (const kv of kvs) {
      const i = Number(kv.key.slice(2));
      assert.equal(Buffer.from(kv.value).toString().split('-')[0], `v${i + 150}`, kv.key);
      assert.equal(kv.version, 2);
    }
    await again.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
