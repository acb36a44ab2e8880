// The API client on the wire: request shape and meta against a recording stub (TCP and unix
// socket), then real round trips against an in-process dev agent.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError, ConsulClient } from '../src/api/index.ts';
import { startDevAgent, type DevAgent } from './support/agent.ts';

interface Seen { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }
type Reply = { status?: number; headers?: Record<string, string>; body?: string };

function stub(reply: (req: Seen) => Reply) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(s);
      const r = reply(s);
      res.writeHead(r.status ?? 200, { 'X-Consul-Index': '42', 'X-Consul-KnownLeader': 'true', 'X-Consul-LastContact': '7', ...r.headers });
      res.end(r.body ?? '');
    });
  });
  return { server, seen };
}

async function listen(server: http.Server, where: number | string): Promise<void> {
  await new Promise<void>((resolve) => server.listen(where, resolve as () => void));
}

describe('wire protocol (stub server)', () => {
  const kvPair = { LockIndex: 0, Key: 'a/b', Flags: 0, Value: Buffer.from('hi').toString('base64'), CreateIndex: 3, ModifyIndex: 4 };
  const { server, seen } = stub((r) => {
    if (r.url.startsWith('/v1/kv/missing')) return { status: 404 };
    if (r.url.startsWith('/v1/kv/boom')) return { status: 500, body: 'No path to datacenter\n' };
    if (r.url.startsWith('/v1/txn')) return { status: 409, body: JSON.stringify({ Results: null, Errors: [{ OpIndex: 0, What: 'failed' }] }) };
    if (r.method === 'PUT' || r.method === 'DELETE') return { body: 'true' };
    return { body: JSON.stringify([kvPair]) };
  });
  let client: ConsulClient;
  before(async () => {
    await listen(server, 0);
    const port = (server.address() as { port: number }).port;
    client = new ConsulClient({ address: `http://127.0.0.1:${port}`, token: 'secret', datacenter: 'dc9', env: {} });
  });
  after(() => {
    client.close();
    server.close();
  });

  test('token header, dc, consistency and blocking parameters; meta from headers', async () => {
    const { data, meta } = await client.kv.get('a/b', { index: 5, wait: 1500, stale: true });
    assert.deepEqual(data, kvPair);
    assert.deepEqual(meta, { index: 42, knownLeader: true, lastContact: 7 });
    const req = seen.at(-1)!;
    assert.equal(req.url, '/v1/kv/a/b?dc=dc9&index=5&stale=&wait=1500ms');
    assert.equal(req.headers['x-consul-token'], 'secret');
    assert.equal(req.headers.connection, 'keep-alive');
  });

  test('404 is null for get and [] for list and keys; per-call dc and token override', async () => {
    assert.equal((await client.kv.get('missing')).data, null);
    assert.deepEqual((await client.kv.list('missing', { datacenter: 'dc2', token: 't2' })).data, []);
    assert.equal(seen.at(-1)!.url, '/v1/kv/missing?dc=dc2&recurse=');
    assert.equal(seen.at(-1)!.headers['x-consul-token'], 't2');
    assert.deepEqual((await client.kv.keys('missing', '/')).data, []);
    assert.equal(seen.at(-1)!.url, '/v1/kv/missing?dc=dc9&keys=&separator=%2F');
  });

  test('put sends raw bytes and flags/cas/acquire; delete sends recurse/cas', async () => {
    assert.equal((await client.kv.put('k', Buffer.from([0, 1, 2]), { flags: 9, cas: 0 })).data, true);
    assert.equal(seen.at(-1)!.url, '/v1/kv/k?cas=0&dc=dc9&flags=9');
    assert.deepEqual(Buffer.from(seen.at(-1)!.body, 'latin1'), Buffer.from([0, 1, 2]));
    await client.kv.put('k', 'v', { acquire: 'sess' });
    assert.equal(seen.at(-1)!.url, '/v1/kv/k?acquire=sess&dc=dc9');
    assert.equal((await client.kv.delete('p', { recurse: true })).data, true);
    assert.deepEqual([seen.at(-1)!.method, seen.at(-1)!.url], ['DELETE', '/v1/kv/p?dc=dc9&recurse=']);
  });

  test('non-2xx becomes ApiError with the Go message; txn 409 is an answer', async () => {
    await assert.rejects(client.kv.get('boom'), (e: unknown) =>
      e instanceof ApiError && e.statusCode === 500 && e.message === 'Unexpected response code: 500 (No path to datacenter)');
    const { data } = await client.txn([{ KV: { Verb: 'get', Key: 'x' } }]);
    assert.deepEqual(data, { status: 409, Results: null, Errors: [{ OpIndex: 0, What: 'failed' }] });
    assert.deepEqual(JSON.parse(seen.at(-1)!.body), [{ KV: { Verb: 'get', Key: 'x' } }]);
  });

  test('unix:// addresses and path prefixes, basic auth from CONSUL_HTTP_AUTH', async () => {
    const sock = join(mkdtempSync(join(tmpdir(), 'proconsul-sock-')), 'agent.sock');
    const u = stub(() => ({ body: '"10.0.0.1:8300"' }));
    await listen(u.server, sock);
    const c = new ConsulClient({ env: { CONSUL_HTTP_ADDR: `unix://${sock}`, CONSUL_HTTP_AUTH: 'user:pw' } });
    try {
      assert.equal((await c.status.leader()).data, '10.0.0.1:8300');
      assert.equal(u.seen[0].url, '/v1/status/leader');
      assert.equal(u.seen[0].headers.authorization, `Basic ${Buffer.from('user:pw').toString('base64')}`);
      assert.equal(u.seen[0].headers['x-consul-token'], undefined);
    } finally {
      c.close();
      u.server.close();
    }
    const port = (server.address() as { port: number }).port;
    const p = new ConsulClient({ address: `http://127.0.0.1:${port}/prefix`, env: {} });
    await p.agent.self().catch(() => undefined);
    p.close();
    assert.equal(seen.at(-1)!.url, '/prefix/v1/agent/self');
  });
});

