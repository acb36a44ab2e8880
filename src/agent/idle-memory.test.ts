import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { IdleMemory, NO_REDUCE_FLAG, REDUCE_FLAG } from './idle-memory.ts';

const MiB = 1024 * 1024;

/** A policy over a scripted heap and event loop: `load` is the utilization every tick reads. */
function rig(heapMiB = 20) {
  const clock = new ManualClock();
  const s = { heap: heapMiB * MiB, load: 0, flags: [] as string[], majors: 0, work: new Set<(units: number) => void>() };
  const policy = new IdleMemory({
    clock, logger: silentLogger(), heapTotal: () => s.heap, busy: () => s.load, setFlag: (f) => s.flags.push(f), majorGcs: () => s.majors,
    onWork: (fn) => { s.work.add(fn); return () => s.work.delete(fn); },
  });
  return { clock, s, policy };
}

test('a heap that has not grown is left alone however idle the agent is', () => {
  const { clock, s, policy } = rig();
  clock.advance(60_000);
  assert.deepEqual(s.flags, []);
  assert.equal(policy.reducing, false);
  policy.stop();
});

test('after a burst grew the heap, three idle seconds set the reduce flag; 30 s later it is cleared and growth counts from there', () => {
  const { clock, s, policy } = rig();
  s.load = 0.9;
  s.heap = 150 * MiB;
  clock.advance(10_000);
  assert.deepEqual(s.flags, [], 'never while busy');
  s.load = 0;
  clock.advance(2_000);
  assert.deepEqual(s.flags, []);
  clock.advance(1_000);
  assert.deepEqual(s.flags, [REDUCE_FLAG]);
  assert.equal(policy.reducing, true);
  s.heap = 100 * MiB; // what V8's reducer gave back
  clock.advance(30_000);
  assert.deepEqual(s.flags, [REDUCE_FLAG, NO_REDUCE_FLAG]);
  assert.equal(policy.reducing, false);
  // 100 MiB is the new baseline: 130 MiB is under 100 × 1.25 + 16, so no second window.
  s.heap = 130 * MiB;
  clock.advance(60_000);
  assert.equal(s.flags.length, 2);
  s.heap = 150 * MiB;
  clock.advance(3_000);
  assert.deepEqual(s.flags.at(-1), REDUCE_FLAG);
  policy.stop();
  assert.deepEqual(s.flags.at(-1), NO_REDUCE_FLAG, 'stop() restores the flag');
});

test('work resuming clears the flag, and a twice as long idle spell tries again', () => {
  const { clock, s, policy } = rig();
  s.heap = 150 * MiB;
  clock.advance(3_000);
  assert.deepEqual(s.flags, [REDUCE_FLAG]);
  s.load = 0.6;
  clock.advance(1_000);
  assert.deepEqual(s.flags, [REDUCE_FLAG, NO_REDUCE_FLAG]);
  // Moderate load (between the idle and busy thresholds) neither sets nor clears it.
  s.load = 0.3;
  clock.advance(20_000);
  assert.equal(s.flags.length, 2);
  s.load = 0;
  clock.advance(3_000);
  assert.equal(s.flags.length, 2, 'after an interruption three idle seconds are not enough');
  clock.advance(3_000);
  assert.deepEqual(s.flags, [REDUCE_FLAG, NO_REDUCE_FLAG, REDUCE_FLAG], 'interrupted, the baseline stayed where it was');
  policy.stop();
});

test('a burst of work announced while the flag is set (64 requests, a wake-up wave) clears it at once; a lone request does not; nobody listens otherwise', () => {
  const { clock, s, policy } = rig();
  s.heap = 150 * MiB;
  assert.equal(s.work.size, 0);
  clock.advance(3_000);
  assert.deepEqual(s.flags, [REDUCE_FLAG]);
  assert.equal(s.work.size, 1);
  const announce = (units: number) => { for (const fn of [...s.work]) fn(units); };
  for (let i = 0; i < 5; i++) {
    for (let j = 0; j < 40; j++) announce(1); // 40 requests a second: a scrape, a few clients
    clock.advance(1_000);
  }
  assert.deepEqual(s.flags, [REDUCE_FLAG], 'fewer than 64 units within any tick');
  announce(2_500);
  assert.deepEqual(s.flags, [REDUCE_FLAG, NO_REDUCE_FLAG], 'before the next tick');
  assert.equal(s.work.size, 0, 'unsubscribed with the flag');
  policy.stop();
});

test('changes every few seconds stop the attempts instead of colliding with each one (the wait doubles up to a minute)', () => {
  const { clock, s, policy } = rig();
  s.heap = 150 * MiB;
  // A change every 5 s: 4.9 s idle, 0.1 s busy.
  for (let i = 0; i < 40; i++) {
    s.load = 0;
    clock.advance(4_900);
    s.load = 0.9;
    clock.advance(100);
  }
  assert.deepEqual(s.flags, [REDUCE_FLAG, NO_REDUCE_FLAG], 'one attempt, then the agent is never idle long enough');
  s.load = 0;
  clock.advance(5_000);
  assert.equal(s.flags.length, 2);
  clock.advance(1_000);
  assert.deepEqual(s.flags.at(-1), REDUCE_FLAG, 'six idle seconds (the doubled wait) still get there');
  policy.stop();
});

test("the window closes 2 s after V8's last full collection, and the next needs three idle seconds again", () => {
  const { clock, s, policy } = rig();
  s.heap = 150 * MiB;
  clock.advance(3_000);
  assert.deepEqual(s.flags, [REDUCE_FLAG]);
  clock.advance(8_000);
  s.majors = 1;
  clock.advance(500);
  s.majors = 2;
  clock.advance(1_000); // the tick at 12 s sees the second collection
  assert.equal(s.flags.length, 1, 'still settling');
  s.heap = 100 * MiB;
  clock.advance(1_600); // the tick at 14 s, 2 s after it
  assert.deepEqual(s.flags, [REDUCE_FLAG, NO_REDUCE_FLAG]);
  s.heap = 150 * MiB;
  clock.advance(3_000);
  assert.deepEqual(s.flags.at(-1), REDUCE_FLAG);
  policy.stop();
});

test('stop() ends the ticks: no flag is set afterwards', () => {
  const { clock, s, policy } = rig();
  policy.stop();
  s.heap = 500 * MiB;
  clock.advance(60_000);
  assert.deepEqual(s.flags, []);
});
