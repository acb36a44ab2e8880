import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../clock.ts';
import { RateLimitedError } from '../errors.ts';
import { CsrLimiter } from './csr-limit.ts';

const tick = () => new Promise((r) => setImmediate(r));

test('csr_max_per_second: one at once, the next waits its turn up to 500 ms, later ones are refused', async () => {
  const clock = new ManualClock();
  const lim = new CsrLimiter(clock, 4, 0); // one every 250 ms
  const done: number[] = [];
  assert.equal(await lim.run(() => 1), 1);
  const second = lim.run(() => done.push(2));
  const third = lim.run(() => done.push(3));
  // The fourth would wait 750 ms: refused at once with Consul's text.
  await assert.rejects(lim.run(() => done.push(4)), (e: Error) => e instanceof RateLimitedError && e.message === 'Rate limit reached, try again later');
  await tick();
  assert.deepEqual(done, []);
  clock.advance(250);
  await tick();
  assert.deepEqual(done, [2]);
  clock.advance(250);
  await Promise.all([second, third]);
  assert.deepEqual(done, [2, 3]);
  // After a quiet second the bucket is full again (burst one).
  clock.advance(1000);
  assert.equal(await lim.run(() => 'now'), 'now');
});

test('csr_max_concurrent (with no rate): the excess waits up to 500 ms for a slot', async () => {
  const clock = new ManualClock();
  const lim = new CsrLimiter(clock, 0, 1);
  let release!: () => void;
  const first = lim.run(() => new Promise<string>((r) => (release = () => r('first'))));
  const second = lim.run(() => 'second');
  const third = lim.run(() => 'third');
  clock.advance(500);
  await assert.rejects(second, RateLimitedError);
  await assert.rejects(third, RateLimitedError);
  const fourth = lim.run(() => 'fourth');
  release();
  assert.equal(await first, 'first');
  assert.equal(await fourth, 'fourth');
  // Neither limit: everything runs.
  const free = new CsrLimiter(clock, 0, 0);
  assert.deepEqual(await Promise.all([1, 2, 3].map((n) => free.run(() => n))), [1, 2, 3]);
});
