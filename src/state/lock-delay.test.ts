// Lock-delays: a key is delayed until its time, and expired entries of keys never read again are swept.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LockDelays } from './lock-delay.ts';

test('a key is delayed until its time; expired entries of keys never read again do not accumulate', () => {
  const d = new LockDelays();
  d.set('live', 0, 1e12);
  for (let i = 0; i < 10_000; i++) d.set(`t/ns-${i}\0lock`, i * 1000, 500);
  assert.ok(d.size < 200, `entries kept: ${d.size}`);
  assert.equal(d.expiration('live', 10_000_000), 1e12, 'a live delay survives the sweeps');
  assert.equal(d.expiration('t/ns-9999\0lock', 9_999_000), 9_999_500);
  assert.equal(d.expiration('t/ns-9999\0lock', 9_999_500), 0);
});
