import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { BufferBudget, RequestBody, type BodySource } from './l7-body.ts';

/** A downstream request whose body is `chunks`, sent whole. */
function request(...chunks: string[]): BodySource {
  const s = new PassThrough() as PassThrough & { headers: Record<string, string>; complete: boolean };
  s.headers = { 'content-length': String(chunks.join('').length) };
  s.complete = false;
  s.on('end', () => { s.complete = true; });
  for (const c of chunks) s.write(c);
  s.end();
  return s;
}

async function drain(body: RequestBody): Promise<void> {
  const first = body.first();
  if (!Buffer.isBuffer(first)) first.resume();
  await body.ended;
}

test('bodies held for retries share one budget: past it a body is not held (no retry), and a released body gives its bytes back', async () => {
  const budget = new BufferBudget(10);
  const a = new RequestBody(request('12345', '678'), 1024, false, budget);
  await drain(a);
  assert.equal((await a.replay())?.toString(), '12345678');
  assert.equal(budget.free, 2);
  const b = new RequestBody(request('abcde'), 1024, false, budget);
  await drain(b);
  assert.equal(await b.replay(), null, 'over the shared budget');
  assert.equal(budget.free, 2);
  a.release();
  assert.equal(budget.free, 10);
  assert.equal(await a.replay(), null, 'a released body is not replayed');
  const c = new RequestBody(request('abcde'), 1024, false, budget);
  await drain(c);
  assert.equal((await c.replay())?.toString(), 'abcde');
  c.release();
  c.release();
  assert.equal(budget.free, 10, 'release is idempotent');
});

test('a body past the per-request limit is not held, and gives back what it had taken', async () => {
  const budget = new BufferBudget(100);
  const a = new RequestBody(request('12345', '67890'), 8, false, budget);
  await drain(a);
  assert.equal(await a.replay(), null);
  assert.equal(budget.free, 100);
});
