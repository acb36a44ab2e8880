// A stale read with a staleness bound (?max_stale, discovery_max_stale): past the bound, on a
// follower whose replica has not heard from the store, it is answered as a default read after a
// consistent read, as Consul's catalog and health endpoints re-ask the leader (RETRY_ONCE).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../clock.ts';
import { Notifier } from '../state/index.ts';
import { blockingQuery, defaultQueryOptions } from './query.ts';
import type { EndpointDeps } from './deps.ts';

function setup(leader: boolean) {
  const clock = new ManualClock(100_000);
  const calls: string[] = [];
  const replica = {
    notifier: new Notifier(clock), lastContact: 100_000, appliedRevision: 7,
    waitFor: async (rev: number) => { calls.push(`waitFor ${rev}`); },
  };
  const deps = {
    replica, clock, random: () => 0, config: { defaultQueryTime: 1000, maxQueryTime: 1000 },
    store: { currentRevision: async () => { calls.push('currentRevision'); return 9; } },
    leadership: { isLeader: () => leader, knownLeader: () => true },
  } as unknown as EndpointDeps;
  return { clock, calls, deps };
}

const compute = () => ({ index: 7, value: 'v' });

test('a bounded stale read within its bound is answered from the replica, marked stale', async () => {
  const { clock, calls, deps } = setup(false);
  clock.advance(4_000);
  const res = await blockingQuery(deps, { ...defaultQueryOptions(), consistency: 'stale', maxStaleMs: 5_000 }, compute);
  assert.equal(res.meta.consistency, 'stale');
  assert.equal(res.meta.lastContact, 4_000);
  assert.deepEqual(calls, []);
});

test('past its bound a stale read waits for a consistent read and is answered as a leader read', async () => {
  const { clock, calls, deps } = setup(false);
  clock.advance(6_000);
  const res = await blockingQuery(deps, { ...defaultQueryOptions(), consistency: 'stale', maxStaleMs: 5_000 }, compute);
  assert.equal(res.meta.consistency, 'leader');
  assert.deepEqual(calls, ['currentRevision', 'waitFor 9']);
});

test('an unbounded ?stale read and the leader never wait', async () => {
  for (const [leader, maxStaleMs] of [[false, undefined], [true, 5_000]] as const) {
    const { clock, calls, deps } = setup(leader);
    clock.advance(60_000);
    const res = await blockingQuery(deps, { ...defaultQueryOptions(), consistency: 'stale', maxStaleMs }, compute);
    assert.equal(res.meta.consistency, 'stale');
    assert.deepEqual(calls, []);
  }
});
