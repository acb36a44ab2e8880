// The real npm `consul` 2.x client against a real agent on a socket: KV round trips, CAS,
// watch() on a key, blocking get with index/wait, and transactions.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import Consul from 'consul';
import { startDevAgent, type DevAgent } from './support/agent.ts';

interface Pair { Key: string; Value: string | null; Flags: number; ModifyIndex: number; CreateIndex: number; LockIndex: number }

let dev: DevAgent;
let consul: Consul;

/** A client ctx that makes a call return [response, data], as watch() uses it. */
function withResponse(): EventEmitter & { includeResponse: boolean } {
  return Object.assign(new EventEmitter(), { includeResponse: true });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  dev = await startDevAgent();
  const [host, port] = dev.httpAddr.split(':');
  consul = new Consul({ host, port: Number(port) });
});
after(async () => {
  await dev.stop();
});

describe('kv', () => {
  test('set and get decode the value; a missing key is undefined', async () => {
    assert.equal(await consul.kv.set('cl/a', 'hello'), true);
    const got = (await consul.kv.get('cl/a')) as unknown as Pair;
    assert.equal(got.Key, 'cl/a');
    assert.equal(got.Value, 'hello');
    assert.equal(got.Flags, 0);
    assert.equal(await consul.kv.get('cl/none'), undefined);
  });

  test('set with flags, keys with and without separator, recursive get', async () => {
    await consul.kv.set({ key: 'cl/tree/x', value: '1', flags: 5 });
    await consul.kv.set('cl/tree/y/z', '2');
    const x = (await consul.kv.get('cl/tree/x')) as unknown as Pair;
    assert.equal(x.Flags, 5);
    assert.deepEqual(await consul.kv.keys('cl/tree/'), ['cl/tree/x', 'cl/tree/y/z']);
    assert.deepEqual(await consul.kv.keys({ key: 'cl/tree/', separator: '/' }), ['cl/tree/x', 'cl/tree/y/']);
    const list = (await consul.kv.get({ key: 'cl/tree/', recurse: true })) as unknown as Pair[];
    assert.deepEqual(list.map((p) => [p.Key, p.Value]), [['cl/tree/x', '1'], ['cl/tree/y/z', '2']]);
    assert.equal(await consul.kv.get({ key: 'cl/empty/', recurse: true }), undefined);
  });

  test('CAS set and delete', async () => {
    assert.equal(await consul.kv.set({ key: 'cl/cas', value: 'a', cas: 0 }), true);
    // The server answers a literal `false`; papi resolves a falsy JSON body as undefined.
    assert.ok(!(await consul.kv.set({ key: 'cl/cas', value: 'b', cas: 0 })));
    const p = (await consul.kv.get('cl/cas')) as unknown as Pair;
    assert.ok(!(await consul.kv.set({ key: 'cl/cas', value: 'b', cas: p.ModifyIndex + 1 })));
    assert.equal(await consul.kv.set({ key: 'cl/cas', value: 'b', cas: p.ModifyIndex }), true);
    const q = (await consul.kv.get('cl/cas')) as unknown as Pair;
    assert.equal(q.Value, 'b');
    assert.ok(!(await consul.kv.del({ key: 'cl/cas', cas: p.ModifyIndex })));
    assert.equal(((await consul.kv.get('cl/cas')) as unknown as Pair).Value, 'b', 'the stale delete did nothing');
    assert.equal(await consul.kv.del({ key: 'cl/cas', cas: q.ModifyIndex }), true);
    assert.equal(await consul.kv.get('cl/cas'), undefined);
  });

  test('delete and recursive delete', async () => {
    await consul.kv.set('cl/del/a', '1');
    await consul.kv.set('cl/del/b/c', '2');
    await consul.kv.del('cl/del/a');
    assert.equal(await consul.kv.get('cl/del/a'), undefined);
    await consul.kv.del({ key: 'cl/del/', recurse: true });
    assert.equal(await consul.kv.get('cl/del/b/c'), undefined);
  });
});

