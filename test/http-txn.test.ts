// /v1/txn against a real dev agent: every KV verb with Consul's result shapes, 409 rollbacks
// with Consul's error texts, op-count and size limits, body decoding, and read-only consistency.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import type { InjectResponse } from '../src/http/index.ts';
import type { KVPair } from '../src/api/types.ts';

let dev: DevAgent;

interface TxnBody {
  Results: { KV: KVPair }[] | null;
  Errors: { OpIndex: number; What: string }[] | null;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string | null) => (s === null ? null : Buffer.from(s, 'base64').toString());

function txn(ops: unknown, query = ''): Promise<InjectResponse> {
  return dev.agent.http.handle({ method: 'PUT', url: `/v1/txn${query}`, body: typeof ops === 'string' ? ops : JSON.stringify(ops) });
}

async function ok(ops: unknown, query = ''): Promise<TxnBody> {
  const r = await txn(ops, query);
  assert.equal(r.status, 200, r.body.toString());
  return r.json() as TxnBody;
}

async function conflict(ops: unknown): Promise<TxnBody> {
  const r = await txn(ops);
  assert.equal(r.status, 409, r.body.toString());
  assert.match(r.headers['Content-Type'], /application\/json/);
  const body = r.json() as TxnBody;
  assert.equal(body.Results, null);
  return body;
}

async function put(key: string, value: string): Promise<KVPair> {
  await dev.agent.http.handle({ method: 'PUT', url: `/v1/kv/${key}`, body: value });
  const r = await dev.agent.http.handle({ method: 'GET', url: `/v1/kv/${key}` });
  return (r.json() as KVPair[])[0];
}

async function exists(key: string): Promise<boolean> {
  return (await dev.agent.http.handle({ method: 'GET', url: `/v1/kv/${key}` })).status === 200;
}

before(async () => {
  dev = await startDevAgent();
});
after(async () => {
  await dev.stop();
});

