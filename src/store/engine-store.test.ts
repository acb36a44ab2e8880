// EngineStore behaviour no backend can show through the conformance suite: acknowledgement and
// publication wait for persist(), reads never expose writes that are not durable yet, and a
// failed persist stops the store.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EngineStore, type Mutation, type PendingMutation } from './engine-store.ts';
import type { WatchBatch } from './store.ts';

/** A backend whose persist() calls are settled by hand. */
class GatedStore extends EngineStore {
  readonly kind = 'gated';
  readonly pending: { m: Mutation; resolve(): void; reject(err: Error): void }[] = [];

  async open(): Promise<void> {}

  protected persist(m: PendingMutation): void {
    this.pending.push({ m, resolve: () => m.done(), reject: (err) => m.done(err) });
  }
}

const put = (key: string, value: string) => ({ success: [{ type: 'put' as const, key, value: Buffer.from(value) }] });
const tick = () => new Promise((r) => setImmediate(r));

test('acks, reads and watch events wait for persistence, in order', async () => {
  const s = new GatedStore();
  const seen: WatchBatch[] = [];
  s.watch(0, { onBatch: (b) => seen.push(b) });
  let acked = 0;
  const first = s.txn(put('a', '1')).then(() => acked++);
  const read = s.get('a');
  const second = s.txn(put('a', '2')).then(() => acked++);
  await tick();
  assert.equal(acked, 0);
  assert.equal(seen.length, 0);
  s.pending[1].resolve();
  await tick();
  assert.equal(acked, 0, 'acknowledged revision 2 before revision 1 was durable');
  s.pending[0].resolve();
  await Promise.all([first, second]);
  assert.deepEqual(seen.map((b) => b.revision), [1, 2]);
  // The read was issued before revision 2 existed: it must not report that write.
  assert.equal(Buffer.from((await read)!.value).toString(), '1');
});

test('a failed persist rejects the write and stops the store', async () => {
  const s = new GatedStore();
  const seen: WatchBatch[] = [];
  s.watch(0, { onBatch: (b) => seen.push(b) });
  const write = s.txn(put('a', '1'));
  s.pending[0].reject(new Error('disk on fire'));
  await assert.rejects(write, /disk on fire/);
  await assert.rejects(s.get('a'), /disk on fire/);
  await assert.rejects(s.txn(put('b', '1')), /disk on fire/);
  await tick();
  assert.equal(seen.length, 0);
  await s.close();
});

/** A backend that settles inside persist() itself: durable at once, failing, or throwing. */
class InstantStore extends EngineStore {
  readonly kind = 'instant';
  mode: 'ok' | 'fail' | 'throw' = 'ok';

  async open(): Promise<void> {}

  protected persist(m: PendingMutation): void {
    if (this.mode === 'throw') throw new Error('persist threw');
    m.done(this.mode === 'fail' ? new Error('refused at once') : undefined);
  }
}

test('a backend may settle during persist(); the write is still acknowledged and published once', async () => {
  const s = new InstantStore();
  const seen: number[] = [];
  s.watch(0, { onBatch: (b) => seen.push(b.revision) });
  await new Promise((r) => setImmediate(r));
  const res = await s.txn(put('a', '1'));
  assert.equal(res.revision, 1);
  assert.deepEqual(seen, [1]);
  assert.equal(Buffer.from((await s.get('a'))!.value).toString(), '1');
  const lease = await s.leaseGrant(30);
  assert.ok(lease.id > 0);
  s.mode = 'fail';
  await assert.rejects(s.txn(put('b', '1')), /refused at once/);
  await assert.rejects(s.currentRevision(), /refused at once/);
  assert.deepEqual(seen, [1]);
  await s.close();
});

test('a persist() that throws fails the write and stops the store', async () => {
  const s = new InstantStore();
  s.mode = 'throw';
  await assert.rejects(s.txn(put('a', '1')), /persist threw/);
  await assert.rejects(s.txn(put('b', '1')), /persist threw/);
  await s.close();
});

test('reads and close wait behind every commit before them, settled in any order', async () => {
  const s = new GatedStore();
  void s.txn(put('a', '1'));
  void s.txn(put('b', '1'));
  let read = false;
  const rev = s.currentRevision().then((r) => { read = true; return r; });
  let closed = false;
  const closing = s.close().then(() => { closed = true; });
  s.pending[1].resolve();
  await tick();
  assert.equal(read, false);
  assert.equal(closed, false);
  s.pending[0].resolve();
  assert.equal(await rev, 2);
  await closing;
  assert.equal(closed, true);
});

test('under steady writes with one commit always in flight, the commit queue stays bounded', async () => {
  const s = new GatedStore();
  let last = s.txn(put('k', '0'));
  for (let i = 1; i <= 5000; i++) {
    const next = s.txn(put('k', String(i)));
    // Settle the older write while the newer one is still in flight, as the embedded writer does.
    s.pending[i - 1].resolve();
    await last;
    last = next;
  }
  // Measured while the last write is still in flight: a fully drained queue is reset anyway.
  assert.ok(s.queuedSlots <= 2048, `queue held ${s.queuedSlots} slots after 5,000 writes`);
  s.pending[5000].resolve();
  await last;
  assert.equal(Buffer.from((await s.get('k'))!.value).toString(), '5000');
});