describe('blocking', () => {
  test('watch() on kv.get reports a write within milliseconds', async () => {
    await consul.kv.set('cl/watch', 'v0');
    const watch = consul.watch({ method: consul.kv.get, options: { key: 'cl/watch', wait: '10s' } });
    const changes: { value: string | null; at: number }[] = [];
    const errors: unknown[] = [];
    watch.on('change', (data: Pair) => changes.push({ value: data?.Value ?? null, at: performance.now() }));
    watch.on('error', (err: unknown) => errors.push(err));
    try {
      for (let i = 0; i < 100 && changes.length === 0; i++) await sleep(10);
      assert.equal(changes.length, 1, 'the first answer is a change');
      assert.equal(changes[0].value, 'v0');
      await sleep(200);
      assert.equal(changes.length, 1, 'no change without a write: the watch is blocked, not spinning');
      const wrote = performance.now();
      await consul.kv.set('cl/watch-neighbour', 'x');
      await consul.kv.set('cl/watch', 'v1');
      for (let i = 0; i < 100 && changes.length === 1; i++) await sleep(10);
      assert.equal(changes.length, 2);
      assert.equal(changes[1].value, 'v1');
      assert.ok(changes[1].at - wrote < 1000, `change seen ${(changes[1].at - wrote).toFixed(0)}ms after the write`);
      assert.deepEqual(errors, []);
    } finally {
      watch.end();
    }
  });

  test('a blocking get with index and wait times out after wait with the same index', async () => {
    await consul.kv.set('cl/block', 'v');
    const [res] = (await consul.kv.get({ key: 'cl/block', ctx: withResponse() } as never)) as unknown as [{ headers: Record<string, string> }];
    const index = res.headers['x-consul-index'];
    assert.ok(Number(index) > 0);
    const started = performance.now();
    const [res2, data] = (await consul.kv.get({ key: 'cl/block', index, wait: '1s', ctx: withResponse() } as never)) as unknown as [{ headers: Record<string, string> }, Pair];
    const ms = performance.now() - started;
    assert.ok(ms >= 900, `returned after ${ms.toFixed(0)}ms`);
    assert.ok(ms < 4000, `returned after ${ms.toFixed(0)}ms`);
    assert.equal(res2.headers['x-consul-index'], index);
    assert.equal(data.Value, 'v');
  });
});

describe('transactions', () => {
  test('transaction.create applies KV ops and returns Consul\'s result shape', async () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    // The client's typings describe flat lowercase ops, but it sends the array as given.
    const out = (await consul.transaction.create([
      { KV: { Verb: 'set', Key: 'cl/txn/a', Value: b64('1') } },
      { KV: { Verb: 'set', Key: 'cl/txn/b', Value: b64('2') } },
      { KV: { Verb: 'get', Key: 'cl/txn/a' } },
    ] as never)) as { Results: { KV: Pair }[]; Errors: unknown };
    assert.equal(out.Errors, null);
    assert.equal(out.Results.length, 3);
    assert.equal(out.Results[0].KV.Value, null);
    assert.equal(Buffer.from(out.Results[2].KV.Value!, 'base64').toString(), '1');
    assert.equal(((await consul.kv.get('cl/txn/b')) as unknown as Pair).Value, '2');
  });

  test('a rolled-back transaction rejects with the 409 and writes nothing', async () => {
    await assert.rejects(
      consul.transaction.create([
        { KV: { Verb: 'set', Key: 'cl/txn/c', Value: Buffer.from('3').toString('base64') } },
        { KV: { Verb: 'check-not-exists', Key: 'cl/txn/a' } },
      ] as never),
      (err: Error & { statusCode?: number }) => {
        assert.equal(err.statusCode, 409);
        return true;
      },
    );
    assert.equal(await consul.kv.get('cl/txn/c'), undefined);
  });
});
