// Sameness groups over DNS and prepared queries against real agents with `dig`, as Consul
// Enterprise's acceptance test `static-server.service.ns2.ns.mine.sg.consul` runs them: the local
// partition answers first, then another partition exporting the service, then a cluster peer
// (imports in the same namespace); a prepared query with the group fails over the same way. A
// group without DefaultForFailover is NXDOMAIN, an unknown one SERVFAIL; Failover with a group is refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { startSamenessClusters, type SamenessClusters } from './support/sameness.ts';
import { aclDenyConfig, httpCaller, tokenWithRules, ROOT, type HttpCall } from './support/acl.ts';
import { dig } from './support/dns.ts';

describe('DNS and prepared queries over a sameness group', () => {
  let c: SamenessClusters;
  let callA: HttpCall;
  let port: number;
  const ok = (call: HttpCall, method: string, path: string, body?: unknown) => c.ok(call, method, path, body);
  const setCheck = (node: string, status: string, partition?: string) => c.setCheck(node, status, partition);
  const addrs = async (name: string) => (await dig(port, name, 'A')).answer.map((r) => r[4]).sort();
  const SG = 'static-server.service.ns2.ns.mine.sg.consul';
  const PQ = 'my-query.query.consul';

  before(async () => {
    c = await startSamenessClusters({ dns: true });
    callA = c.callA;
    port = Number(c.a.agent.dnsAddresses().udp[0].split(':').pop());
    await ok(callA, 'POST', '/v1/query', { Name: 'my-query', Service: { Service: 'static-server', SamenessGroup: 'mine', Namespace: 'ns2' } });
  });
  after(async () => {
    await c?.stop();
  });

  test('the local partition, then the exporting partition, then the peer answer, by name and by prepared query', async () => {
    assert.deepEqual(await addrs(SG), ['10.0.0.1']);
    assert.deepEqual(await addrs('static-server.service.mine.sg.ns2.ns.consul'), ['10.0.0.1'], 'labels in another order');
    assert.deepEqual(await addrs(PQ), ['10.0.0.1']);
    const srv = await dig(port, '_static-server._tcp.service.ns2.ns.mine.sg.consul', 'SRV');
    assert.deepEqual(srv.answer.map((r) => [r[6], r[7]]), [['8080', 'n-default.node.dc1.consul.']], srv.raw);
    assert.ok(srv.additional.some((r) => r[3] === 'A' && r[4] === '10.0.0.1'), srv.raw);

    await setCheck('n-default', 'critical');
    assert.deepEqual(await addrs(SG), ['10.1.0.1'], 'failed over to ap1');
    assert.deepEqual(await addrs(PQ), ['10.1.0.1']);
    const ex = await ok(callA, 'GET', '/v1/query/my-query/execute') as { Nodes: { Node: { Node: string } }[]; Failovers: number; Partition?: string };
    assert.deepEqual([ex.Nodes.map((n) => n.Node.Node), ex.Failovers, ex.Partition], [['n-ap1'], 1, 'ap1']);

    await setCheck('n-ap1', 'critical', 'ap1');
    assert.deepEqual(await addrs(SG), ['10.2.0.1'], 'failed over to the peer');
    assert.deepEqual(await addrs(PQ), ['10.2.0.1']);
    const peerSrv = await dig(port, SG, 'SRV');
    // A peer's node is named by its peer and the partition it is imported into (Consul's canonical name).
    assert.deepEqual(peerSrv.answer.map((r) => [r[6], r[7]]), [['8080', 'n-b.node.peer-b.peer.default.ap.consul.']], peerSrv.raw);
    assert.ok(peerSrv.additional.some((r) => r[0] === 'n-b.node.peer-b.peer.default.ap.consul.' && r[3] === 'A' && r[4] === '10.2.0.1'), peerSrv.raw);

    await setCheck('n-ap1', 'passing', 'ap1');
    await ok(callA, 'PUT', '/v1/config?partition=ap1', { Kind: 'exported-services', Name: 'ap1', Services: [] });
    assert.deepEqual(await addrs(SG), ['10.2.0.1'], 'ap1 no longer exports it here');
    assert.deepEqual(await addrs(PQ), ['10.2.0.1']);
    await setCheck('n-default', 'passing');
    assert.deepEqual(await addrs(SG), ['10.0.0.1']);
  });

  test('a group without DefaultForFailover, other kinds with .sg: NXDOMAIN with the SOA; an unknown group: SERVFAIL', async () => {
    for (const name of ['static-server.service.ns2.ns.off.sg.consul', 'static-server.connect.ns2.ns.mine.sg.consul', 'static-server.service.mine.sg.dc1.dc.consul']) {
      const r = await dig(port, name, 'A');
      assert.equal(r.status, 'NXDOMAIN', name);
      assert.equal(r.authority[0]?.[3], 'SOA', name);
    }
    // Consul's DNS makes a name error of the DefaultForFailover error only; "Sameness Group not found" is a server failure.
    const r = await dig(port, 'static-server.service.ns2.ns.nope.sg.consul', 'A');
    assert.deepEqual([r.status, r.authority.length], ['SERVFAIL', 0], r.raw);
  });

  test('a prepared query cannot take both a sameness group and Failover', async () => {
    const r = await callA('POST', '/v1/query', '', { Name: 'both', Service: { Service: 'web', SamenessGroup: 'mine', Failover: { NearestN: 1 } } });
    assert.deepEqual([r.status, r.text], [500, 'Invalid prepared query: SamenessGroup and Failover are mutually exclusive']);
    await ok(callA, 'POST', '/v1/query', { Name: 'lost', Service: { Service: 'web', SamenessGroup: 'nope' } });
    const ex = await callA('GET', '/v1/query/lost/execute');
    assert.deepEqual([ex.status, ex.text], [500, 'Sameness Group not found']);
  });
});