describe('write verbs', () => {
  test('set returns the entry without Value, with the commit index; get returns the Value', async () => {
    const body = await ok([
      { KV: { Verb: 'set', Key: 'w/a', Value: b64('one'), Flags: 7 } },
      { KV: { Verb: 'get', Key: 'w/a' } },
    ]);
    assert.equal(body.Errors, null);
    assert.equal(body.Results!.length, 2);
    const [set, get] = body.Results!.map((r) => r.KV);
    assert.deepEqual(Object.keys(set).sort(), ['CreateIndex', 'Flags', 'Key', 'LockIndex', 'ModifyIndex', 'Value']);
    assert.equal(set.Value, null);
    assert.equal(set.Flags, 7);
    assert.equal(set.Key, 'w/a');
    assert.equal(set.CreateIndex, set.ModifyIndex);
    assert.ok(set.ModifyIndex > 0);
    assert.equal(unb64(get.Value), 'one');
    assert.equal(get.ModifyIndex, set.ModifyIndex);
    const stored = await dev.agent.http.handle({ method: 'GET', url: '/v1/kv/w/a' });
    assert.equal((stored.json() as KVPair[])[0].ModifyIndex, set.ModifyIndex);
  });

  test('cas: Index 0 creates only, Index N must match; the error text is Consul\'s', async () => {
    const created = await ok([{ KV: { Verb: 'cas', Key: 'w/cas', Value: b64('a'), Index: 0 } }]);
    const idx = created.Results![0].KV.ModifyIndex;
    const again = await conflict([{ KV: { Verb: 'cas', Key: 'w/cas', Value: b64('b'), Index: 0 } }]);
    assert.deepEqual(again.Errors, [{ OpIndex: 0, What: 'failed to set key "w/cas", index is stale' }]);
    const stale = await conflict([{ KV: { Verb: 'cas', Key: 'w/cas', Value: b64('b'), Index: idx + 99 } }]);
    assert.deepEqual(stale.Errors, [{ OpIndex: 0, What: 'failed to set key "w/cas", index is stale' }]);
    const good = await ok([{ KV: { Verb: 'cas', Key: 'w/cas', Value: b64('b'), Index: idx } }]);
    assert.equal(good.Results![0].KV.CreateIndex, idx);
    assert.ok(good.Results![0].KV.ModifyIndex > idx);
  });

  test('delete, delete-tree and delete-cas: no results; delete-cas stale fails, missing key passes', async () => {
    const a = await put('w/d/a', '1');
    await put('w/d/b/c', '2');
    await put('w/d/b/d', '3');
    await put('w/dx', '4');
    const stale = await conflict([{ KV: { Verb: 'delete-cas', Key: 'w/d/a', Index: a.ModifyIndex + 1 } }]);
    assert.deepEqual(stale.Errors, [{ OpIndex: 0, What: 'failed to delete key "w/d/a", index is stale' }]);
    const body = await ok([
      { KV: { Verb: 'delete-cas', Key: 'w/d/a', Index: a.ModifyIndex } },
      { KV: { Verb: 'delete-tree', Key: 'w/d/b/' } },
      { KV: { Verb: 'delete', Key: 'w/d/none' } },
      { KV: { Verb: 'delete-cas', Key: 'w/d/never', Index: 5 } },
    ]);
    assert.deepEqual(body.Results, []);
    assert.equal(body.Errors, null);
    assert.equal(await exists('w/d/a'), false);
    assert.equal(await exists('w/d/b/c'), false);
    assert.equal(await exists('w/d/b/d'), false);
    assert.equal(await exists('w/dx'), true);
  });

  test('an identical set keeps ModifyIndex (Consul skips unchanged writes)', async () => {
    const first = await ok([{ KV: { Verb: 'set', Key: 'w/same', Value: b64('v') } }]);
    const second = await ok([{ KV: { Verb: 'set', Key: 'w/same', Value: b64('v') } }]);
    assert.equal(second.Results![0].KV.ModifyIndex, first.Results![0].KV.ModifyIndex);
  });

  test('ops see the writes of earlier ops in the same transaction', async () => {
    const body = await ok([
      { KV: { Verb: 'set', Key: 'w/seq/a', Value: b64('1') } },
      { KV: { Verb: 'check-not-exists', Key: 'w/seq/b' } },
      { KV: { Verb: 'set', Key: 'w/seq/b', Value: b64('2') } },
      { KV: { Verb: 'get-tree', Key: 'w/seq/' } },
      { KV: { Verb: 'delete', Key: 'w/seq/a' } },
      { KV: { Verb: 'get-or-empty', Key: 'w/seq/a' } },
    ]);
    const kvs = body.Results!.map((r) => r.KV);
    assert.deepEqual(kvs.map((k) => k.Key), ['w/seq/a', 'w/seq/b', 'w/seq/a', 'w/seq/b', 'w/seq/a']);
    assert.deepEqual(kvs.slice(2, 4).map((k) => unb64(k.Value)), ['1', '2']);
    assert.equal(kvs[4].Value, null);
    assert.equal(kvs[4].ModifyIndex, 0);
    assert.equal(await exists('w/seq/a'), false);
  });
});

