// translate_wan_addrs across two datacenters on real processes: dc1's server (127.0.0.2) has it
// on, dc2's (127.0.0.3) has it off, both catalogs hold `web` on nodes with `wan` tagged addresses.
// dc1 answers dig web.service.dc2.consul (A, SRV target and port, node) and ?dc=dc2 catalog and
// health reads with dc2's WAN addresses and says X-Consul-Translate-Addresses; its own results
// keep the LAN ones; dc2 translates nothing, for either datacenter. dc1 client agents translate
// by their own setting, not their server's.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { call, DcProcs, get, type Proc } from './support/dc-procs.ts';
import { digAt, type DigResult } from './support/dns.ts';
import { until } from './support/wait.ts';

const dcs = new DcProcs('wan-translate');
const procs = dcs.procs;
const POLL = dcs.poll;

/** `web` on two nodes of `dc` (10.<n>.0.x LAN, 198.51.100.<n>x WAN): one with its own WAN address and port, one without. */
async function seed(p: Proc, n: number): Promise<void> {
  const regs = [
    {
      Node: 'na', Address: `10.${n}.0.1`, TaggedAddresses: { lan: `10.${n}.0.1`, wan: `198.51.100.${n}1` },
      Service: { ID: 'web-a', Service: 'web', Address: `10.${n}.0.7`, Port: 8080, TaggedAddresses: { wan: { Address: `203.0.113.${n}7`, Port: 18080 } } },
    },
    { Node: 'nb', Address: `10.${n}.0.2`, TaggedAddresses: { wan: `198.51.100.${n}2` }, Service: { ID: 'web-b', Service: 'web', Port: 9090 } },
  ];
  for (const r of regs) {
    const res = await call(p, 'PUT', '/v1/catalog/register', JSON.stringify(r));
    assert.equal(res.status, 200, res.text);
  }
}

before(async () => {
  for (const [node, dc, ip, translate] of [['s1', 'dc1', '127.0.0.2', true], ['s2', 'dc2', '127.0.0.3', false]] as const) {
    await dcs.add(node, dc, ip, { translate_wan_addrs: translate });
  }
  const [dc1, dc2] = procs;
  dcs.launchServer(dc1);
  dcs.launchServer(dc2, ['-retry-join-wan', `${dc1.ip}:${dc1.wan}`, '-retry-interval-wan', '1s']);
  for (const p of procs) {
    await until(`${p.node} to see both datacenters`, 30_000, async () => (await get<string[]>(p, '/v1/catalog/datacenters'))?.length === 2, POLL);
  }
  await seed(dc1, 1);
  await seed(dc2, 2);
});

const sorted = (r: DigResult, col = 4): string[] => r.answer.map((a) => a.slice(col).join(' ')).sort();

test('agent/self shows translate_wan_addrs in DebugConfig', async () => {
  const [dc1, dc2] = procs;
  type Self = { DebugConfig: { TranslateWANAddrs: boolean } };
  assert.equal((await get<Self>(dc1, '/v1/agent/self'))?.DebugConfig.TranslateWANAddrs, true);
  assert.equal((await get<Self>(dc2, '/v1/agent/self'))?.DebugConfig.TranslateWANAddrs, false);
});

test('dc1 (translating) answers dc2 names over DNS with dc2\'s WAN addresses and ports', async () => {
  const [dc1] = procs;
  const a = await until('web.service.dc2.consul through dc1', 10_000, async () => {
    const r = await digAt(dc1.ip, dc1.dns, 'web.service.dc2.consul').catch(() => undefined);
    return r?.answer.length === 2 ? r : undefined;
  }, POLL);
  assert.deepEqual(sorted(a), ['198.51.100.22', '203.0.113.27']);
  const srv = await digAt(dc1.ip, dc1.dns, 'web.service.dc2.consul', 'SRV');
  assert.deepEqual(sorted(srv), ['1 1 18080 cb00711b.addr.dc2.consul.', '1 1 9090 nb.node.dc2.consul.']);
  assert.deepEqual(srv.additional.filter((r) => r[3] === 'A').map((r) => `${r[0]} ${r[4]}`).sort(),
    ['cb00711b.addr.dc2.consul. 203.0.113.27', 'nb.node.dc2.consul. 198.51.100.22']);
  assert.deepEqual(sorted(await digAt(dc1.ip, dc1.dns, 'na.node.dc2.consul')), ['198.51.100.21']);
  // Asked twice (the second from any cache): still WAN, and dc1's own names stay LAN.
  assert.deepEqual(sorted(await digAt(dc1.ip, dc1.dns, 'web.service.dc2.consul')), ['198.51.100.22', '203.0.113.27']);
  assert.deepEqual(sorted(await digAt(dc1.ip, dc1.dns, 'web.service.consul')), ['10.1.0.2', '10.1.0.7']);
  assert.deepEqual(sorted(await digAt(dc1.ip, dc1.dns, 'web.service.dc1.consul', 'SRV')), ['1 1 8080 0a010007.addr.dc1.consul.', '1 1 9090 nb.node.dc1.consul.']);
  assert.deepEqual(sorted(await digAt(dc1.ip, dc1.dns, 'na.node.consul')), ['10.1.0.1']);
});

