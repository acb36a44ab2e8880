import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { ConfigReplicator, diffConfigEntries, type RemoteEntries, type ReplicatedEntry } from './config-replication.ts';

const e = (Kind: string, Name: string, ModifyIndex: number, extra: Record<string, unknown> = {}): ReplicatedEntry => ({ Kind, Name, ModifyIndex, ...extra });
const ids = (es: ReplicatedEntry[]) => es.map((x) => `${x.Kind}/${x.Name}`);

test('diff: entries only in the primary are updates, entries only here are deletions, by kind then name', () => {
  const local = [e('service-defaults', 'web', 3), e('proxy-defaults', 'global', 2), e('service-defaults', 'old', 9)];
  const remote = [e('service-resolver', 'db', 7), e('service-defaults', 'web', 5), e('proxy-defaults', 'global', 4), e('mesh', 'mesh', 6)];
  const { deletions, updates } = diffConfigEntries(local, remote, 4);
  assert.deepEqual(ids(deletions), ['service-defaults/old']);
  // proxy-defaults/global (4) is not newer than the last index seen; web (5) is.
  assert.deepEqual(ids(updates), ['mesh/mesh', 'service-defaults/web', 'service-resolver/db']);
});

test('diff: the same kind and name in two namespaces are two entries; an absent Namespace is default', () => {
  const local = [e('service-defaults', 'web', 3), e('service-defaults', 'web', 3, { Namespace: 'team-a' }), e('service-defaults', 'web', 3, { Namespace: 'team-b' })];
  const remote = [e('service-defaults', 'web', 3, { Namespace: 'default' }), e('service-defaults', 'web', 8, { Namespace: 'team-a' }), e('service-defaults', 'web', 2, { Namespace: 'team-c' })];
  const { deletions, updates } = diffConfigEntries(local, remote, 4);
  assert.deepEqual(deletions.map((x) => x.Namespace), ['team-b']);
  assert.deepEqual(updates.map((x) => x.Namespace), ['team-a', 'team-c']);
});

test('diff: a last index of 0 updates every entry both sides have; empty sides', () => {
  const both = [e('service-defaults', 'a', 1), e('service-defaults', 'b', 2)];
  assert.deepEqual(ids(diffConfigEntries(both, both, 0).updates), ['service-defaults/a', 'service-defaults/b']);
  assert.deepEqual(diffConfigEntries(both, both, 2), { deletions: [], updates: [] });
  assert.deepEqual(ids(diffConfigEntries(both, [], 5).deletions), ['service-defaults/a', 'service-defaults/b']);
  assert.deepEqual(ids(diffConfigEntries([], both, 5).updates), ['service-defaults/a', 'service-defaults/b']);
});

/** Lets pending promise reactions run. */
const settle = () => new Promise<void>((r) => setImmediate(r));

/** A primary whose answers the test hands out one at a time. */
function harness() {
  const clock = new ManualClock();
  const local = new Map<string, ReplicatedEntry>();
  const calls: { minIndex: number; answer: (r: RemoteEntries | Error) => void }[] = [];
  const writes: string[] = [];
  const r = new ConfigReplicator({
    clock, logger: silentLogger(), random: () => 0,
    fetch: (minIndex) => new Promise((resolve, reject) => {
      calls.push({ minIndex, answer: (x) => (x instanceof Error ? reject(x) : resolve(x)) });
    }),
    local: () => [...local.values()],
    upsert: async (x) => {
      writes.push(`put ${x.Kind}/${x.Name}`);
      local.set(`${x.Kind}/${x.Name}`, { ...x, ModifyIndex: 100 });
    },
    remove: async (x) => {
      writes.push(`delete ${x.Kind}/${x.Name}`);
      local.delete(`${x.Kind}/${x.Name}`);
    },
  });
  return { clock, local, calls, writes, r };
}

/** Advances the clock in steps, letting the loop run between them. */
async function run(clock: ManualClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 10) {
    clock.advance(10);
    await settle();
  }
}

