// The one conformance suite every Store backend must pass (memory, embedded, etcd): revisions,
// key metadata, transactions and compares, ranges, watches, leases, snapshots, close. Each
// backend's test file calls runStoreConformance() with a factory for fresh, empty stores.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../clock.ts';
import type { Compare, KeyValue, Store, TxnResponse, WatchBatch } from './store.ts';

/** What the suite hands a factory: a manual clock the store should use for lease expiry. */
export interface ConformanceDeps {
  clock: ManualClock;
}

/** A fresh, opened, empty store and how to dispose of it. */
export interface StoreUnderTest {
  store: Store;
  cleanup(): Promise<void>;
}

/** Options for backends that cannot honour every part of the contract in the same way. */
export interface ConformanceOptions {
  /** The backend ignores the injected clock; lease expiry is then tested with real time. */
  wallClockLeases?: boolean;
  /** Per-test timeout in milliseconds (default 20,000). */
  timeoutMs?: number;
}

type Body = (store: Store, deps: ConformanceDeps & { fresh: () => Promise<Store> }) => Promise<void>;

const enc = (s: string): Uint8Array => Buffer.from(s);
const dec = (b: Uint8Array | undefined): string | undefined => (b ? Buffer.from(b).toString() : undefined);
/** Values compared as Buffers, whatever Uint8Array subclass a backend hands back. */
const norm = <T extends KeyValue | null | undefined>(kv: T): T => (kv ? { ...kv, value: Buffer.from(kv.value) } : kv);
const put = (key: string, value: string, lease?: number) => ({ type: 'put' as const, key, value: enc(value), lease });

async function putOne(store: Store, key: string, value: string, lease?: number): Promise<TxnResponse> {
  return store.txn({ success: [put(key, value, lease)] });
}

/** Collects watch batches and lets a test wait for a revision to arrive. */
function collect(store: Store, after: number) {
  const batches: WatchBatch[] = [];
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const w = store.watch(after, {
    onBatch: (b) => { batches.push(b); wake?.(); },
    onError: (err) => { failure = err; },
    onCompacted: (rev) => { failure = new Error(`unexpected compaction at ${rev}`); },
  });
  const until = async (revision: number, ms = 5000): Promise<WatchBatch[]> => {
    const deadline = Date.now() + ms;
    while ((batches.at(-1)?.revision ?? after) < revision) {
      if (failure) throw failure;
      if (Date.now() > deadline) assert.fail(`watch did not reach revision ${revision}; got ${batches.map((b) => b.revision).join(',')}`);
      await new Promise<void>((r) => { wake = r; setTimeout(r, 50); });
    }
    return batches;
  };
  return { batches, until, cancel: () => w.cancel() };
}

/** Registers the shared Store cases with node:test under `name`. */
export function runStoreConformance(
  name: string,
  makeStore: (deps: ConformanceDeps) => Promise<StoreUnderTest>,
  opts: ConformanceOptions = {},
): void {
  const timeout = opts.timeoutMs ?? 20_000;
  const cases = (t: typeof test) => (title: string, body: Body) => t(title, { timeout }, async () => {
    const clock = new ManualClock();
    const handles: StoreUnderTest[] = [];
    const fresh = async (): Promise<Store> => {
      const h = await makeStore({ clock });
      handles.push(h);
      return h.store;
    };
    try {
      await body(await fresh(), { clock, fresh });
    } finally {
      for (const h of handles.reverse()) await h.cleanup();
    }
  });
  describe(`Store conformance: ${name}`, () => {
    const it = cases(test);
    revisionCases(it);
    txnCases(it);
    rangeCases(it);
    watchCases(it);
    concurrencyCases(it);
    leaseCases(it, opts);
    snapshotCases(it);
    closeCases(it);
  });
}

type It = (title: string, body: Body) => void;

