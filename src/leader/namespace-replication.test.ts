import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { NamespaceReplicator, diffNamespaces, type RemoteNamespaces, type ReplicatedNamespace } from './namespace-replication.ts';

const n = (Name: string, ModifyIndex: number, extra: Partial<ReplicatedNamespace> = {}): ReplicatedNamespace => ({ Name, ModifyIndex, ...extra });
const names = (ns: ReplicatedNamespace[]) => ns.map((x) => x.Name);
const MARK = '2026-11-26T15:00:00Z';

const R = { Replicated: true };

test('diff: new and newer namespaces are updates, namespaces only here are deletions, names compared ignoring case', () => {
  const local = [n('default', 1), n('team-a', 3), n('Team-B', 3), n('old', 2, R)];
  const remote = [n('default', 1), n('team-a', 9), n('team-b', 3), n('team-c', 2)];
  const d = diffNamespaces(local, remote, 4);
  assert.deepEqual(names(d.deletions), ['old']);
  assert.deepEqual(names(d.localOnly), []);
  assert.deepEqual(names(d.updates), ['team-a', 'team-c']);
  assert.equal(d.pending, 0);
  // Index 0 (first round): every namespace both sides have is written.
  assert.deepEqual(names(diffNamespaces(local, remote, 0).updates), ['default', 'team-a', 'team-b', 'team-c']);
});

test('diff: deletion marks are copied onto unmarked namespaces only; default is never deleted', () => {
  const local = [n('default', 1), n('a', 2), n('b', 2, { DeletedAt: MARK }), n('c', 2, { DeletedAt: MARK }), n('d', 2, { DeletedAt: MARK })];
  const remote = [n('a', 2, { DeletedAt: MARK }), n('b', 2, { DeletedAt: MARK }), n('c', 8), n('e', 9, { DeletedAt: MARK })];
  const d = diffNamespaces(local, remote, 5);
  // a: the primary's mark, though not newer than the last index; e: marked there and never here, nothing to do.
  assert.deepEqual(names(d.updates), ['a']);
  // default and the already marked d are left alone.
  assert.deepEqual(names(d.deletions), []);
  // c: made again in the primary while still marked here.
  assert.equal(d.pending, 1);
});

const settle = () => new Promise<void>((r) => setImmediate(r));

function harness(o: { confirm?: boolean } = {}) {
  const clock = new ManualClock();
  const local = new Map<string, ReplicatedNamespace>();
  const calls: { minIndex: number; answer: (r: RemoteNamespaces | Error) => void }[] = [];
  const confirms: { answer: (r: RemoteNamespaces | Error) => void }[] = [];
  const writes: string[] = [];
  const r = new NamespaceReplicator({
    clock, logger: silentLogger(), random: () => 0,
    fetch: (minIndex) => new Promise((resolve, reject) => {
      calls.push({ minIndex, answer: (x) => (x instanceof Error ? reject(x) : resolve(x)) });
    }),
    ...(o.confirm ? {
      confirm: () => new Promise<RemoteNamespaces>((resolve, reject) => {
        confirms.push({ answer: (x) => (x instanceof Error ? reject(x) : resolve(x)) });
      }),
    } : {}),
    local: () => [...local.values()],
    upsert: async (x) => {
      writes.push(`put ${x.Name}${x.DeletedAt ? ' (marked)' : ''}`);
      local.set(x.Name, { ...x, ModifyIndex: 100, Replicated: true });
    },
    remove: async (x) => {
      writes.push(`mark ${x.Name}`);
      local.set(x.Name, { ...x, DeletedAt: MARK });
    },
  });
  return { clock, local, calls, confirms, writes, r };
}

async function run(clock: ManualClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 10) {
    clock.advance(10);
    await settle();
  }
}

async function stop(h: ReturnType<typeof harness>): Promise<void> {
  const stopping = h.r.stop();
  h.calls.at(-1)!.answer({ index: 999, namespaces: [] });
  await stopping;
  assert.equal(h.r.status().running, false);
}

test('rounds: writes and marks reach the store, the next read blocks from the index; a filtered list deletes nothing', async () => {
  const h = harness();
  h.local.set('default', n('default', 1));
  h.local.set('gone', n('gone', 3, R));
  await h.r.start();
  await settle();
  assert.equal(h.calls[0].minIndex, 0);
  h.calls[0].answer({ index: 12, namespaces: [n('default', 1), n('team-a', 11)] });
  await run(h.clock, 100);
  assert.deepEqual(h.writes, ['mark gone', 'put default', 'put team-a']);
  assert.equal(h.calls[1].minIndex, 12);
  assert.equal(h.r.status().replicatedIndex, 12);
  // The replication token sees less than all: nothing is marked.
  h.local.set('hidden', n('hidden', 5, R));
  h.calls[1].answer({ index: 13, namespaces: [n('default', 1), n('team-a', 13, { DeletedAt: MARK })], filtered: true });
  await run(h.clock, 1000);
  assert.deepEqual(h.writes.slice(3), ['put team-a (marked)']);
  assert.equal(h.local.get('hidden')?.DeletedAt, undefined);
  await stop(h);
});

