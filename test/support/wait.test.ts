// The shared test polling helpers: until returns the first value that is neither undefined nor
// false, fails naming what it waited for with the context appended, propagates a thrown attempt
// unless told to retry it (then keeps the last error as the cause); waitFor waits for true.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { logTails, until, waitFor } from './wait.ts';

test('until returns the first value that is not undefined or false', async () => {
  const answers = [undefined, false, 0, 7];
  assert.equal(await until('a number', 5000, async () => answers.shift(), { every: 1 }), 0);
});

test('until times out naming what it waited for, with the context on the next line', async () => {
  await assert.rejects(until('nothing', 20, async () => undefined, { every: 5, context: () => 'ctx' }),
    { message: 'timed out after 20 ms waiting for nothing\nctx' });
});

test('a throwing attempt fails at once unless retryErrors; then the last error is the cause', async () => {
  const boom = new Error('refused');
  await assert.rejects(until('x', 5000, async () => { throw boom; }), boom);
  let calls = 0;
  const v = await until('x', 5000, async () => (++calls < 3 ? Promise.reject(boom) : 'up'), { every: 1, retryErrors: true });
  assert.deepEqual([v, calls], ['up', 3]);
  await assert.rejects(until('x', 20, async () => { throw boom; }, { every: 5, retryErrors: true }),
    (err: Error) => err.message === 'timed out after 20 ms waiting for x' && err.cause === boom);
});

test('waitFor resolves once the check is true and times out like until', async () => {
  let n = 0;
  await waitFor('three calls', () => ++n === 3, { every: 1 });
  assert.equal(n, 3);
  await assert.rejects(waitFor('never', async () => false, { ms: 20, every: 5 }), { message: 'timed out after 20 ms waiting for never' });
});

test('logTails keeps the end of each log under its name', () => {
  assert.equal(logTails([['a', 'xxxy'], ['b', 'z']], 2), '--- a\nxy\n--- b\nz');
});
