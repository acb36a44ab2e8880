// What only the etcd backend has, on a real etcd 3.4 member: watches report etcd compaction
// through onCompacted, servers sharing a namespace see each other's writes and a restore made by
// another server, and namespaces with different prefixes stay apart.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Etcd3 } from 'etcd3';
import { EtcdStore } from '../src/store/etcd/etcd.ts';
import type { WatchBatch } from '../src/store/store.ts';
import { startEtcd, type EtcdCluster } from './support/etcd.ts';
import { waitFor } from './support/wait.ts';

let cluster: Promise<EtcdCluster> | null = null;
const etcd = () => (cluster ??= startEtcd(1));
const stores: EtcdStore[] = [];
after(async () => {
  for (const s of stores) await s.close();
  if (cluster) await (await cluster.catch(() => null))?.stop();
});

async function open(prefix: string): Promise<EtcdStore> {
  const s = new EtcdStore({ endpoints: (await etcd()).endpoints, prefix });
  await s.open();
  stores.push(s);
  return s;
}

const put = (key: string, value: string) => ({ type: 'put' as const, key, value: Buffer.from(value) });

test('a watch from a compacted revision gets onCompacted with the Store revision', async () => {
  const s = await open('/compact/');
  for (let i = 1; i <= 10; i++) await s.txn({ success: [put('c', String(i))] });
  const admin = new Etcd3({ hosts: (await etcd()).endpoints });
  const etcdRev = Number((await admin.kv.range({ key: Buffer.from('/compact/meta') })).header.revision);
  await admin.kv.compact({ revision: etcdRev - 3, physical: true });
  admin.close();
  const compacted = await new Promise<number>((resolve, reject) => {
    s.watch(2, { onBatch: () => reject(new Error('batch from a compacted revision')), onCompacted: resolve, onError: reject });
  });
  assert.equal(compacted, (await s.currentRevision()) - 3);
  const live: WatchBatch[] = [];
  const w = s.watch(compacted, { onBatch: (b) => live.push(b) });
  await s.txn({ success: [put('c', 'after')] });
  await waitFor('the re-listed watch to continue', () => live.at(-1)?.revision === 11);
  w.cancel();
  assert.deepEqual(live.map((b) => b.revision), [8, 9, 10, 11]);
});

test('two servers on one namespace share revisions, and a restore by one is seen by the other', async () => {
  const a = await open('/shared/');
  const b = await open('/shared/');
  await a.txn({ success: [put('k/1', 'one'), put('k/2', 'two')] });
  assert.equal(Buffer.from((await b.get('k/1'))!.value).toString(), 'one');
  const snap: Uint8Array[] = [];
  for await (const chunk of a.snapshot()) snap.push(chunk);
  const seen: WatchBatch[] = [];
  const w = b.watch(await b.currentRevision(), { onBatch: (x) => seen.push(x) });
  await b.txn({ success: [put('k/3', 'three'), { type: 'delete', key: 'k/1' }] });
  const restoredAt = await a.restore((async function* () { yield* snap; })());
  // b still pins the old generation: its next read notices the swap and follows it.
  assert.deepEqual((await b.range('k/')).kvs.map((kv) => kv.key), ['k/1', 'k/2']);
  assert.equal((await b.range('k/')).revision, restoredAt);
  await waitFor('b to see the restore', () => seen.at(-1)?.revision === restoredAt);
  w.cancel();
  const swap = seen.at(-1)!;
  assert.deepEqual(swap.events.map((e) => [e.type, e.kv.key]),
    [['delete', 'k/2'], ['delete', 'k/3'], ['put', 'k/1'], ['put', 'k/2']]);
  const cas = await b.txn({ compares: [{ key: 'k/2', target: 'modRevision', op: '=', value: 1 }], success: [put('k/2', 'stale')] });
  assert.equal(cas.succeeded, false, 'a CAS index from before the restore must fail');
});

test('stores with different prefixes do not see each other', async () => {
  const x = await open('/ns-x/');
  const y = await open('/ns-y/');
  await x.txn({ success: [put('same', 'x')] });
  await y.txn({ success: [put('same', 'y')] });
  assert.equal(Buffer.from((await x.get('same'))!.value).toString(), 'x');
  assert.deepEqual((await y.range('')).kvs.map((kv) => Buffer.from(kv.value).toString()), ['y']);
});
