// Cluster peering in admin partitions (Consul Enterprise: peerings are partition-level, names unique
// per partition): `?partition=` / the body's Partition pick the partition (`default` as absent),
// a peering of one partition is invisible from another, the token and stream carry the partitions
// (Remote.Partition on both ends), a peering's exports come from its partition's exported-services
// entry, and services exported from a namespace are imported into the namespace of that name of
// the dialer's partition; deleting the peering removes its imports there.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { httpCaller, type HttpCall } from './support/acl.ts';
import { until } from './support/wait.ts';
import { runCliCaptured } from './support/cli.ts';

type Peering = { ID: string; Name: string; Partition?: string; State: string; Remote: { Partition: string; Datacenter: string } };

describe('peering in partitions', () => {
  let a: DevAgent;
  let b: DevAgent;
  let callA: HttpCall;
  let callB: HttpCall;
  const ok = async (call: HttpCall, method: string, path: string, body?: unknown) => {
    const r = await call(method, path, '', body);
    assert.equal(r.status, 200, `${method} ${path}: ${r.text}`);
    return r.json;
  };

  before(async () => {
    a = await startDevAgent({ config: { datacenter: 'dc1', primaryDatacenter: 'dc1', nodeName: 'node-a' } });
    b = await startDevAgent({ config: { datacenter: 'dc2', primaryDatacenter: 'dc2', nodeName: 'node-b' } });
    callA = httpCaller(() => a.httpAddr);
    callB = httpCaller(() => b.httpAddr);
    // A exports web from namespace team-a of partition ap1; B peers from partition bp.
    await ok(callA, 'PUT', '/v1/partition', { Name: 'ap1' });
    await ok(callA, 'PUT', '/v1/namespace?partition=ap1', { Name: 'team-a' });
    await ok(callB, 'PUT', '/v1/partition', { Name: 'bp' });
    await ok(callB, 'PUT', '/v1/namespace?partition=bp', { Name: 'team-a' });
    assert.equal(await ok(callA, 'PUT', '/v1/catalog/register', {
      Node: 'ext-1', Address: '10.0.0.1', Partition: 'ap1', Service: { ID: 'web-1', Service: 'web', Port: 80, Namespace: 'team-a' },
    }), true);
    assert.equal(await ok(callA, 'PUT', '/v1/config?partition=ap1', {
      Kind: 'exported-services', Name: 'ap1', Services: [{ Name: 'web', Namespace: 'team-a', Consumers: [{ Peer: 'to-b' }] }],
    }), true);
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
  });

  test('`partition=default` is the default partition; a missing partition is refused', async () => {
    for (const path of ['/v1/peerings?partition=default', '/v1/peerings?partition=DEFAULT']) {
      const r = await callB('GET', path);
      assert.deepEqual([r.status, r.json], [200, []], path);
    }
    assert.equal((await callB('GET', '/v1/peering/nope?partition=default')).status, 404);
    const missing = await callB('POST', '/v1/peering/token?partition=nope', '', { PeerName: 'x' });
    assert.deepEqual([missing.status, missing.text], [500, 'Partition "nope" does not exist']);
    const badName = await callB('POST', '/v1/peering/token', '', { PeerName: 'x', Partition: 'Not_A_Label' });
    assert.equal(badName.status, 400, badName.text);
  });

  test('a peering between two partitions: each end in its partition only, remotes name the partitions, imports land in the exporter\'s namespace', async () => {
    const { PeeringToken } = await ok(callA, 'POST', '/v1/peering/token', { PeerName: 'to-b', Partition: 'ap1' });
    assert.equal(JSON.parse(Buffer.from(PeeringToken, 'base64').toString()).Remote.Partition, 'ap1');
    assert.deepEqual(await ok(callB, 'POST', '/v1/peering/establish?partition=bp', { PeerName: 'to-a', PeeringToken }), {});
    const active = await until('to-a ACTIVE in bp', 15_000, async () => {
      const p = (await callB('GET', '/v1/peering/to-a?partition=bp')).json as Peering;
      return p?.State === 'ACTIVE' ? p : undefined;
    });
    assert.equal(active.Partition, 'bp');
    assert.deepEqual(active.Remote, { Partition: 'ap1', Datacenter: 'dc1' });
    // Partition sits after Name, as api.Peering.
    assert.deepEqual(Object.keys(active).slice(0, 3), ['ID', 'Name', 'Partition']);
    await until('the acceptor to see B\'s partition', 15_000, async () => ((await callA('GET', '/v1/peering/to-b?partition=ap1')).json as Peering)?.Remote?.Partition === 'bp');
    // Invisible from the default partition.
    assert.equal((await callB('GET', '/v1/peering/to-a')).status, 404);
    assert.deepEqual((await callB('GET', '/v1/peerings')).json, []);
    assert.deepEqual(((await callB('GET', '/v1/peerings?partition=bp')).json as Peering[]).map((p) => p.Name), ['to-a']);
    // Stored under the partition's tenant prefix.
    const keys = (await b.agent.store.range('t/bp/')).kvs.map((kv) => kv.key);
    assert.ok(keys.includes(`t/bp/default/peering/${active.ID}`), keys.join(' '));
    // web of A's team-a namespace is imported into team-a of bp.
    await until('web imported into bp/team-a', 15_000, async () => (await b.agent.store.range('t/bp/team-a/peerimport/')).kvs.length === 1);
    type Row = { Node: { Partition?: string; PeerName: string }; Service: { Port: number; Namespace?: string; Partition?: string } };
    const rows = (await callB('GET', '/v1/health/service/web?peer=to-a&ns=team-a&partition=bp')).json as Row[];
    assert.deepEqual(rows.map((r) => r.Service.Port), [80]);
    // Shown in this cluster's tenancy (the local namespace and partition), as Consul Enterprise's fields.
    assert.deepEqual([rows[0].Node.Partition, rows[0].Service.Namespace, rows[0].Service.Partition, rows[0].Node.PeerName], ['bp', 'team-a', 'bp', 'to-a']);
    const svc = (await callB('GET', '/v1/catalog/service/web?peer=to-a&ns=team-a&partition=bp')).json as { ServicePort: number; Namespace?: string }[];
    assert.deepEqual(svc.map((r) => [r.ServicePort, r.Namespace]), [[80, 'team-a']]);
    assert.deepEqual((await callB('GET', '/v1/health/service/web?peer=to-a&partition=bp')).json, [], 'not in bp\'s default namespace');
    assert.deepEqual((await b.agent.store.range('peerimport/')).kvs, [], 'nothing in the default partition');
    const status = ((await callA('GET', '/v1/peering/to-b?partition=ap1')).json as { StreamStatus: { ExportedServices: string[] } }).StreamStatus;
    assert.deepEqual(status.ExportedServices, ['team-a/web']);
    // The CLI reads and lists in -partition; read prints the Partition line (Consul's formatPeering).
    const env = { CONSUL_HTTP_ADDR: b.httpAddr };
    const read = await runCliCaptured(['peering', 'read', '-name=to-a', '-partition=bp'], env);
    assert.equal(read.code, 0, read.err);
    assert.match(read.out, /^Name:         to-a\nID:           [0-9a-f-]+\nPartition:    bp\nState:        ACTIVE\n/);
    assert.match((await runCliCaptured(['peering', 'list', '-partition=bp'], env)).out, /^Name\s+State.*\nto-a\s+ACTIVE/);
    assert.equal((await runCliCaptured(['peering', 'read', '-name=to-a'], env)).code, 1);
  });

  test('the same peer name in two partitions is two peerings; deleting one removes its imports only', async () => {
    const { PeeringToken } = await ok(callA, 'POST', '/v1/peering/token', { PeerName: 'to-b-default' });
    await ok(callB, 'POST', '/v1/peering/establish', { PeerName: 'to-a', PeeringToken });
    const inDefault = (await callB('GET', '/v1/peering/to-a')).json as Peering;
    const inBp = (await callB('GET', '/v1/peering/to-a?partition=bp')).json as Peering;
    assert.notEqual(inDefault.ID, inBp.ID);
    assert.equal(inDefault.Partition, undefined, 'default-partition answers keep CE\'s shape');
    assert.equal(((await callB('GET', '/v1/peering/to-a?partition=default')).json as Peering).Partition, 'default');
    assert.equal((await callB('DELETE', '/v1/peering/to-a?partition=bp')).status, 200);
    await until('bp\'s to-a removed', 15_000, async () => (await callB('GET', '/v1/peering/to-a?partition=bp')).status === 404);
    assert.deepEqual((await b.agent.store.range('t/bp/team-a/peerimport/')).kvs, []);
    assert.equal(((await callB('GET', '/v1/peering/to-a')).json as Peering).ID, inDefault.ID);
    await until('A\'s end of the bp peering terminated', 15_000, async () => ((await callA('GET', '/v1/peering/to-b?partition=ap1')).json as Peering)?.State === 'TERMINATED');
  });

  test('deleting a partition purges its peerings with their secrets', async () => {
    await ok(callB, 'PUT', '/v1/partition', { Name: 'gone' });
    await ok(callB, 'POST', '/v1/peering/token?partition=gone', { PeerName: 'p1' });
    const { ID } = (await callB('GET', '/v1/peering/p1?partition=gone')).json as Peering;
    assert.equal((await b.agent.store.range(`peeringsecret/${ID}`)).kvs.length, 1);
    assert.equal((await callB('DELETE', '/v1/partition/gone')).status, 200);
    await until('the partition purged', 15_000, async () => (await callB('GET', '/v1/partition/gone')).status === 404);
    assert.deepEqual((await b.agent.store.range('t/gone/')).kvs, []);
    assert.deepEqual((await b.agent.store.range(`peeringsecret/${ID}`)).kvs, []);
    assert.equal(b.agent.replica.peerings.get(ID), undefined);
  });
});
