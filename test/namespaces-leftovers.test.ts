// Namespaces in the reads slices 3, 5 and 7 left default-only: ?merge-central-config on catalog and
// health reads in a namespace (that namespace's service-defaults), peer imports in a namespace
// (`.peer` DNS, prepared queries, the UI's listings) and /v1/internal/ui/* reads with ?ns=.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { aclDenyConfig, httpCaller, ROOT, type HttpCall } from './support/acl.ts';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { dig } from './support/dns.ts';
import { encodeRecord, namespaceKey, peerImportKey, tenantKey } from '../src/state/index.ts';

const TEAM_A = { partition: 'default', namespace: 'team-a' };

/** An imported service record of peer `peer` (what the importer stores), one instance at `address`. */
function imported(peer: string, service: string, address: string, port: number) {
  return {
    Peer: peer, Service: service,
    Nodes: [{
      Node: { ID: '', Node: `${peer}-node`, Address: address, Datacenter: 'dc9', TaggedAddresses: null, Meta: null, PeerName: peer, CreateIndex: 1, ModifyIndex: 1 },
      Service: { ID: service, Service: service, Tags: null, Address: '', Meta: null, Port: port, PeerName: peer, CreateIndex: 1, ModifyIndex: 1 },
      Checks: [],
    }],
  };
}

