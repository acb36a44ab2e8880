// DNS on a client agent of an admin partition (real processes): names without `.ap` are answered in
// the client's partition (Consul's docs: "all service lookups use the default namespace within the
// partition of the Consul agent that received the DNS query"), so the default partition's services
// and nodes need `.default.ap`; the server, in the default partition, answers them plainly. A `.sg`
// name reads the sameness group of the client's partition (under use_cache, refreshed as any other).
import assert from 'node:assert/strict';
import { type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { freePort } from './support/etcd.ts';
import { killAll, spawnAgent } from './support/procs.ts';
import { digAt } from './support/dns.ts';
import { until } from './support/wait.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-client-dns-ap-'));
const ports = { http: 0, dns: 0, serf: 0, wan: 0, server: 0 };
const children: ChildProcess[] = [];
let log = '';
const SERVER = '127.0.0.1';
const CLIENT = '127.0.0.4';
const POLL = { retryErrors: true, context: () => log.slice(-4000) };

after(() => {
  killAll(children);
  fs.rmSync(dir, { recursive: true, force: true });
});

function launch(name: string, ip: string, extra: string[]): void {
  children.push(spawnAgent({ node: name, ip, dataDir: path.join(dir, name), configFile: path.join(dir, 'agent.json'), extra },
    (text) => { log = (log + text).slice(-20_000); }));
}

async function call(ip: string, method: string, urlPath: string, body?: unknown): Promise<{ status: number; text: string }> {
  const r = await fetch(`http://${ip}:${ports.http}${urlPath}`, { method, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(5000) });
  return { status: r.status, text: await r.text() };
}

const addrs = async (ip: string, name: string): Promise<string[]> => (await digAt(ip, ports.dns, name, 'A')).answer.map((r) => r[4]);

before(async () => {
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  fs.writeFileSync(path.join(dir, 'agent.json'), JSON.stringify({
    ports: { http: ports.http, dns: ports.dns, grpc: -1, grpc_tls: -1, serf_lan: ports.serf, serf_wan: ports.wan, server: ports.server },
    retry_interval: '1s',
  }));
  // use_cache: the client's answers are cached and refreshed on blocking reads in its partition.
  fs.writeFileSync(path.join(dir, 'client.json'), JSON.stringify({ partition: 'p1', dns_config: { use_cache: true } }));
  launch('srv', SERVER, ['-server', '-bootstrap']);
  await until('the server to take a partition', 30_000, async () => (await call(SERVER, 'PUT', '/v1/partition', { Name: 'p1' })).status === 200, POLL);
  const reg = await call(SERVER, 'PUT', '/v1/catalog/register', { Node: 'web-node', Address: '10.7.0.1', Service: { ID: 'web', Service: 'web', Port: 80 } });
  assert.equal(reg.status, 200, reg.text);
  launch('cli', CLIENT, ['-config-file', path.join(dir, 'client.json'), '-retry-join', `${SERVER}:${ports.serf}`]);
  await until('the client to answer DNS through the server', 30_000, async () => (await addrs(CLIENT, 'web.service.default.ap.consul')).length === 1, POLL);
});

test('a client in partition p1 answers plain names in p1; .default.ap names the default partition', async () => {
  assert.deepEqual(await addrs(SERVER, 'web.service.consul'), ['10.7.0.1']);
  assert.deepEqual(await addrs(CLIENT, 'web.service.default.ap.consul'), ['10.7.0.1']);
  assert.deepEqual(await addrs(CLIENT, 'web.service.default.ns.default.ap.consul'), ['10.7.0.1']);
  const plain = await digAt(CLIENT, ports.dns, 'web.service.consul', 'A');
  assert.equal(plain.status, 'NXDOMAIN', 'p1 has no web');
  assert.equal(plain.authority[0]?.[3], 'SOA');
  // Nodes are partition-level too.
  assert.deepEqual(await addrs(CLIENT, 'web-node.node.default.ap.consul'), ['10.7.0.1']);
  assert.equal((await digAt(CLIENT, ports.dns, 'web-node.node.consul', 'A')).status, 'NXDOMAIN');
  assert.deepEqual(await addrs(SERVER, 'web-node.node.consul'), ['10.7.0.1']);
  // A partition that does not exist.
  assert.equal((await digAt(CLIENT, ports.dns, 'web.service.p9.ap.consul', 'A')).status, 'NXDOMAIN');
});

