// /v1/kv against a real dev agent: Consul's status codes, bodies, headers, flags, CAS, limits,
// and blocking semantics (per-key index, prefix wake-ups, tombstones, timeouts), in-process and
// over a real socket where the transport matters.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import type { InjectResponse } from '../src/http/index.ts';
import type { KVPair } from '../src/api/types.ts';

let dev: DevAgent;

function req(method: string, url: string, body?: string | Buffer, headers?: Record<string, string>): Promise<InjectResponse> {
  return dev.agent.http.handle({ method, url, body, headers });
}

async function put(key: string, value: string | Buffer, query = ''): Promise<InjectResponse> {
  return req('PUT', `/v1/kv/${key}${query}`, value);
}

async function getPair(key: string): Promise<KVPair> {
  const r = await req('GET', `/v1/kv/${key}`);
  assert.equal(r.status, 200, `GET ${key}: ${r.body.toString()}`);
  return (r.json() as KVPair[])[0];
}

function index(r: InjectResponse | http.IncomingMessage): number {
  const h = r.headers as Record<string, string | string[] | undefined>;
  const v = h['X-Consul-Index'] ?? h['x-consul-index'];
  assert.equal(typeof v, 'string', 'X-Consul-Index present');
  return Number(v);
}

/** A GET over the real socket, with the elapsed time. */
function socketGet(path: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    http.get(`http://${dev.httpAddr}${path}`, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ms: performance.now() - started }));
    }).on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  dev = await startDevAgent();
});
after(async () => {
  await dev.stop();
});

describe('PUT, GET, DELETE', () => {
  test('round trip with base64 Value, Flags, indexes and per-key X-Consul-Index', async () => {
    const w = await put('rt/a', 'hello', '?flags=42');
    assert.equal(w.status, 200);
    assert.equal(w.body.toString(), 'true');
    assert.match(w.headers['Content-Type'], /application\/json/);
    const r = await req('GET', '/v1/kv/rt/a');
    assert.equal(r.status, 200);
    const [p] = r.json() as KVPair[];
    assert.deepEqual(Object.keys(p).sort(), ['CreateIndex', 'Flags', 'Key', 'LockIndex', 'ModifyIndex', 'Value']);
    assert.equal(p.Key, 'rt/a');
    assert.equal(Buffer.from(p.Value!, 'base64').toString(), 'hello');
    assert.equal(p.Flags, 42);
    assert.equal(p.LockIndex, 0);
    assert.equal(p.CreateIndex, p.ModifyIndex);
    assert.equal(index(r), p.ModifyIndex);

    await put('rt/other', 'x');
    const again = await req('GET', '/v1/kv/rt/a');
    assert.equal(index(again), p.ModifyIndex, 'a write to another key leaves this key\'s index alone');

    await put('rt/a', 'bye');
    const p2 = await getPair('rt/a');
    assert.equal(p2.CreateIndex, p.CreateIndex);
    assert.ok(p2.ModifyIndex > p.ModifyIndex);
    assert.equal(p2.Flags, 0, 'a PUT without ?flags resets Flags to 0');
  });

  test('empty body stores Value null', async () => {
    await put('empty/k', '');
    const p = await getPair('empty/k');
    assert.equal(p.Value, null);
  });

  test('?raw returns the bytes as text/plain with nosniff and sandbox', async () => {
    const bytes = Buffer.from([0x3c, 0x73, 0x63, 0x72, 0x00, 0xff, 0x0a]);
    await put('raw/bin', bytes);
    const r = await req('GET', '/v1/kv/raw/bin?raw');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, bytes);
    assert.equal(r.headers['Content-Type'], 'text/plain');
    assert.equal(r.headers['X-Content-Type-Options'], 'nosniff');
    assert.equal(r.headers['Content-Security-Policy'], 'sandbox');
    assert.ok(index(r) >= 1);
    const empty = await put('raw/empty', '');
    assert.equal(empty.status, 200);
    const e = await req('GET', '/v1/kv/raw/empty?raw');
    assert.equal(e.status, 200);
    assert.equal(e.body.length, 0);
  });

  test('missing key: 404, empty body, X-Consul-Index present', async () => {
    const r = await req('GET', '/v1/kv/no/such/key');
    assert.equal(r.status, 404);
    assert.equal(r.body.length, 0);
    assert.ok(index(r) >= 1);
    assert.equal(r.headers['X-Consul-KnownLeader'], 'true');
  });

  test('DELETE returns true, also for a missing key', async () => {
    await put('del/one', 'x');
    const d = await req('DELETE', '/v1/kv/del/one');
    assert.equal(d.status, 200);
    assert.equal(d.body.toString(), 'true');
    assert.equal((await req('GET', '/v1/kv/del/one')).status, 404);
    const again = await req('DELETE', '/v1/kv/del/one');
    assert.equal(again.body.toString(), 'true');
  });

  test('Missing key name: GET, PUT and DELETE on the root', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const r = await req(method, '/v1/kv/');
      assert.equal(r.status, 400, method);
      assert.equal(r.body.toString(), 'Missing key name', method);
    }
  });

  test('invalid ?flags is a 500 with Go\'s ParseUint text', async () => {
    const r = await put('bad/flags', 'x', '?flags=abc');
    assert.equal(r.status, 500);
    assert.equal(r.body.toString(), 'strconv.ParseUint: parsing "abc": invalid syntax');
  });
});