function revisionCases(it: It): void {
  it('a new store is empty at revision 0', async (s) => {
    assert.equal(await s.currentRevision(), 0);
    assert.deepEqual((await s.range('')).kvs, []);
    assert.equal((await s.range('')).revision, 0);
    assert.equal(await s.get('missing'), null);
  });

  it('each writing txn bumps the revision by exactly one; non-writing txns do not', async (s) => {
    assert.equal((await putOne(s, 'a', '1')).revision, 1);
    const multi = await s.txn({ success: [put('b', '1'), put('c', '1'), { type: 'delete', key: 'a' }] });
    assert.equal(multi.revision, 2);
    assert.equal((await s.txn({ success: [{ type: 'get', key: 'b' }, { type: 'range', prefix: '' }] })).revision, 2);
    assert.equal((await s.txn({ success: [{ type: 'delete', key: 'nope' }, { type: 'deletePrefix', prefix: 'zz' }] })).revision, 2);
    const failed = await s.txn({ compares: [{ key: 'b', target: 'version', op: '=', value: 9 }], success: [put('b', 'x')] });
    assert.equal(failed.succeeded, false);
    assert.equal(failed.revision, 2);
    assert.equal(await s.currentRevision(), 2);
    const kvs = (await s.range('')).kvs;
    assert.deepEqual(kvs.map((kv) => [kv.key, kv.modRevision]), [['b', 2], ['c', 2]]);
  });

  it('tracks createRevision, modRevision and version; re-create after delete resets them', async (s) => {
    await putOne(s, 'k', 'v1');
    await putOne(s, 'other', 'x');
    const second = await s.txn({ success: [{ ...put('k', 'v2'), prevKv: true }] });
    assert.ok(second.results[0].type === 'put');
    assert.deepEqual(norm(second.results[0].prev), { key: 'k', value: enc('v1'), createRevision: 1, modRevision: 1, version: 1, lease: 0 });
    assert.deepEqual(norm(await s.get('k')), { key: 'k', value: enc('v2'), createRevision: 1, modRevision: 3, version: 2, lease: 0 });
    const del = await s.txn({ success: [{ type: 'delete', key: 'k' }] });
    assert.equal(del.revision, 4);
    assert.ok(del.results[0].type === 'delete');
    assert.deepEqual(del.results[0].deleted.map(norm), [{ key: 'k', value: enc('v2'), createRevision: 1, modRevision: 3, version: 2, lease: 0 }]);
    assert.equal(await s.get('k'), null);
    await putOne(s, 'k', 'v3');
    assert.deepEqual(norm(await s.get('k')), { key: 'k', value: enc('v3'), createRevision: 5, modRevision: 5, version: 1, lease: 0 });
    const unasked = await putOne(s, 'k', 'v4');
    assert.ok(unasked.results[0].type === 'put');
    assert.equal(unasked.results[0].prev, null, 'a put returns the previous key only when asked (prevKv)');
  });

  it('stores arbitrary bytes and empty values exactly', async (s) => {
    const bytes = Uint8Array.from([0, 255, 1, 0, 128, 10, 13]);
    await s.txn({ success: [{ type: 'put', key: 'bin', value: bytes }, { type: 'put', key: 'empty', value: new Uint8Array(0) }] });
    assert.deepEqual(Buffer.from((await s.get('bin'))!.value), Buffer.from(bytes));
    assert.equal((await s.get('empty'))!.value.length, 0);
    assert.equal((await s.get('empty'))!.version, 1);
  });
}

