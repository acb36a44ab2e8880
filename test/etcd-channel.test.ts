// The etcd store on one member without auth talks gRPC over its own HTTP/2 session (grpc-channel.ts,
// grpc-stream.ts) instead of grpc-js. Killing and restarting that member must cost no acknowledged
// write and no watch event: calls to the dead member fail as never sent (held, then 'No cluster
// leader'), the session and the watch stream reconnect, and the watch resumes after the last
// revision it delivered, in order, once each.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EtcdStore } from '../src/store/etcd/etcd.ts';
import type { WatchBatch } from '../src/store/store.ts';
import { startEtcd } from './support/etcd.ts';
import { waitFor } from './support/wait.ts';

test('one member killed and restarted: writes are refused unsent while it is down, then resume; the watch loses and repeats nothing', { timeout: 60_000 }, async () => {
  const etcd = await startEtcd(1);
  const store = new EtcdStore({ endpoints: etcd.endpoints, prefix: '/channel/', hold: { holdMs: 300 } });
  try {
    await store.open();
    const batches: WatchBatch[] = [];
    const errors: Error[] = [];
    const w = store.watch(0, { onBatch: (b) => batches.push(b), onError: (e) => errors.push(e) });
    const acked = new Map<string, number>();
    const create = async (key: string) => {
      const res = await store.txn({ compares: [{ key, target: 'version', op: '=', value: 0 }], success: [{ type: 'put', key, value: Buffer.from(key) }] });
      assert.ok(res.succeeded);
      acked.set(key, res.revision);
    };
    for (let i = 0; i < 20; i++) await create(`a/${i}`);
    await waitFor('the watch to deliver the first writes', () => batches.length === 20);

    await etcd.kill(0);
    await assert.rejects(create('down'), /No cluster leader/);
    await assert.rejects(store.currentRevision(), /No cluster leader/);

    await etcd.restart(0);
    for (let i = 0; i < 20; i++) await create(`b/${i}`);
    const last = Math.max(...acked.values());
    await waitFor('the watch to resume and deliver every write', () => (batches.at(-1)?.revision ?? 0) >= last, { ms: 20_000 });
    w.cancel();
    assert.deepEqual(errors, []);
    const delivered = batches.flatMap((b) => b.events.map((e) => [e.kv.key, b.revision] as const));
    assert.deepEqual(delivered, [...acked].sort((x, y) => x[1] - y[1]));
    assert.equal(await store.get('down'), null);
    assert.equal(await store.currentRevision(), last);
  } finally {
    await store.close();
    await etcd.stop();
  }
});
