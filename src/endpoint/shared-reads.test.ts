import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Notifier } from '../state/notify.ts';
import { ManualClock } from '../clock.ts';
import { SharedReads } from './shared-reads.ts';
import { blockingQuery, defaultQueryOptions, type QueryRun } from './query.ts';
import type { EndpointDeps } from './deps.ts';

function setup(): { n: Notifier; shared: SharedReads; rev: { at: number }; computed: string[] } {
  const rev = { at: 7 };
  return { n: new Notifier(new ManualClock()), shared: new SharedReads(() => rev.at), rev, computed: [] };
}

const compute = (computed: string[], name: string) => (ws: ReturnType<Notifier['watchSet']>): QueryRun<string[]> => {
  computed.push(name);
  ws.addKey('services', name);
  return { index: 7, value: [name] };
};

test('two watchers woken by one change share one computation, and both keep its watches', async () => {
  const { n, shared, computed } = setup();
  const ws1 = n.watchSet();
  const ws2 = n.watchSet();
  const a = shared.run('GET /v1/health/service/hot\ntoken-a', ws1, compute(computed, 'hot'));
  const b = shared.run('GET /v1/health/service/hot\ntoken-a', ws2, compute(computed, 'hot'));
  assert.deepEqual(computed, ['hot']);
  assert.equal(a, b);
  assert.equal(shared.hits, 1);
  // The taker's watch set holds the same interest: the next change wakes both.
  const woken = [ws1.wait(60_000), ws2.wait(60_000)];
  n.changed('services', 'hot');
  assert.deepEqual(await Promise.all(woken), [true, true]);
});

test('a different token or different parameters do not share', () => {
  const { n, shared, computed } = setup();
  shared.run('GET /v1/health/service/hot\ntoken-a', n.watchSet(), compute(computed, 'a'));
  shared.run('GET /v1/health/service/hot\ntoken-b', n.watchSet(), compute(computed, 'b'));
  shared.run('GET /v1/health/service/hot?passing=\ntoken-a', n.watchSet(), compute(computed, 'c'));
  assert.deepEqual(computed, ['a', 'b', 'c']);
  assert.equal(shared.hits, 0);
  assert.equal(shared.size, 3);
});

test('a result is never handed out after the revision moves', () => {
  const { n, shared, rev, computed } = setup();
  shared.run('k', n.watchSet(), compute(computed, 'first'));
  rev.at = 8;
  const later = shared.run('k', n.watchSet(), compute(computed, 'second'));
  assert.deepEqual(computed, ['first', 'second']);
  assert.deepEqual(later.value, ['second']);
  assert.equal(shared.size, 1);
});

test('the entry bound drops old results instead of growing', () => {
  const rev = { at: 1 };
  const n = new Notifier(new ManualClock());
  const shared = new SharedReads(() => rev.at, 2);
  const computed: string[] = [];
  for (const k of ['a', 'b', 'c']) shared.run(k, n.watchSet(), compute(computed, k));
  assert.ok(shared.size <= 2);
  shared.run('c', n.watchSet(), compute(computed, 'c'));
  assert.deepEqual(computed, ['a', 'b', 'c']);
});

test('readers of one shared run woken together get one answer object; another meta gets its own', async () => {
  const clock = new ManualClock(100_000);
  const rev = { at: 7 };
  const n = new Notifier(clock);
  const replica = { notifier: n, lastContact: 100_000, get appliedRevision() { return rev.at; } };
  const deps = {
    replica, clock, random: () => 0, config: { defaultQueryTime: 60_000, maxQueryTime: 60_000 },
    sharedReads: new SharedReads(() => rev.at), leadership: { isLeader: () => true, knownLeader: () => true },
  } as unknown as EndpointDeps;
  let index = 7;
  const hot = (ws: ReturnType<Notifier['watchSet']>): QueryRun<string[]> => {
    ws.addKey('services', 'hot');
    return { index, value: [`hot@${index}`] };
  };
  const read = (key: string, consistency: 'default' | 'stale') =>
    blockingQuery(deps, { ...defaultQueryOptions(), minIndex: 7, consistency, shareKey: key }, hot);
  const held = [read('k', 'default'), read('k', 'default'), read('k', 'stale'), read('other', 'default')];
  index = 8;
  rev.at = 8;
  n.changed('services', 'hot');
  const [a, b, stale, other] = await Promise.all(held);
  assert.equal(a, b);
  assert.deepEqual(a, { value: ['hot@8'], meta: { index: 8, knownLeader: true, lastContact: 0, consistency: 'leader' } });
  assert.notEqual(stale, a);
  assert.equal(stale.meta.consistency, 'stale');
  assert.equal(stale.value, a.value);
  assert.notEqual(other, a);
  assert.deepEqual(other.meta, a.meta);
});
