// Lifeguard suspicion timing: the timeout shrinks from max toward min with confirmations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../clock.ts';
import { retransmitLimit, suspicionTimeout } from './config.ts';
import { remainingSuspicionTime, Suspicion } from './suspicion.ts';

test('timeouts scale with log10 of the cluster size, as memberlist computes them', () => {
  assert.equal(suspicionTimeout(4, 5, 1000), 4000);
  assert.equal(suspicionTimeout(4, 100, 1000), 8000);
  assert.equal(retransmitLimit(4, 5), 4);
  assert.equal(retransmitLimit(4, 200), 12);
  assert.equal(remainingSuspicionTime(0, 3, 0, 2000, 30000), 30000);
  assert.equal(remainingSuspicionTime(3, 3, 0, 2000, 30000), 2000);
  assert.equal(remainingSuspicionTime(1, 3, 5000, 2000, 30000), 30000 - 14000 - 5000);
});

test('confirmations from distinct peers shorten the timer; the accuser and repeats do not', () => {
  const clock = new ManualClock();
  let fired = -1;
  const s = new Suspicion(clock, 'a', 2, 1000, 6000, (n) => { fired = n; });
  assert.equal(s.confirm('a'), false);
  assert.equal(s.confirm('b'), true);
  assert.equal(s.confirm('b'), false);
  clock.advance(2000);
  assert.equal(fired, -1);
  assert.equal(s.confirm('c'), true);
  assert.equal(s.confirm('d'), false, 'k reached');
  clock.advance(1);
  assert.equal(fired, 2);
});

test('with k = 0 (tiny clusters) the minimum timeout applies at once', () => {
  const clock = new ManualClock();
  let fired = false;
  new Suspicion(clock, 'a', 0, 1000, 6000, () => { fired = true; });
  clock.advance(1000);
  assert.equal(fired, true);
});
