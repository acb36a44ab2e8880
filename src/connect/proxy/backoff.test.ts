import assert from 'node:assert/strict';
import { test } from 'node:test';
import { watchRetryMs } from './backoff.ts';

test('a failed watch waits 5 s times the square of its consecutive failures, at most 180 s (Consul\'s watch.Plan)', () => {
  assert.deepEqual([1, 2, 3, 5, 6, 100].map(watchRetryMs), [5_000, 20_000, 45_000, 125_000, 180_000, 180_000]);
});
