// StoreEngine behaviour behind the conformance suite: with a ValueSource, values not yet released
// are served from memory and released ones from the source; a put reuses its txn's compare
// lookups without confusing later ops on the same key.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StoreEngine, type ValueSource } from './engine.ts';
import type { TxnRequest, WatchBatch } from './store.ts';

const bytes = (s: string) => Buffer.from(s);
const text = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString() : undefined);

/** A durable copy the test fills by hand, as a backend's disk would be once a batch is durable. */
class Disk implements ValueSource {
  readonly values = new Map<string, Uint8Array>();
  reads = 0;
  get(key: string): Uint8Array {
    this.reads++;
    const v = this.values.get(key);
    if (!v) throw new Error(`no durable value for ${key}`);
    return v;
  }
  range(prefix: string): Map<string, Uint8Array> {
    this.reads++;
    return new Map([...this.values].filter(([k]) => k.startsWith(prefix)));
  }
  persist(batch: WatchBatch): void {
    for (const ev of batch.events) {
      if (ev.type === 'put') this.values.set(ev.kv.key, ev.kv.value);
      else this.values.delete(ev.kv.key);
    }
  }
}

function applyOk(e: StoreEngine, req: TxnRequest): WatchBatch {
  const { response, batch } = e.apply(req);
  assert.ok(response.succeeded);
  return batch!;
}

test('values wait in memory until their batch is released, then come from the durable copy', () => {
  const disk = new Disk();
  const e = new StoreEngine({ values: disk });
  const b1 = applyOk(e, { success: [{ type: 'put', key: 'a', value: bytes('1') }, { type: 'put', key: 'b', value: bytes('1') }] });
  // Not durable yet: the disk has nothing, reads are answered from memory.
  assert.equal(text(e.get('a')?.value), '1');
  assert.deepEqual(e.range('').map((kv) => text(kv.value)), ['1', '1']);
  assert.equal(disk.reads, 0);
  assert.equal(e.pendingValues, 2);
  // 'a' is written again before b1 is durable: releasing b1 must keep the newer value.
  const b2 = applyOk(e, { success: [{ type: 'put', key: 'a', value: bytes('2') }] });
  disk.persist(b1);
  e.release(b1);
  assert.equal(e.pendingValues, 1);
  assert.equal(text(e.get('a')?.value), '2');
  assert.equal(text(e.get('b')?.value), '1');
  assert.equal(disk.reads, 1, 'b is released: read from the durable copy');
  disk.persist(b2);
  e.release(b2);
  assert.equal(e.pendingValues, 0);
  const a = e.get('a')!;
  assert.deepEqual([text(a.value), a.createRevision, a.modRevision, a.version], ['2', 1, 2, 2]);
  // A key deleted and written again before release: the older release leaves the newer write.
  const b3 = applyOk(e, { success: [{ type: 'put', key: 'c', value: bytes('x') }] });
  applyOk(e, { success: [{ type: 'delete', key: 'c' }] });
  applyOk(e, { success: [{ type: 'put', key: 'c', value: bytes('y') }] });
  e.release(b3);
  assert.equal(text(e.get('c')?.value), 'y');
  assert.equal(e.get('c')?.createRevision, 5);
});

test('value compares and previous values see writes that are not released yet', () => {
  const e = new StoreEngine({ values: new Disk() });
  applyOk(e, { success: [{ type: 'put', key: 'k', value: bytes('v1'), lease: 0 }] });
  const { response } = e.apply({
    compares: [{ key: 'k', target: 'value', op: '=', value: bytes('v1') }],
    success: [{ type: 'put', key: 'k', value: bytes('v2'), prevKv: true }],
  });
  assert.ok(response.succeeded);
  assert.deepEqual(response.results.map((r) => r.type === 'put' && text(r.prev?.value)), ['v1']);
});

test("a txn's puts reuse its compare lookups and still see its own earlier ops", () => {
  for (const values of [undefined, new Disk()]) {
    const e = new StoreEngine({ values });
    const { response, batch } = e.apply({
      compares: [{ key: 'x', target: 'createRevision', op: '=', value: 0 }],
      success: [
        { type: 'put', key: 'x', value: bytes('1'), prevKv: true },
        { type: 'put', key: 'x', value: bytes('2'), prevKv: true },
      ],
    });
    assert.ok(response.succeeded);
    assert.deepEqual(batch!.events.map((ev) => [ev.kv.version, ev.kv.createRevision]), [[1, 1], [2, 1]]);
    assert.deepEqual(response.results.map((r) => r.type === 'put' && text(r.prev?.value)), [undefined, '1']);
    // Compared, deleted and written again in one txn: a new key (version 1), not the old one's version 3.
    const again = e.apply({
      compares: [{ key: 'x', target: 'version', op: '=', value: 2 }],
      success: [{ type: 'delete', key: 'x' }, { type: 'put', key: 'x', value: bytes('3') }],
    });
    assert.ok(again.response.succeeded);
    const kv = e.get('x')!;
    assert.deepEqual([text(kv.value), kv.version, kv.createRevision, kv.modRevision], ['3', 1, 2, 2]);
    // A failed compare: the failure branch writes with the same lookups.
    const failed = e.apply({
      compares: [{ key: 'x', target: 'version', op: '=', value: 9 }],
      success: [],
      failure: [{ type: 'put', key: 'x', value: bytes('4') }],
    });
    assert.equal(failed.response.succeeded, false);
    assert.deepEqual([e.get('x')!.version, text(e.get('x')!.value)], [2, '4']);
  }
});

