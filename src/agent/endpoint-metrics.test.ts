// measure(): the wrapped method answers as before (value, rejection, a synchronous throw as a
// rejection) and each call's duration is recorded once, failures included, after it settles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { measure } from './endpoint-metrics.ts';

class Endpoint {
  calls: unknown[][] = [];
  settle: (() => void) | undefined;
  ok(a: number, b: string): Promise<string> {
    this.calls.push([a, b]);
    return new Promise((resolve) => { this.settle = () => resolve(`${a}${b}`); });
  }
  async fails(): Promise<never> {
    throw new Error('refused');
  }
  throws(): Promise<never> {
    throw new TypeError('sync');
  }
}

test('the wrapped method keeps its receiver, arguments and value; the time is recorded once it settles', async () => {
  const ep = new Endpoint();
  const times: number[] = [];
  measure(ep, 'ok', (ms) => times.push(ms));
  const p = ep.ok(1, 'x');
  assert.deepEqual(ep.calls, [[1, 'x']]);
  await Promise.resolve();
  assert.equal(times.length, 0);
  ep.settle!();
  assert.equal(await p, '1x');
  assert.equal(times.length, 1);
  assert.ok(times[0] >= 0);
});

test('a rejection and a synchronous throw reach the caller as rejections, each timed once', async () => {
  const ep = new Endpoint();
  const times: number[] = [];
  measure(ep, 'fails', (ms) => times.push(ms));
  measure(ep, 'throws', (ms) => times.push(ms));
  await assert.rejects(ep.fails(), { message: 'refused' });
  assert.equal(times.length, 1);
  const p = ep.throws();
  assert.ok(p instanceof Promise);
  await assert.rejects(p, { name: 'TypeError', message: 'sync' });
  assert.equal(times.length, 2);
});
