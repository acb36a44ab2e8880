// dns_config.allow_stale = false and use_cache / cache_max_age on client agents, with dig: a
// server in this process (its store can hold back the replica's watch batches, as a lagging
// server's would, until someone reads the store's current revision, which is what a consistent
// read does) and three client agent processes: `plain` (defaults), `strict` (allow_stale = false)
// and `cached` (use_cache, cache_max_age 4s). Outcomes are asserted, never durations.
import assert from 'node:assert/strict';
import { type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createAgent, loadConfig, type Agent } from '../src/index.ts';
import { silentLogger } from '../src/log.ts';
import { MemoryStore, type Store, type WatchHandlers } from '../src/store/index.ts';
import { freePort } from './support/etcd.ts';
import { killAll, spawnAgent } from './support/procs.ts';
import { digAt, type DigResult } from './support/dns.ts';
import { until } from './support/wait.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-dns-cache-'));
const ports = { http: 0, dns: 0, serf: 0, wan: 0, server: 0 };
const children: ChildProcess[] = [];
let log = '';
const SERVER = '127.0.0.1';
const PLAIN = '127.0.0.4';
const STRICT = '127.0.0.5';
const CACHED = '127.0.0.6';
let server: Agent;
let stopped = false;

/** A MemoryStore whose watch batches wait while held, and are all delivered when currentRevision() is read. */
function holdingStore(): { store: Store; inner: MemoryStore; hold(): void } {
  const inner = new MemoryStore();
  let held: (() => void)[] | null = null;
  const release = (): void => {
    const batches = held ?? [];
    held = null;
    for (const deliver of batches) deliver();
  };
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'watch') {
        return (after: number, h: WatchHandlers) => target.watch(after, {
          ...h,
          onBatch: (b) => (held ? held.push(() => h.onBatch(b)) : h.onBatch(b)),
        });
      }
      if (prop === 'currentRevision') return async () => (release(), target.currentRevision());
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { store, inner, hold: () => { held ??= []; } };
}
const held = holdingStore();