describe('recurse and keys', () => {
  before(async () => {
    for (const k of ['tree/a', 'tree/b/1', 'tree/b/2', 'tree/c/x/y', 'treeish']) await put(k, k);
  });

  test('?recurse lists entries in key order with index = max ModifyIndex under the prefix', async () => {
    const r = await req('GET', '/v1/kv/tree/?recurse');
    assert.equal(r.status, 200);
    const list = r.json() as KVPair[];
    assert.deepEqual(list.map((p) => p.Key), ['tree/a', 'tree/b/1', 'tree/b/2', 'tree/c/x/y']);
    assert.equal(index(r), Math.max(...list.map((p) => p.ModifyIndex)));
    assert.equal(Buffer.from(list[1].Value!, 'base64').toString(), 'tree/b/1');
    const noSlash = (await req('GET', '/v1/kv/tree?recurse')).json() as KVPair[];
    assert.equal(noSlash.length, 5, 'the prefix is a plain string prefix');
  });

  test('empty ?recurse is a 404 with X-Consul-Index', async () => {
    const r = await req('GET', '/v1/kv/nothing-here/?recurse');
    assert.equal(r.status, 404);
    assert.equal(r.body.length, 0);
    assert.ok(index(r) >= 1);
  });

  test('?keys without a separator lists every key', async () => {
    const r = await req('GET', '/v1/kv/tree/?keys');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json(), ['tree/a', 'tree/b/1', 'tree/b/2', 'tree/c/x/y']);
  });

  test('?keys&separator=/ rolls up at the first separator after the prefix', async () => {
    const r = await req('GET', '/v1/kv/tree/?keys&separator=/');
    assert.deepEqual(r.json(), ['tree/a', 'tree/b/', 'tree/c/']);
    const root = await req('GET', '/v1/kv/?keys&separator=/');
    assert.ok((root.json() as string[]).includes('tree/'));
    assert.ok((root.json() as string[]).includes('treeish'));
  });

  test('the historic ?seperator spelling works too', async () => {
    const r = await req('GET', '/v1/kv/tree/?keys&seperator=/');
    assert.deepEqual(r.json(), ['tree/a', 'tree/b/', 'tree/c/']);
  });

  test('?keys on a missing prefix is 404, on the root of an empty store []', async () => {
    const miss = await req('GET', '/v1/kv/nope/?keys');
    assert.equal(miss.status, 404);
    assert.ok(index(miss) >= 1);
    const fresh = await startDevAgent();
    try {
      const r = await fresh.agent.http.handle({ method: 'GET', url: '/v1/kv/?keys' });
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), '[]');
      assert.ok(index(r) >= 1);
      const rec = await fresh.agent.http.handle({ method: 'GET', url: '/v1/kv/?recurse' });
      assert.equal(rec.status, 404, 'an empty recurse on the root is still a 404');
    } finally {
      await fresh.stop();
    }
  });

  test('DELETE ?recurse removes the subtree only', async () => {
    for (const k of ['dt/a', 'dt/b/c', 'dtx']) await put(k, 'v');
    const d = await req('DELETE', '/v1/kv/dt/?recurse');
    assert.equal(d.body.toString(), 'true');
    assert.equal((await req('GET', '/v1/kv/dt/?recurse')).status, 404);
    assert.equal((await req('GET', '/v1/kv/dtx')).status, 200);
  });
});