test('a namespace made again in the primary while still marked here is written once the purge is done (rounds do not block meanwhile)', async () => {
  const h = harness();
  h.local.set('a', n('a', 5, { DeletedAt: MARK }));
  await h.r.start();
  await settle();
  h.calls[0].answer({ index: 20, namespaces: [n('a', 20)] });
  await run(h.clock, 100);
  assert.deepEqual(h.writes, []);
  assert.equal(h.calls[1].minIndex, 0, 'the next read does not block');
  h.local.delete('a'); // the reaper purged it
  h.calls[1].answer({ index: 20, namespaces: [n('a', 20)] });
  await run(h.clock, 1000);
  assert.deepEqual(h.writes, ['put a']);
  assert.equal(h.calls[2].minIndex, 20);
  await stop(h);
});

test('a failing primary is retried with a growing wait; status reports the error', async () => {
  const h = harness();
  await h.r.start();
  await settle();
  h.calls[0].answer(new Error('No path to datacenter'));
  await settle();
  assert.equal(h.r.status().lastErrorMessage, 'No path to datacenter');
  await run(h.clock, 900);
  assert.equal(h.calls.length, 1, 'no retry before the first wait (1 s)');
  await run(h.clock, 200);
  assert.equal(h.calls.length, 2);
  await stop(h);
});

test('deletions are confirmed by a consistent read: a namespace a lagging server of the primary does not list yet is not marked', async () => {
  const h = harness({ confirm: true });
  h.local.set('default', n('default', 1));
  h.local.set('team-a', n('team-a', 30, R));
  h.local.set('gone', n('gone', 3, R));
  await h.r.start();
  await settle();
  // A stale list from a server of the primary that has not seen team-a yet (its index behind the last one).
  h.calls[0].answer({ index: 12, namespaces: [n('default', 1)] });
  await settle();
  assert.equal(h.confirms.length, 1, 'the deletions asked the primary consistently');
  h.confirms[0].answer({ index: 40, namespaces: [n('default', 1), n('team-a', 30)] });
  await run(h.clock, 100);
  assert.deepEqual(h.writes, ['mark gone', 'put default']);
  assert.equal(h.local.get('team-a')?.DeletedAt, undefined);
  await stop(h);
});

test('a list without the default namespace (or a filtered consistent one) marks nothing', async () => {
  const h = harness({ confirm: true });
  h.local.set('default', n('default', 1));
  h.local.set('team-a', n('team-a', 3, R));
  await h.r.start();
  await settle();
  h.calls[0].answer({ index: 12, namespaces: [] });
  await run(h.clock, 100);
  assert.equal(h.confirms.length, 0);
  assert.deepEqual(h.writes, []);
  h.calls[1].answer({ index: 13, namespaces: [n('default', 1)] });
  await settle();
  h.confirms[0].answer({ index: 13, namespaces: [n('default', 1)], filtered: true });
  await run(h.clock, 1000);
  assert.deepEqual(h.writes, []);
  await stop(h);
});

test('a namespace made in this datacenter that never came from the primary is not deleted (its data would be purged); once the primary has it, it is replicated and then follows the primary', async () => {
  const local = [n('default', 1), n('made-here', 4), n('from-primary', 5, R)];
  const d = diffNamespaces(local, [n('default', 1)], 0);
  assert.deepEqual(names(d.deletions), ['from-primary']);
  assert.deepEqual(names(d.localOnly), ['made-here']);
  const h = harness({ confirm: true });
  h.local.set('default', n('default', 1, R));
  h.local.set('made-here', n('made-here', 4));
  await h.r.start();
  await settle();
  h.calls[0].answer({ index: 12, namespaces: [n('default', 1)] });
  await run(h.clock, 100);
  assert.equal(h.confirms.length, 0, 'nothing to delete, nothing to confirm');
  assert.deepEqual(h.writes, ['put default']);
  // Made in the primary too: written here as the primary has it (and so marked as replicated).
  h.calls[1].answer({ index: 13, namespaces: [n('default', 1), n('made-here', 13)] });
  await run(h.clock, 1000);
  assert.deepEqual(h.writes.slice(1), ['put made-here']);
  // Deleted and purged in the primary: now deleted here.
  h.calls[2].answer({ index: 14, namespaces: [n('default', 1)] });
  await settle();
  h.confirms[0].answer({ index: 14, namespaces: [n('default', 1)] });
  await run(h.clock, 1000);
  assert.deepEqual(h.writes.slice(2), ['mark made-here']);
  await stop(h);
});