describe('against a dev agent', () => {
  let agent: DevAgent;
  let client: ConsulClient;
  before(async () => {
    agent = await startDevAgent();
    client = new ConsulClient({ address: agent.httpAddr, env: {} });
  });
  after(async () => {
    client?.close();
    await agent?.stop();
  });

  test('put, get, list, keys, delete', async () => {
    assert.equal((await client.kv.put('app/a', 'one', { flags: 5 })).data, true);
    await client.kv.put('app/sub/b', Buffer.from([0, 255]));
    const { data: a, meta } = await client.kv.get('app/a');
    assert.equal(a?.Key, 'app/a');
    assert.equal(a?.Flags, 5);
    assert.equal(Buffer.from(a!.Value!, 'base64').toString(), 'one');
    assert.ok(meta.index >= a!.ModifyIndex);
    assert.equal(meta.knownLeader, true);
    assert.deepEqual((await client.kv.get('app/sub/b', { raw: true })).data, Buffer.from([0, 255]));
    assert.deepEqual((await client.kv.list('app/')).data.map((p) => p.Key), ['app/a', 'app/sub/b']);
    assert.deepEqual((await client.kv.keys('app/', '/')).data, ['app/a', 'app/sub/']);
    assert.equal((await client.kv.delete('app/', { recurse: true })).data, true);
    assert.equal((await client.kv.get('app/a')).data, null);
  });

  test('check-and-set: 0 creates only, a stale index is refused', async () => {
    assert.equal((await client.kv.put('cas', 'v1', { cas: 0 })).data, true);
    assert.equal((await client.kv.put('cas', 'v2', { cas: 0 })).data, false);
    const idx = (await client.kv.get('cas')).data!.ModifyIndex;
    assert.equal((await client.kv.put('cas', 'v3', { cas: idx })).data, true);
    assert.equal((await client.kv.delete('cas', { cas: idx })).data, false);
  });

  test('a blocking get returns when the key changes', async () => {
    await client.kv.put('block', 'a');
    const { meta } = await client.kv.get('block');
    const waiting = client.kv.get('block', { index: meta.index, wait: '5s' });
    setTimeout(() => void client.kv.put('block', 'b'), 100);
    const { data, meta: after } = await waiting;
    assert.ok(after.index > meta.index);
    assert.equal(Buffer.from(data!.Value!, 'base64').toString(), 'b');
  });

  test('txn applies or rolls back with 409', async () => {
    const ok = await client.txn([{ KV: { Verb: 'set', Key: 'tx/a', Value: Buffer.from('1').toString('base64') } }, { KV: { Verb: 'get', Key: 'tx/a' } }]);
    assert.equal(ok.data.status, 200);
    assert.equal(ok.data.Results?.[1].KV?.Key, 'tx/a');
    const bad = await client.txn([{ KV: { Verb: 'check-not-exists', Key: 'tx/a' } }]);
    assert.equal(bad.data.status, 409);
    assert.equal(bad.data.Errors?.[0].OpIndex, 0);
  });

  test('status and agent self', async () => {
    assert.match((await client.status.leader()).data, /:\d+$/);
    assert.equal((await client.status.peers()).data.length, 1);
    const self = (await client.agent.self()).data;
    assert.equal(typeof self.Config.NodeName, 'string');
    assert.equal(self.Config.Datacenter, 'dc1');
  });

  test('an unknown datacenter is ApiError 500 "No path to datacenter"', async () => {
    await assert.rejects(client.kv.get('x', { datacenter: 'nowhere' }), (e: unknown) =>
      e instanceof ApiError && e.statusCode === 500 && /No path to datacenter/.test(e.message));
  });
});