describe('CAS and conflicting flags', () => {
  test('cas=0 creates only when missing', async () => {
    assert.equal((await put('cas/new', 'a', '?cas=0')).body.toString(), 'true');
    assert.equal((await put('cas/new', 'b', '?cas=0')).body.toString(), 'false');
    const p = await getPair('cas/new');
    assert.equal(Buffer.from(p.Value!, 'base64').toString(), 'a');
  });

  test('cas=N succeeds only at the current ModifyIndex', async () => {
    await put('cas/n', 'a');
    const p = await getPair('cas/n');
    assert.equal((await put('cas/n', 'b', `?cas=${p.ModifyIndex + 1000}`)).body.toString(), 'false');
    assert.equal((await put('cas/n', 'b', `?cas=${p.ModifyIndex}`)).body.toString(), 'true');
    assert.equal((await put('cas/n', 'c', `?cas=${p.ModifyIndex}`)).body.toString(), 'false', 'the old index is stale now');
    assert.equal((await put('cas/missing', 'b', '?cas=5')).body.toString(), 'false', 'cas=N on a missing key fails');
  });

  test('DELETE ?cas: stale is false, current is true, missing key is true (as Consul)', async () => {
    await put('cas/del', 'a');
    const p = await getPair('cas/del');
    assert.equal((await req('DELETE', `/v1/kv/cas/del?cas=${p.ModifyIndex + 1}`)).body.toString(), 'false');
    assert.equal((await req('GET', '/v1/kv/cas/del')).status, 200);
    assert.equal((await req('DELETE', `/v1/kv/cas/del?cas=${p.ModifyIndex}`)).body.toString(), 'true');
    assert.equal((await req('GET', '/v1/kv/cas/del')).status, 404);
    assert.equal((await req('DELETE', '/v1/kv/cas/del?cas=12345')).body.toString(), 'true');
  });

  test('Conflicting flags: 400 with the sorted, encoded query and a newline', async () => {
    const r = await put('cf/k', 'x', '?release=s&cas=1&acquire=s');
    assert.equal(r.status, 400);
    assert.equal(r.body.toString(), 'Conflicting flags: acquire=s&cas=1&release=s\n');
    const d = await req('DELETE', '/v1/kv/cf/k?recurse&cas=1');
    assert.equal(d.status, 400);
    assert.equal(d.body.toString(), 'Conflicting flags: cas=1&recurse=\n');
    assert.equal((await req('GET', '/v1/kv/cf/k')).status, 404, 'nothing was written');
  });

  test('identical PUT is skipped: ModifyIndex and X-Consul-Index unchanged', async () => {
    await put('idem/k', 'same', '?flags=3');
    const p = await getPair('idem/k');
    await put('idem/k', 'same', '?flags=3');
    const q = await getPair('idem/k');
    assert.equal(q.ModifyIndex, p.ModifyIndex);
    await put('idem/k', 'same', '?flags=4');
    assert.ok((await getPair('idem/k')).ModifyIndex > p.ModifyIndex, 'a flags change is a change');
  });

  test('sessions do not exist yet: acquire fails with Consul\'s text, release answers false', async () => {
    const id = '11111111-2222-3333-4444-555555555555';
    const a = await put('lock/k', 'v', `?acquire=${id}`);
    assert.equal(a.status, 500);
    assert.equal(a.body.toString(), `invalid session "${id}"`);
    const empty = await put('lock/k', 'v', '?acquire=');
    assert.equal(empty.status, 500);
    assert.equal(empty.body.toString(), 'missing session');
    const rel = await put('lock/k', 'v', `?release=${id}`);
    assert.equal(rel.status, 200);
    assert.equal(rel.body.toString(), 'false');
    assert.equal((await req('GET', '/v1/kv/lock/k')).status, 404);
  });
});

