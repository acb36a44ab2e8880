import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { test } from 'node:test';
import { silentLogger } from '../log.ts';
import { DEADLINE_REACHED, Forwarder, NO_SERVERS, callTimeout, type ServerSource } from './forward.ts';
import { SERVICE_CONFIG_RPC_PATH } from './rpc-server.ts';
import { RpcRateExceededError } from '../errors.ts';
import { errorResponse } from '../http/errors.ts';
import { ServerList } from './server-list.ts';
import type { Member } from '../gossip/index.ts';

async function freeClosedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

function list(addrs: string[]): ServerSource & { failedOnes: string[] } {
  const failedOnes: string[] = [];
  return { servers: () => addrs, failed: (a) => failedOnes.push(a), failedOnes };
}

test('forwards method, path, query, headers and body; passes status and headers back; fails over on refused', async () => {
  const seen: { method?: string; url?: string; token?: string; body: string }[] = [];
  const srv = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, token: req.headers['x-consul-token'] as string, body });
      res.writeHead(201, { 'X-Consul-Index': '42', 'Content-Type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const good = `127.0.0.1:${(srv.address() as net.AddressInfo).port}`;
  const dead = `127.0.0.1:${await freeClosedPort()}`;
  const fwd = new Forwarder({ logger: silentLogger() });
  try {
    const src = list([dead, good]);
    const res = await fwd.send(src, { method: 'PUT', url: '/v1/kv/a%20b?cas=3', headers: { 'x-consul-token': 't1' }, body: Buffer.from('v') });
    assert.equal(res.status, 201);
    assert.equal(res.headers['X-Consul-Index'], '42');
    assert.equal(res.body.toString(), '{"ok":true}');
    assert.equal(res.server, good);
    assert.deepEqual(src.failedOnes, [dead]);
    assert.deepEqual(seen, [{ method: 'PUT', url: '/v1/kv/a%20b?cas=3', token: 't1', body: 'v' }]);
    await assert.rejects(fwd.send(list([]), { method: 'GET', url: '/v1/kv/x', headers: {} }), { message: NO_SERVERS });
    await assert.rejects(fwd.send(list([dead]), { method: 'GET', url: '/v1/kv/x', headers: {} }), { message: /^rpc error making call: ECONNREFUSED/ });
  } finally {
    fwd.close();
    srv.close();
  }
});

test('the server list keeps alive servers of the datacenter and cycles a failed one to the back', () => {
  const m = (name: string, tags: Record<string, string>, state: Member['state'] = 'alive'): Member =>
    ({ name, addr: `127.0.0.${name.slice(1)}`, port: 8301, tags, incarnation: 1, state, stateChange: 0 });
  const servers = new ServerList({ datacenter: 'dc1', random: () => 0.99 });
  servers.update(m('s1', { role: 'consul', dc: 'dc1', port: '8300' }));
  servers.update(m('s2', { role: 'consul', dc: 'dc1', port: '8300' }));
  servers.update(m('s3', { role: 'consul', dc: 'dc2', port: '8300' }));
  servers.update(m('s4', { role: 'node', dc: 'dc1' }));
  assert.deepEqual(servers.servers(), ['127.0.0.1:8300', '127.0.0.2:8300']);
  servers.failed('127.0.0.1:8300');
  assert.deepEqual(servers.servers(), ['127.0.0.2:8300', '127.0.0.1:8300']);
  servers.update(m('s2', { role: 'consul', dc: 'dc1', port: '8300' }, 'suspect'));
  assert.deepEqual(servers.servers(), ['127.0.0.2:8300', '127.0.0.1:8300']);
  servers.update(m('s2', { role: 'consul', dc: 'dc1', port: '8300' }, 'dead'));
  assert.deepEqual(servers.servers(), ['127.0.0.1:8300']);
});

