// A server's replica starts while the store has no leader (an etcd election outlasting the RPC
// hold: 500 No cluster leader) or cannot be reached, as a Consul server starts without a Raft
// leader: its first listing is tried again on the agent's clock instead of failing the agent's
// start; stop() ends the wait.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../clock.ts';
import { InternalError, NoLeaderError, ProconsulError } from '../errors.ts';
import { silentLogger } from '../log.ts';
import { MemoryStore } from '../store/memory/memory.ts';
import type { RangeResult } from '../store/index.ts';
import { Replica } from './replica.ts';

/** A memory store whose first `failures` listings fail with the errors given. */
function flakyStore(failures: Error[]) {
  const store = new MemoryStore();
  const calls = { n: 0 };
  const range = store.range.bind(store);
  store.range = (prefix: string): Promise<RangeResult> => {
    const err = failures[calls.n++];
    return err ? Promise.reject(err) : range(prefix);
  };
  return { store, calls };
}

const tick = () => new Promise((r) => setImmediate(r));

test('the first listing is tried again while the store has no leader or is unavailable', async () => {
  const clock = new ManualClock();
  const { store, calls } = flakyStore([new NoLeaderError(), new ProconsulError('unavailable', 'etcd txn failed: 14 UNAVAILABLE: etcdserver: request timed out')]);
  const { revision } = await store.txn({ success: [{ type: 'put', key: 'kv/a', value: Buffer.from('1') }] });
  const replica = new Replica({ store, clock, logger: silentLogger() });
  let started = false;
  const start = replica.start().then(() => { started = true; });
  for (let i = 0; i < 20 && !started; i++) {
    await tick();
    clock.advance(1_000);
  }
  await start;
  assert.equal(calls.n, 3);
  assert.equal(replica.appliedRevision, revision, 'listed');
  replica.stop();
});

test('other failures still fail the start, and stop() ends a wait between attempts', async () => {
  const clock = new ManualClock();
  await assert.rejects(new Replica({ store: flakyStore([new InternalError('boom')]).store, clock, logger: silentLogger() }).start(), /boom/);

  const { store, calls } = flakyStore([new NoLeaderError(), new NoLeaderError()]);
  const replica = new Replica({ store, clock, logger: silentLogger() });
  const start = replica.start();
  await tick();
  replica.stop();
  await assert.rejects(start, NoLeaderError);
  assert.equal(calls.n, 1);
});