describe('value size limit', () => {
  test('a value over 512 KiB is a 413 with Consul\'s message; exactly 512 KiB is fine', async () => {
    const limit = 512 * 1024;
    const ok = await put('big/ok', Buffer.alloc(limit, 1));
    assert.equal(ok.status, 200);
    const r = await put('big/no', Buffer.alloc(limit + 1, 1));
    assert.equal(r.status, 413);
    assert.equal(r.body.toString(),
      `Request body(${limit + 1} bytes) too large, max size: ${limit} bytes. See https://developer.hashicorp.com/docs/agent/config/config-files#kv_max_value_size.`);
    assert.equal((await req('GET', '/v1/kv/big/no')).status, 404);
  });

  test('over a socket the declared Content-Length decides, and the connection survives', async () => {
    const limit = 512 * 1024;
    const body = Buffer.alloc(limit + 10, 2);
    const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const r = http.request(`http://${dev.httpAddr}/v1/kv/big/socket`, { method: 'PUT', headers: { 'Content-Length': body.length } }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      r.on('error', reject);
      r.end(body);
    });
    assert.equal(res.status, 413);
    assert.match(res.text, new RegExp(`^Request body\\(${limit + 10} bytes\\) too large, max size: ${limit} bytes`));
  });

  test('limits.kvMaxValueSize from the config sets the limit', async () => {
    const small = await startDevAgent({ config: { limits: { kvMaxValueSize: 16, txnMaxReqLen: 512 * 1024, httpMaxConnsPerClient: 200 } } });
    try {
      const ok = await small.agent.http.handle({ method: 'PUT', url: '/v1/kv/k', body: Buffer.alloc(16) });
      assert.equal(ok.status, 200);
      const r = await small.agent.http.handle({ method: 'PUT', url: '/v1/kv/k', body: Buffer.alloc(17) });
      assert.equal(r.status, 413);
      assert.match(r.body.toString(), /^Request body\(17 bytes\) too large, max size: 16 bytes\./);
    } finally {
      await small.stop();
    }
  });
});

