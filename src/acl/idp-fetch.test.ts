import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IdpCache } from './idp-fetch.ts';

test('IdpCache discovers once per key and retries a failed discovery', async () => {
  const cache = new IdpCache<number>();
  let calls = 0;
  const ok = () => Promise.resolve(++calls);
  assert.equal(await cache.get('a', ok), 1);
  assert.equal(await cache.get('a', ok), 1);
  assert.equal(await cache.get('b', ok), 2);
  await assert.rejects(cache.get('c', () => Promise.reject(new Error('down'))), /down/);
  assert.equal(await cache.get('c', ok), 3);
});