test('a server still starting (503 agent is starting) is passed over like a refused connection', async () => {
  const starting = http.createServer((_req, res) => res.writeHead(503).end('agent is starting'));
  const fine = http.createServer((_req, res) => res.end('ok'));
  await Promise.all([starting, fine].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
  const addr = (s: http.Server) => `127.0.0.1:${(s.address() as net.AddressInfo).port}`;
  const fwd = new Forwarder({ logger: silentLogger() });
  try {
    const src = list([addr(starting), addr(fine)]);
    const res = await fwd.send(src, { method: 'PUT', url: '/v1/kv/x', headers: {}, body: Buffer.from('v') });
    assert.equal(res.body.toString(), 'ok');
    assert.deepEqual(src.failedOnes, [addr(starting)]);
  } finally {
    fwd.close();
    starting.close();
    fine.close();
  }
});

test('a write on a pooled connection that breaks is not resent to another server (it may have been applied)', async () => {
  let seen = 0;
  // Answers its first request over keep-alive, then drops the connection on the next one after reading it.
  const flaky = http.createServer((req, res) => {
    seen++;
    if (seen === 1) res.end('first');
    else req.socket.destroy();
  });
  const fine = http.createServer((_req, res) => res.end('ok'));
  await Promise.all([flaky, fine].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
  const addr = (s: http.Server) => `127.0.0.1:${(s.address() as net.AddressInfo).port}`;
  const fwd = new Forwarder({ logger: silentLogger() });
  try {
    const first = await fwd.send(list([addr(flaky), addr(fine)]), { method: 'GET', url: '/v1/kv/x', headers: {} });
    assert.equal(first.body.toString(), 'first');
    await assert.rejects(fwd.send(list([addr(flaky), addr(fine)]), { method: 'PUT', url: '/v1/kv/x', headers: {}, body: Buffer.from('v') }),
      { message: 'rpc error making call: socket hang up' });
    assert.equal(seen, 2, 'the pooled connection carried the write to the first server');
  } finally {
    fwd.close();
    flaky.close();
    fine.close();
  }
});

test('a request the server may have seen is not resent: reads fail over, writes on a fresh connection do not', async () => {
  const hangUp = http.createServer((req) => req.socket.destroy());
  const fine = http.createServer((_req, res) => res.end('ok'));
  await Promise.all([hangUp, fine].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
  const addr = (s: http.Server) => `127.0.0.1:${(s.address() as net.AddressInfo).port}`;
  const fwd = new Forwarder({ logger: silentLogger() });
  try {
    const read = await fwd.send(list([addr(hangUp), addr(fine)]), { method: 'GET', url: '/v1/kv/x', headers: {} });
    assert.equal(read.body.toString(), 'ok');
    await assert.rejects(fwd.send(list([addr(hangUp), addr(fine)]), { method: 'PUT', url: '/v1/kv/x', headers: {}, body: Buffer.from('v') }),
      { message: 'rpc error making call: socket hang up' });
  } finally {
    fwd.close();
    hangUp.close();
    fine.close();
  }
});

test('a caller that leaves ends the forwarded call and its connection, by AbortSignal or by a plain abort target', async () => {
  const held: http.ServerResponse[] = [];
  let closed = 0;
  const srv = http.createServer((req, res) => {
    held.push(res);
    req.socket.once('close', () => { closed++; });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = `127.0.0.1:${(srv.address() as net.AddressInfo).port}`;
  const fwd = new Forwarder({ logger: silentLogger() });
  try {
    const ac = new AbortController();
    const bySignal = fwd.send(list([addr]), { method: 'GET', url: '/v1/kv/a?index=5', headers: {}, signal: ac.signal });
    // The exchange's abort as the HTTP transport hands it over: no AbortController behind it.
    const listeners = new Set<{ handleEvent(): void }>();
    const target = {
      aborted: false,
      addEventListener: (_t: 'abort', l: { handleEvent(): void }) => { listeners.add(l); },
      removeEventListener: (_t: 'abort', l: { handleEvent(): void }) => { listeners.delete(l); },
    };
    const byTarget = fwd.send(list([addr]), { method: 'GET', url: '/v1/kv/b?index=5', headers: {}, signal: target });
    while (held.length < 2) await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    target.aborted = true;
    for (const l of listeners) l.handleEvent();
    await assert.rejects(bySignal, { name: 'AbortError' });
    await assert.rejects(byTarget, { name: 'AbortError' });
    while (closed < 2) await new Promise((r) => setTimeout(r, 5));
    assert.equal(listeners.size, 0, 'the listener is removed once the call ended');
    // Already aborted: nothing is sent.
    await assert.rejects(fwd.send(list([addr]), { method: 'GET', url: '/v1/kv/c', headers: {}, signal: target }), { name: 'AbortError' });
    assert.equal(held.length, 2);
  } finally {
    fwd.close();
    srv.closeAllConnections();
    srv.close();
  }
});

test('connections opened by many concurrent callers stay pooled for the next requests', async () => {
  const sockets = new Set<net.Socket>();
  let pending: http.ServerResponse[] = [];
  const srv = http.createServer((req, res) => {
    sockets.add(req.socket);
    pending.push(res);
    // Answer once all 64 are in, so each needed its own connection.
    if (pending.length === 64) {
      for (const r of pending) r.end('ok');
      pending = [];
    }
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = `127.0.0.1:${(srv.address() as net.AddressInfo).port}`;
  const fwd = new Forwarder({ logger: silentLogger() });
  try {
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: 64 }, () => fwd.send(list([addr]), { method: 'GET', url: '/v1/kv/a', headers: {} })));
    }
    assert.equal(sockets.size, 64, 'three rounds of 64 callers used the same 64 connections');
  } finally {
    fwd.close();
    srv.closeAllConnections();
    srv.close();
  }
});

test('a server rate limit refusal to retry elsewhere is retried on the next server until rpc_hold_timeout; retry later is not', async () => {
  const hits: string[] = [];
  const serve = (name: string, status: number, text: string) => http.createServer((req, res) => {
    hits.push(name);
    req.resume();
    req.on('end', () => res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(text));
  });
  const limited = serve('limited', 429, 'rate limit exceeded, try again later or against a different server');
  const leader = serve('leader', 503, 'rate limit exceeded for operation that can only be performed by the leader, try again later');
  const ok = serve('ok', 200, 'true');
  const addr = async (s: http.Server) => {
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return `127.0.0.1:${(s.address() as net.AddressInfo).port}`;
  };
  const [a, b, c] = [await addr(limited), await addr(leader), await addr(ok)];
  // A clock whose time moves 1 s per reading; waits end at once.
  let now = 0;
  const clock = { now: () => (now += 1000), setTimer: (_ms: number, fn: () => void) => { setImmediate(fn); return { cancel() {} }; } };
  const fwd = new Forwarder({ logger: silentLogger(), rateLimitRetry: { clock, holdMs: 7000, random: () => 0.5 } });
  // A ServerList-like source that moves a failed server to the back.
  const rotating = (addrs: string[]): ServerSource & { failedOnes: string[] } => {
    const order = [...addrs];
    const failedOnes: string[] = [];
    return { servers: () => order, failed: (x) => { failedOnes.push(x); order.push(order.splice(order.indexOf(x), 1)[0]); }, failedOnes };
  };
  try {
    const src = rotating([a, c]);
    const res = await fwd.send(src, { method: 'GET', url: '/v1/kv/x', headers: {} });
    assert.equal(res.status, 200);
    assert.deepEqual(hits, ['limited', 'ok']);
    assert.deepEqual(src.failedOnes, [a]);
    // Only the limited server: tried until the hold timeout has passed, then its 429 is the answer.
    hits.length = 0;
    const alone = await fwd.send(rotating([a]), { method: 'GET', url: '/v1/kv/x', headers: {} });
    assert.equal(alone.status, 429);
    assert.ok(hits.length > 1 && hits.length <= 7, `${hits.length} tries`);
    // The leader's refusal is final: no other server can take the write.
    hits.length = 0;
    assert.equal((await fwd.send(rotating([b, c]), { method: 'PUT', url: '/v1/kv/x', headers: {} })).status, 503);
    assert.deepEqual(hits, ['leader']);
  } finally {
    fwd.close();
    for (const s of [limited, leader, ok]) s.close();
  }
});

test('limits.rpc_rate: a call past the client\'s limit is refused before any server is tried, answered over HTTP as a bodiless 429', async () => {
  let tried = 0;
  const src: ServerSource = { servers: () => { tried++; return ['127.0.0.1:1']; } };
  const fwd = new Forwarder({ logger: silentLogger(), rpcLimit: () => false });
  try {
    const err = await fwd.send(src, { method: 'GET', url: '/v1/kv/x', headers: {} }).catch((e: unknown) => e);
    assert.ok(err instanceof RpcRateExceededError);
    assert.equal(tried, 0);
    assert.deepEqual(errorResponse(err), { status: 429, message: '' });
  } finally {
    fwd.close();
  }
});

test('rate limit retries back off as Consul\'s client: each wait between the previous one and a ceiling doubling from rpc_hold_timeout / 16', async () => {
  let hits = 0;
  const limited = http.createServer((req, res) => {
    hits++;
    req.resume();
    req.on('end', () => res.writeHead(429, { 'Content-Type': 'text/plain; charset=utf-8' }).end('rate limit exceeded, try again later or against a different server'));
  });
  await new Promise<void>((r) => limited.listen(0, '127.0.0.1', r));
  const a = `127.0.0.1:${(limited.address() as net.AddressInfo).port}`;
  // Time moves only by the waits asked for.
  let now = 0;
  const waits: number[] = [];
  const clock = { now: () => now, setTimer: (ms: number, fn: () => void) => { waits.push(ms); now += ms; setImmediate(fn); return { cancel() {} }; } };
  const fwd = new Forwarder({ logger: silentLogger(), rateLimitRetry: { clock, holdMs: 1600, random: () => 0.5 } });
  try {
    const res = await fwd.send({ servers: () => [a] }, { method: 'GET', url: '/v1/kv/x', headers: {} });
    assert.equal(res.status, 429);
    // Ceilings 100, 200, 400, 800, 1600 ms: the waits grow instead of staying at 50 ms (33 tries).
    assert.deepEqual(waits, [50, 125, 262.5, 531.25, 1065.625]);
    assert.equal(hits, 6);
  } finally {
    fwd.close();
    limited.close();
  }
});

test('limits.rpc_rate holds rate-limit retries too: each try takes a token, and the limit\'s error ends the retries', async () => {
  let hits = 0;
  const limited = http.createServer((req, res) => {
    hits++;
    req.resume();
    req.on('end', () => res.writeHead(429, { 'Content-Type': 'text/plain; charset=utf-8' }).end('rate limit exceeded, try again later or against a different server'));
  });
  await new Promise<void>((r) => limited.listen(0, '127.0.0.1', r));
  const a = `127.0.0.1:${(limited.address() as net.AddressInfo).port}`;
  let now = 0;
  const clock = { now: () => now, setTimer: (ms: number, fn: () => void) => { now += ms; setImmediate(fn); return { cancel() {} }; } };
  let tokens = 2;
  const fwd = new Forwarder({ logger: silentLogger(), rateLimitRetry: { clock, holdMs: 7000, random: () => 0.5 }, rpcLimit: () => tokens-- > 0 });
  try {
    const err = await fwd.send({ servers: () => [a] }, { method: 'GET', url: '/v1/kv/x', headers: {} }).catch((e: unknown) => e);
    assert.ok(err instanceof RpcRateExceededError);
    assert.equal(hits, 2);
  } finally {
    fwd.close();
    limited.close();
  }
});

test('discovery_max_stale on a client agent: forwarded catalog and health reads ask for stale bounded by it, others pass unchanged', async () => {
  const urls: string[] = [];
  const srv = http.createServer((req, res) => {
    urls.push(req.url ?? '');
    res.end('[]');
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const fwd = new Forwarder({ logger: silentLogger() });
  try {
    const handle = fwd.handler(list([`127.0.0.1:${(srv.address() as net.AddressInfo).port}`]), { discovery: { discoveryMaxStaleMs: 1_000, useCache: true } });
    const mk = (path: string, query: string) => ({
      method: 'GET', path, url: query ? `${path}?${query}` : path, params: { rest: '' }, query: new URLSearchParams(query), headers: {},
      remoteAddr: '127.0.0.1', signal: new AbortController().signal, body: async () => Buffer.alloc(0),
    });
    await handle(mk('/v1/health/service/web', 'passing'));
    await handle(mk('/v1/catalog/nodes', ''));
    await handle(mk('/v1/catalog/nodes', 'consistent'));
    await handle(mk('/v1/kv/a', ''));
    await handle(mk('/v1/catalog/nodes', 'max_stale=0s&near=_agent'));
    // The bound travels with the read, so the server answers past it as a default read (Consul's RETRY_ONCE).
    assert.deepEqual(urls, [
      '/v1/health/service/web?passing&max_stale=1s', '/v1/catalog/nodes?max_stale=1s', '/v1/catalog/nodes?consistent', '/v1/kv/a',
      '/v1/catalog/nodes?max_stale=1s&near=_agent',
    ]);
  } finally {
    fwd.close();
    srv.close();
  }
});

test('limits.rpc_client_timeout: a call unanswered past it fails with Consul\'s read-deadline error; a blocking read gets its wait instead', async () => {
  const t = { clientMs: 60_000, holdMs: 7_000, maxQueryMs: 600_000, defaultQueryMs: 300_000 };
  assert.equal(callTimeout(t, 'GET', '/v1/kv/a'), 60_000);
  assert.equal(callTimeout(t, 'PUT', '/v1/kv/a?index=5'), 60_000);
  assert.equal(callTimeout(t, 'GET', '/v1/kv/a?index=0&wait=1m'), 60_000);
  // wait + wait/16 of jitter + rpc_hold_timeout, the wait capped at max_query_time or defaulted.
  assert.equal(callTimeout(t, 'GET', '/v1/kv/a?index=5&wait=16s'), 16_000 + 1_000 + 7_000);
  assert.equal(callTimeout(t, 'GET', '/v1/kv/a?index=5'), 300_000 + 18_750 + 7_000);
  assert.equal(callTimeout(t, 'GET', '/v1/kv/a?wait=20m&index=5'), 600_000 + 37_500 + 7_000);
  // The internal RPC's blocking reads are POSTs (a client agent's service-config watch waits 5m).
  assert.equal(callTimeout(t, 'POST', `${SERVICE_CONFIG_RPC_PATH}?index=5&wait=5m`), 300_000 + 18_750 + 7_000);
  assert.equal(callTimeout(t, 'POST', `${SERVICE_CONFIG_RPC_PATH}?index=0&wait=5m`), 60_000);
  assert.equal(callTimeout({ ...t, clientMs: 0 }, 'GET', '/v1/kv/a'), 0);
  assert.equal(callTimeout({ ...t, clientMs: 5 * 3_600_000 }, 'GET', '/v1/kv/a'), 3_600_000);
  // A snapshot streams over Consul's SnapshotRPC, without the deadline.
  assert.equal(callTimeout(t, 'PUT', '/v1/snapshot?dc=dc1'), 0);

  const held: http.ServerResponse[] = [];
  const srv = http.createServer((_req, res) => { held.push(res); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const addr = `127.0.0.1:${(srv.address() as net.AddressInfo).port}`;
  const fwd = new Forwarder({ logger: silentLogger(), timeouts: { ...t, clientMs: 100 } });
  try {
    await assert.rejects(fwd.send(list([addr]), { method: 'PUT', url: '/v1/kv/x', headers: {}, body: Buffer.from('v') }), { message: DEADLINE_REACHED });
    assert.equal(held.length, 1, 'the server got the call');
  } finally {
    fwd.close();
    for (const r of held) r.destroy();
    srv.close();
  }
});
