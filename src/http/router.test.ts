import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settled } from './router.ts';
import type { HttpRequest } from './request.ts';

test('settled: a synchronous throw comes back as a rejection; a result passes through', async () => {
  const req = {} as HttpRequest;
  const thrower = settled(() => { throw new Error('bad parameter'); });
  let returned: unknown;
  assert.doesNotThrow(() => { returned = thrower(req); });
  await assert.rejects(returned as Promise<unknown>, /bad parameter/);
  const ok = settled(() => Promise.resolve({ body: 1 }));
  assert.deepEqual(await ok(req), { body: 1 });
});
