import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ApiResponse, QueryOptions } from '../api/index.ts';
import { createLogger } from '../log.ts';
import { blockingWatch, Readiness } from './watch.ts';

interface Call {
  opts: QueryOptions;
  answer(index: number, data: string): void;
  fail(message: string): void;
}

/**
 * A read that hands each call to the test: `next()` resolves with the next call once the watch
 * makes it, and the test answers or fails it. A call ignores its signal unless `honourAbort`.
 */
function scriptedRead(honourAbort = false) {
  const calls: Call[] = [];
  let wake: (() => void) | undefined;
  const read = (opts: QueryOptions): Promise<ApiResponse<string>> => new Promise((resolve, reject) => {
    if (honourAbort) opts.signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
    calls.push({
      opts,
      answer: (index, data) => resolve({ data, meta: { index, knownLeader: true, lastContact: 0 } }),
      fail: (message) => reject(new Error(message)),
    });
    wake?.();
  });
  let taken = 0;
  const next = async (): Promise<Call> => {
    while (calls.length <= taken) await new Promise<void>((resolve) => { wake = resolve; });
    return calls[taken++];
  };
  return { read, next, calls };
}

/** A retry wait the test releases by hand, recording each wait asked for. */
function manualSleep() {
  const waits: number[] = [];
  let release: (() => void) | undefined;
  const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve, reject) => {
    waits.push(ms);
    release = resolve;
    signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
  });
  return { sleep, waits, release: () => release?.() };
}

function capturingLog() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ level: 'debug', json: true, write: (l) => { lines.push(JSON.parse(l) as Record<string, unknown>); } });
  return { log, lines };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

test('a repeated index applies nothing; an index that goes backwards applies and restarts the next read from 0', async () => {
  const { read, next } = scriptedRead();
  const { log } = capturingLog();
  const abort = new AbortController();
  const seen: string[] = [];
  const done = blockingWatch('thing', read, (v) => seen.push(v), log, abort.signal);
  let c = await next();
  assert.deepEqual(Object.keys(c.opts), ['signal'], 'the first read does not block');
  c.answer(5, 'a');
  c = await next();
  assert.deepEqual([c.opts.index, c.opts.wait], [5, '10m']);
  c.answer(5, 'same index');
  c = await next();
  assert.equal(c.opts.index, 5);
  c.answer(9, 'b');
  c = await next();
  assert.equal(c.opts.index, 9);
  c.answer(3, 'backwards');
  c = await next();
  assert.equal(c.opts.index, undefined, 'after an index went backwards the next read starts from 0');
  assert.equal(c.opts.wait, undefined);
  c.answer(4, 'c');
  c = await next();
  assert.equal(c.opts.index, 4);
  assert.deepEqual(seen, ['a', 'b', 'backwards', 'c']);
  abort.abort();
  c.answer(10, 'late');
  await done;
  assert.deepEqual(seen, ['a', 'b', 'backwards', 'c']);
});

test('the first answer applies even at index 0', async () => {
  const { read, next } = scriptedRead();
  const abort = new AbortController();
  const seen: string[] = [];
  const done = blockingWatch('thing', read, (v) => seen.push(v), capturingLog().log, abort.signal);
  (await next()).answer(0, 'first');
  const c = await next();
  assert.deepEqual(seen, ['first']);
  abort.abort();
  c.fail('aborted');
  await done;
});

test('a failure keeps the last answer, calls failed, backs off longer each time, and a success resets the backoff', async () => {
  const { read, next } = scriptedRead();
  const { log, lines } = capturingLog();
  const retry = manualSleep();
  const abort = new AbortController();
  const seen: string[] = [];
  const failures: string[] = [];
  const done = blockingWatch('thing', read, (v) => seen.push(v), log, abort.signal, { failed: (e) => failures.push(e.message), sleep: retry.sleep });
  (await next()).answer(7, 'a');
  (await next()).fail('connection refused');
  await tick();
  assert.deepEqual(failures, ['connection refused']);
  assert.deepEqual(retry.waits, [5_000]);
  assert.ok(lines.some((l) => l['@message'] === 'thing watch failed' && l.error === 'connection refused'), JSON.stringify(lines));
  retry.release();
  let c = await next();
  assert.equal(c.opts.index, undefined, 'a read after a failure starts from 0');
  c.fail('still refused');
  await tick();
  assert.deepEqual(retry.waits, [5_000, 20_000]);
  retry.release();
  c = await next();
  c.answer(7, 'a again');
  assert.deepEqual(seen, ['a'], 'nothing applies while reads fail');
  (await next()).fail('once more');
  await tick();
  assert.deepEqual(seen, ['a', 'a again'], 'the same index after a failure applies again');
  assert.deepEqual(retry.waits, [5_000, 20_000, 5_000], 'a success resets the backoff');
  assert.deepEqual(failures, ['connection refused', 'still refused', 'once more']);
  abort.abort();
  await done;
});