test('dc2 itself keeps LAN addresses for its own names, even after answering dc1', async () => {
  const [, dc2] = procs;
  assert.deepEqual(sorted(await digAt(dc2.ip, dc2.dns, 'web.service.consul')), ['10.2.0.2', '10.2.0.7']);
  assert.deepEqual(sorted(await digAt(dc2.ip, dc2.dns, 'web.service.dc2.consul', 'SRV')), ['1 1 8080 0a020007.addr.dc2.consul.', '1 1 9090 nb.node.dc2.consul.']);
});

type ServiceNode = { Node: string; Address: string; ServiceAddress: string; ServicePort: number; TaggedAddresses: Record<string, string> };
type Health = { Node: { Node: string; Address: string }; Service: { Address: string; Port: number } }[];

test('dc1 translates ?dc=dc2 catalog and health reads and says so; its own reads stay LAN', async () => {
  const [dc1] = procs;
  const cat = await call(dc1, 'GET', '/v1/catalog/service/web?dc=dc2');
  assert.equal(cat.status, 200, cat.text);
  assert.equal(cat.headers.get('x-consul-translate-addresses'), 'true');
  const rows = (JSON.parse(cat.text) as ServiceNode[]).map((s) => [s.Node, s.Address, s.ServiceAddress, s.ServicePort]).sort();
  assert.deepEqual(rows, [['na', '198.51.100.21', '203.0.113.27', 18080], ['nb', '198.51.100.22', '', 9090]]);
  assert.equal((JSON.parse(cat.text) as ServiceNode[]).find((s) => s.Node === 'na')?.TaggedAddresses.lan, '10.2.0.1', 'tagged addresses stay');
  const health = await call(dc1, 'GET', '/v1/health/service/web?dc=dc2');
  assert.equal(health.headers.get('x-consul-translate-addresses'), 'true');
  assert.deepEqual((JSON.parse(health.text) as Health).map((e) => [e.Node.Node, e.Node.Address, e.Service.Address, e.Service.Port]).sort(),
    [['na', '198.51.100.21', '203.0.113.27', 18080], ['nb', '198.51.100.22', '', 9090]]);
  const nodes = (await get<{ Node: string; Address: string }[]>(dc1, '/v1/catalog/nodes?dc=dc2'))!;
  assert.deepEqual(nodes.filter((n) => n.Node !== 's2').map((n) => [n.Node, n.Address]).sort(), [['na', '198.51.100.21'], ['nb', '198.51.100.22']]);
  const node = (await get<{ Node: { Address: string }; Services: Record<string, { Address: string; Port: number }> }>(dc1, '/v1/catalog/node/na?dc=dc2'))!;
  assert.deepEqual([node.Node.Address, node.Services['web-a'].Address, node.Services['web-a'].Port], ['198.51.100.21', '203.0.113.27', 18080]);

  const local = await call(dc1, 'GET', '/v1/catalog/service/web');
  assert.equal(local.headers.get('x-consul-translate-addresses'), 'true', 'on every response while translation is on');
  assert.deepEqual((JSON.parse(local.text) as ServiceNode[]).map((s) => [s.Node, s.Address, s.ServiceAddress, s.ServicePort]).sort(),
    [['na', '10.1.0.1', '10.1.0.7', 8080], ['nb', '10.1.0.2', '', 9090]]);
  assert.deepEqual((await get<Health>(dc1, '/v1/health/service/web?dc=dc1'))!.map((e) => [e.Node.Address, e.Service.Port]).sort(),
    [['10.1.0.1', 8080], ['10.1.0.2', 9090]]);
});