test('rounds: upserts and deletes reach the store, exported services stay untouched, the next read blocks from the index', async () => {
  const h = harness();
  h.local.set('service-defaults/gone', e('service-defaults', 'gone', 3));
  h.local.set('exported-services/default', e('exported-services', 'default', 4));
  await h.r.start();
  await settle();
  assert.equal(h.calls[0].minIndex, 0);
  h.calls[0].answer({ index: 12, entries: [e('service-defaults', 'web', 11), e('exported-services', 'other', 10)] });
  await run(h.clock, 100);
  assert.deepEqual(h.writes, ['delete service-defaults/gone', 'put service-defaults/web']);
  assert.ok(h.local.has('exported-services/default'), 'a local exported-services entry is never deleted');
  assert.equal(h.calls[1].minIndex, 12);
  assert.equal(h.r.status().replicatedIndex, 12);
  // A primary rebuilt (index backwards) has every entry compared again.
  h.calls[1].answer({ index: 5, entries: [e('service-defaults', 'web', 4)] });
  await run(h.clock, 1000);
  assert.deepEqual(h.writes.slice(2), ['put service-defaults/web']);
  assert.equal(h.calls[2].minIndex, 5);
  await stopWhileBlocked(h);
});

async function stopWhileBlocked(h: ReturnType<typeof harness>): Promise<void> {
  const stopping = h.r.stop();
  // The blocked read is left behind; the round sees the stop when it answers.
  h.calls.at(-1)!.answer({ index: 99, entries: [] });
  await stopping;
  assert.equal(h.r.status().running, false);
}

test('a failing primary is retried with a growing wait, from the last index that succeeded', async () => {
  const h = harness();
  await h.r.start();
  await settle();
  h.calls[0].answer({ index: 7, entries: [] });
  await run(h.clock, 20);
  h.calls[1].answer(new Error('No path to datacenter'));
  await settle();
  assert.equal(h.r.status().lastErrorMessage, 'No path to datacenter');
  await run(h.clock, 900);
  assert.equal(h.calls.length, 2, 'no retry before the first wait (1 s)');
  await run(h.clock, 200);
  assert.equal(h.calls.length, 3);
  assert.equal(h.calls[2].minIndex, 7);
  h.calls[2].answer(new Error('connection refused'));
  await run(h.clock, 1500);
  assert.equal(h.calls.length, 3, 'the second wait is 2 s');
  await run(h.clock, 600);
  assert.equal(h.calls.length, 4);
  h.calls[3].answer({ index: 8, entries: [e('service-defaults', 'web', 8)] });
  await run(h.clock, 50);
  assert.deepEqual(h.writes, ['put service-defaults/web']);
  assert.equal(h.r.status().replicatedIndex, 8);
  await stopWhileBlocked(h);
});

test('a read of the primary that never answers (a partition) is given up after its wait and retried', async () => {
  const clock = new ManualClock();
  const signals: AbortSignal[] = [];
  const r = new ConfigReplicator({
    clock, logger: silentLogger(), random: () => 0, fetchTimeoutMs: 60_000,
    fetch: (_minIndex, signal) => {
      signals.push(signal);
      return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('The operation was aborted')), { once: true }));
    },
    local: () => [], upsert: async () => {}, remove: async () => {},
  });
  await r.start();
  await settle();
  assert.equal(signals.length, 1);
  await run(clock, 59_000);
  assert.equal(signals[0].aborted, false);
  await run(clock, 1_100);
  assert.equal(signals[0].aborted, true, 'the hung read is abandoned');
  assert.match(r.status().lastErrorMessage, /no answer from the primary datacenter within 1m0s/);
  await run(clock, 1_100);
  assert.equal(signals.length, 2, 'and retried after the first wait');
  assert.equal(r.status().running, true);
  await r.stop();
  assert.equal(signals[1].aborted, true, 'leadership lost: the read in flight is abandoned');
});
