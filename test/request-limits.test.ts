// limits.request_limits on real agent processes: a server with write_rate = read_rate = 1 (a
// burst of 10) refuses in enforcing mode, a write on the leader with 503 and a read with 429 in
// Consul's texts, for its own HTTP API and for requests a client agent forwards; the bucket
// refills; a reload to permissive lets everything through and counts
// consul.rpc.rate_limit.exceeded; agent-local and Status routes are never limited. A client's own
// limits.rpc_rate, set by a reload, refuses its RPCs with a bodiless 429; a server's holds its own
// HTTP API only. A control-plane-request-limit entry written with /v1/config limits a category per source IP.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './support/ports.ts';
import { killAll, spawnAgent } from './support/procs.ts';
import { until } from './support/wait.ts';

const RETRY_ELSEWHERE = 'rate limit exceeded, try again later or against a different server';
const RETRY_LATER = 'rate limit exceeded for operation that can only be performed by the leader, try again later';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-request-limits-'));
const ports = { http: 0, serf: 0, wan: 0, server: 0 };
const children: ChildProcess[] = [];
let log = '';
const SERVER = '127.0.0.1';
const CLIENT = '127.0.0.7';
const limitsFile = path.join(dir, 'limits.json');
const clientLimitsFile = path.join(dir, 'client-limits.json');
const clientRpcRate = (rate: number, burst: number) => fs.writeFileSync(clientLimitsFile, JSON.stringify({ limits: { rpc_rate: rate, rpc_max_burst: burst } }));

after(() => {
  killAll(children);
  fs.rmSync(dir, { recursive: true, force: true });
});

function launch(name: string, ip: string, extra: string[]): void {
  children.push(spawnAgent({ node: name, ip, dataDir: path.join(dir, name), configFile: path.join(dir, 'agent.json'), extra },
    (text) => { log = (log + text).slice(-20_000); }));
}

async function call(ip: string, urlPath: string, method = 'GET', body?: string): Promise<{ status: number; text: string }> {
  const r = await fetch(`http://${ip}:${ports.http}${urlPath}`, { method, body, signal: AbortSignal.timeout(5000) });
  return { status: r.status, text: await r.text() };
}

/** A GET to the server from another loopback source address (not a server's). */
function callFrom(source: string, urlPath: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: SERVER, port: ports.http, path: urlPath, localAddress: source, agent: false, timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => { text += c; }).on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject).on('timeout', () => req.destroy(new Error('timeout')));
  });
}

const POLL = { retryErrors: true, context: () => log.slice(-4000) };
const limits = (mode: string) => fs.writeFileSync(limitsFile, JSON.stringify({ limits: { request_limits: { mode, read_rate: 1, write_rate: 1 } } }));

/** `n` requests in a row; the statuses and texts of those not answered 200. */
async function burst(n: number, f: () => Promise<{ status: number; text: string }>): Promise<{ ok: number; refused: { status: number; text: string }[] }> {
  let ok = 0;
  const refused: { status: number; text: string }[] = [];
  for (let i = 0; i < n; i++) {
    const r = await f();
    if (r.status === 200) ok++;
    else refused.push(r);
  }
  return { ok, refused };
}

async function exceeded(mode: string): Promise<number> {
  const m = JSON.parse((await call(SERVER, '/v1/agent/metrics')).text) as { Counters: { Name: string; Count: number; Labels: Record<string, string> }[] };
  return m.Counters.filter((c) => c.Name === 'consul.rpc.rate_limit.exceeded' && c.Labels.mode === mode).reduce((s, c) => s + c.Count, 0);
}

before(async () => {
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  fs.writeFileSync(path.join(dir, 'agent.json'), JSON.stringify({
    ports: { http: ports.http, dns: -1, grpc: -1, grpc_tls: -1, serf_lan: ports.serf, serf_wan: ports.wan, server: ports.server },
    retry_interval: '1s',
  }));
  limits('enforcing');
  launch('srv', SERVER, ['-server', '-bootstrap', '-config-file', limitsFile]);
  clientRpcRate(-1, 1000);
  launch('cli', CLIENT, ['-retry-join', `${SERVER}:${ports.serf}`, '-config-file', clientLimitsFile]);
  await until('the client in the server catalog', 30_000, async () => {
    const r = await call(SERVER, '/v1/catalog/node/cli');
    return r.status === 200 && r.text !== 'null';
  }, POLL);
});

test('enforcing on the leader: writes refused with 503, reads with 429, in Consul texts; agent and Status routes not limited', async () => {
  const writes = await burst(25, () => call(SERVER, '/v1/kv/w', 'PUT', 'x'));
  // The first ten at least (the burst: ten seconds of write_rate), then about one a second.
  assert.ok(writes.ok >= 1 && writes.refused.length > 0, `${writes.ok} of 25 went through`);
  for (const r of writes.refused) assert.deepEqual(r, { status: 503, text: RETRY_LATER });
  const reads = await burst(25, () => call(SERVER, '/v1/kv/w'));
  assert.ok(reads.refused.length > 0);
  for (const r of reads.refused) assert.deepEqual(r, { status: 429, text: RETRY_ELSEWHERE });
  for (let i = 0; i < 5; i++) {
    assert.equal((await call(SERVER, '/v1/status/leader')).status, 200);
    assert.equal((await call(SERVER, '/v1/agent/self')).status, 200);
  }
});

