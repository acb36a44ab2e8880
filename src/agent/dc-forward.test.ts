import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { test } from 'node:test';
import { silentLogger } from '../log.ts';
import { Router, type HttpRequest } from '../http/index.ts';
import { Forwarder } from './forward.ts';
import { followsDatacenter, forwardingRouter } from './dc-forward.ts';

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const request = (method: string, path: string, query: string, headers: Record<string, string> = {}): HttpRequest => ({
  method, path, url: `${path}?${query}`, params: { rest: '' }, query: new URLSearchParams(query), headers, remoteAddr: '127.0.0.1',
  signal: new AbortController().signal, body: async () => Buffer.alloc(0),
});

test('?dc=<other> goes to a server of that datacenter, failing over past one that is down; the local dc and agent routes stay local', async () => {
  const seen: { url?: string; token?: string }[] = [];
  const remote = http.createServer((req, res) => {
    seen.push({ url: req.url, token: req.headers['x-consul-token'] as string });
    res.writeHead(200, { 'X-Consul-Index': '77', 'Content-Type': 'application/json' }).end('["remote"]');
  });
  await new Promise<void>((r) => remote.listen(0, '127.0.0.1', r));
  const live = `127.0.0.1:${(remote.address() as net.AddressInfo).port}`;
  const down = `127.0.0.1:${await closedPort()}`;
  const local = new Router()
    .route('GET', '/v1/kv/*', async () => ({ body: ['local'] }))
    .route('GET', '/v1/agent/self', async () => ({ body: 'self' }));
  const forwarder = new Forwarder({ logger: silentLogger() });
  const router = forwardingRouter(local, {
    datacenter: 'dc1', nodeName: 's1', forwarder, defaultToken: () => 'agent-default',
    routes: { rpcAddresses: (dc) => (dc === 'dc2' ? [down, live] : []) },
  });
  try {
    const run = (path: string, query: string, headers?: Record<string, string>) => router.match('GET', path)!.handler(request('GET', path, query, headers));
    const res = await run('/v1/kv/a', 'dc=dc2&recurse=');
    assert.equal(res.status, 200);
    assert.equal(Buffer.from(res.raw as Buffer).toString(), '["remote"]');
    assert.equal(res.headers?.['X-Consul-Index'], '77');
    assert.deepEqual(seen, [{ url: '/v1/kv/a?dc=dc2&recurse=', token: 'agent-default' }]);
    await run('/v1/kv/a', 'dc=dc2', { 'x-consul-token': 'mine' });
    assert.equal(seen[1].token, 'mine', 'the caller\'s token is kept');
    assert.deepEqual((await run('/v1/kv/a', 'dc=dc1')).body, ['local']);
    assert.deepEqual((await run('/v1/kv/a', '')).body, ['local']);
    assert.equal((await run('/v1/agent/self', 'dc=dc2')).body, 'self');
    await assert.rejects(run('/v1/kv/a', 'dc=dc9'), { message: 'No path to datacenter', name: 'InternalError' });
    assert.deepEqual(router.list(), local.list());
    assert.equal(router.match('GET', '/v1/nothing'), null);
  } finally {
    forwarder.close();
    remote.close();
  }
});

test('agent endpoints and the WAN-wide listings ignore ?dc; everything else follows it', () => {
  for (const p of ['/v1/agent/members', '/v1/catalog/datacenters', '/v1/coordinate/datacenters', '/v1/event/list', '/v1/operator/keyring']) {
    assert.equal(followsDatacenter(p), false, p);
  }
  for (const p of ['/v1/kv/x', '/v1/catalog/service/web', '/v1/health/service/web', '/v1/coordinate/nodes', '/v1/event/fire/x', '/v1/txn', '/v1/status/leader']) {
    assert.equal(followsDatacenter(p), true, p);
  }
});

test('a prepared query read sent to another datacenter keeps its agent (a client\'s, else this server) and the caller\'s address, as Consul\'s forwarded Execute does', async () => {
  const seen: { path?: string; agent?: string; xff?: string }[] = [];
  const remote = http.createServer((req, res) => {
    seen.push({ path: req.url?.split('?')[0], agent: req.headers['x-proconsul-query-agent'] as string | undefined, xff: req.headers['x-forwarded-for'] as string | undefined });
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
  });
  await new Promise<void>((r) => remote.listen(0, '127.0.0.1', r));
  const live = `127.0.0.1:${(remote.address() as net.AddressInfo).port}`;
  const local = new Router().route('GET', '/v1/query/*', async () => ({ body: 'local' })).route('GET', '/v1/kv/*', async () => ({ body: 'local' }));
  const forwarder = new Forwarder({ logger: silentLogger() });
  const router = forwardingRouter(local, { datacenter: 'dc1', nodeName: 's1', forwarder, defaultToken: () => '', routes: { rpcAddresses: () => [live] } });
  try {
    const run = (path: string, headers: Record<string, string> = {}) => router.match('GET', path)!.handler({ ...request('GET', path, 'dc=dc2', headers), remoteAddr: '10.0.0.9' });
    await run('/v1/query/q/execute');
    await run('/v1/query/q/execute', { 'x-proconsul-query-agent': 'c1', 'x-forwarded-for': '10.0.0.7' });
    await run('/v1/kv/a');
    assert.deepEqual(seen, [
      { path: '/v1/query/q/execute', agent: 's1', xff: '10.0.0.9' },
      { path: '/v1/query/q/execute', agent: 'c1', xff: '10.0.0.7' },
      { path: '/v1/kv/a', agent: undefined, xff: undefined },
    ]);
  } finally {
    forwarder.close();
    remote.close();
  }
});

test('a prepared query write sent to another datacenter keeps the transport request\'s body and abort signal', async () => {
  const seen: { method?: string; body: string }[] = [];
  const remote = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => { body += d; }).on('end', () => {
      seen.push({ method: req.method, body });
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => remote.listen(0, '127.0.0.1', r));
  const live = `127.0.0.1:${(remote.address() as net.AddressInfo).port}`;
  // As the transport hands requests over (http/server.ts): signal, aborts and body() on the prototype.
  class TransportRequest {
    readonly method: string;
    readonly path: string;
    readonly url: string;
    readonly params = { rest: '' };
    readonly query: URLSearchParams;
    readonly headers = {};
    readonly remoteAddr = '10.0.0.9';
    readonly #controller = new AbortController();
    constructor(method: string, path: string, query: string) {
      this.method = method;
      this.path = path;
      this.url = `${path}?${query}`;
      this.query = new URLSearchParams(query);
    }
    get signal(): AbortSignal {
      return this.#controller.signal;
    }
    body(): Promise<Buffer> {
      return Promise.resolve(Buffer.from('{"Name":"q2"}'));
    }
  }
  const local = new Router().route('PUT', '/v1/query/*', async () => ({ body: 'local' }));
  const forwarder = new Forwarder({ logger: silentLogger() });
  const router = forwardingRouter(local, { datacenter: 'dc1', nodeName: 's1', forwarder, defaultToken: () => '', routes: { rpcAddresses: () => [live] } });
  try {
    const res = await router.match('PUT', '/v1/query/q')!.handler(new TransportRequest('PUT', '/v1/query/q', 'dc=dc2'));
    assert.equal(res.status ?? 200, 200);
    assert.deepEqual(seen, [{ method: 'PUT', body: '{"Name":"q2"}' }]);
  } finally {
    forwarder.close();
    remote.close();
  }
});
