// `?cached` reads on a client agent (in-process server and clients on 127.0.0.1): the first read
// is a MISS, the next a HIT with Age; a background-refresh entry follows catalog changes and
// serves blocking reads; a prepared query (simple caching) is fetched again under
// Cache-Control max-age=0 and answered stale under stale-if-error once the server is stopped;
// ?cached with ?consistent is refused, and http_config.use_cache = false forwards as uncached.
// The server answers ?cached reads from its own cache as Consul's server agents do.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createAgent, createClientAgent, type Agent, type ClientAgent } from '../src/index.ts';
import { loadConfig } from '../src/agent/config/index.ts';
import { silentLogger } from '../src/log.ts';
import { freePort } from './support/ports.ts';
import { until } from './support/wait.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-agent-cache-'));
let server: Agent;
let client: ClientAgent;
let uncached: ClientAgent;
let serverHttp = '';
let clientHttp = '';
let uncachedHttp = '';

async function config(name: string, hcl: string) {
  fs.writeFileSync(path.join(dir, `${name}.hcl`), hcl);
  return (await loadConfig({ args: ['-config-file', path.join(dir, `${name}.hcl`)], env: {} })).config;
}

const common = (http: number, serf: number, rpc: number) => `data_dir = "${dir}/${http}"
bind_addr = "127.0.0.1"
client_addr = "127.0.0.1"
ports { http = ${http} https = -1 dns = -1 grpc = -1 grpc_tls = -1 serf_lan = ${serf} serf_wan = -1 server = ${rpc} }
`;

before(async () => {
  const [sh, ss, sr, ch, cs, uh, us] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  server = createAgent(await config('s', `node_name = "s1"\nserver = true\nbootstrap_expect = 1\n${common(sh, ss, sr)}`), { logger: silentLogger() });
  await server.start();
  const join = `retry_join = ["127.0.0.1:${ss}"]\n`;
  client = createClientAgent(await config('c', `node_name = "c1"\n${join}${common(ch, cs, sr)}`), { logger: silentLogger() });
  await client.start();
  uncached = createClientAgent(await config('u', `node_name = "c2"\n${join}http_config { use_cache = false }\n${common(uh, us, sr)}`), { logger: silentLogger() });
  await uncached.start();
  [serverHttp, clientHttp, uncachedHttp] = [`127.0.0.1:${sh}`, `127.0.0.1:${ch}`, `127.0.0.1:${uh}`];
  await until('clients know the server', 20_000, async () => client.servers.servers().length > 0 && uncached.servers.servers().length > 0);
  await until('a leader', 20_000, async () => (await fetch(`http://${serverHttp}/v1/status/leader`).then((r) => r.json())) !== '');
  await register('web-1', '10.0.0.1');
});

