// Hostname addresses and the ingress cache watch on client agents (real processes, dig): a server
// on 127.0.0.1 whose recursor (127.0.0.7) resolves api.example.test to lb2.example.test /
// 198.51.100.8, and two clients whose own recursor (127.0.0.6) resolves it to lb.example.test /
// 192.0.2.8: `plain` (defaults) and `cached` (use_cache). A client answers a hostname address as a
// server does, but with what its own recursors give; use_cache answers resolve it per lookup, and
// their `<svc>.ingress` answers follow ingress-gateway config entries as well as gateway health.
import assert from 'node:assert/strict';
import { type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Answer } from 'dns-packet';
import { freePort } from './support/etcd.ts';
import { killAll, spawnAgent } from './support/procs.ts';
import { digAt, upstream, type DigResult } from './support/dns.ts';
import { until } from './support/wait.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-client-dns-hostnames-'));
const ports = { http: 0, dns: 0, serf: 0, wan: 0, server: 0 };
const children: ChildProcess[] = [];
let log = '';
const SERVER = '127.0.0.1';
const PLAIN = '127.0.0.4';
const CACHED = '127.0.0.5';
const CLIENT_RECURSOR = '127.0.0.6';
const SERVER_RECURSOR = '127.0.0.7';
let clientUp: Awaited<ReturnType<typeof upstream>>;
let serverUp: Awaited<ReturnType<typeof upstream>>;
/** What the clients' recursor answers (changed by a test: read per query). */
const clientRecords: Record<string, Answer[]> = {
  'api.example.test': [
    { type: 'CNAME', name: 'api.example.test', ttl: 60, data: 'lb.example.test' },
    { type: 'A', name: 'lb.example.test', ttl: 60, data: '192.0.2.8' },
  ],
};