test('an abort mid-read ends the watch without a callback, a failure or a log line', async () => {
  const { read, next, calls } = scriptedRead(true);
  const { log, lines } = capturingLog();
  const abort = new AbortController();
  let sets = 0;
  let failed = 0;
  const done = blockingWatch('thing', read, () => { sets++; }, log, abort.signal, { failed: () => { failed++; } });
  (await next()).answer(3, 'a');
  await next();
  abort.abort();
  await done;
  assert.equal(sets, 1);
  assert.equal(failed, 0);
  assert.equal(calls.length, 2, 'no read after the abort');
  assert.ok(!lines.some((l) => l['@level'] === 'error'), JSON.stringify(lines));
});

test('an answer that arrives after the abort applies nothing', async () => {
  const { read, next } = scriptedRead();
  const abort = new AbortController();
  const seen: string[] = [];
  const done = blockingWatch('thing', read, (v) => seen.push(v), capturingLog().log, abort.signal);
  const c = await next();
  abort.abort();
  c.answer(3, 'late');
  await done;
  assert.deepEqual(seen, []);
});

test('an abort during the retry wait ends the watch', async () => {
  const { read, next, calls } = scriptedRead();
  const retry = manualSleep();
  const abort = new AbortController();
  const done = blockingWatch('thing', read, () => undefined, capturingLog().log, abort.signal, { sleep: retry.sleep });
  (await next()).fail('refused');
  await tick();
  assert.deepEqual(retry.waits, [5_000]);
  abort.abort();
  await done;
  assert.equal(calls.length, 1);
});

test('reads wait for `after` (a rejection too); an abort meanwhile ends the watch unread', async () => {
  let go!: (err: Error) => void;
  const after = new Promise<void>((_resolve, reject) => { go = reject; });
  const first = scriptedRead(true);
  const abort = new AbortController();
  const seen: string[] = [];
  const done = blockingWatch('thing', first.read, (v) => seen.push(v), capturingLog().log, abort.signal, { after });
  await tick();
  assert.equal(first.calls.length, 0, 'no read before `after` settles');
  go(new Error('no datacenter'));
  const c = await first.next();
  c.answer(1, 'a');
  await first.next();
  assert.deepEqual(seen, ['a']);
  abort.abort();
  await done;

  const second = scriptedRead();
  const stop = new AbortController();
  const never = blockingWatch('thing', second.read, () => undefined, capturingLog().log, stop.signal, { after: new Promise(() => undefined) });
  stop.abort();
  await never;
  assert.equal(second.calls.length, 0);
});

test('each update is logged with its index and the watch\'s fields, read after the update applied', async () => {
  const { read, next } = scriptedRead(true);
  const { log, lines } = capturingLog();
  const abort = new AbortController();
  let current = '';
  const done = blockingWatch('thing', read, (v) => { current = v; }, log, abort.signal, { fields: (v) => ({ value: v, current }) });
  (await next()).answer(4, 'x');
  await next();
  const line = lines.find((l) => l['@message'] === 'thing updated');
  assert.equal(line?.index, 4);
  assert.equal(line?.value, 'x');
  assert.equal(line?.current, 'x');
  abort.abort();
  await done;
});

test('a Readiness is unsettled until marked, then settled with its promise resolved (a second mark changes nothing)', async () => {
  const r = new Readiness();
  let resolved = false;
  void r.promise.then(() => { resolved = true; });
  await tick();
  assert.equal(r.settled, false);
  assert.equal(resolved, false);
  r.mark();
  r.mark();
  await r.promise;
  assert.equal(r.settled, true);
  assert.equal(resolved, true);
});
