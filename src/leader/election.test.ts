// StoreElection on a manual clock: a leader whose lease keepalives stop being answered (an
// unreachable etcd) drops its duties before the lease could expire, and leads again once etcd
// answers while the leader key is still its own.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { MemoryStore } from '../store/index.ts';
import { StoreElection } from './election.ts';
import { LEADER_KEY, SERVERS_PREFIX } from './servers.ts';
import { ProconsulError } from '../errors.ts';

/** A memory store whose keepalives can be held back, as an unreachable etcd would. */
class HeldStore extends MemoryStore {
  held: (() => void)[] | null = null;

  override async leaseKeepAlive(id: number): Promise<void> {
    if (this.held) await new Promise<void>((r) => this.held!.push(r));
    return super.leaseKeepAlive(id);
  }

  release(): void {
    const waiting = this.held ?? [];
    this.held = null;
    for (const r of waiting) r();
  }
}

const flush = async () => { for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r)); };

async function step(clock: ManualClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 100) {
    clock.advance(100);
    await flush();
  }
}

test('a leader whose keepalives go unanswered steps down before its lease can expire and leads again when they are answered', async () => {
  const clock = new ManualClock();
  const store = new HeldStore({ clock });
  const e = new StoreElection({
    store, clock, logger: silentLogger(), ttlSeconds: 3, replica: { appliedRevision: 0, lastContact: 0 },
    self: { ID: 'a-id', Node: 'a', Address: '127.0.0.1:8300', Version: '1.21.0', Tags: {}, ReadReplica: false },
  });
  const changes: boolean[] = [];
  e.onLeadership((l) => changes.push(l));
  await e.start();
  await flush();
  assert.equal(e.isLeader(), true);
  await step(clock, 2_000);
  assert.equal(e.isLeader(), true, 'answered keepalives keep leadership');

  store.held = [];
  await step(clock, 2_000);
  assert.equal(e.isLeader(), true, 'within TTL - 0.5 s of the last answered keepalive it still leads');
  await step(clock, 700);
  assert.equal(e.isLeader(), false, 'no answered keepalive for TTL - 0.5 s: duties stop');
  const kv = await store.get(LEADER_KEY);
  assert.equal(kv?.lease, e.self().Lease, 'while its lease and the leader key are still alive');

  store.release();
  await step(clock, 1_000);
  assert.equal(e.isLeader(), true, 'keepalives answered again: the key is still its own, it leads again');
  assert.deepEqual(changes, [true, false, true]);
  await e.stop();
  await store.close();
});

/** A memory store whose first txns fail as etcd's do while it has no quorum or misses a deadline. */
class UnreadyStore extends MemoryStore {
  failures = 0;
  override async txn(req: Parameters<MemoryStore['txn']>[0]): ReturnType<MemoryStore['txn']> {
    if (this.failures > 0) {
      this.failures--;
      throw new ProconsulError('unavailable', 'etcd txn failed: 4 DEADLINE_EXCEEDED: Deadline exceeded after 3.001s');
    }
    return super.txn(req);
  }
}

test('start() waits for a store that is not answering yet instead of failing, then registers and leads', async () => {
  const clock = new ManualClock();
  const store = new UnreadyStore({ clock });
  store.failures = 3;
  const e = new StoreElection({
    store, clock, logger: silentLogger(), ttlSeconds: 3, replica: { appliedRevision: 0, lastContact: 0 },
    self: { ID: 'a-id', Node: 'a', Address: '127.0.0.1:8300', Version: '1.21.0', Tags: {}, ReadReplica: false },
  });
  let done = false;
  let failed: unknown = null;
  e.start().then(() => { done = true; }, (err: unknown) => { failed = err; });
  await step(clock, 3_000);
  assert.equal(failed, null, 'an unavailable store does not fail start()');
  assert.equal(done, true);
  assert.equal(store.failures, 0);
  await flush();
  assert.equal(e.isLeader(), true);
  assert.ok(await store.get(SERVERS_PREFIX + 'a'), 'the server registered itself');
  await e.stop();
});

test('start() still fails at once on an error that is not unavailability', async () => {
  const clock = new ManualClock();
  const store = new MemoryStore({ clock });
  store.txn = async () => { throw new ProconsulError('internal', 'boom'); };
  const e = new StoreElection({
    store, clock, logger: silentLogger(), ttlSeconds: 3, replica: { appliedRevision: 0, lastContact: 0 },
    self: { ID: 'a-id', Node: 'a', Address: '127.0.0.1:8300', Version: '1.21.0', Tags: {}, ReadReplica: false },
  });
  await assert.rejects(e.start(), /boom/);
});
