import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lazyHandlers } from './lazy-handlers.ts';
import type { HttpRequest } from './request.ts';
import type { HttpResult } from './router.ts';

const req = (rest: string) => ({ params: { rest } }) as unknown as HttpRequest;
const answer = (r: HttpRequest): Promise<HttpResult> => Promise.resolve({ body: (r as unknown as { params: { rest: string } }).params.rest });

test('concurrent first requests build the group once; each gets its own answer from the handler it named', async () => {
  let loads = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const h = lazyHandlers(['a', 'b'], async () => {
    loads++;
    await gate;
    return { a: answer, b: async () => ({ body: 'from b' }) };
  });
  const first = [h.a(req('one')), h.b(req('two')), h.a(req('three'))];
  release();
  assert.deepEqual((await Promise.all(first)).map((r) => r.body), ['one', 'from b', 'three']);
  assert.equal(loads, 1);
  assert.equal((await h.b(req('x'))).body, 'from b');
  assert.equal(loads, 1);
});

test('once built, a request gets the handler\'s own promise (no wrapper frame held by a blocking query)', async () => {
  const held = new Promise<HttpResult>(() => {});
  const h = lazyHandlers(['wait'], async () => ({ wait: () => held }));
  await Promise.race([h.wait(req('')), new Promise((r) => setTimeout(r, 20))]);
  assert.equal(h.wait(req('')), held);
});

test('a failed load rejects the waiting requests with its error, and the next request loads again', async () => {
  let loads = 0;
  const h = lazyHandlers(['a'], async () => {
    if (++loads === 1) throw new Error('Cannot find module x');
    return { a: answer };
  });
  const waiting = await Promise.allSettled([h.a(req('1')), h.a(req('2'))]);
  assert.deepEqual(waiting.map((r) => r.status === 'rejected' && (r.reason as Error).message), ['Cannot find module x', 'Cannot find module x']);
  assert.equal((await h.a(req('3'))).body, '3');
  assert.equal(loads, 2);
});