describe('blocking queries', () => {
  test('a blocked GET on one key wakes within milliseconds of a write to that key', async () => {
    await put('blk/one', 'v1');
    const first = await socketGet('/v1/kv/blk/one');
    const idx = index(first as unknown as http.IncomingMessage);
    const pending = socketGet(`/v1/kv/blk/one?index=${idx}&wait=10s`);
    await sleep(100);
    const wrote = performance.now();
    await put('blk/one', 'v2');
    const res = await pending;
    const wokeAfter = performance.now() - wrote;
    assert.equal(res.status, 200);
    assert.ok(wokeAfter < 1000, `woke ${wokeAfter.toFixed(0)}ms after the write`);
    const [p] = JSON.parse(res.body) as KVPair[];
    assert.equal(Buffer.from(p.Value!, 'base64').toString(), 'v2');
    assert.equal(Number(res.headers['x-consul-index']), p.ModifyIndex);
    assert.ok(p.ModifyIndex > idx);
  });

  test('writes to other keys do not wake a blocked single-key GET; it times out with the same index', async () => {
    await put('blk/quiet', 'v');
    const idx = index(await req('GET', '/v1/kv/blk/quiet'));
    const pending = socketGet(`/v1/kv/blk/quiet?index=${idx}&wait=2s`);
    for (let i = 0; i < 5; i++) {
      await sleep(100);
      await put(`blk/quiet-neighbour/${i}`, String(i));
      await put('blk/quie', String(i));
    }
    const res = await pending;
    assert.equal(res.status, 200);
    assert.ok(res.ms >= 1500, `returned after ${res.ms.toFixed(0)}ms, before the 2s wait`);
    assert.ok(res.ms < 5000, `returned after ${res.ms.toFixed(0)}ms`);
    assert.equal(Number(res.headers['x-consul-index']), idx, 'the same index after a timeout');
  });

  test('a blocking GET times out after ?wait with the unchanged result', async () => {
    await put('blk/timeout', 'v');
    const idx = index(await req('GET', '/v1/kv/blk/timeout'));
    const res = await socketGet(`/v1/kv/blk/timeout?index=${idx}&wait=1s`);
    assert.equal(res.status, 200);
    assert.ok(res.ms >= 900, `returned after ${res.ms.toFixed(0)}ms`);
    assert.ok(res.ms < 4000, `returned after ${res.ms.toFixed(0)}ms`);
    assert.equal(Number(res.headers['x-consul-index']), idx);
  });

  test('a blocked GET on a missing key wakes when the key is created', async () => {
    const miss = await req('GET', '/v1/kv/blk/later');
    assert.equal(miss.status, 404);
    const pending = socketGet(`/v1/kv/blk/later?index=${index(miss)}&wait=10s`);
    await sleep(100);
    const wrote = performance.now();
    await put('blk/later', 'now');
    const res = await pending;
    assert.ok(performance.now() - wrote < 1000);
    assert.equal(res.status, 200);
  });

  test('a blocked recurse wakes on a write under the prefix', async () => {
    await put('blkr/a', '1');
    const idx = index(await req('GET', '/v1/kv/blkr/?recurse'));
    const pending = socketGet(`/v1/kv/blkr/?recurse&index=${idx}&wait=10s`);
    await sleep(100);
    await put('blkr-outside', 'x');
    const wrote = performance.now();
    await put('blkr/deep/b', '2');
    const res = await pending;
    assert.ok(performance.now() - wrote < 1000);
    const list = JSON.parse(res.body) as KVPair[];
    assert.deepEqual(list.map((p) => p.Key), ['blkr/a', 'blkr/deep/b']);
    assert.equal(Number(res.headers['x-consul-index']), Math.max(...list.map((p) => p.ModifyIndex)));
  });

  test('a blocked recurse wakes on a delete under the prefix; the index is the tombstone\'s', async () => {
    await put('blkd/a', '1');
    await put('blkd/b', '2');
    const idx = index(await req('GET', '/v1/kv/blkd/?recurse'));
    const pending = socketGet(`/v1/kv/blkd/?recurse&index=${idx}&wait=10s`);
    await sleep(100);
    const wrote = performance.now();
    await req('DELETE', '/v1/kv/blkd/a');
    const res = await pending;
    assert.ok(performance.now() - wrote < 1000);
    assert.equal(res.status, 200);
    assert.deepEqual((JSON.parse(res.body) as KVPair[]).map((p) => p.Key), ['blkd/b']);
    const after = Number(res.headers['x-consul-index']);
    assert.ok(after > idx, 'the delete moved the prefix index forward');

    // Deleting the last key leaves a 404 whose index is the tombstone, not 0 or the old index.
    const pending2 = socketGet(`/v1/kv/blkd/?recurse&index=${after}&wait=10s`);
    await sleep(50);
    await req('DELETE', '/v1/kv/blkd/b');
    const gone = await pending2;
    assert.equal(gone.status, 404);
    assert.ok(Number(gone.headers['x-consul-index']) > after);
  });

  test('a blocked ?keys wakes on a write under the prefix', async () => {
    await put('blkk/a', '1');
    const idx = index(await req('GET', '/v1/kv/blkk/?keys'));
    const pending = socketGet(`/v1/kv/blkk/?keys&index=${idx}&wait=10s`);
    await sleep(100);
    await put('blkk/b', '2');
    const res = await pending;
    assert.ok(res.ms < 5000);
    assert.deepEqual(JSON.parse(res.body), ['blkk/a', 'blkk/b']);
  });
});