function txnCases(it: It): void {
  it('compares every target with = != < > on present and missing keys', async (s) => {
    await putOne(s, 'x', 'b'); // rev 1
    await putOne(s, 'x', 'b'); // rev 2: create 1, mod 2, version 2
    const check = async (c: Omit<Compare, 'key'> & { key?: string }, want: boolean) => {
      const res = await s.txn({ compares: [{ key: 'x', ...c }], success: [], failure: [] });
      assert.equal(res.succeeded, want, `${c.key ?? 'x'} ${c.target} ${c.op} ${String(c.value)}`);
    };
    for (const [target, actual] of [['version', 2], ['createRevision', 1], ['modRevision', 2]] as const) {
      await check({ target, op: '=', value: actual }, true);
      await check({ target, op: '=', value: actual + 1 }, false);
      await check({ target, op: '!=', value: actual + 1 }, true);
      await check({ target, op: '!=', value: actual }, false);
      await check({ target, op: '<', value: actual + 1 }, true);
      await check({ target, op: '<', value: actual }, false);
      await check({ target, op: '>', value: actual - 1 }, true);
      await check({ target, op: '>', value: actual }, false);
      await check({ key: 'missing', target, op: '=', value: 0 }, true);
      await check({ key: 'missing', target, op: '>', value: 0 }, false);
      await check({ key: 'missing', target, op: '<', value: 1 }, true);
    }
    await check({ target: 'value', op: '=', value: enc('b') }, true);
    await check({ target: 'value', op: '=', value: enc('c') }, false);
    await check({ target: 'value', op: '!=', value: enc('c') }, true);
    await check({ target: 'value', op: '<', value: enc('c') }, true);
    await check({ target: 'value', op: '>', value: enc('a') }, true);
    await check({ target: 'value', op: '>', value: enc('c') }, false);
    for (const op of ['=', '!=', '<', '>'] as const) await check({ key: 'missing', target: 'value', op, value: enc('') }, false);
  });

  it('runs the success branch only when every compare holds, else the failure branch', async (s) => {
    await putOne(s, 'lock', 'free');
    const cas = (want: string) => s.txn({
      compares: [{ key: 'lock', target: 'value', op: '=', value: enc(want) }, { key: 'lock', target: 'version', op: '=', value: 1 }],
      success: [put('lock', 'held'), put('owner', 'me')],
      failure: [{ type: 'get', key: 'lock' }],
    });
    const lost = await cas('other');
    assert.equal(lost.succeeded, false);
    assert.equal(lost.results.length, 1);
    assert.equal(lost.results[0].type === 'get' && dec(lost.results[0].kv?.value), 'free');
    assert.equal(await s.get('owner'), null);
    const won = await cas('free');
    assert.equal(won.succeeded, true);
    assert.deepEqual(won.results.map((r) => r.type), ['put', 'put']);
    assert.equal(dec((await s.get('owner'))?.value), 'me');
    const failWrites = await s.txn({ compares: [{ key: 'lock', target: 'version', op: '=', value: 1 }], success: [], failure: [put('f', '1')] });
    assert.equal(failWrites.succeeded, false);
    assert.equal(failWrites.revision, 3);
    assert.equal((await s.get('f'))?.modRevision, 3);
  });

  it('reads inside a txn see the earlier writes of the same txn', async (s) => {
    await putOne(s, 'p/old', 'o');
    const res = await s.txn({ success: [
      put('p/a', '1'), { type: 'get', key: 'p/a' }, { type: 'range', prefix: 'p/' },
      { type: 'delete', key: 'p/a' }, { type: 'get', key: 'p/a' }, put('p/a', '2'), { type: 'get', key: 'p/a' },
    ] });
    const [, g1, r, d, g2, , g3] = res.results;
    assert.ok(g1.type === 'get' && g1.kv && dec(g1.kv.value) === '1' && g1.kv.modRevision === 2);
    assert.ok(r.type === 'range');
    assert.deepEqual(r.kvs.map((kv) => kv.key), ['p/a', 'p/old']);
    assert.ok(d.type === 'delete' && d.deleted.length === 1 && d.deleted[0].key === 'p/a');
    assert.ok(g2.type === 'get' && g2.kv === null);
    assert.ok(g3.type === 'get' && g3.kv && dec(g3.kv.value) === '2' && g3.kv.version === 1 && g3.kv.createRevision === 2);
    assert.equal(res.revision, 2);
  });

  it('a put with an unknown lease rejects the whole txn without applying any of it', async (s) => {
    await putOne(s, 'keep', 'v');
    await assert.rejects(s.txn({ success: [put('a', '1'), { type: 'delete', key: 'keep' }, put('b', '1', 987654)] }), { code: 'not_found' });
    assert.equal(await s.currentRevision(), 1);
    assert.equal(await s.get('a'), null);
    assert.equal(dec((await s.get('keep'))?.value), 'v');
    assert.equal((await putOne(s, 'after', 'x')).revision, 2);
  });
}