test('dc2 (not translating) answers ?dc=dc1 and dc1 names with LAN addresses and no header', async () => {
  const [, dc2] = procs;
  const cat = await call(dc2, 'GET', '/v1/catalog/service/web?dc=dc1');
  assert.equal(cat.status, 200, cat.text);
  assert.equal(cat.headers.get('x-consul-translate-addresses'), null);
  assert.deepEqual((JSON.parse(cat.text) as ServiceNode[]).map((s) => [s.Node, s.Address, s.ServiceAddress, s.ServicePort]).sort(),
    [['na', '10.1.0.1', '10.1.0.7', 8080], ['nb', '10.1.0.2', '', 9090]]);
  assert.deepEqual((await get<Health>(dc2, '/v1/health/service/web?dc=dc1'))!.map((e) => [e.Node.Address, e.Service.Address, e.Service.Port]).sort(),
    [['10.1.0.1', '10.1.0.7', 8080], ['10.1.0.2', '', 9090]]);
  const a = await until('web.service.dc1.consul through dc2', 10_000, async () => {
    const r = await digAt(dc2.ip, dc2.dns, 'web.service.dc1.consul').catch(() => undefined);
    return r?.answer.length === 2 ? r : undefined;
  }, POLL);
  assert.deepEqual(sorted(a), ['10.1.0.2', '10.1.0.7']);
  assert.deepEqual(sorted(await digAt(dc2.ip, dc2.dns, 'web.service.dc1.consul', 'SRV')), ['1 1 8080 0a010007.addr.dc1.consul.', '1 1 9090 nb.node.dc1.consul.']);
});

async function startClient(node: string, ip: string, translate: boolean): Promise<Proc> {
  const [dc1] = procs;
  const client = await dcs.add(node, 'dc1', ip, { translate_wan_addrs: translate }, { wan: false });
  dcs.launchClient(client, dc1);
  return client;
}

test('dc1 client agents translate by their own setting, whatever their server\'s, over HTTP and DNS', async () => {
  const [on, off] = [await startClient('c1', '127.0.0.5', true), await startClient('c2', '127.0.0.6', false)];
  for (const c of [on, off]) {
    await until(`web.service.dc2.consul through ${c.node}`, 20_000, async () =>
      (await digAt(c.ip, c.dns, 'web.service.dc2.consul').catch(() => undefined))?.answer.length === 2, POLL);
  }
  assert.deepEqual(sorted(await digAt(on.ip, on.dns, 'web.service.dc2.consul')), ['198.51.100.22', '203.0.113.27']);
  assert.deepEqual(sorted(await digAt(on.ip, on.dns, 'web.service.dc2.consul', 'SRV')), ['1 1 18080 cb00711b.addr.dc2.consul.', '1 1 9090 nb.node.dc2.consul.']);
  assert.deepEqual(sorted(await digAt(on.ip, on.dns, 'web.service.consul')), ['10.1.0.2', '10.1.0.7']);
  assert.deepEqual(sorted(await digAt(off.ip, off.dns, 'web.service.dc2.consul')), ['10.2.0.2', '10.2.0.7']);
  assert.deepEqual(sorted(await digAt(off.ip, off.dns, 'web.service.dc2.consul', 'SRV')), ['1 1 8080 0a020007.addr.dc2.consul.', '1 1 9090 nb.node.dc2.consul.']);

  const cat = await call(on, 'GET', '/v1/catalog/service/web?dc=dc2');
  assert.equal(cat.status, 200, cat.text);
  assert.equal(cat.headers.get('x-consul-translate-addresses'), 'true');
  assert.deepEqual((JSON.parse(cat.text) as ServiceNode[]).map((s) => [s.Node, s.Address, s.ServiceAddress, s.ServicePort]).sort(),
    [['na', '198.51.100.21', '203.0.113.27', 18080], ['nb', '198.51.100.22', '', 9090]]);
  assert.deepEqual((await get<Health>(on, '/v1/health/service/web?dc=dc2'))!.map((e) => [e.Node.Address, e.Service.Address, e.Service.Port]).sort(),
    [['198.51.100.21', '203.0.113.27', 18080], ['198.51.100.22', '', 9090]]);
  assert.deepEqual((await get<Health>(on, '/v1/health/service/web'))!.map((e) => [e.Node.Address, e.Service.Port]).sort(),
    [['10.1.0.1', 8080], ['10.1.0.2', 9090]]);
  const plain = await call(off, 'GET', '/v1/catalog/service/web?dc=dc2');
  assert.equal(plain.headers.get('x-consul-translate-addresses'), null);
  assert.deepEqual((JSON.parse(plain.text) as ServiceNode[]).map((s) => [s.Node, s.Address, s.ServiceAddress, s.ServicePort]).sort(),
    [['na', '10.2.0.1', '10.2.0.7', 8080], ['nb', '10.2.0.2', '', 9090]]);
  for (const c of [on, off]) c.child!.kill('SIGKILL');
});