after(async () => {
  killAll(children);
  if (!stopped) await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function call(ip: string, urlPath: string, init: RequestInit = {}): Promise<{ status: number; text: string }> {
  const r = await fetch(`http://${ip}:${ports.http}${urlPath}`, { ...init, signal: AbortSignal.timeout(10_000) });
  return { status: r.status, text: await r.text() };
}

const POLL = { retryErrors: true, context: () => log.slice(-4000) };
const ask = (ip: string, name: string, type = 'A'): Promise<DigResult> => digAt(ip, ports.dns, name, type, '+time=5');
const addresses = (r: DigResult): string[] => r.answer.filter((a) => a[3] === 'A').map((a) => a[4]).sort();
const register = (service: string, address: string) => call(SERVER, '/v1/catalog/register', {
  method: 'PUT', body: JSON.stringify({ Node: `ext-${service}`, Address: address, Service: { Service: service, Port: 80 } }),
});

before(async () => {
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  fs.writeFileSync(path.join(dir, 'agent.json'), JSON.stringify({
    ports: { http: ports.http, dns: ports.dns, grpc: -1, grpc_tls: -1, serf_lan: ports.serf, serf_wan: ports.wan, server: ports.server },
    retry_interval: '1s',
  }));
  const clientCfg = (name: string, dnsConfig: Record<string, unknown>): string => {
    const file = path.join(dir, `${name}.json`);
    fs.writeFileSync(file, JSON.stringify({ dns_config: dnsConfig }));
    return file;
  };
  const { config } = await loadConfig({
    args: ['-server', '-bootstrap', '-node', 'srv', '-bind', SERVER, '-client', SERVER, '-data-dir', path.join(dir, 'srv'), '-config-file', path.join(dir, 'agent.json')],
  });
  server = createAgent(config, { store: held.store, logger: silentLogger() });
  await server.start();
  for (const [name, ip, dnsConfig] of [['plain', PLAIN, {}], ['strict', STRICT, { allow_stale: false }], ['cached', CACHED, { use_cache: true, cache_max_age: '4s' }]] as const) {
    children.push(spawnAgent({
      node: name, ip, dataDir: path.join(dir, name), configFile: path.join(dir, 'agent.json'),
      extra: ['-config-file', clientCfg(name, dnsConfig), '-retry-join', `${SERVER}:${ports.serf}`],
    }, (text) => { log = (log + text).slice(-20_000); }));
  }
  assert.equal((await register('web', '10.2.0.1')).status, 200);
  for (const ip of [PLAIN, STRICT, CACHED]) {
    await until(`web in the DNS of ${ip}`, 30_000, async () => addresses(await ask(ip, 'web.service.consul')).length === 1, POLL);
  }
});

test('runtime configuration shows the DNS consistency and cache settings under Consul\'s names', async () => {
  const debug = async (ip: string) => (JSON.parse((await call(ip, '/v1/agent/self')).text) as { DebugConfig: Record<string, unknown> }).DebugConfig;
  const cached = await debug(CACHED);
  assert.deepEqual([cached.DNSUseCache, cached.DNSCacheMaxAge, cached.DNSAllowStale, cached.DNSMaxStale], [true, '4s', true, '87600h0m0s']);
  const strict = await debug(STRICT);
  assert.deepEqual([strict.DNSUseCache, strict.DNSCacheMaxAge, strict.DNSAllowStale], [false, '0s', false]);
});

test('allow_stale = false: a client agent\'s lookup waits for the server\'s consistent read; stale lookups answer from the lagging replica', async () => {
  const before = await held.inner.currentRevision();
  held.hold();
  // The write commits at once; the server's replica (and so the HTTP answer) waits for its batch.
  const write = register('late', '10.1.1.1');
  await until('the write in the store', 10_000, async () => (await held.inner.currentRevision()) > before);
  const stale = await ask(PLAIN, 'late.service.consul');
  assert.equal(stale.status, 'NXDOMAIN', `the replica has not applied the write: ${stale.raw}`);
  const strict = await ask(STRICT, 'late.service.consul');
  assert.equal(strict.status, 'NOERROR', strict.raw);
  assert.deepEqual(addresses(strict), ['10.1.1.1']);
  assert.equal((await write).status, 200);
  assert.deepEqual(addresses(await ask(PLAIN, 'late.service.consul')), ['10.1.1.1'], 'caught up, the stale path sees it too');
});

test('use_cache: service answers follow changes through the background refresh', async () => {
  assert.deepEqual(addresses(await ask(CACHED, 'web.service.consul')), ['10.2.0.1']);
  assert.equal((await register('web', '10.2.0.2')).status, 200);
  await until('the cached answer refreshed', 15_000, async () => addresses(await ask(CACHED, 'web.service.consul'))[0] === '10.2.0.2', POLL);
  const srv = await ask(CACHED, 'web.service.consul', 'SRV');
  assert.equal(srv.answer.length, 1, srv.raw);
  assert.ok(srv.flags.includes('aa'), srv.raw);
});

test('use_cache: a prepared query answer comes from the cache until cache_max_age, then is fetched again', async () => {
  assert.equal((await register('api', '10.3.0.1')).status, 200);
  const created = await call(SERVER, '/v1/query', { method: 'POST', body: JSON.stringify({ Name: 'pq', Service: { Service: 'api' } }) });
  assert.equal(created.status, 200, created.text);
  assert.deepEqual(addresses(await ask(CACHED, 'pq.query.consul')), ['10.3.0.1']);
  assert.equal((await register('api', '10.3.0.2')).status, 200);
  assert.deepEqual(addresses(await ask(PLAIN, 'pq.query.consul')), ['10.3.0.2'], 'uncached lookups see the change');
  assert.deepEqual(addresses(await ask(CACHED, 'pq.query.consul')), ['10.3.0.1'], 'younger than cache_max_age: the cached answer');
  await until('the prepared query fetched again', 30_000, async () => addresses(await ask(CACHED, 'pq.query.consul'))[0] === '10.3.0.2', POLL);
});

test('use_cache: a prepared query running near the asker is cached per EDNS0 client subnet, never served to another', async () => {
  for (const [node, address] of [['near1', '10.0.9.1'], ['near3', '10.0.9.3']]) {
    const r = await call(SERVER, '/v1/catalog/register', { method: 'PUT', body: JSON.stringify({ Node: node, Address: address, Service: { Service: 'ipsvc', Port: 1 } }) });
    assert.equal(r.status, 200, r.text);
  }
  const created = await call(SERVER, '/v1/query', { method: 'POST', body: JSON.stringify({ Name: 'nearq', Service: { Service: 'ipsvc', Near: '_ip' } }) });
  assert.equal(created.status, 200, created.text);
  const first = async (subnet: string): Promise<string | undefined> => {
    const r = await digAt(CACHED, ports.dns, '+time=5', `+subnet=${subnet}/32`, 'nearq.query.consul', 'A');
    return r.answer.find((a) => a[3] === 'A')?.[4];
  };
  for (let i = 0; i < 3; i++) {
    assert.equal(await first('10.0.9.3'), '10.0.9.3');
    assert.equal(await first('10.0.9.1'), '10.0.9.1', 'not the answer cached for 10.0.9.3');
  }
});

test('use_cache: namespace and partition lookups are answered for their own names', async () => {
  const dflt = await ask(CACHED, 'web.service.default.ns.consul');
  assert.equal(dflt.status, 'NOERROR', dflt.raw);
  assert.deepEqual(dflt.answer.map((a) => a[0]), ['web.service.default.ns.consul.']);
  assert.equal((await ask(CACHED, 'web.service.ns1.ns.consul')).status, 'NXDOMAIN');
  assert.equal((await ask(CACHED, 'web.service.p1.peer.consul')).status, 'NXDOMAIN');
  assert.equal((await ask(CACHED, 'web.service.consul')).status, 'NOERROR', 'the plain name keeps its answer');
});

test('use_cache: a namespace\'s service answer follows that namespace\'s changes through the background refresh', async () => {
  assert.equal((await call(SERVER, '/v1/namespace', { method: 'PUT', body: JSON.stringify({ Name: 'team-1' }) })).status, 200);
  const reg = (address: string) => call(SERVER, '/v1/catalog/register', {
    method: 'PUT', body: JSON.stringify({ Node: 'ext-web-ns', Address: address, Service: { Service: 'web', Port: 80, Namespace: 'team-1' } }),
  });
  assert.equal((await reg('10.4.0.1')).status, 200);
  assert.deepEqual(addresses(await ask(CACHED, 'web.service.team-1.ns.consul')), ['10.4.0.1']);
  assert.equal((await reg('10.4.0.2')).status, 200);
  await until('the namespaced cached answer refreshed', 15_000, async () => addresses(await ask(CACHED, 'web.service.team-1.ns.consul'))[0] === '10.4.0.2', POLL);
  assert.deepEqual(addresses(await ask(CACHED, 'web.service.consul')), ['10.2.0.2'], 'the default namespace\'s answer is its own');
});

test('use_cache: with the server gone, cached answers are served until cache_max_age after contact was lost, then SERVFAIL', async () => {
  assert.deepEqual(addresses(await ask(CACHED, 'web.service.consul')), ['10.2.0.2']);
  stopped = true;
  await server.stop();
  const uncached = await ask(PLAIN, 'web.service.consul');
  assert.equal(uncached.status, 'SERVFAIL', uncached.raw);
  const fromCache = await ask(CACHED, 'web.service.consul');
  assert.equal(fromCache.status, 'NOERROR', fromCache.raw);
  assert.deepEqual(addresses(fromCache), ['10.2.0.2']);
  await until('the cached answer too old to serve', 30_000, async () => (await ask(CACHED, 'web.service.consul')).status === 'SERVFAIL', POLL);
});
