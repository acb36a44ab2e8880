import assert from 'node:assert/strict';
import { test } from 'node:test';
import { systemClock } from './clock.ts';

test('systemClock: a timer longer than setTimeout can hold (≈24.8 days) waits instead of firing at once', async () => {
  let fired = 0;
  // A certificate renewal at 60–90% of a 8760h leaf is this far off (Node would run it after 1 ms).
  const long = systemClock.setTimer(0.6 * 8760 * 3_600_000, () => fired++);
  const short = systemClock.setTimer(1, () => fired += 10);
  await new Promise((r) => setTimeout(r, 50));
  long.cancel();
  short.cancel();
  assert.equal(fired, 10);
});
