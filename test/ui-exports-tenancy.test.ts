// The UI's services exported to a peer in an admin partition (Consul Enterprise parses ?ns=/?partition= on
// /v1/internal/ui/exported-services with `*` allowed): the peering of that partition and that partition's
// exports to it, each with its Namespace and Partition; the default partition's answer is unchanged.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { aclDenyConfig, httpCaller, ROOT, type HttpCall } from './support/acl.ts';
import { startDevAgent, type DevAgent } from './support/agent.ts';

describe('UI exported services in a partition', () => {
  let dev: DevAgent;
  let call: HttpCall;
  const ok = async (method: string, path: string, body?: object) => {
    const r = await call(method, path, ROOT, body);
    assert.equal(r.status, 200, `${path}: ${r.text}`);
    return r;
  };
  before(async () => {
    dev = await startDevAgent({ config: aclDenyConfig() });
    call = httpCaller(() => dev.httpAddr);
    await ok('PUT', '/v1/partition', { Name: 'ap1' });
    await ok('PUT', '/v1/namespace?partition=ap1', { Name: 'team-a' });
    await ok('PUT', '/v1/namespace', { Name: 'team-a' });
    // A peering named `to-b` in ap1 and one of the same name in the default partition, each exporting other services.
    await ok('POST', '/v1/peering/token', { PeerName: 'to-b', Partition: 'ap1' });
    await ok('POST', '/v1/peering/token', { PeerName: 'to-b' });
    await ok('PUT', '/v1/config?partition=ap1', {
      Kind: 'exported-services', Name: 'ap1',
      Services: [{ Name: 'web', Namespace: 'team-a', Consumers: [{ Peer: 'to-b' }] }, { Name: 'api', Consumers: [{ Peer: 'other' }] }],
    });
    await ok('PUT', '/v1/config', { Kind: 'exported-services', Name: 'default', Services: [{ Name: 'db', Consumers: [{ Peer: 'to-b' }] }] });
  });
  after(() => dev.stop());

  test('?partition= lists that partition\'s exports to its peering, with their tenancy', async () => {
    const r = await ok('GET', '/v1/internal/ui/exported-services?peer=to-b&partition=ap1');
    assert.deepEqual(r.json.map((s: { Name: string; Namespace: string; Partition: string }) => [s.Name, s.Namespace, s.Partition]), [['web', 'team-a', 'ap1']]);
    assert.deepEqual(Object.keys(r.json[0]).slice(-4), ['Namespace', 'Partition', 'ConnectedWithProxy', 'ConnectedWithGateway']);
    // `*` is accepted (the partition's exports are listed whatever the namespace).
    const wild = await ok('GET', '/v1/internal/ui/exported-services?peer=to-b&partition=ap1&ns=*');
    assert.deepEqual(wild.json.map((s: { Name: string }) => s.Name), ['web']);
    // A peer the partition does not have: none.
    assert.deepEqual((await ok('GET', '/v1/internal/ui/exported-services?peer=nope&partition=ap1')).json, []);
  });

  test('the default partition answers as before; naming it shows the tenancy fields', async () => {
    const plain = await ok('GET', '/v1/internal/ui/exported-services?peer=to-b');
    assert.deepEqual(plain.json.map((s: { Name: string; Namespace?: string }) => [s.Name, s.Namespace]), [['db', undefined]]);
    const named = await ok('GET', '/v1/internal/ui/exported-services?peer=to-b&ns=default');
    assert.deepEqual(named.json.map((s: { Name: string; Namespace: string; Partition: string }) => [s.Name, s.Namespace, s.Partition]), [['db', 'default', 'default']]);
  });
});
