// /v1/health/service/:name?sg= against real agents (dc1 with partition ap1, dc2 peered): the first
// member of the group with instances answers (a critical one too, unless ?passing), then the
// exporting partition, then the peer; a blocked read wakes when the answer moves; Consul's errors
// for an unknown group, one without DefaultForFailover and ?peer= with a group (connect and
// ingress reads take the group too).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSamenessClusters, type SamenessClusters } from './support/sameness.ts';
import { ConsulClient } from '../src/api/index.ts';

type Row = { Node: { Node: string; Partition?: string }; Service: { Service: string; Namespace?: string; Partition?: string; PeerName?: string } };

describe('health reads over a sameness group', () => {
  let c: SamenessClusters;
  const PATH = '/v1/health/service/static-server?ns=ns2';
  const read = async (query: string) => {
    const r = await c.callA('GET', `${PATH}&${query}`);
    assert.equal(r.status, 200, `${query}: ${r.text}`);
    return { rows: r.json as Row[], index: Number(r.headers.get('x-consul-index')) };
  };
  const nodes = async (query: string) => (await read(query)).rows.map((r) => r.Node.Node);

  before(async () => {
    c = await startSamenessClusters();
  });
  after(async () => {
    await c?.stop();
  });

  test('members answer in failover order: local, then the exporting partition, then the peer', async () => {
    const first = await read('sg=mine');
    assert.deepEqual(first.rows.map((r) => [r.Node.Node, r.Service.Namespace, r.Service.Partition]), [['n-default', 'ns2', 'default']]);
    assert.deepEqual(await nodes('sameness-group=mine'), ['n-default'], 'the long form');
    const client = new ConsulClient({ address: c.a.httpAddr, env: {} });
    const viaClient = await client.health.service('static-server', { namespace: 'ns2', samenessGroup: 'mine' });
    assert.deepEqual(viaClient.data.map((r) => r.Node.Node), ['n-default'], "the API client's samenessGroup option");

    await c.setCheck('n-default', 'critical');
    assert.deepEqual(await nodes('sg=mine'), ['n-default'], 'a critical instance is still an instance without ?passing');
    const ap1 = await read('sg=mine&passing');
    assert.deepEqual(ap1.rows.map((r) => [r.Node.Node, r.Node.Partition]), [['n-ap1', 'ap1']]);

    await c.setCheck('n-ap1', 'critical', 'ap1');
    const peer = await read('sg=mine&passing=true');
    assert.deepEqual(peer.rows.map((r) => [r.Node.Node, r.Service.PeerName]), [['n-b', 'peer-b']]);
    assert.deepEqual(await nodes('sg=mine&passing&filter=Node.Node%20!%3D%20%22n-b%22'), [], 'the filter applies to each member: none left');

    // A blocked read wakes when ap1 turns healthy again, with ap1's instance.
    const blocked = read(`sg=mine&passing&index=${peer.index}&wait=10s`);
    await c.setCheck('n-ap1', 'passing', 'ap1');
    const woke = await blocked;
    assert.deepEqual(woke.rows.map((r) => r.Node.Node), ['n-ap1']);
    assert.ok(woke.index > peer.index);

    // ap1 stops exporting to the default partition: it no longer counts.
    await c.ok(c.callA, 'PUT', '/v1/config?partition=ap1', { Kind: 'exported-services', Name: 'ap1', Services: [] });
    assert.deepEqual(await nodes('sg=mine&passing'), ['n-b']);
    await c.setCheck('n-default', 'passing');
    assert.deepEqual(await nodes('sg=mine&passing'), ['n-default']);
  });

  test("Consul's errors: an unknown group, one without DefaultForFailover, ?peer= with a group", async () => {
    const unknown = await c.callA('GET', `${PATH}&sg=nope`);
    assert.deepEqual([unknown.status, unknown.text], [500, 'Sameness Group not found']);
    const off = await c.callA('GET', `${PATH}&sg=off`);
    assert.deepEqual([off.status, off.text], [500, 'Sameness Group must have DefaultForFailover set to true in order to use this endpoint']);
    const both = await c.callA('GET', `${PATH}&sg=mine&peer=peer-b`);
    assert.deepEqual([both.status, both.text], [400, 'peer-name and sameness-group are mutually exclusive']);
    for (const area of ['connect', 'ingress']) {
      const r = await c.callA('GET', `/v1/health/${area}/static-server?ns=ns2&sg=nope`);
      assert.deepEqual([r.status, r.text], [500, 'Sameness Group not found'], `health/${area} reads through the group too`);
      assert.deepEqual((await c.ok(c.callA, 'GET', `/v1/health/${area}/static-server?ns=ns2&sg=mine`)), [], `no member has a mesh endpoint or gateway (${area})`);
    }
    for (const area of ['service', 'connect', 'ingress']) {
      const r = await c.callA('GET', `/v1/health/${area}/?sg=mine&passing=maybe`);
      assert.deepEqual([r.status, r.text], [400, 'Missing service name'], `health/${area}: the name is checked before ?passing, as Consul`);
    }
    const ingress = await c.callA('GET', '/v1/health/ingress/?passing=maybe');
    assert.deepEqual([ingress.status, ingress.text], [400, 'Missing service name'], 'health/ingress without a group too');
    const ap1 = await c.callA('GET', `${PATH}&sg=mine&partition=ap1`);
    assert.deepEqual([ap1.status, ap1.text], [500, 'Sameness Group not found'], "the request partition's groups are read");
  });
});