after(async () => {
  await uncached?.stop();
  await client?.stop();
  await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function register(node: string, address: string): Promise<void> {
  const r = await fetch(`http://${serverHttp}/v1/catalog/register`, {
    method: 'PUT', body: JSON.stringify({ Node: node, Address: address, Service: { Service: 'web', Port: 80 } }),
  });
  assert.equal(r.status, 200);
}

async function get(addr: string, urlPath: string, headers: Record<string, string> = {}) {
  const r = await fetch(`http://${addr}${urlPath}`, { headers });
  const text = await r.text();
  return { status: r.status, text, headers: r.headers, json: () => JSON.parse(text) as unknown };
}

test('a cached catalog read misses, then hits with Age 0 while the background query keeps up', async () => {
  const first = await get(clientHttp, '/v1/catalog/service/web?cached');
  assert.equal(first.status, 200);
  assert.equal(first.headers.get('x-cache'), 'MISS');
  assert.equal(first.headers.get('age'), null);
  assert.deepEqual((first.json() as { Node: string }[]).map((n) => n.Node), ['web-1']);
  const second = await get(clientHttp, '/v1/catalog/service/web?cached');
  assert.equal(second.headers.get('x-cache'), 'HIT');
  assert.equal(second.headers.get('age'), '0');
  assert.equal(second.headers.get('x-consul-index'), first.headers.get('x-consul-index'));
  assert.equal(second.text, first.text);
  // The cache reads stale from the servers; the answer names the reader's consistency.
  assert.equal(second.headers.get('x-consul-effective-consistency'), 'leader');
  assert.equal((await get(clientHttp, '/v1/catalog/service/web?cached&stale')).headers.get('x-consul-effective-consistency'), 'stale');
  // The same read without ?cached is forwarded as before, with no cache headers.
  assert.equal((await get(clientHttp, '/v1/catalog/service/web')).headers.get('x-cache'), null);
  for (const p of ['/v1/health/service/web?cached', '/v1/catalog/services?cached']) {
    assert.equal((await get(clientHttp, p)).headers.get('x-cache'), 'MISS', p);
    assert.equal((await get(clientHttp, p)).headers.get('x-cache'), 'HIT', p);
  }
  // Consul's cache metrics.
  const metrics = (await get(clientHttp, '/v1/agent/metrics')).json() as { Counters: { Name: string; Count: number }[]; Gauges: { Name: string; Value: number }[] };
  const counter = (name: string) => metrics.Counters.find((c) => c.Name === name)?.Count;
  assert.equal(counter('consul.cache.catalog_services.hit'), 2, 'the ?stale read shares the entry');
  assert.equal(counter('consul.cache.catalog_services.miss_new'), 1);
  assert.ok((counter('consul.cache.fetch_success') ?? 0) >= 3);
  assert.equal(metrics.Gauges.find((g) => g.Name === 'consul.cache.entries_count')?.Value, 3);
});

test('a change reaches the cached entry through the background refresh, and a cached blocking read waits for it', async () => {
  const before = await get(clientHttp, '/v1/health/service/web?cached');
  const index = Number(before.headers.get('x-consul-index'));
  assert.ok(index > 0);
  const blocked = get(clientHttp, `/v1/health/service/web?cached&index=${index}&wait=30s`);
  await register('web-2', '10.0.0.2');
  const woke = await blocked;
  assert.equal(woke.status, 200);
  assert.ok(Number(woke.headers.get('x-consul-index')) > index);
  assert.equal(woke.headers.get('x-cache'), 'MISS', 'a read that waited is not a hit');
  assert.deepEqual((woke.json() as { Node: { Node: string } }[]).map((e) => e.Node.Node).sort(), ['web-1', 'web-2']);
  await until('the catalog entry refreshed', 10_000, async () => {
    const r = await get(clientHttp, '/v1/catalog/service/web?cached');
    return r.headers.get('x-cache') === 'HIT' && (r.json() as unknown[]).length === 2;
  });
});

test('a server answers ?cached reads from its own cache too, and refuses an unreadable Cache-Control on any read', async () => {
  assert.equal((await get(serverHttp, '/v1/catalog/service/web?cached')).headers.get('x-cache'), 'MISS');
  const hit = await get(serverHttp, '/v1/catalog/service/web?cached');
  assert.equal(hit.headers.get('x-cache'), 'HIT');
  assert.equal(hit.headers.get('age'), '0');
  assert.equal((hit.json() as unknown[]).length, 2);
  assert.equal((await get(serverHttp, '/v1/catalog/service/web')).headers.get('x-cache'), null);
  const bad = await get(serverHttp, '/v1/kv/a', { 'Cache-Control': 'max-age=x' });
  assert.deepEqual([bad.status, bad.text], [400, 'Invalid Cache-Control header.']);
});

test('?cached with ?consistent is refused, as is a Cache-Control value that is not a number', async () => {
  const r = await get(clientHttp, '/v1/catalog/service/web?cached&consistent');
  assert.equal(r.status, 400);
  assert.equal(r.text, 'Cannot specify ?cached with ?consistent, conflicting semantics.');
  const cc = await get(clientHttp, '/v1/catalog/service/web?cached', { 'Cache-Control': 'max-age=soon' });
  assert.equal(cc.status, 400);
  assert.equal(cc.text, 'Invalid Cache-Control header.');
});

test('http_config.use_cache = false: ?cached reads are forwarded as uncached ones', async () => {
  for (let i = 0; i < 2; i++) {
    const r = await get(uncachedHttp, '/v1/catalog/service/web?cached');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-cache'), null);
  }
});

test('a cached prepared query: max-age=0 fetches again, stale-if-error answers the kept result once the server is gone', async () => {
  const created = await fetch(`http://${serverHttp}/v1/query`, { method: 'POST', body: JSON.stringify({ Name: 'webq', Service: { Service: 'web' } }) });
  assert.equal(created.status, 200);
  const { ID } = (await created.json()) as { ID: string };
  const url = `/v1/query/${ID}/execute?cached`;
  const miss = await get(clientHttp, url);
  assert.equal(miss.status, 200);
  assert.equal(miss.headers.get('x-cache'), 'MISS');
  assert.equal((miss.json() as { Nodes: unknown[] }).Nodes.length, 2);
  const hit = await get(clientHttp, url, { 'Cache-Control': 'max-age=3600' });
  assert.equal(hit.headers.get('x-cache'), 'HIT');
  assert.match(hit.headers.get('age') ?? '', /^\d+$/);
  assert.equal((await get(clientHttp, url, { 'Cache-Control': 'max-age=0' })).headers.get('x-cache'), 'MISS');
  assert.equal((await get(clientHttp, url, { 'Cache-Control': 'must-revalidate' })).headers.get('x-cache'), 'MISS');

  await server.stop();
  const down = await get(clientHttp, url, { 'Cache-Control': 'max-age=0' });
  assert.equal(down.status, 500, 'no stale-if-error: the failure is answered');
  const stale = await get(clientHttp, url, { 'Cache-Control': 'max-age=0, stale-if-error=3600' });
  assert.equal(stale.status, 200);
  assert.equal(stale.headers.get('x-cache'), 'HIT');
  assert.match(stale.headers.get('age') ?? '', /^\d+$/);
  assert.equal((stale.json() as { Nodes: unknown[] }).Nodes.length, 2);
  // A background-refresh entry keeps answering what it had.
  const catalog = await get(clientHttp, '/v1/catalog/service/web?cached');
  assert.equal(catalog.status, 200);
  assert.equal(catalog.headers.get('x-cache'), 'HIT');
  assert.equal((catalog.json() as unknown[]).length, 2);
  // An uncached read fails.
  assert.equal((await get(clientHttp, '/v1/catalog/service/web')).status, 500);
});
