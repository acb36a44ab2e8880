// DNS and prepared queries in namespaces (Consul Enterprise's `.ns`/`.ap` labels, the legacy
// `<ns>.<dc>` form, `<node>.node.<ap>.ap`, connect and ingress lookups in a namespace, the DNS
// token's rules evaluated in the queried namespace, NXDOMAIN with the SOA for a namespace that does
// not exist or is being deleted) and prepared queries whose Service.Namespace picks the target.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { aclDenyConfig, httpCaller, tokenWithRules, ROOT, type HttpCall } from './support/acl.ts';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { dig } from './support/dns.ts';
import { until } from './support/wait.ts';

describe('DNS in namespaces', () => {
  let dev: DevAgent;
  let call: HttpCall;
  let port: number;
  const ok = async (method: string, path: string, body?: unknown) => {
    const res = await call(method, path, ROOT, body);
    assert.equal(res.status, 200, `${method} ${path}: ${res.text}`);
    return res.json;
  };
  const addrs = async (name: string, type = 'A') => (await dig(port, name, type)).answer.map((r) => r[4]).sort();

  before(async () => {
    dev = await startDevAgent({ config: { ...aclDenyConfig(), dnsAddrs: [{ kind: 'tcp', host: '127.0.0.1', port: 0 }] } });
    call = httpCaller(() => dev.httpAddr);
    port = Number(dev.agent.dnsAddresses().udp[0].split(':').pop());
    for (const ns of ['team-1', 'team-2', 'doomed']) await ok('PUT', '/v1/namespace', { Name: ns });
    const reg = (node: string, address: string, service: object, check?: object) =>
      ok('PUT', '/v1/catalog/register', { Node: node, Address: address, Service: service, ...(check ? { Check: check } : {}) });
    await reg('n1', '10.0.0.1', { ID: 'web', Service: 'web', Port: 80 });
    await reg('n2', '10.0.0.2', { ID: 'web', Service: 'web', Port: 81, Tags: ['v1'], Namespace: 'team-1' },
      { CheckID: 'web-ok', ServiceID: 'web', Status: 'passing', Namespace: 'team-1' });
    await reg('n3', '10.0.0.3', { ID: 'web', Service: 'web', Port: 81, Namespace: 'team-1' },
      { CheckID: 'web-down', ServiceID: 'web', Status: 'critical', Namespace: 'team-1' });
    await reg('n4', '10.0.0.4', { ID: 'web', Service: 'web', Port: 82, Namespace: 'team-2' });
    await reg('n5', '10.0.0.5', { ID: 'web-proxy', Service: 'web-sidecar-proxy', Kind: 'connect-proxy', Port: 21000, Namespace: 'team-1', Proxy: { DestinationServiceName: 'web' } });
    await reg('n6', '10.0.0.6', { ID: 'db', Service: 'db', Port: 5432, Namespace: 'doomed' });
    // The DNS token: management until the ACL test sets its own.
    await ok('PUT', '/v1/agent/token/dns', { Token: ROOT });
  });
  after(() => dev.stop());

  test('two namespaces with one service name answer separately; the default namespace is unchanged', async () => {
    assert.deepEqual(await addrs('web.service.consul'), ['10.0.0.1']);
    // n3's instance is critical: left out, as in the default namespace.
    assert.deepEqual(await addrs('web.service.team-1.ns.consul'), ['10.0.0.2']);
    assert.deepEqual(await addrs('web.service.team-2.ns.consul'), ['10.0.0.4']);
    assert.deepEqual(await addrs('web.service.default.ns.consul'), ['10.0.0.1']);
    assert.deepEqual(await addrs('v1.web.service.team-1.ns.consul'), ['10.0.0.2'], 'tags filter in a namespace');
    assert.equal((await dig(port, 'v1.web.service.team-2.ns.consul', 'A')).status, 'NXDOMAIN');
    // A second ask is answered from the namespace's cache: the same answer.
    assert.deepEqual(await addrs('web.service.team-1.ns.consul'), ['10.0.0.2']);
  });

  test('every locality form: .ap, .dc, the legacy <ns>.<dc>, and SRV', async () => {
    for (const name of [
      'web.service.team-1.ns.default.ap.consul', 'web.service.team-1.ns.dc1.dc.consul',
      'web.service.team-1.ns.default.ap.dc1.dc.consul', 'web.service.team-1.dc1.consul',
    ]) assert.deepEqual(await addrs(name), ['10.0.0.2'], name);
    const srv = await dig(port, '_web._tcp.service.team-1.ns.consul', 'SRV');
    assert.equal(srv.status, 'NOERROR');
    assert.deepEqual(srv.answer.map((r) => [r[6], r[7]]), [['81', 'n2.node.dc1.consul.']]);
    assert.ok(srv.additional.some((r) => r[3] === 'A' && r[4] === '10.0.0.2'), srv.raw);
    const plain = await dig(port, 'web.service.team-2.ns.consul', 'SRV');
    assert.deepEqual(plain.answer.map((r) => r[6]), ['82']);
    assert.equal((await dig(port, 'web.service.team-1.dc2.consul', 'A')).status, 'NXDOMAIN', 'another datacenter (none known)');
  });

  test('an unknown namespace or partition is NXDOMAIN with the SOA', async () => {
    for (const name of [
      'web.service.nope.ns.consul', 'web.service.nope.ap.consul', 'web.service.team-1.ns.nope.ap.consul', 'web.service.nope.dc1.consul',
      'web.service.*.ns.consul', 'web.service.*.ap.consul', 'n1.node.*.ap.consul', 'web.connect.*.ns.consul', 'web.ingress.*.ns.consul', `web.service.${'a'.repeat(63)}.ns.consul`,
    ]) {
      const r = await dig(port, name, 'A');
      assert.equal(r.status, 'NXDOMAIN', name);
      assert.equal(r.authority[0]?.[3], 'SOA', name);
    }
  });

  test('node lookups take a partition; nodes are seen from every namespace', async () => {
    assert.deepEqual(await addrs('n2.node.default.ap.consul'), ['10.0.0.2']);
    assert.deepEqual(await addrs('n2.node.default.ap.dc1.dc.consul'), ['10.0.0.2']);
    assert.equal((await dig(port, 'n2.node.nope.ap.consul', 'A')).status, 'NXDOMAIN');
  });

  test('health in a namespace: a check going critical there changes only that namespace\'s answer', async () => {
    await ok('PUT', '/v1/catalog/register', { Node: 'n7', Address: '10.0.0.7', Service: { ID: 'web', Service: 'web', Port: 81, Namespace: 'team-1' } });
    assert.deepEqual(await addrs('web.service.team-1.ns.consul'), ['10.0.0.2', '10.0.0.7'], 'a new instance invalidates the cached answer');
    await ok('PUT', '/v1/catalog/register', { Node: 'n2', Address: '10.0.0.2', Check: { CheckID: 'web-ok', ServiceID: 'web', Status: 'critical', Namespace: 'team-1' } });
    assert.deepEqual(await addrs('web.service.team-1.ns.consul'), ['10.0.0.7']);
    assert.deepEqual(await addrs('web.service.team-2.ns.consul'), ['10.0.0.4']);
    assert.deepEqual(await addrs('web.service.consul'), ['10.0.0.1']);
    await ok('PUT', '/v1/catalog/register', { Node: 'n2', Address: '10.0.0.2', Check: { CheckID: 'web-ok', ServiceID: 'web', Status: 'passing', Namespace: 'team-1' } });
    await ok('PUT', '/v1/catalog/deregister', { Node: 'n7' });
    assert.deepEqual(await addrs('web.service.team-1.ns.consul'), ['10.0.0.2']);
  });

  test('a node check (partition-level) going critical empties a namespace\'s cached answer for its instances', async () => {
    assert.deepEqual(await addrs('web.service.team-2.ns.consul'), ['10.0.0.4']);
    await ok('PUT', '/v1/catalog/register', { Node: 'n4', Address: '10.0.0.4', Check: { CheckID: 'node-down', Status: 'critical' } });
    assert.deepEqual(await addrs('web.service.team-2.ns.consul'), []);
    await ok('PUT', '/v1/catalog/register', { Node: 'n4', Address: '10.0.0.40', Check: { CheckID: 'node-down', Status: 'passing' } });
    assert.deepEqual(await addrs('web.service.team-2.ns.consul'), ['10.0.0.40'], 'a node address change is seen too');
    await ok('PUT', '/v1/catalog/register', { Node: 'n4', Address: '10.0.0.4' });
    await ok('PUT', '/v1/catalog/deregister', { Node: 'n4', CheckID: 'node-down' });
    assert.deepEqual(await addrs('web.service.team-2.ns.consul'), ['10.0.0.4']);
  });

  test('connect and ingress lookups in a namespace', async () => {
    assert.deepEqual(await addrs('web.connect.team-1.ns.consul'), ['10.0.0.5']);
    assert.equal((await dig(port, 'web.connect.team-2.ns.consul', 'A')).status, 'NXDOMAIN');
    assert.equal((await dig(port, 'web.connect.consul', 'A')).status, 'NXDOMAIN');
    await ok('PUT', '/v1/config?ns=team-1', { Kind: 'ingress-gateway', Name: 'ing', Listeners: [{ Port: 8080, Protocol: 'tcp', Services: [{ Name: 'web' }] }] });
    await ok('PUT', '/v1/catalog/register', { Node: 'n8', Address: '10.0.0.8', Service: { ID: 'ing', Service: 'ing', Kind: 'ingress-gateway', Port: 8080, Namespace: 'team-1' } });
    assert.deepEqual(await addrs('web.ingress.team-1.ns.consul'), ['10.0.0.8']);
    // health/ingress in the namespace (what a use_cache client watches for this name), with its tenancy fields.
    const hi = await call('GET', '/v1/health/ingress/web?ns=team-1', ROOT);
    assert.equal(hi.status, 200, hi.text);
    assert.deepEqual(hi.json.map((r: any) => [r.Service.Service, r.Service.Namespace, r.Node.Partition]), [['ing', 'team-1', 'default']]);
    assert.deepEqual((await ok('GET', '/v1/health/ingress/web?ns=team-2')), []);
    assert.deepEqual((await ok('GET', '/v1/health/ingress/web')), []);
    const wokeIng = call('GET', `/v1/health/ingress/web?ns=team-1&index=${hi.headers.get('x-consul-index')}&wait=20s`, ROOT);
    await ok('PUT', '/v1/catalog/register', { Node: 'n8', Address: '10.0.0.8', Check: { CheckID: 'ing-down', ServiceID: 'ing', Status: 'critical', Namespace: 'team-1' } });
    assert.deepEqual((await wokeIng).json[0].Checks.map((c: any) => c.Status), ['critical']);
    assert.deepEqual((await ok('GET', '/v1/health/ingress/web?ns=team-1&passing')), []);
    await ok('PUT', '/v1/catalog/deregister', { Node: 'n8', CheckID: 'ing-down', Namespace: 'team-1' });
    assert.equal((await dig(port, 'web.ingress.team-2.ns.consul', 'A')).status, 'NXDOMAIN');
    assert.equal((await dig(port, 'web.ingress.consul', 'A')).status, 'NXDOMAIN');
    // A terminating gateway of the namespace stands in for the service it links there.
    await ok('PUT', '/v1/config?ns=team-2', { Kind: 'terminating-gateway', Name: 'tgw', Services: [{ Name: 'ext' }] });
    await ok('PUT', '/v1/catalog/register', { Node: 'n9', Address: '10.0.0.9', Service: { ID: 'tgw', Service: 'tgw', Kind: 'terminating-gateway', Port: 8443, Namespace: 'team-2' } });
    await ok('PUT', '/v1/catalog/register', { Node: 'ext-node', Address: '192.0.2.10', Service: { ID: 'ext', Service: 'ext', Port: 443, Namespace: 'team-2' } });
    assert.deepEqual(await addrs('ext.connect.team-2.ns.consul'), ['10.0.0.9']);
    // health/connect in the namespace (what a use_cache client watches for this name) lists the gateway too, and wakes on its changes.
    const hc = await call('GET', '/v1/health/connect/ext?ns=team-2', ROOT);
    assert.deepEqual(hc.json.map((r: any) => r.Service.Service), ['tgw']);
    const woke = call('GET', `/v1/health/connect/ext?ns=team-2&index=${hc.headers.get('x-consul-index')}&wait=20s`, ROOT);
    await ok('PUT', '/v1/catalog/register', { Node: 'n9', Address: '10.0.0.9', Check: { CheckID: 'tgw-down', ServiceID: 'tgw', Status: 'critical', Namespace: 'team-2' } });
    const after = await woke;
    assert.ok(Number(after.headers.get('x-consul-index')) > Number(hc.headers.get('x-consul-index')));
    assert.deepEqual(after.json[0].Checks.map((c: any) => c.Status), ['critical']);
    assert.equal((await dig(port, 'ext.connect.team-2.ns.consul', 'A')).answer.length, 0);
    await ok('PUT', '/v1/catalog/deregister', { Node: 'n9', CheckID: 'tgw-down', Namespace: 'team-2' });
    assert.deepEqual(await addrs('ext.connect.team-2.ns.consul'), ['10.0.0.9']);
    assert.deepEqual(await addrs('ext.service.team-2.ns.consul'), ['192.0.2.10']);
    assert.equal((await dig(port, 'ext.connect.team-1.ns.consul', 'A')).status, 'NXDOMAIN');
    assert.equal((await dig(port, 'ext.connect.consul', 'A')).status, 'NXDOMAIN');
    const { ID: q } = await ok('POST', '/v1/query', { Name: 'ext-mesh', Service: { Service: 'ext', Namespace: 'team-2', Connect: true } });
    assert.deepEqual((await ok('GET', `/v1/query/${q}/execute`)).Nodes.map((n: any) => n.Node.Address), ['10.0.0.9']);
  });

  test('the DNS token\'s rules are evaluated in the queried namespace', async () => {
    const t = await tokenWithRules(call, 'namespace "team-1" {\n  service_prefix "" { policy = "read" }\n}\nnode_prefix "" { policy = "read" }');
    await ok('PUT', '/v1/agent/token/dns', { Token: t.SecretID });
    try {
      assert.deepEqual(await addrs('web.service.team-1.ns.consul'), ['10.0.0.2']);
      assert.equal((await dig(port, 'web.service.team-2.ns.consul', 'A')).status, 'NXDOMAIN', 'no service:read in team-2');
      assert.equal((await dig(port, 'web.service.consul', 'A')).status, 'NXDOMAIN', 'no service:read in default');
      const only2 = await tokenWithRules(call, 'namespace "team-2" {\n  service "web" { policy = "read" }\n}\nnode_prefix "" { policy = "read" }');
      await ok('PUT', '/v1/agent/token/dns', { Token: only2.SecretID });
      assert.equal((await dig(port, 'web.service.team-1.ns.consul', 'A')).status, 'NXDOMAIN', 'the cached team-1 answer is filtered under the new token');
      assert.deepEqual(await addrs('web.service.team-2.ns.consul'), ['10.0.0.4']);
    } finally {
      await ok('PUT', '/v1/agent/token/dns', { Token: ROOT });
    }
  });

  test('a DNS token of a namespace reads that namespace with its rules outside blocks', async () => {
    const p = await ok('PUT', '/v1/acl/policy?ns=team-2', { Name: 'dns-read', Rules: 'service_prefix "" { policy = "read" }\nnode_prefix "" { policy = "read" }' });
    const t = await ok('PUT', '/v1/acl/token?ns=team-2', { Policies: [{ ID: p.ID }] });
    assert.equal(t.Namespace, 'team-2');
    await ok('PUT', '/v1/agent/token/dns', { Token: t.SecretID });
    try {
      assert.deepEqual(await addrs('web.service.team-2.ns.consul'), ['10.0.0.4']);
      assert.equal((await dig(port, 'web.service.team-1.ns.consul', 'A')).status, 'NXDOMAIN');
      assert.equal((await dig(port, 'web.service.consul', 'A')).status, 'NXDOMAIN', 'a plain name is the default namespace, not the token\'s');
    } finally {
      await ok('PUT', '/v1/agent/token/dns', { Token: ROOT });
    }
  });

  test('node rules are read in the node\'s partition: a default-partition node_prefix grants nothing in p1', async () => {
    await ok('PUT', '/v1/partition', { Name: 'p1' });
    await ok('PUT', '/v1/catalog/register?partition=p1', { Node: 'pn1', Address: '10.0.1.1', Service: { ID: 'web', Service: 'web', Port: 80 } });
    assert.deepEqual(await addrs('pn1.node.p1.ap.consul'), ['10.0.1.1']);
    assert.deepEqual(await addrs('web.service.p1.ap.consul'), ['10.0.1.1']);
    const { ID: q } = await ok('POST', '/v1/query', { Name: 'p1-web', Service: { Service: 'web', Partition: 'p1' } });
    // Top-level rules are the default partition's; p1's services are readable, its nodes are not.
    const home = await tokenWithRules(call, 'query_prefix "" { policy = "read" }\nnode_prefix "" { policy = "read" }\npartition "p1" {\n  namespace "default" {\n    service_prefix "" { policy = "read" }\n  }\n}');
    // p1's own node rules.
    const inP1 = await tokenWithRules(call, 'query_prefix "" { policy = "read" }\npartition "p1" {\n  node_prefix "" { policy = "read" }\n  namespace "default" {\n    service_prefix "" { policy = "read" }\n  }\n}');
    await ok('PUT', '/v1/agent/token/dns', { Token: home.SecretID });
    try {
      assert.equal((await dig(port, 'pn1.node.p1.ap.consul', 'A')).status, 'NXDOMAIN', 'no node:read in p1');
      assert.equal((await dig(port, 'web.service.p1.ap.consul', 'A')).status, 'NXDOMAIN', 'its instance is on a node it may not read');
      assert.deepEqual(await addrs('n1.node.consul'), ['10.0.0.1'], 'the default partition\'s nodes stay readable');
      assert.deepEqual((await call('GET', `/v1/query/${q}/execute`, home.SecretID)).json.Nodes, []);
      await ok('PUT', '/v1/agent/token/dns', { Token: inP1.SecretID });
      assert.deepEqual(await addrs('pn1.node.p1.ap.consul'), ['10.0.1.1']);
      assert.deepEqual(await addrs('web.service.p1.ap.consul'), ['10.0.1.1']);
      assert.equal((await dig(port, 'n1.node.consul', 'A')).status, 'NXDOMAIN');
      assert.deepEqual((await call('GET', `/v1/query/${q}/execute`, inP1.SecretID)).json.Nodes.map((n: any) => n.Node.Address), ['10.0.1.1']);
    } finally {
      await ok('PUT', '/v1/agent/token/dns', { Token: ROOT });
    }
  });

  test('a namespace being deleted answers NXDOMAIN', async () => {
    assert.deepEqual(await addrs('db.service.doomed.ns.consul'), ['10.0.0.6']);
    await ok('DELETE', '/v1/namespace/doomed');
    const r = await dig(port, 'db.service.doomed.ns.consul', 'A');
    assert.equal(r.status, 'NXDOMAIN');
    assert.equal(r.authority[0]?.[3], 'SOA');
    // Re-created with the same name once purged: the old namespace's answers are gone with it.
    await until('the namespace purged', 30_000, async () => (await call('GET', '/v1/namespace/doomed', ROOT)).status === 404);
    await ok('PUT', '/v1/namespace', { Name: 'doomed' });
    assert.equal((await dig(port, 'db.service.doomed.ns.consul', 'A')).status, 'NXDOMAIN', 'no db in the new namespace');
    await ok('PUT', '/v1/catalog/register', { Node: 'n6', Address: '10.0.0.6', Service: { ID: 'db', Service: 'db', Port: 5433, Namespace: 'doomed' } });
    assert.deepEqual((await dig(port, '_db._tcp.service.doomed.ns.consul', 'SRV')).answer.map((a) => a[6]), ['5433']);
    // Deleted, purged and re-created without a question in between: the reader kept meanwhile answers from the new one.
    await ok('DELETE', '/v1/namespace/doomed');
    await until('the namespace purged again', 30_000, async () => (await call('GET', '/v1/namespace/doomed', ROOT)).status === 404);
    await ok('PUT', '/v1/namespace', { Name: 'doomed' });
    assert.equal((await dig(port, 'db.service.doomed.ns.consul', 'A')).status, 'NXDOMAIN', 'the purged instance is not answered');
  });

  test('prepared queries: Service.Namespace picks the target, execute answers Namespace, DNS follows it', async () => {
    const { ID: id } = await ok('POST', '/v1/query', { Name: 'team-web', Service: { Service: 'web', Namespace: 'team-1' } });
    const got = await ok('GET', `/v1/query/${id}`);
    assert.equal(got[0].Service.Namespace, 'team-1');
    const ex = await ok('GET', `/v1/query/${id}/execute`);
    assert.deepEqual(Object.keys(ex).slice(0, 4), ['Service', 'Namespace', 'Partition', 'Nodes']);
    assert.equal(ex.Namespace, 'team-1');
    assert.deepEqual(ex.Nodes.map((n: any) => n.Service.Port), [81]);
    assert.deepEqual(ex.Nodes.map((n: any) => n.Node.Address), ['10.0.0.2']);
    assert.deepEqual(ex.Nodes.map((n: any) => [n.Service.Namespace, n.Service.Partition, n.Node.Partition]), [['team-1', 'default', 'default']]);
    assert.deepEqual(ex.Nodes[0].Checks.map((c: any) => [c.CheckID, c.Namespace]), [['web-ok', 'team-1']]);
    assert.deepEqual(await addrs('team-web.query.consul'), ['10.0.0.2']);
    // A query naming no namespace answers as before: no tenancy fields.
    const { ID: plain } = await ok('POST', '/v1/query', { Name: 'plain-web', Service: { Service: 'web' } });
    const pex = await ok('GET', `/v1/query/${plain}/execute`);
    assert.ok(!('Namespace' in pex));
    assert.deepEqual(pex.Nodes.map((n: any) => n.Node.Address), ['10.0.0.1']);
    assert.deepEqual(await addrs('plain-web.query.consul'), ['10.0.0.1']);
    // What another datacenter's failover sends: the whole query, its namespace kept.
    const remote = await ok('POST', '/v1/internal/query/execute-remote', { Query: { ...got[0], ID: id }, Limit: 0, Connect: false });
    assert.equal(remote.Namespace, 'team-1');
    assert.deepEqual(remote.Nodes.map((n: any) => n.Node.Address), ['10.0.0.2']);
    const bad = await call('POST', '/v1/query', ROOT, { Service: { Service: 'web', Namespace: 'not a label' } });
    assert.equal(bad.status, 400);
    // Failover targets carry Consul Enterprise's Namespace/Partition (shown only when set), templates keep them.
    const targets = [{ Datacenter: 'dc2', Namespace: 'team-2' }, { Peer: 'p', Partition: 'p1' }, { Datacenter: 'dc3' }];
    const { ID: ft } = await ok('POST', '/v1/query', { Name: 'ft', Service: { Service: 'web', Failover: { Targets: targets } } });
    assert.deepEqual((await ok('GET', `/v1/query/${ft}`))[0].Service.Failover.Targets,
      [{ Peer: '', Datacenter: 'dc2', Namespace: 'team-2' }, { Peer: 'p', Datacenter: '', Partition: 'p1' }, { Peer: '', Datacenter: 'dc3' }]);
    await ok('POST', '/v1/query', { Name: 'ftpl-', Template: { Type: 'name_prefix_match' }, Service: { Service: '${name.suffix}', Failover: { Targets: [{ Datacenter: 'dc2', Namespace: 'team-2' }] } } });
    const explained = await ok('GET', '/v1/query/ftpl-web/explain');
    assert.deepEqual(explained.Query.Service.Failover.Targets, [{ Peer: '', Datacenter: 'dc2', Namespace: 'team-2' }]);
    const badTarget = await call('POST', '/v1/query', ROOT, { Service: { Service: 'web', Failover: { Targets: [{ Datacenter: 'dc2', Namespace: 'not a label' }] } } });
    assert.equal(badTarget.status, 400, badTarget.text);
  });

  test('prepared queries in a namespace filter by the token\'s rules there', async () => {
    const t = await tokenWithRules(call, 'query_prefix "" { policy = "read" }\nnamespace "team-2" {\n  service_prefix "" { policy = "read" }\n}\nnode_prefix "" { policy = "read" }');
    const { ID: id } = await ok('POST', '/v1/query', { Name: 'team1-web-acl', Service: { Service: 'web', Namespace: 'team-1' } });
    const res = await call('GET', `/v1/query/${id}/execute`, t.SecretID);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json.Nodes, []);
    const { ID: id2 } = await ok('POST', '/v1/query', { Name: 'team2-web-acl', Service: { Service: 'web', Namespace: 'team-2' } });
    const res2 = await call('GET', `/v1/query/${id2}/execute`, t.SecretID);
    assert.deepEqual(res2.json.Nodes.map((n: any) => n.Node.Address), ['10.0.0.4']);
  });
});