describe('namespaced reads left over by slices 3, 5 and 7', () => {
  let dev: DevAgent;
  let call: HttpCall;
  let port: number;
  before(async () => {
    dev = await startDevAgent({ config: { ...aclDenyConfig(), dnsAddrs: [{ kind: 'tcp', host: '127.0.0.1', port: 0 }] } });
    call = httpCaller(() => dev.httpAddr);
    port = Number(dev.agent.dnsAddresses().udp[0].split(':').pop());
    const res = await dev.agent.store.txn({ success: [
      { type: 'put', key: namespaceKey(TEAM_A), value: encodeRecord({ Name: 'team-a' }) },
      { type: 'put', key: namespaceKey({ partition: 'default', namespace: 'team-b' }), value: encodeRecord({ Name: 'team-b' }) },
      // Peer imports as the importer stores them: api of peer1 in the default namespace and in team-a.
      { type: 'put', key: peerImportKey('peer1', 'api'), value: encodeRecord(imported('peer1', 'api', '10.7.0.1', 81)) },
      { type: 'put', key: tenantKey(TEAM_A, peerImportKey('peer1', 'api')), value: encodeRecord(imported('peer1', 'api', '10.7.0.2', 82)) },
      { type: 'put', key: tenantKey(TEAM_A, peerImportKey('peer1', 'only-a')), value: encodeRecord(imported('peer1', 'only-a', '10.7.0.3', 83)) },
    ] });
    assert.ok(res.succeeded);
    assert.equal((await call('PUT', '/v1/agent/token/dns', ROOT, { Token: ROOT })).status, 200);
    // A peering named peer1 (the UI lists imports of the partition's peerings).
    const token = await call('POST', '/v1/peering/token', ROOT, { PeerName: 'peer1' });
    assert.equal(token.status, 200, token.text);
  });
  after(() => dev.stop());

  test('?merge-central-config in a namespace merges that namespace\'s service-defaults', async () => {
    const put = (body: object) => call('PUT', '/v1/config', ROOT, body);
    assert.equal((await put({ Kind: 'service-defaults', Name: 'pay', Protocol: 'http', Namespace: 'team-a' })).status, 200);
    assert.equal((await put({ Kind: 'service-defaults', Name: 'ledger', Protocol: 'grpc', Namespace: 'team-a' })).status, 200);
    assert.equal((await put({ Kind: 'service-defaults', Name: 'pay', Protocol: 'http2' })).status, 200);
    const reg = await call('PUT', '/v1/catalog/register', ROOT, {
      Node: 'mc1', Address: '10.9.0.1',
      Service: { ID: 'pay-proxy', Service: 'pay-proxy', Kind: 'connect-proxy', Port: 21000, Namespace: 'team-a',
        Proxy: { DestinationServiceName: 'pay', DestinationServiceID: 'pay', Upstreams: [{ DestinationName: 'ledger', LocalBindPort: 9000 }] } },
    });
    assert.equal(reg.status, 200, reg.text);
    const plain = await call('GET', '/v1/catalog/service/pay-proxy?ns=team-a', ROOT);
    assert.equal(plain.json[0].ServiceProxy.Config, undefined);
    const merged = await call('GET', '/v1/catalog/service/pay-proxy?ns=team-a&merge-central-config', ROOT);
    assert.deepEqual(merged.json[0].ServiceProxy.Config, { protocol: 'http' });
    assert.deepEqual(merged.json[0].ServiceProxy.Upstreams[0].Config, { protocol: 'grpc' });
    assert.equal(merged.json[0].Namespace, 'team-a');
    const health = await call('GET', '/v1/health/service/pay-proxy?ns=team-a&merge-central-config', ROOT);
    assert.deepEqual(health.json[0].Service.Proxy.Config, { protocol: 'http' });
    const onNode = await call('GET', '/v1/catalog/node-services/mc1?ns=team-a&merge-central-config', ROOT);
    assert.deepEqual(onNode.json.Services[0].Proxy.Config, { protocol: 'http' });
    assert.equal(onNode.json.Services[0].Namespace, 'team-a');
    // A blocking merged read in the namespace wakes on its namespace's entries.
    const index = Number(merged.headers.get('X-Consul-Index'));
    const woken = call('GET', `/v1/catalog/service/pay-proxy?ns=team-a&merge-central-config&index=${index}&wait=10s`, ROOT);
    assert.equal((await put({ Kind: 'service-defaults', Name: 'ledger', Protocol: 'http', Namespace: 'team-a' })).status, 200);
    assert.deepEqual((await woken).json[0].ServiceProxy.Upstreams[0].Config, { protocol: 'http' });
  });

  test('.peer DNS names read the imports of the namespace they name', async () => {
    const addrs = async (name: string) => (await dig(port, name, 'A')).answer.map((r) => r[4]).sort();
    assert.deepEqual(await addrs('api.service.peer1.peer.consul'), ['10.7.0.1']);
    assert.deepEqual(await addrs('api.service.team-a.ns.peer1.peer.consul'), ['10.7.0.2']);
    assert.deepEqual(await addrs('only-a.service.team-a.ns.peer1.peer.consul'), ['10.7.0.3']);
    assert.deepEqual(await addrs('only-a.service.peer1.peer.consul'), []);
    assert.deepEqual(await addrs('api.service.team-b.ns.peer1.peer.consul'), []);
  });

  test('a prepared query naming a peer and a namespace executes over that namespace\'s imports', async () => {
    const made = await call('POST', '/v1/query', ROOT, { Name: 'peer-a', Service: { Service: 'only-a', Peer: 'peer1', Namespace: 'team-a' } });
    assert.equal(made.status, 200, made.text);
    const res = await call('GET', `/v1/query/${made.json.ID}/execute`, ROOT);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json.Nodes.map((n: any) => [n.Node.Address, n.Service.Port, n.Service.Namespace]), [['10.7.0.3', 83, 'team-a']]);
    assert.equal(res.json.PeerName, 'peer1');
    const inDefault = await call('POST', '/v1/query', ROOT, { Name: 'peer-d', Service: { Service: 'api', Peer: 'peer1' } });
    assert.deepEqual((await call('GET', `/v1/query/${inDefault.json.ID}/execute`, ROOT)).json.Nodes.map((n: any) => n.Node.Address), ['10.7.0.1']);
    assert.deepEqual((await dig(port, 'peer-a.query.consul', 'A')).answer.map((r) => r[4]), ['10.7.0.3']);
  });

  test('the UI\'s service listing in a namespace shows what peers export into that namespace', async () => {
    const rows = (q: string) => call('GET', `/v1/internal/ui/services?${q}`, ROOT).then((r) => {
      assert.equal(r.status, 200, r.text);
      return (r.json as any[]).filter((s) => s.PeerName).map((s) => [s.Name, s.PeerName, s.Namespace, s.InstanceCount]);
    });
    assert.deepEqual(await rows('ns=team-a'), [['api', 'peer1', 'team-a', 1], ['only-a', 'peer1', 'team-a', 1]]);
    assert.deepEqual(await rows('ns=team-b'), []);
    assert.deepEqual(await rows(''), [['api', 'peer1', undefined, 1]], 'the default listing keeps its shape');
    const onlyPeer = (await call('GET', '/v1/internal/ui/services?ns=team-a&peer=peer1', ROOT)).json as any[];
    assert.deepEqual(onlyPeer.map((s) => s.Name), ['api', 'only-a']);
    assert.deepEqual((await call('GET', '/v1/internal/ui/services?ns=team-a&peer=other', ROOT)).json, []);
  });

  test('the UI\'s node views in a namespace: the partition\'s nodes with that namespace\'s services, then its imports', async () => {
    const reg = (body: object) => call('PUT', '/v1/catalog/register', ROOT, body).then((r) => assert.equal(r.status, 200, r.text));
    await reg({ Node: 'un1', Address: '10.6.0.1', Service: { ID: 'd1', Service: 'd1' }, Check: { CheckID: 'node-ok', Status: 'passing' } });
    await reg({ Node: 'un1', Address: '10.6.0.1', Service: { ID: 'a1', Service: 'a1', Namespace: 'team-a' }, Check: { CheckID: 'a1-ok', ServiceID: 'a1', Status: 'passing', Namespace: 'team-a' } });
    const dump = await call('GET', '/v1/internal/ui/nodes?ns=team-a', ROOT);
    assert.equal(dump.status, 200, dump.text);
    const un1 = dump.json.find((n: any) => n.Node === 'un1');
    assert.deepEqual(Object.keys(un1).slice(0, 3), ['ID', 'Node', 'Partition']);
    assert.deepEqual(un1.Services.map((s: any) => [s.ID, s.Namespace]), [['a1', 'team-a']]);
    assert.deepEqual(un1.Checks.map((c: any) => [c.CheckID, c.Namespace]), [['a1-ok', 'team-a']]);
    assert.deepEqual(dump.json.filter((n: any) => n.PeerName).map((n: any) => [n.Node, n.PeerName, n.Services.map((s: any) => s.Service).sort()]),
      [['peer1-node', 'peer1', ['api', 'only-a']]]);
    const all = (await call('GET', '/v1/internal/ui/nodes?ns=*', ROOT)).json.find((n: any) => n.Node === 'un1');
    assert.deepEqual(all.Services.map((s: any) => [s.ID, s.Namespace]), [['d1', 'default'], ['a1', 'team-a']]);
    const plain = (await call('GET', '/v1/internal/ui/nodes', ROOT)).json.find((n: any) => n.Node === 'un1');
    assert.deepEqual(plain.Services.map((s: any) => s.ID), ['d1']);
    assert.equal('Partition' in plain, false, 'the default listing keeps its shape');
    const one = await call('GET', '/v1/internal/ui/node/un1?ns=team-a', ROOT);
    assert.deepEqual(one.json.Services.map((s: any) => s.ID), ['a1']);
    const imported = await call('GET', '/v1/internal/ui/node/peer1-node?ns=team-a&peer=peer1', ROOT);
    assert.deepEqual(imported.json.Services.map((s: any) => s.Service).sort(), ['api', 'only-a']);
    assert.equal((await call('GET', '/v1/internal/ui/node/nope?ns=team-a', ROOT)).status, 404);
    assert.equal((await call('GET', '/v1/internal/ui/nodes?ns=team-a&filter=Node%20%3D%3D%20%22un1%22', ROOT)).json.length, 1);
  });

  test('the UI\'s service topology in a namespace: proxies, upstreams and intentions of that namespace', async () => {
    const reg = (body: object) => call('PUT', '/v1/catalog/register', ROOT, body).then((r) => assert.equal(r.status, 200, r.text));
    const svc = (id: string, extra: object = {}) => ({ ID: id, Service: id, Port: 80, Namespace: 'team-a', ...extra });
    await reg({ Node: 'tn1', Address: '10.5.0.1', Service: svc('front') });
    await reg({ Node: 'tn1', Address: '10.5.0.1', Service: svc('front-proxy', { Kind: 'connect-proxy', Port: 21000,
      Proxy: { DestinationServiceName: 'front', DestinationServiceID: 'front', Upstreams: [{ DestinationName: 'back', LocalBindPort: 9000 }] } }) });
    await reg({ Node: 'tn1', Address: '10.5.0.1', Service: svc('back') });
    await reg({ Node: 'tn1', Address: '10.5.0.1', Service: svc('back-proxy', { Kind: 'connect-proxy', Port: 21001,
      Proxy: { DestinationServiceName: 'back', DestinationServiceID: 'back' } }) });
    const ixn = await call('PUT', '/v1/config', ROOT, { Kind: 'service-intentions', Name: 'back', Namespace: 'team-a', Sources: [{ Name: 'front', Action: 'deny' }] });
    assert.equal(ixn.status, 200, ixn.text);
    const topo = await call('GET', '/v1/internal/ui/service-topology/front?kind=&ns=team-a', ROOT);
    assert.equal(topo.status, 200, topo.text);
    assert.deepEqual(topo.json.Upstreams.map((u: any) => [u.Name, u.Namespace, u.Source, u.Intention.Allowed, u.Intention.HasExact]), [['back', 'team-a', 'proxy-registration', false, true]]);
    const down = await call('GET', '/v1/internal/ui/service-topology/back?kind=&ns=team-a', ROOT);
    assert.deepEqual(down.json.Downstreams.map((d: any) => [d.Name, d.Namespace, d.Intention.Allowed]), [['front', 'team-a', false]]);
    const inDefault = await call('GET', '/v1/internal/ui/service-topology/front?kind=', ROOT);
    assert.deepEqual(inDefault.json.Upstreams, [], 'the default namespace has no front');
    assert.equal((await call('GET', '/v1/internal/ui/service-topology/front?kind=&ns=*', ROOT)).status, 400);
  });

  test('the UI\'s catalog overview parses no namespace or partition (Consul ignores both there)', async () => {
    const plain = await call('GET', '/v1/internal/ui/catalog-overview', ROOT);
    for (const q of ['ns=team-a', 'partition=default', 'ns=nope']) {
      const r = await call('GET', `/v1/internal/ui/catalog-overview?${q}`, ROOT);
      assert.equal(r.status, 200, `${q}: ${r.text}`);
      assert.deepEqual(r.json, plain.json);
    }
  });
});
