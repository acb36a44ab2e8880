// Prepared query failover across two datacenters on real processes (dc1 on 127.0.0.4, dc2 on
// 127.0.0.5, WAN-joined): a query held in dc1 whose service lives only in dc2 is run there by
// ExecuteRemote (Datacenters, NearestN and Targets), names the datacenter and counts the
// failovers; unknown datacenters are skipped; dc1's DNS answers the query with dc2's instances;
// dc1 translates WAN addresses, so failover results show dc2's WAN addresses over HTTP and DNS.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { call, DcProcs } from './support/dc-procs.ts';
import { digAt } from './support/dns.ts';
import { until } from './support/wait.ts';

const dcs = new DcProcs('pq-wan');
const procs = dcs.procs;
const POLL = dcs.poll;

before(async () => {
  for (const [node, dc, ip] of [['s1', 'dc1', '127.0.0.4'], ['s2', 'dc2', '127.0.0.5']]) {
    await dcs.add(node, dc, ip, {
      gossip_wan: { probe_interval: '200ms', probe_timeout: '100ms' },
      // dc1 shows other datacenters' WAN addresses, failover results included.
      ...(dc === 'dc1' ? { translate_wan_addrs: true } : {}),
    });
  }
  const [dc1, dc2] = procs;
  dcs.launchServer(dc1);
  dcs.launchServer(dc2, ['-retry-join-wan', `${dc1.ip}:${dc1.wan}`, '-retry-interval-wan', '1s']);
  for (const p of procs) {
    await until(`${p.node} to know both datacenters`, 30_000, async () => {
      try {
        const r = await call(p, 'GET', '/v1/catalog/datacenters');
        return r.status === 200 && r.json.length === 2;
      } catch {
        return false;
      }
    }, POLL);
  }
  await until('dc2 to accept a registration', 20_000, async () => {
    try {
      return (await call(dc2, 'PUT', '/v1/catalog/register', { Node: 'db1', Address: '10.5.0.1', TaggedAddresses: { wan: '198.51.100.1' }, Service: { ID: 'db', Service: 'db', Port: 5432 } })).status === 200;
    } catch {
      return false;
    }
  }, POLL);
});

test('Datacenters, NearestN and Targets fail over to dc2', async () => {
  const [dc1] = procs;
  for (const [Name, Failover] of [
    ['dbq', { Datacenters: ['dc9', 'dc2'] }], ['dbn', { NearestN: 1 }], ['dbt', { Targets: [{ Datacenter: 'dc2' }] }],
  ] as const) {
    const c = await call(dc1, 'POST', '/v1/query', { Name, Service: { Service: 'db', Failover }, DNS: { TTL: '4s' } });
    assert.equal(c.status, 200, c.text);
    const r = await call(dc1, 'GET', `/v1/query/${Name}/execute`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.Datacenter, 'dc2', Name);
    assert.equal(r.json.Failovers, 1, Name);
    assert.deepEqual(r.json.Nodes.map((n: { Node: { Node: string } }) => n.Node.Node), ['db1'], Name);
    assert.deepEqual(r.json.DNS, { TTL: '4s' });
    assert.equal(r.json.Nodes[0].Node.Address, '198.51.100.1', `${Name}: translate_wan_addrs`);
  }
});

test('no failover without targets, and unknown datacenters are skipped', async () => {
  const [dc1] = procs;
  await call(dc1, 'POST', '/v1/query', { Name: 'local', Service: { Service: 'db' } });
  await call(dc1, 'POST', '/v1/query', { Name: 'nowhere', Service: { Service: 'db', Failover: { Datacenters: ['dc9'] } } });
  for (const name of ['local', 'nowhere']) {
    const r = await call(dc1, 'GET', `/v1/query/${name}/execute`);
    assert.deepEqual([r.json.Datacenter, r.json.Failovers, r.json.Nodes.length], ['dc1', 0, 0], name);
  }
});

test('a query held in dc1 is unknown in dc2; dc1 DNS answers it from dc2', async () => {
  const [dc1] = procs;
  const r = await call(dc1, 'GET', '/v1/query/dbq/execute?dc=dc2');
  assert.equal(r.status, 404);
  const d = await digAt(dc1.ip, dc1.dns, 'dbq.query.consul', 'A');
  assert.equal(d.status, 'NOERROR');
  assert.deepEqual(d.answer.map((a) => [a[1], a[4]]), [['4', '198.51.100.1']]);
});

test('failover keeps the query\'s namespace: dc2 runs it in that namespace and answers it', async () => {
  const [dc1, dc2] = procs;
  const ns = await call(dc2, 'PUT', '/v1/namespace', { Name: 'team-1' });
  assert.equal(ns.status, 200, ns.text);
  const reg = await call(dc2, 'PUT', '/v1/catalog/register', {
    Node: 'db2', Address: '10.5.0.2', TaggedAddresses: { wan: '198.51.100.2' }, Service: { ID: 'db', Service: 'db', Port: 5433, Namespace: 'team-1' },
  });
  assert.equal(reg.status, 200, reg.text);
  const c = await call(dc1, 'POST', '/v1/query', { Name: 'dbns', Service: { Service: 'db', Namespace: 'team-1', Failover: { Datacenters: ['dc2'] } } });
  assert.equal(c.status, 200, c.text);
  const r = await call(dc1, 'GET', '/v1/query/dbns/execute');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.Datacenter, 'dc2');
  assert.equal(r.json.Namespace, 'team-1');
  assert.deepEqual(r.json.Nodes.map((n: { Node: { Node: string }; Service: { Port: number } }) => [n.Node.Node, n.Service.Port]), [['db2', 5433]]);
  const a = await digAt(dc1.ip, dc1.dns, 'dbns.query.consul', 'A');
  assert.deepEqual(a.answer.map((x) => x[4]), ['198.51.100.2'], a.raw);
});
