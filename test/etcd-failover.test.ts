// Failover of the etcd backend on a real 3-member etcd 3.4 cluster: the Raft leader is killed
// with SIGKILL while a writer creates keys; writes must resume, and watches, one of them
// streaming from the killed member, must deliver every acknowledged write exactly once, in order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectionPool } from 'etcd3/lib/connection-pool.js';
import { EtcdStore } from '../src/store/etcd/etcd.ts';
import type { Store, WatchBatch } from '../src/store/store.ts';
import { startEtcd } from './support/etcd.ts';
import { waitFor } from './support/wait.ts';

const TOTAL = 300;
const KILL_AT = 100;

/** Creates `k/<i>` once: a create-only CAS, so a retry after a lost answer cannot write twice. */
async function createOnce(store: Store, i: number): Promise<number> {
  for (;;) {
    try {
      const res = await store.txn({
        compares: [{ key: `k/${i}`, target: 'version', op: '=', value: 0 }],
        success: [{ type: 'put', key: `k/${i}`, value: Buffer.from(String(i)) }],
        failure: [{ type: 'get', key: `k/${i}` }],
      });
      if (res.succeeded) return res.revision;
      const got = res.results[0];
      assert.ok(got.type === 'get' && got.kv && Buffer.from(got.kv.value).toString() === String(i));
      return got.kv.modRevision; // an earlier attempt committed; its answer was lost
    } catch (err) {
      assert.equal((err as { code?: string }).code, 'unavailable', String(err));
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

function recorder(store: Store) {
  const batches: WatchBatch[] = [];
  const errors: Error[] = [];
  const w = store.watch(0, { onBatch: (b) => batches.push(b), onError: (e) => errors.push(e), onCompacted: (r) => errors.push(new Error(`compacted ${r}`)) });
  return { batches, errors, cancel: () => w.cancel() };
}

test('etcd failover: writes resume after the leader is killed and watches lose and repeat nothing', { timeout: 120_000 }, async (t) => {
  const cluster = await startEtcd(3);
  const stores: EtcdStore[] = [];
  try {
    const leader = await cluster.leaderIndex();
    const urls = cluster.endpoints;
    const followers = urls.filter((_, i) => i !== leader);
    // The pool tries hosts last-to-first in deterministic order: one watcher streams from the
    // leader (and must resume elsewhere), the other from a follower.
    ConnectionPool.deterministicOrder = true;
    const open = async (endpoints: string[]) => {
      const s = new EtcdStore({ endpoints, prefix: '/failover/' });
      await s.open();
      stores.push(s);
      return s;
    };
    const onLeader = recorder(await open([...followers, urls[leader]]));
    const onFollower = recorder(await open([urls[leader], ...followers]));
    ConnectionPool.deterministicOrder = false;
    const writer = await open(urls);

    const acked = new Map<number, number>();
    let killedAt = 0;
    let firstAfterKill = 0;
    for (let i = 0; i < TOTAL; i++) {
      if (i === KILL_AT) {
        await cluster.kill(leader);
        killedAt = performance.now();
      }
      acked.set(i, await createOnce(writer, i));
      if (killedAt && !firstAfterKill) firstAfterKill = performance.now();
    }
    const gapMs = firstAfterKill - killedAt;
    const newLeader = await cluster.leaderIndex();
    t.diagnostic(`leader m${leader} killed; first write acknowledged ${gapMs.toFixed(0)} ms later; new leader m${newLeader}`);
    assert.notEqual(newLeader, leader);
    assert.ok(gapMs < 15_000, `writes stalled for ${gapMs} ms`);

    const last = Math.max(...acked.values());
    for (const [name, rec] of [['leader', onLeader], ['follower', onFollower]] as const) {
      await waitFor(`${name} watcher to reach ${last}`, () => (rec.batches.at(-1)?.revision ?? 0) >= last, { ms: 30_000 });
      rec.cancel();
      assert.deepEqual(rec.errors, []);
      const revs = rec.batches.map((b) => b.revision);
      assert.deepEqual(revs, [...revs].sort((a, b) => a - b), `${name}: batches out of order`);
      assert.equal(new Set(revs).size, revs.length, `${name}: a revision was delivered twice`);
      const events = rec.batches.flatMap((b) => b.events.map((e) => [b.revision, e.type, e.kv.key] as const));
      assert.equal(events.length, TOTAL, `${name}: expected ${TOTAL} events, got ${events.length}`);
      for (const [rev, type, key] of events) {
        assert.equal(type, 'put');
        assert.equal(acked.get(Number(key.slice(2))), rev, `${name}: ${key} at ${rev}`);
      }
    }
    const all = await writer.range('k/');
    assert.equal(all.kvs.length, TOTAL);
  } finally {
    ConnectionPool.deterministicOrder = false;
    for (const s of stores) await s.close();
    await cluster.stop();
  }
});
