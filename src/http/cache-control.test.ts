import assert from 'node:assert/strict';
import { test } from 'node:test';
import { INVALID_CACHE_CONTROL, parseCacheControl } from './cache-control.ts';

test('Cache-Control as Consul parses it', () => {
  assert.deepEqual(parseCacheControl(undefined), { maxAgeMs: 0, mustRevalidate: false, staleIfErrorMs: 0 });
  assert.deepEqual(parseCacheControl('max-age=30, stale-if-error=259200'), { maxAgeMs: 30_000, mustRevalidate: false, staleIfErrorMs: 259_200_000 });
  assert.deepEqual(parseCacheControl('Max-Age=0'), { maxAgeMs: 0, mustRevalidate: true, staleIfErrorMs: 0 });
  assert.deepEqual(parseCacheControl('no-cache, must-revalidate'), { maxAgeMs: 0, mustRevalidate: true, staleIfErrorMs: 0 });
  assert.throws(() => parseCacheControl('max-age=abc'), { message: INVALID_CACHE_CONTROL });
  assert.throws(() => parseCacheControl('stale-if-error=1.5'), { message: INVALID_CACHE_CONTROL });
});
