import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../log.ts';
import { staleBounded, type StaleDeps } from './dns-stale.ts';

const reply = Buffer.from('prepared');

function setup(cfg: { allowStale: boolean; maxStaleMs: number }, over: Partial<StaleDeps> = {}) {
  const calls: string[] = [];
  const state = { now: 10_000, lastContact: 9_000, leader: false };
  const h = staleBounded({
    answerNow: (msg) => (msg.length < 12 ? null : reply),
    handle: async () => (calls.push('handle'), reply),
  }, cfg, {
    isLeader: () => state.leader, lastContact: () => state.lastContact, now: () => state.now,
    consistentRead: async () => void calls.push('consistent'), logger: silentLogger(), ...over,
  });
  return { h, calls, state };
}

test('within max_stale the replica answers at once; past it a consistent read comes first', async () => {
  const { h, calls, state } = setup({ allowStale: true, maxStaleMs: 5000 });
  const msg = Buffer.alloc(20);
  assert.equal(h.answerNow(msg, 'udp'), reply);
  await h.handle(msg, 'udp');
  assert.deepEqual(calls, ['handle']);
  state.now = 20_000;
  assert.equal(h.answerNow(msg, 'udp'), undefined, 'no prepared answer while too stale');
  assert.equal(h.answerNow(Buffer.alloc(4), 'udp'), null, 'header rejections stand');
  await h.handle(msg, 'udp');
  assert.deepEqual(calls, ['handle', 'consistent', 'handle']);
  state.leader = true;
  assert.equal(h.answerNow(msg, 'udp'), reply, 'the leader is never stale');
});

test('a failed consistent read still answers; allow_stale false reads as the default mode', async () => {
  const failing = setup({ allowStale: true, maxStaleMs: 0 }, { consistentRead: async () => { throw new Error('store down'); } });
  assert.equal(await failing.h.handle(Buffer.alloc(20), 'udp'), reply);
  const strict = setup({ allowStale: false, maxStaleMs: 0 });
  assert.equal(strict.h.answerNow(Buffer.alloc(20), 'udp'), reply);
  await strict.h.handle(Buffer.alloc(20), 'udp');
  assert.deepEqual(strict.calls, ['handle']);
});