after(async () => {
  killAll(children);
  await clientUp?.close();
  await serverUp?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function call(ip: string, urlPath: string, init: RequestInit = {}): Promise<{ status: number; text: string }> {
  const r = await fetch(`http://${ip}:${ports.http}${urlPath}`, { ...init, signal: AbortSignal.timeout(10_000) });
  return { status: r.status, text: await r.text() };
}

const POLL = { retryErrors: true, context: () => log.slice(-4000) };
const ask = (ip: string, name: string, type = 'A', ...opts: string[]): Promise<DigResult> => digAt(ip, ports.dns, name, type, ...opts);
/** Records as [name, type, data]. */
const rows = (records: string[][]): string[][] => records.map((a) => [a[0], a[3], a.slice(4).join(' ')]);
const register = (body: unknown) => call(SERVER, '/v1/catalog/register', { method: 'PUT', body: JSON.stringify(body) });
const hostname = (node: string, ip: string, id: string, service: string, address: string, port = 443) =>
  register({ Node: node, Address: ip, Service: { ID: id, Service: service, Port: port, Address: address } });

before(async () => {
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  clientUp = await upstream(clientRecords, 0, CLIENT_RECURSOR);
  serverUp = await upstream({
    'api.example.test': [
      { type: 'CNAME', name: 'api.example.test', ttl: 60, data: 'lb2.example.test' },
      { type: 'A', name: 'lb2.example.test', ttl: 60, data: '198.51.100.8' },
    ],
  }, 0, SERVER_RECURSOR);
  fs.writeFileSync(path.join(dir, 'agent.json'), JSON.stringify({
    ports: { http: ports.http, dns: ports.dns, grpc: -1, grpc_tls: -1, serf_lan: ports.serf, serf_wan: ports.wan, server: ports.server },
    retry_interval: '1s',
  }));
  const file = (name: string, content: unknown): string => {
    const f = path.join(dir, `${name}.json`);
    fs.writeFileSync(f, JSON.stringify(content));
    return f;
  };
  const launch = (node: string, ip: string, extra: string[]) => children.push(spawnAgent(
    { node, ip, dataDir: path.join(dir, node), configFile: path.join(dir, 'agent.json'), extra },
    (text) => { log = (log + text).slice(-20_000); },
  ));
  launch('srv', SERVER, ['-server', '-bootstrap', '-config-file', file('srv', { recursors: [`${SERVER_RECURSOR}:${serverUp.port}`] })]);
  const recursors = [`${CLIENT_RECURSOR}:${clientUp.port}`];
  launch('plain', PLAIN, ['-config-file', file('plain', { recursors }), '-retry-join', `${SERVER}:${ports.serf}`]);
  launch('cached', CACHED, ['-config-file', file('cached', { recursors, dns_config: { use_cache: true } }), '-retry-join', `${SERVER}:${ports.serf}`]);
  await until('the server to take registrations', 30_000, async () => (await hostname('ext1', '10.5.0.1', 'ext', 'ext', 'api.example.test')).status === 200, POLL);
  for (let i = 0; i < 4; i++) assert.equal((await hostname(`h${i}`, `10.5.1.${i}`, `exth${i}`, 'exth', 'api.example.test', 500 + i)).status, 200);
  // A hostname under the domain whose own address is a hostname: resolved through the server's catalog.
  assert.equal((await hostname('al1', '10.5.2.1', 'alias', 'alias', 'ext.service.consul')).status, 200);
  for (const ip of [PLAIN, CACHED]) {
    await until(`the DNS of ${ip} to answer through a server`, 30_000, async () => (await ask(ip, 'ext.service.consul')).status === 'NOERROR', POLL);
  }
});

const SERVER_CHAIN = [['api.example.test.', 'CNAME', 'lb2.example.test.'], ['lb2.example.test.', 'A', '198.51.100.8']];
const CLIENT_CHAIN = [['api.example.test.', 'CNAME', 'lb.example.test.'], ['lb.example.test.', 'A', '192.0.2.8']];

test('A, AAAA and ANY: a client agent follows the CNAME with what its own recursors give, as a server does with its own', async () => {
  assert.deepEqual(rows((await ask(SERVER, 'ext.service.consul')).answer), [['ext.service.consul.', 'CNAME', 'api.example.test.'], ...SERVER_CHAIN]);
  for (const ip of [PLAIN, CACHED]) {
    for (const type of ['A', 'AAAA', 'ANY']) {
      const r = await ask(ip, 'ext.service.consul', type);
      assert.equal(r.status, 'NOERROR', r.raw);
      assert.deepEqual(rows(r.answer), [['ext.service.consul.', 'CNAME', 'api.example.test.'], ...CLIENT_CHAIN], `${ip} ${type}`);
      assert.ok(r.answer.every((a) => a[1] === '0'), `the answer's TTL: ${r.raw}`);
      assert.ok(r.flags.includes('aa') && r.flags.includes('ra'), r.raw);
    }
  }
});

test('SRV: a hostname target gets the client recursors\' records as additionals, and keeps its whole chain when cut', async () => {
  const server = await ask(SERVER, 'ext.service.consul', 'SRV');
  assert.deepEqual(rows(server.additional), SERVER_CHAIN);
  for (const ip of [PLAIN, CACHED]) {
    const srv = await ask(ip, 'ext.service.consul', 'SRV');
    assert.deepEqual(rows(srv.answer), [['ext.service.consul.', 'SRV', '1 1 443 api.example.test.']], ip);
    assert.deepEqual(rows(srv.additional), CLIENT_CHAIN, ip);
    // Without EDNS0 over UDP, cut to udp_answer_limit (3) as a server cuts it.
    const cut = await ask(ip, 'exth.service.consul', 'SRV', '+noedns', '+ignore');
    const onServer = await ask(SERVER, 'exth.service.consul', 'SRV', '+noedns', '+ignore');
    assert.equal(cut.answer.length, onServer.answer.length, cut.raw);
    assert.equal(cut.answer.length, 3, cut.raw);
    assert.deepEqual(rows(cut.additional), CLIENT_CHAIN, `${ip}: ${cut.raw}`);
    // Over TCP nothing is cut.
    assert.equal((await ask(ip, 'exth.service.consul', 'SRV', '+tcp')).answer.length, 4);
  }
});

test('a hostname under the domain is answered through a server, and its own hostname through the client\'s recursors', async () => {
  for (const ip of [PLAIN, CACHED]) {
    const r = await ask(ip, 'alias.service.consul');
    assert.deepEqual(rows(r.answer), [
      ['alias.service.consul.', 'CNAME', 'ext.service.consul.'], ['ext.service.consul.', 'CNAME', 'api.example.test.'], ...CLIENT_CHAIN,
    ], `${ip}: ${r.raw}`);
  }
});

test('a prepared query answer completed on the client keeps the EDNS0 client subnet scope a server gives it', async () => {
  const created = await call(SERVER, '/v1/query', { method: 'POST', body: JSON.stringify({ Name: 'extq', Service: { Service: 'ext' } }) });
  assert.equal(created.status, 200, created.text);
  for (const ip of [SERVER, PLAIN, CACHED]) {
    const r = await ask(ip, 'extq.query.consul', 'A', '+subnet=10.0.9.0/24');
    assert.deepEqual(rows(r.answer).slice(1), ip === SERVER ? SERVER_CHAIN : CLIENT_CHAIN, `${ip}: ${r.raw}`);
    assert.match(r.raw, /CLIENT-SUBNET: 10\.0\.9\.0\/24\/24/, ip);
  }
});

test('use_cache: the hostname is resolved per lookup, so a change at the recursor shows at once', async () => {
  const before = clientUp.queries;
  assert.deepEqual(rows((await ask(CACHED, 'ext.service.consul')).answer).slice(1), CLIENT_CHAIN);
  assert.equal(clientUp.queries - before, 1, 'the cached answer asked the recursor');
  clientRecords['api.example.test'] = [{ type: 'A', name: 'api.example.test', ttl: 60, data: '192.0.2.99' }];
  try {
    assert.deepEqual(rows((await ask(CACHED, 'ext.service.consul')).answer), [['ext.service.consul.', 'CNAME', 'api.example.test.'], ['api.example.test.', 'A', '192.0.2.99']]);
  } finally {
    clientRecords['api.example.test'] = [
      { type: 'CNAME', name: 'api.example.test', ttl: 60, data: 'lb.example.test' },
      { type: 'A', name: 'lb.example.test', ttl: 60, data: '192.0.2.8' },
    ];
  }
});

test('use_cache: <svc>.ingress answers follow ingress-gateway config entries, not only gateway health', async () => {
  const gateway = (node: string, ip: string, name: string) => register({
    Node: node, Address: ip, Service: { ID: name, Service: name, Kind: 'ingress-gateway', Port: 8443 },
    Check: { CheckID: `${name}-c`, Name: 'c', ServiceID: name, Status: 'passing' },
  });
  const entry = (name: string, services: string[], method = 'PUT') => call(SERVER, method === 'PUT' ? '/v1/config' : `/v1/config/ingress-gateway/${name}`, {
    method, body: method === 'PUT' ? JSON.stringify({ Kind: 'ingress-gateway', Name: name, Listeners: services.map((Name, i) => ({ Port: 8080 + i, Protocol: Name === '*' ? 'http' : 'tcp', Services: [{ Name }] })) }) : undefined,
  });
  const addrs = async (ip: string) => (await ask(ip, 'shop.ingress.consul')).answer.filter((a) => a[3] === 'A').map((a) => a[4]).sort();
  // Cached before any ingress-gateway entry exists.
  assert.equal((await ask(CACHED, 'shop.ingress.consul')).status, 'NXDOMAIN');
  assert.equal((await gateway('gw1', '10.3.0.1', 'igw1')).status, 200);
  assert.equal((await gateway('gw2', '10.3.0.2', 'igw2')).status, 200);
  for (const [name, services] of [['igw1', ['shop']], ['igw2', ['other']]] as const) {
    const res = await entry(name, [...services]);
    assert.equal(res.status, 200, res.text);
  }
  await until('shop through igw1 in the cache', 15_000, async () => (await addrs(CACHED)).join() === '10.3.0.1', POLL);
  // A second gateway's entry links shop: nothing about any gateway's health changed.
  const linked = await entry('igw2', ['other', 'shop']);
  assert.equal(linked.status, 200, linked.text);
  assert.deepEqual(await addrs(PLAIN), ['10.3.0.1', '10.3.0.2'], 'uncached lookups see the entry');
  await until('the cached answer to follow the new entry', 15_000, async () => (await addrs(CACHED)).join() === '10.3.0.1,10.3.0.2', POLL);
  // The first gateway's entry goes.
  assert.equal((await entry('igw1', [], 'DELETE')).status, 200);
  await until('the cached answer to follow the deleted entry', 15_000, async () => (await addrs(CACHED)).join() === '10.3.0.2', POLL);
  // A wildcard entry links a typical service registered after the lookup was cached.
  assert.equal((await gateway('gw3', '10.3.0.3', 'igw3')).status, 200);
  assert.equal((await entry('igw3', ['*'])).status, 200);
  assert.equal((await ask(CACHED, 'late.ingress.consul')).status, 'NXDOMAIN');
  assert.equal((await register({ Node: 'late1', Address: '10.6.0.1', Service: { Service: 'late', Port: 80 } })).status, 200);
  await until('the cached answer to follow the wildcard', 15_000, async () => (await ask(CACHED, 'late.ingress.consul')).answer.some((a) => a[4] === '10.3.0.3'), POLL);
});
