import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { LeaderBarrier } from './barrier.ts';

/** Lets pending promise callbacks run. */
const settle = () => new Promise<void>((r) => setImmediate(r));

test('the barrier waits for the store revision on start and every interval while leading, timing each one that completes', async () => {
  const clock = new ManualClock();
  let revision = 7;
  let failing = false;
  const waited: number[] = [];
  const timed: number[] = [];
  const b = new LeaderBarrier({
    store: { currentRevision: async () => { if (failing) throw new Error('etcdserver: request timed out'); return revision; } },
    replica: { waitFor: async (rev: number) => { waited.push(rev); } },
    clock, logger: silentLogger(), timer: (ms) => timed.push(ms), intervalMs: 1000,
  });
  await b.start();
  assert.deepEqual(waited, [7]);
  assert.equal(timed.length, 1);
  assert.ok(timed[0] >= 0);
  revision = 9;
  clock.advance(1000);
  await settle();
  assert.deepEqual(waited, [7, 9]);
  assert.equal(timed.length, 2);
  // A failed barrier is not timed, and the next interval tries again.
  failing = true;
  clock.advance(1000);
  await settle();
  assert.equal(timed.length, 2);
  failing = false;
  clock.advance(1000);
  await settle();
  assert.deepEqual(waited, [7, 9, 9]);
  assert.equal(timed.length, 3);
  b.stop();
  clock.advance(5000);
  await settle();
  assert.equal(timed.length, 3);
});

test('a barrier that fails on gaining leadership fails the duty start (the loops retry) and is not timed', async () => {
  const timed: number[] = [];
  const b = new LeaderBarrier({
    store: { currentRevision: async () => { throw new Error('no leader'); } },
    replica: { waitFor: async () => {} },
    clock: new ManualClock(), logger: silentLogger(), timer: (ms) => timed.push(ms),
  });
  await assert.rejects(b.start(), /no leader/);
  assert.deepEqual(timed, []);
});

test('leadership lost and regained while a periodic barrier is in flight: one barrier per interval afterwards, none after stop', async () => {
  const clock = new ManualClock();
  let hold: (() => void) | null = null;
  let barriers = 0;
  const b = new LeaderBarrier({
    store: {
      currentRevision: () => {
        barriers++;
        // The first periodic barrier (the second call) hangs until released: a slow store.
        if (barriers === 2) return new Promise<number>((r) => { hold = () => r(1); });
        return Promise.resolve(1);
      },
    },
    replica: { waitFor: async () => {} },
    clock, logger: silentLogger(), intervalMs: 1000,
  });
  await b.start();
  clock.advance(1000);
  await settle();
  assert.equal(barriers, 2);
  // Step-down, then leadership again, before the held barrier completes.
  b.stop();
  await b.start();
  assert.equal(barriers, 3);
  hold!();
  await settle();
  clock.advance(1000);
  await settle();
  assert.equal(barriers, 4, 'one barrier loop, not two');
  clock.advance(1000);
  await settle();
  assert.equal(barriers, 5);
  b.stop();
  clock.advance(5000);
  await settle();
  assert.equal(barriers, 5, 'no barrier after stop');
});

test('a periodic barrier that leadership ended during is not timed', async () => {
  const clock = new ManualClock();
  let hold: (() => void) | null = null;
  let calls = 0;
  const timed: number[] = [];
  const b = new LeaderBarrier({
    store: { currentRevision: () => (++calls === 2 ? new Promise<number>((r) => { hold = () => r(1); }) : Promise.resolve(1)) },
    replica: { waitFor: async () => {} },
    clock, logger: silentLogger(), timer: (ms) => timed.push(ms), intervalMs: 1000,
  });
  await b.start();
  assert.equal(timed.length, 1);
  clock.advance(1000);
  await settle();
  assert.equal(calls, 2);
  b.stop();
  hold!();
  await settle();
  assert.equal(timed.length, 1);
});