describe('read and check verbs', () => {
  let e: KVPair;
  before(async () => {
    e = await put('r/k', 'val');
    await put('r/t/1', 'one');
    await put('r/t/2', 'two');
  });

  test('get on a missing key fails with Consul\'s text', async () => {
    const body = await conflict([{ KV: { Verb: 'get', Key: 'r/missing' } }]);
    assert.deepEqual(body.Errors, [{ OpIndex: 0, What: 'key "r/missing" doesn\'t exist' }]);
  });

  test('get-or-empty on a missing key returns an empty entry echoing the op', async () => {
    const body = await ok([{ KV: { Verb: 'get-or-empty', Key: 'r/missing', Flags: 3 } }]);
    const kv = body.Results![0].KV;
    assert.equal(kv.Key, 'r/missing');
    assert.equal(kv.Value, null);
    assert.equal(kv.Flags, 3);
    assert.equal(kv.CreateIndex, 0);
    const hit = await ok([{ KV: { Verb: 'get-or-empty', Key: 'r/k' } }]);
    assert.equal(unb64(hit.Results![0].KV.Value), 'val');
  });

  test('get-tree returns every entry under the prefix with values; empty prefix returns none', async () => {
    const body = await ok([{ KV: { Verb: 'get-tree', Key: 'r/t/' } }, { KV: { Verb: 'get-tree', Key: 'r/none/' } }]);
    assert.deepEqual(body.Results!.map((r) => [r.KV.Key, unb64(r.KV.Value)]), [['r/t/1', 'one'], ['r/t/2', 'two']]);
  });

  test('check-index: result without Value on match; Consul\'s texts on mismatch and missing key', async () => {
    const good = await ok([{ KV: { Verb: 'check-index', Key: 'r/k', Index: e.ModifyIndex } }]);
    assert.equal(good.Results![0].KV.Value, null);
    assert.equal(good.Results![0].KV.ModifyIndex, e.ModifyIndex);
    const bad = await conflict([{ KV: { Verb: 'check-index', Key: 'r/k', Index: 1 } }]);
    assert.deepEqual(bad.Errors, [{ OpIndex: 0, What: `failed index check for key "r/k", current modify index ${e.ModifyIndex} != 1` }]);
    const miss = await conflict([{ KV: { Verb: 'check-index', Key: 'r/nope', Index: 1 } }]);
    assert.deepEqual(miss.Errors, [{ OpIndex: 0, What: 'failed to check index, key "r/nope" doesn\'t exist' }]);
  });

  test('check-session: unlocked key matches the empty session; Consul\'s texts otherwise', async () => {
    const good = await ok([{ KV: { Verb: 'check-session', Key: 'r/k' } }]);
    assert.equal(good.Results![0].KV.Key, 'r/k');
    assert.equal(good.Results![0].KV.Value, null);
    const id = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
    const bad = await conflict([{ KV: { Verb: 'check-session', Key: 'r/k', Session: id } }]);
    assert.deepEqual(bad.Errors, [{ OpIndex: 0, What: `failed session check for key "r/k", current session "" != "${id}"` }]);
    const miss = await conflict([{ KV: { Verb: 'check-session', Key: 'r/nope', Session: id } }]);
    assert.deepEqual(miss.Errors, [{ OpIndex: 0, What: 'failed to check session, key "r/nope" doesn\'t exist' }]);
  });

  test('check-not-exists: no result when missing, Consul\'s text when present', async () => {
    const good = await ok([{ KV: { Verb: 'check-not-exists', Key: 'r/nope' } }]);
    assert.deepEqual(good.Results, []);
    const bad = await conflict([{ KV: { Verb: 'check-not-exists', Key: 'r/k' } }]);
    assert.deepEqual(bad.Errors, [{ OpIndex: 0, What: 'key "r/k" exists' }]);
  });

  test('read-only transactions carry KnownLeader/LastContact and honour ?stale and ?consistent', async () => {
    for (const q of ['', '?stale', '?consistent']) {
      const r = await txn([{ KV: { Verb: 'get', Key: 'r/k' } }], q);
      assert.equal(r.status, 200, q);
      assert.equal(r.headers['X-Consul-KnownLeader'], 'true', q);
      assert.equal(r.headers['X-Consul-LastContact'], '0', q);
      assert.equal(r.headers['X-Consul-Index'], undefined, 'a txn answer is not blockable');
      const body = r.json() as TxnBody & Record<string, unknown>;
      assert.equal(unb64(body.Results![0].KV.Value), 'val');
      assert.equal(body.KnownLeader, true, 'Consul embeds QueryMeta in TxnReadResponse');
    }
    const both = await txn([{ KV: { Verb: 'get', Key: 'r/k' } }], '?stale&consistent');
    assert.equal(both.status, 400);
    assert.equal(both.body.toString(), 'Cannot specify ?stale with ?consistent, conflicting semantics.');
  });

  test('a write transaction ignores consistency flags and has no read meta in the body', async () => {
    const r = await txn([{ KV: { Verb: 'set', Key: 'r/w', Value: b64('x') } }], '?stale&consistent');
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.json() as object).sort(), ['Errors', 'Results']);
  });
});