test('use_cache on a client in p1: a cached answer of its partition (service and node) follows changes there', async () => {
  const reg = (address: string) => call(SERVER, 'PUT', '/v1/catalog/register?partition=p1', { Node: 'api-node', Address: address, Service: { ID: 'api', Service: 'api', Port: 80 } });
  assert.equal((await reg('10.7.1.1')).status, 200);
  await until('the client to answer p1\'s api', 15_000, async () => (await addrs(CLIENT, 'api.service.consul'))[0] === '10.7.1.1', POLL);
  assert.deepEqual(await addrs(CLIENT, 'api-node.node.consul'), ['10.7.1.1']);
  assert.deepEqual(await addrs(CLIENT, 'api.service.p1.ap.consul'), ['10.7.1.1']);
  assert.equal((await reg('10.7.1.2')).status, 200);
  await until('the cached service answer refreshed', 15_000, async () => (await addrs(CLIENT, 'api.service.consul'))[0] === '10.7.1.2', POLL);
  await until('the cached node answer refreshed', 15_000, async () => (await addrs(CLIENT, 'api-node.node.consul'))[0] === '10.7.1.2', POLL);
  await until('the .p1.ap answer refreshed', 15_000, async () => (await addrs(CLIENT, 'api.service.p1.ap.consul'))[0] === '10.7.1.2', POLL);
});

test('PTR on a client in p1 answers its partition\'s nodes, not the default partition\'s', async () => {
  const ptr = async (ip: string, name: string) => digAt(ip, ports.dns, name, 'PTR');
  assert.deepEqual((await ptr(SERVER, '1.0.7.10.in-addr.arpa')).answer.map((r) => r[4]), ['web-node.node.dc1.consul.']);
  assert.equal((await ptr(CLIENT, '1.0.7.10.in-addr.arpa')).status, 'NXDOMAIN', 'web-node is the default partition\'s');
  const p1node = (await ptr(CLIENT, '2.1.7.10.in-addr.arpa'));
  assert.deepEqual(p1node.answer.map((r) => r[4]), ['api-node.node.dc1.consul.'], p1node.raw);
  assert.equal((await ptr(SERVER, '2.1.7.10.in-addr.arpa')).status, 'NXDOMAIN', 'api-node is p1\'s');
});

test('a .sg name on a client in p1 reads p1\'s sameness group: the default partition answers for web it exports to p1', async () => {
  const put = async (p: string, body: unknown) => {
    const r = await call(SERVER, 'PUT', p, body);
    assert.equal(r.status, 200, r.text);
  };
  await put('/v1/config', { Kind: 'exported-services', Name: 'default', Services: [{ Name: 'web', Consumers: [{ Partition: 'p1' }] }] });
  await put('/v1/config?partition=p1', { Kind: 'sameness-group', Name: 'mine', DefaultForFailover: true, Members: [{ Partition: 'p1' }, { Partition: 'default' }] });
  await until('the client to answer web through p1\'s group', 15_000, async () => (await addrs(CLIENT, 'web.service.mine.sg.consul'))[0] === '10.7.0.1', POLL);
  assert.deepEqual(await addrs(CLIENT, 'web.service.mine.sg.p1.ap.consul'), ['10.7.0.1']);
  assert.equal((await digAt(SERVER, ports.dns, 'web.service.mine.sg.consul', 'A')).status, 'SERVFAIL', 'the default partition has no group mine');
  assert.deepEqual(await addrs(SERVER, 'web.service.mine.sg.p1.ap.consul'), ['10.7.0.1'], 'the server answers p1\'s group by its .ap label');
  // use_cache: the cached .sg answer follows the group's first member (p1) once it has web.
  const reg = await call(SERVER, 'PUT', '/v1/catalog/register?partition=p1', { Node: 'web-p1', Address: '10.7.2.1', Service: { ID: 'web', Service: 'web', Port: 80 } });
  assert.equal(reg.status, 200, reg.text);
  await until('the client\'s cached .sg answer to move to p1\'s web', 15_000, async () => (await addrs(CLIENT, 'web.service.mine.sg.consul'))[0] === '10.7.2.1', POLL);
});