test('the write bucket refills: a refused write goes through again once a token is back', async () => {
  const r = await until('a write accepted again', 10_000, async () => {
    const w = await call(SERVER, '/v1/kv/refill', 'PUT', 'y');
    return w.status === 200 ? w : undefined;
  }, POLL);
  assert.equal(r.text, 'true');
});

test('requests a client agent forwards count against the server: refused with the same code and text', async () => {
  const writes = await burst(25, () => call(CLIENT, '/v1/kv/from-client', 'PUT', 'z'));
  assert.ok(writes.refused.length > 0, 'some forwarded writes refused');
  for (const r of writes.refused) assert.deepEqual(r, { status: 503, text: RETRY_LATER });
  // The client's own endpoints make no RPC.
  assert.equal((await call(CLIENT, '/v1/agent/members')).status, 200);
});

test('a reload to permissive lets everything through and counts the excess in consul.rpc.rate_limit.exceeded', async () => {
  assert.ok(await exceeded('enforcing') > 0);
  const before = await exceeded('permissive');
  limits('permissive');
  assert.equal((await call(SERVER, '/v1/agent/reload', 'PUT')).status, 200);
  const writes = await burst(25, () => call(SERVER, '/v1/kv/p', 'PUT', 'x'));
  assert.deepEqual(writes.refused, []);
  assert.ok(await exceeded('permissive') - before >= 10, 'the writes past the burst were counted');
  // And back to disabled: nothing more is counted.
  limits('disabled');
  assert.equal((await call(SERVER, '/v1/agent/reload', 'PUT')).status, 200);
  const counted = await exceeded('permissive');
  assert.deepEqual((await burst(25, () => call(SERVER, '/v1/kv/d', 'PUT', 'x'))).refused, []);
  assert.equal(await exceeded('permissive'), counted);
});

test('a client agent\'s limits.rpc_rate (set by a reload) refuses its RPCs with a bodiless 429 and counts consul.client.rpc.exceeded', async () => {
  clientRpcRate(0.001, 1);
  assert.equal((await call(CLIENT, '/v1/agent/reload', 'PUT')).status, 200);
  const reads = await burst(5, () => call(CLIENT, '/v1/catalog/nodes'));
  assert.ok(reads.refused.length >= 4, `${reads.refused.length} of 5 refused`);
  for (const r of reads.refused) assert.deepEqual(r, { status: 429, text: '' });
  // Its own endpoints make no RPC.
  assert.equal((await call(CLIENT, '/v1/agent/self')).status, 200);
  const m = JSON.parse((await call(CLIENT, '/v1/agent/metrics')).text) as { Counters: { Name: string; Count: number }[] };
  assert.ok((m.Counters.find((c) => c.Name === 'consul.client.rpc.exceeded')?.Count ?? 0) >= 4);
  clientRpcRate(-1, 1000);
  assert.equal((await call(CLIENT, '/v1/agent/reload', 'PUT')).status, 200);
  assert.deepEqual((await burst(5, () => call(CLIENT, '/v1/catalog/nodes'))).refused, []);
});

test('a server\'s limits.rpc_rate holds its own HTTP API\'s calls, not the requests client agents send it', async () => {
  fs.writeFileSync(limitsFile, JSON.stringify({ limits: { rpc_rate: 0.001, rpc_max_burst: 1 } }));
  assert.equal((await call(SERVER, '/v1/agent/reload', 'PUT')).status, 200);
  const own = await burst(5, () => call(SERVER, '/v1/catalog/nodes'));
  assert.ok(own.refused.length >= 4, `${own.refused.length} of 5 refused`);
  for (const r of own.refused) assert.deepEqual(r, { status: 429, text: '' });
  assert.deepEqual((await burst(5, () => call(CLIENT, '/v1/catalog/nodes'))).refused, []);
  limits('disabled');
  assert.equal((await call(SERVER, '/v1/agent/reload', 'PUT')).status, 200);
  assert.deepEqual((await burst(5, () => call(SERVER, '/v1/catalog/nodes'))).refused, []);
});

test('a control-plane-request-limit entry limits each source IP per category in its own mode while the global mode is on', async () => {
  fs.writeFileSync(limitsFile, JSON.stringify({ limits: { request_limits: { mode: 'permissive' } } }));
  assert.equal((await call(SERVER, '/v1/agent/reload', 'PUT')).status, 200);
  const entry = { Kind: 'control-plane-request-limit', Name: 'kv-reads', Mode: 'enforcing', KV: { ReadRate: 1, WriteRate: 1000 } };
  assert.equal((await call(SERVER, '/v1/config', 'PUT', JSON.stringify(entry))).text, 'true');
  const source = '127.0.0.5';
  const kv = await burst(20, () => callFrom(source, '/v1/kv/w'));
  assert.ok(kv.refused.length > 0, 'KV reads past the category burst refused');
  for (const r of kv.refused) assert.deepEqual(r, { status: 429, text: RETRY_ELSEWHERE });
  // Another category keeps the entry's default of 100 a second.
  assert.deepEqual((await burst(20, () => callFrom(source, '/v1/catalog/nodes'))).refused, []);
  // Per-source limits skip the servers' own addresses (Consul's IsServer), as this server's.
  assert.deepEqual((await burst(20, () => call(SERVER, '/v1/kv/w'))).refused, []);
  assert.equal((await call(SERVER, '/v1/config/control-plane-request-limit/kv-reads', 'DELETE')).status, 200);
  assert.deepEqual((await burst(20, () => callFrom(source, '/v1/kv/w'))).refused, []);
});