describe('locks without sessions', () => {
  test('lock with an unknown session fails with invalid session; empty session with missing session', async () => {
    const id = '12345678-1234-1234-1234-123456789abc';
    const bad = await conflict([{ KV: { Verb: 'lock', Key: 'l/k', Value: b64('v'), Session: id } }]);
    assert.deepEqual(bad.Errors, [{ OpIndex: 0, What: `invalid session "${id}"` }]);
    const none = await conflict([{ KV: { Verb: 'lock', Key: 'l/k', Value: b64('v') } }]);
    assert.deepEqual(none.Errors, [{ OpIndex: 0, What: 'missing session' }]);
    assert.equal(await exists('l/k'), false);
  });

  test('unlock of a lock that is not held fails with Consul\'s text', async () => {
    await put('l/u', 'v');
    const id = '12345678-1234-1234-1234-123456789abc';
    const bad = await conflict([{ KV: { Verb: 'unlock', Key: 'l/u', Session: id } }]);
    assert.deepEqual(bad.Errors, [{ OpIndex: 0, What: 'failed to unlock key "l/u", lock isn\'t held, or is held by another session' }]);
    const none = await conflict([{ KV: { Verb: 'unlock', Key: 'l/u' } }]);
    assert.deepEqual(none.Errors, [{ OpIndex: 0, What: 'missing session' }]);
  });
});

describe('rollback and errors', () => {
  test('any error rolls back every op; each failing op is reported with its index', async () => {
    const before = await put('rb/existing', 'orig');
    const body = await conflict([
      { KV: { Verb: 'set', Key: 'rb/new', Value: b64('x') } },
      { KV: { Verb: 'set', Key: 'rb/existing', Value: b64('changed') } },
      { KV: { Verb: 'get', Key: 'rb/missing' } },
      { KV: { Verb: 'delete', Key: 'rb/existing' } },
      { KV: { Verb: 'check-not-exists', Key: 'rb/existing' } },
      { KV: { Verb: 'bogus', Key: 'rb/x' } },
    ]);
    assert.deepEqual(body.Errors, [
      { OpIndex: 2, What: 'key "rb/missing" doesn\'t exist' },
      { OpIndex: 5, What: 'unknown KV verb "bogus"' },
    ]);
    assert.equal(await exists('rb/new'), false);
    const after = await dev.agent.http.handle({ method: 'GET', url: '/v1/kv/rb/existing' });
    const p = (after.json() as KVPair[])[0];
    assert.equal(unb64(p.Value), 'orig');
    assert.equal(p.ModifyIndex, before.ModifyIndex);
  });

  test('an empty key is rejected up front with Must provide key (delete-tree excepted)', async () => {
    const body = await conflict([
      { KV: { Verb: 'cas', Key: 'pre/x', Value: b64('v'), Index: 999999 } },
      { KV: { Verb: 'set', Key: '', Value: b64('v') } },
      { KV: { Verb: 'get', Key: '' } },
    ]);
    assert.deepEqual(body.Errors, [
      { OpIndex: 1, What: 'Must provide key' },
      { OpIndex: 2, What: 'Must provide key' },
    ], 'pre-check errors are reported alone, before state errors');
    const read = await conflict([{ KV: { Verb: 'get', Key: '' } }]);
    assert.deepEqual(read.Errors, [{ OpIndex: 0, What: 'Must provide key' }]);
  });

  test('an op without KV (or any other type) is "no operation specified"', async () => {
    const body = await conflict([{ KV: { Verb: 'set', Key: 'noop/a', Value: b64('v') } }, {}]);
    assert.deepEqual(body.Errors, [{ OpIndex: 1, What: 'no operation specified' }]);
    assert.equal(await exists('noop/a'), false);
  });
});