test("a range or a value read later in a txn sees the txn's own unreleased puts", () => {
  const disk = new Disk();
  const e = new StoreEngine({ values: disk });
  disk.persist(applyOk(e, { success: [{ type: 'put', key: 'p/a', value: bytes('old') }] }));
  const { response } = e.apply({
    success: [
      { type: 'put', key: 'p/a', value: bytes('new') },
      { type: 'put', key: 'p/b', value: bytes('b1') },
      { type: 'range', prefix: 'p/' },
      { type: 'put', key: 'p/b', value: bytes('b2'), prevKv: true },
    ],
  });
  assert.ok(response.succeeded);
  const range = response.results[2];
  assert.deepEqual(range.type === 'range' && range.kvs.map((kv) => [kv.key, text(kv.value)]), [['p/a', 'new'], ['p/b', 'b1']]);
  const put = response.results[3];
  assert.equal(put.type === 'put' && text(put.prev?.value), 'b1');
  assert.equal(disk.reads, 0, 'nothing read from the durable copy: every value was pending');
  assert.equal(e.pendingValues, 2);
});

test('keys a txn compares absent and then creates are placed in one step; a failed or partial txn leaves none behind', () => {
  const disk = new Disk();
  const e = new StoreEngine({ values: disk });
  const absent = (key: string) => ({ key, target: 'createRevision' as const, op: '=' as const, value: 0 });
  // Created: present with the txn's revision, in order, readable.
  const b1 = applyOk(e, { compares: [absent('a'), absent('b')], success: [{ type: 'put', key: 'b', value: bytes('B') }, { type: 'put', key: 'a', value: bytes('A') }] });
  assert.deepEqual(e.range('').map((kv) => [kv.key, text(kv.value), kv.createRevision, kv.version]), [['a', 'A', 1, 1], ['b', 'B', 1, 1]]);
  disk.persist(b1);
  e.release(b1);
  // A later compare fails: the key compared absent before it is not left in the key map, and the
  // failure branch sees it absent.
  const failed = e.apply({
    compares: [absent('c'), { key: 'a', target: 'version', op: '=', value: 9 }],
    success: [{ type: 'put', key: 'c', value: bytes('C') }],
    failure: [{ type: 'range', prefix: '' }],
  });
  assert.equal(failed.response.succeeded, false);
  const seen = failed.response.results[0];
  assert.deepEqual(seen.type === 'range' && seen.kvs.map((kv) => kv.key), ['a', 'b']);
  assert.equal(e.get('c'), null);
  assert.equal(e.keys.size, 2);
  // Compared absent but not put (the txn writes another key): not left behind.
  applyOk(e, { compares: [absent('d')], success: [{ type: 'put', key: 'e', value: bytes('E') }] });
  assert.equal(e.get('d'), null);
  assert.deepEqual(e.range('').map((kv) => kv.key), ['a', 'b', 'e']);
  // Compared twice, written twice: both compares see it absent, the second put is version 2.
  applyOk(e, {
    compares: [absent('f'), { key: 'f', target: 'version', op: '=', value: 0 }],
    success: [{ type: 'put', key: 'f', value: bytes('1') }, { type: 'put', key: 'f', value: bytes('2') }],
  });
  const f = e.get('f')!;
  assert.deepEqual([text(f.value), f.version, f.createRevision, f.modRevision], ['2', 2, 3, 3]);
  // A lease put on a compared-absent key keeps its lease; a missing lease leaves nothing placed.
  const lease = e.grantLease(10);
  applyOk(e, { compares: [absent('g')], success: [{ type: 'put', key: 'g', value: bytes('G'), lease: lease.id }] });
  assert.equal(e.get('g')?.lease, lease.id);
  assert.deepEqual([...lease.keys], ['g']);
  assert.throws(() => e.apply({ compares: [absent('h')], success: [{ type: 'put', key: 'h', value: bytes('H'), lease: 999 }] }), /lease 999 not found/);
  assert.equal(e.get('h'), null);
  // A present key fails the compare and is untouched.
  const again = e.apply({ compares: [absent('a')], success: [{ type: 'put', key: 'a', value: bytes('X') }] });
  assert.equal(again.response.succeeded, false);
  assert.equal(text(e.get('a')?.value), 'A');
  assert.equal(e.keys.size, 5);
});