describe('DNS prefer_namespace', () => {
  let dev: DevAgent;
  before(async () => {
    dev = await startDevAgent({ config: { dnsAddrs: [{ kind: 'tcp', host: '127.0.0.1', port: 0 }], raw: { dns_config: { prefer_namespace: true } } } });
    const call = httpCaller(() => dev.httpAddr);
    assert.equal((await call('PUT', '/v1/namespace', '', { Name: 'team-1' })).status, 200);
    assert.equal((await call('PUT', '/v1/catalog/register', '', { Node: 'n1', Address: '10.1.0.1', Service: { Service: 'web', Namespace: 'team-1' } })).status, 200);
    assert.equal((await call('PUT', '/v1/catalog/register', '', { Node: 'n2', Address: '10.1.0.2', Service: { Service: 'web' } })).status, 200);
  });
  after(() => dev.stop());

  test('a lone label after the service names a namespace', async () => {
    const port = Number(dev.agent.dnsAddresses().udp[0].split(':').pop());
    assert.deepEqual((await dig(port, 'web.service.team-1.consul', 'A')).answer.map((r) => r[4]), ['10.1.0.1']);
    assert.deepEqual((await dig(port, 'web.service.consul', 'A')).answer.map((r) => r[4]), ['10.1.0.2']);
    assert.deepEqual((await dig(port, 'web.service.dc1.dc.consul', 'A')).answer.map((r) => r[4]), ['10.1.0.2']);
    assert.equal((await dig(port, 'web.service.dc1.consul', 'A')).status, 'NXDOMAIN', 'dc1 is read as a namespace');
  });
});