describe('decoding and limits', () => {
  test('128 ops are allowed, 129 are a 413 with Consul\'s text', async () => {
    const ops = (n: number) => Array.from({ length: n }, (_, i) => ({ KV: { Verb: 'set', Key: `many/${i}`, Value: b64(String(i)) } }));
    const body = await ok(ops(128));
    assert.equal(body.Results!.length, 128);
    const r = await txn(ops(129));
    assert.equal(r.status, 413);
    assert.equal(r.body.toString(), 'Transaction contains too many operations (129 > 128)');
  });

  test('lowercase keys (python-consul style) are accepted', async () => {
    const body = await ok([
      { kv: { verb: 'set', key: 'lc/a', value: b64('low'), flags: 9 } },
      { kv: { verb: 'get', key: 'lc/a' } },
    ]);
    assert.equal(unb64(body.Results![1].KV.Value), 'low');
    assert.equal(body.Results![1].KV.Flags, 9);
  });

  test('bad base64 is a 400 with Consul\'s decode error and nothing is written', async () => {
    const r = await txn([{ KV: { Verb: 'set', Key: 'b64/a', Value: 'not base64!' } }]);
    assert.equal(r.status, 400);
    assert.equal(r.body.toString(), 'Failed to parse body: illegal base64 data at input byte 3');
    const short = await txn([{ KV: { Verb: 'set', Key: 'b64/a', Value: 'YWJj=' } }]);
    assert.equal(short.status, 400);
    assert.match(short.body.toString(), /^Failed to parse body: illegal base64 data at input byte \d+$/);
    assert.equal(await exists('b64/a'), false);
  });

  test('malformed JSON is a 400 Failed to parse body', async () => {
    const r = await txn('[{');
    assert.equal(r.status, 400);
    assert.match(r.body.toString(), /^Failed to parse body: /);
  });

  test('a value over kv_max_value_size is a 413 naming the key', async () => {
    const small = await startDevAgent({ config: { limits: { kvMaxValueSize: 8, txnMaxReqLen: 4096, httpMaxConnsPerClient: 200 } } });
    try {
      const r = await small.agent.http.handle({
        method: 'PUT', url: '/v1/txn', body: JSON.stringify([{ KV: { Verb: 'set', Key: 'big', Value: b64('123456789') } }]),
      });
      assert.equal(r.status, 413);
      assert.equal(r.body.toString(), 'Value for key "big" is too large (9 > 8 bytes)');
      const huge = await small.agent.http.handle({ method: 'PUT', url: '/v1/txn', body: ' '.repeat(5000) });
      assert.equal(huge.status, 413);
      assert.match(huge.body.toString(), /too large, max size: 4096 bytes\. See https:\/\/www\.consul\.io\/docs\/agent\/config\/config-files#txn_max_req_len\.$/);
    } finally {
      await small.stop();
    }
  });

  test('GET /v1/txn is a 405 naming PUT', async () => {
    const r = await dev.agent.http.handle({ method: 'GET', url: '/v1/txn' });
    assert.equal(r.status, 405);
    assert.match(r.headers.Allow, /PUT/);
  });
});

describe('catalog service ops', () => {
  test('a Service op\'s Proxy is stored as Consul\'s convertOps keeps it: destination, local service, mesh gateway and tproxy only', async () => {
    await ok([{ Node: { Verb: 'set', Node: { Node: 'txn-proxy-node', Address: '10.0.0.9' } } }]);
    const body = await ok([{
      Service: {
        Verb: 'set', Node: 'txn-proxy-node',
        Service: {
          ID: 'web-proxy', Service: 'web-proxy', Kind: 'connect-proxy', Port: 21000,
          Proxy: {
            destinationServiceName: 'web', DestinationServiceID: 'web', LocalServicePort: 8080, Mode: 'transparent',
            Config: { protocol: 'http' }, Upstreams: [{ DestinationName: 'db', LocalBindPort: 9191 }],
            MeshGateway: { Mode: 'local' }, TransparentProxy: { OutboundListenerPort: 15001 }, Expose: { Checks: true },
          },
        },
      },
    }]) as unknown as { Results: { Service: { Proxy: unknown } }[] };
    const want = {
      TransparentProxy: { OutboundListenerPort: 15001 }, DestinationServiceName: 'web', DestinationServiceID: 'web', LocalServicePort: 8080,
      Mode: '', MeshGateway: { Mode: 'local' }, Expose: {},
    };
    assert.deepEqual(body.Results[0].Service.Proxy, want);
    const r = await dev.agent.http.handle({ method: 'GET', url: '/v1/catalog/service/web-proxy' });
    assert.deepEqual((r.json() as { ServiceProxy: unknown }[])[0].ServiceProxy, want);
  });
});