function rangeCases(it: It): void {
  it('range returns keys under a prefix in key order at one revision', async (s) => {
    const keys = ['b/2', 'a', 'b/10', 'b', 'b/1', 'ba', 'c/x', 'b/1/deep', 'a/'];
    for (const k of keys) await putOne(s, k, k);
    const all = await s.range('');
    assert.deepEqual(all.kvs.map((kv) => kv.key), [...keys].sort());
    assert.equal(all.revision, keys.length);
    const b = await s.range('b/');
    assert.deepEqual(b.kvs.map((kv) => kv.key), ['b/1', 'b/1/deep', 'b/10', 'b/2']);
    assert.deepEqual(b.kvs.map((kv) => dec(kv.value)), ['b/1', 'b/1/deep', 'b/10', 'b/2']);
    assert.deepEqual((await s.range('zz')).kvs, []);
    const inTxn = await s.txn({ success: [{ type: 'range', prefix: 'b' }] });
    assert.ok(inTxn.results[0].type === 'range');
    assert.deepEqual(inTxn.results[0].kvs.map((kv) => kv.key), ['b', 'b/1', 'b/1/deep', 'b/10', 'b/2', 'ba']);
  });

  it('deletePrefix removes exactly the keys under the prefix in one revision', async (s) => {
    for (const k of ['d/1', 'd/2', 'd/2/x', 'd', 'dd', 'e']) await putOne(s, k, 'v');
    const w = collect(s, 6);
    const res = await s.txn({ success: [{ type: 'deletePrefix', prefix: 'd/' }] });
    assert.equal(res.revision, 7);
    assert.ok(res.results[0].type === 'delete');
    assert.deepEqual(res.results[0].deleted.map((kv) => kv.key), ['d/1', 'd/2', 'd/2/x']);
    assert.deepEqual((await s.range('')).kvs.map((kv) => kv.key), ['d', 'dd', 'e']);
    const [batch] = await w.until(7);
    w.cancel();
    assert.equal(batch.revision, 7);
    assert.deepEqual(batch.events.map((e) => [e.type, e.kv.key, e.kv.modRevision]), [['delete', 'd/1', 7], ['delete', 'd/2', 7], ['delete', 'd/2/x', 7]]);
  });
}