describe('a sameness group under the DNS token\'s rules', () => {
  let a: DevAgent;
  let call: HttpCall;
  let port: number;
  const ok = async (method: string, path: string, body?: unknown) => {
    const r = await call(method, path, ROOT, body);
    assert.equal(r.status, 200, `${method} ${path}: ${r.text}`);
    return r.json;
  };
  const addrs = async (name: string) => (await dig(port, name, 'A')).answer.map((r) => r[4]).sort();

  before(async () => {
    a = await startDevAgent({ config: { ...aclDenyConfig(), dnsAddrs: [{ kind: 'tcp', host: '127.0.0.1', port: 0 }] } });
    call = httpCaller(() => a.httpAddr);
    port = Number(a.agent.dnsAddresses().udp[0].split(':').pop());
    await ok('PUT', '/v1/partition', { Name: 'ap1' });
    await ok('PUT', '/v1/namespace', { Name: 'ns2' });
    await ok('PUT', '/v1/namespace?partition=ap1', { Name: 'ns2' });
    for (const [node, address, partition] of [['n-default', '10.0.0.1', 'default'], ['n-ap1', '10.1.0.1', 'ap1']]) {
      await ok('PUT', '/v1/catalog/register', { Node: node, Address: address, Partition: partition, Service: { ID: 'web', Service: 'web', Port: 80, Namespace: 'ns2' } });
    }
    await ok('PUT', '/v1/config?partition=ap1', { Kind: 'exported-services', Name: 'ap1', Services: [{ Name: 'web', Namespace: 'ns2', Consumers: [{ Partition: 'default' }] }] });
    await ok('PUT', '/v1/config', { Kind: 'sameness-group', Name: 'mine', DefaultForFailover: true, Members: [{ Partition: 'default' }, { Partition: 'ap1' }] });
    await ok('POST', '/v1/query', { Name: 'q', Service: { Service: 'web', SamenessGroup: 'mine', Namespace: 'ns2' } });
  });
  after(() => a?.stop());

  test('a member whose instances the DNS token may not read does not answer: the next one does, with its rules', async () => {
    await ok('PUT', '/v1/agent/token/dns', { Token: ROOT });
    assert.deepEqual(await addrs('web.service.ns2.ns.mine.sg.consul'), ['10.0.0.1']);
    // service:read on web in ap1's ns2 and node:read in ap1 only (no rules in the default partition).
    const t = await tokenWithRules(call, 'query_prefix "" { policy = "read" }\npartition "ap1" {\n  node_prefix "" { policy = "read" }\n  namespace "ns2" {\n    service "web" { policy = "read" }\n  }\n}');
    await ok('PUT', '/v1/agent/token/dns', { Token: t.SecretID });
    assert.deepEqual(await addrs('web.service.ns2.ns.mine.sg.consul'), ['10.1.0.1']);
    assert.deepEqual(await addrs('q.query.consul'), ['10.1.0.1'], 'the prepared query runs under the DNS token too');
    const none = await tokenWithRules(call, 'query_prefix "" { policy = "read" }');
    await ok('PUT', '/v1/agent/token/dns', { Token: none.SecretID });
    assert.equal((await dig(port, 'web.service.ns2.ns.mine.sg.consul', 'A')).status, 'NXDOMAIN');
  });
});
