import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backgroundLoop } from './loops.ts';

test('backgroundLoop: a start aborts the previous run, a stop aborts the current one, and start does not wait for the run', async () => {
  const signals: AbortSignal[] = [];
  const loop = backgroundLoop('bg', (signal) => { signals.push(signal); return new Promise<void>(() => {}); });
  assert.equal(loop.name, 'bg');
  await loop.start();
  await loop.start();
  assert.deepEqual(signals.map((s) => s.aborted), [true, false]);
  await loop.stop();
  assert.deepEqual(signals.map((s) => s.aborted), [true, true]);
  await loop.stop();
});