function watchCases(it: It): void {
  it('watch delivers every later batch in order, deletes carrying the key and delete revision', async (s) => {
    await putOne(s, 'w/a', '0');
    const w = collect(s, await s.currentRevision());
    await putOne(s, 'w/a', '1');
    await s.txn({ success: [put('w/b', '1'), put('w/c', '1')] });
    await s.txn({ success: [{ type: 'delete', key: 'w/a' }] });
    await s.txn({ success: [{ type: 'get', key: 'w/b' }] });
    const batches = await w.until(4);
    w.cancel();
    assert.deepEqual(batches.map((b) => b.revision), [2, 3, 4]);
    assert.deepEqual(batches[0].events.map((e) => ({ ...e, kv: norm(e.kv) })), [{ type: 'put', kv: { key: 'w/a', value: enc('1'), createRevision: 1, modRevision: 2, version: 2, lease: 0 } }]);
    assert.deepEqual(batches[1].events.map((e) => [e.type, e.kv.key, e.kv.modRevision]), [['put', 'w/b', 3], ['put', 'w/c', 3]]);
    assert.equal(batches[2].events.length, 1);
    assert.equal(batches[2].events[0].type, 'delete');
    assert.equal(batches[2].events[0].kv.key, 'w/a');
    assert.equal(batches[2].events[0].kv.modRevision, 4);
  });

  it('watch from an older revision replays history, then continues live', async (s) => {
    for (let i = 1; i <= 5; i++) await putOne(s, `r/${i}`, String(i));
    const fromStart = collect(s, 0);
    const fromTwo = collect(s, 2);
    await fromStart.until(5);
    await fromTwo.until(5);
    await putOne(s, 'r/6', '6');
    assert.deepEqual((await fromStart.until(6)).map((b) => b.revision), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual((await fromTwo.until(6)).map((b) => [b.revision, b.events[0].kv.key]), [[3, 'r/3'], [4, 'r/4'], [5, 'r/5'], [6, 'r/6']]);
    fromStart.cancel();
    fromTwo.cancel();
  });

  it('a cancelled watch receives nothing more', async (s) => {
    const w = collect(s, 0);
    const other = collect(s, 0);
    await putOne(s, 'c', '1');
    await w.until(1);
    w.cancel();
    await putOne(s, 'c', '2');
    await putOne(s, 'c', '3');
    await other.until(3);
    other.cancel();
    assert.deepEqual(w.batches.map((b) => b.revision), [1]);
  });
}

function concurrencyCases(it: It): void {
  it('many concurrent CAS writers keep strict order and lose no update', async (s) => {
    await putOne(s, 'counter', '0');
    const w = collect(s, 1);
    const revisions: number[] = [];
    const writer = async (n: number) => {
      for (let done = 0; done < n;) {
        const cur = (await s.get('counter'))!;
        const res = await s.txn({
          compares: [{ key: 'counter', target: 'modRevision', op: '=', value: cur.modRevision }],
          success: [put('counter', String(Number(dec(cur.value)) + 1))],
        });
        if (res.succeeded) { done++; revisions.push(res.revision); }
      }
    };
    const blind = async (id: number) => {
      for (let i = 0; i < 10; i++) revisions.push((await putOne(s, `blind/${id}/${i}`, 'x')).revision);
    };
    await Promise.all([...Array.from({ length: 16 }, () => writer(10)), ...Array.from({ length: 8 }, (_, i) => blind(i))]);
    const counter = (await s.get('counter'))!;
    assert.equal(dec(counter.value), '160');
    assert.equal(counter.version, 161);
    assert.equal(revisions.length, 240);
    assert.deepEqual([...revisions].sort((a, b) => a - b), Array.from({ length: 240 }, (_, i) => i + 2));
    assert.equal(await s.currentRevision(), 241);
    const batches = await w.until(241);
    w.cancel();
    assert.deepEqual(batches.map((b) => b.revision), Array.from({ length: 240 }, (_, i) => i + 2));
  });
}

async function eventually(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function leaseCases(it: It, opts: ConformanceOptions): void {
  it('revoking a lease deletes its keys in one revision', async (s) => {
    const lease = await s.leaseGrant(60);
    assert.ok(lease.id > 0);
    assert.equal(lease.ttlSeconds, 60);
    await s.txn({ success: [put('l/a', '1', lease.id), put('l/b', '1', lease.id), put('l/free', '1')] });
    assert.equal((await s.get('l/a'))?.lease, lease.id);
    const before = await s.currentRevision();
    const w = collect(s, before);
    await s.leaseRevoke(lease.id);
    assert.equal(await s.currentRevision(), before + 1);
    assert.deepEqual((await s.range('l/')).kvs.map((kv) => kv.key), ['l/free']);
    const [batch] = await w.until(before + 1);
    w.cancel();
    assert.deepEqual(batch.events.map((e) => [e.type, e.kv.key]).sort(), [['delete', 'l/a'], ['delete', 'l/b']]);
    await assert.rejects(s.leaseKeepAlive(lease.id), { code: 'not_found' });
    await assert.rejects(s.txn({ success: [put('l/c', '1', lease.id)] }), { code: 'not_found' });
  });

  it('unknown leases are NotFoundError for keepAlive and revoke', async (s) => {
    await assert.rejects(s.leaseKeepAlive(424242), { code: 'not_found' });
    await assert.rejects(s.leaseRevoke(424242), { code: 'not_found' });
  });

  it('an expired lease deletes its keys; keepAlive pushes expiry back', async (s, { clock }) => {
    const ttl = opts.wallClockLeases ? 2 : 10;
    const advance = (seconds: number) => (opts.wallClockLeases ? new Promise((r) => setTimeout(r, seconds * 1000)) : clock.advance(seconds * 1000));
    const kept = await s.leaseGrant(ttl);
    const dropped = await s.leaseGrant(ttl);
    await s.txn({ success: [put('e/kept', '1', kept.id), put('e/dropped', '1', dropped.id), put('e/plain', '1')] });
    await advance(ttl * 0.6);
    await s.leaseKeepAlive(kept.id);
    await advance(ttl * 0.6);
    await eventually('dropped lease to expire', async () => (await s.get('e/dropped')) === null);
    assert.ok(await s.get('e/kept'), 'kept lease expired despite keepAlive');
    await assert.rejects(s.leaseKeepAlive(dropped.id), { code: 'not_found' });
    await advance(ttl * 0.6);
    await eventually('kept lease to expire', async () => (await s.get('e/kept')) === null);
    assert.deepEqual((await s.range('e/')).kvs.map((kv) => kv.key), ['e/plain']);
  });
}

async function drain(it: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const c of it) out.push(c);
  return out;
}

async function* chunks(parts: Uint8Array[]): AsyncIterable<Uint8Array> {
  yield* parts;
}

const summary = (kvs: KeyValue[]) => kvs.map((kv) => [kv.key, dec(kv.value), kv.lease !== 0]);

function snapshotCases(it: It): void {
  it('snapshot and restore round-trip the keyspace with new, higher revisions', async (s, { fresh }) => {
    const lease = await s.leaseGrant(300);
    await s.txn({ success: [put('s/a', 'A'), put('s/b', 'B', lease.id), { type: 'put', key: 's/bin', value: Uint8Array.from([0, 1, 255]) }] });
    await putOne(s, 's/a', 'A2');
    const before = await s.currentRevision();
    const expected = summary((await s.range('')).kvs);
    const snap = await drain(s.snapshot());
    await s.txn({ success: [put('s/a', 'changed'), put('s/new', 'N'), { type: 'delete', key: 's/bin' }] });
    const mid = await s.currentRevision();
    const restoredAt = await s.restore(chunks(snap));
    assert.ok(restoredAt > mid);
    assert.equal(await s.currentRevision(), restoredAt);
    const after = (await s.range('')).kvs;
    assert.deepEqual(summary(after), expected);
    for (const kv of after) assert.ok(kv.modRevision > mid && kv.createRevision > before, `${kv.key} kept an old revision`);
    const restoredLease = (await s.get('s/b'))!.lease;
    await s.leaseRevoke(restoredLease);
    assert.equal(await s.get('s/b'), null);
    const other = await fresh();
    await other.restore(chunks(snap));
    assert.deepEqual(summary((await other.range('')).kvs), expected);
  });

  it('a malformed snapshot is rejected and leaves the data untouched', async (s) => {
    await putOne(s, 'keep/a', '1');
    await putOne(s, 'keep/b', '2');
    const good = Buffer.concat(await drain(s.snapshot())).toString();
    const bad = [
      'not json at all\n',
      '{"t":"kv","k":"x","v":"eA=="}\n',
      good.split('\n')[0] + '\n{"t":"kv","k":"x","v":"eA=="}\n{"t":"kv",',
      good.replace('"version":1', '"version":999'),
      '',
    ];
    for (const text of bad) {
      await assert.rejects(s.restore(chunks([enc(text)])), { code: 'bad_request' }, JSON.stringify(text));
    }
    assert.equal(await s.currentRevision(), 2);
    assert.deepEqual(summary((await s.range('')).kvs), [['keep/a', '1', false], ['keep/b', '2', false]]);
  });
}

function closeCases(it: It): void {
  it('after close every operation rejects', async (s) => {
    await putOne(s, 'a', '1');
    await s.close();
    await s.close();
    const closed = { code: 'closed' };
    await assert.rejects(s.get('a'), closed);
    await assert.rejects(s.range(''), closed);
    await assert.rejects(s.currentRevision(), closed);
    await assert.rejects(putOne(s, 'b', '1'), closed);
    await assert.rejects(s.leaseGrant(10), closed);
    await assert.rejects(drain(s.snapshot()), closed);
    assert.throws(() => s.watch(0, { onBatch: () => undefined }), closed);
  });
}
