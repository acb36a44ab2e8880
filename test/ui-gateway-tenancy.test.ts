// The web UI's gateway reads in a namespace (Consul Enterprise parses ?ns= without `*` on
// /v1/internal/ui/gateway-services-nodes/:gw and /v1/internal/ui/gateway-intentions/:gw): the gateway's
// entries, linked instances and intentions of that namespace, none of the default namespace's namesakes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { aclDenyConfig, httpCaller, ROOT, type HttpCall } from './support/acl.ts';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { seedTenants } from './support/tenancy.ts';

describe('UI gateway reads in a namespace', () => {
  let dev: DevAgent;
  let call: HttpCall;
  before(async () => {
    dev = await startDevAgent({ config: aclDenyConfig() });
    call = httpCaller(() => dev.httpAddr);
    await seedTenants(dev.agent.store, ['team-a']);
    const put = async (body: object) => {
      const r = await call('PUT', '/v1/config', ROOT, body);
      assert.equal(r.status, 200, r.text);
    };
    // A terminating gateway `tgw` in both namespaces, linking different services.
    await put({ Kind: 'terminating-gateway', Name: 'tgw', Namespace: 'team-a', Services: [{ Name: 'db' }] });
    await put({ Kind: 'terminating-gateway', Name: 'tgw', Services: [{ Name: 'legacy' }] });
    await put({ Kind: 'service-intentions', Name: 'db', Namespace: 'team-a', Sources: [{ Name: 'web', Action: 'allow' }] });
    await put({ Kind: 'service-intentions', Name: 'legacy', Sources: [{ Name: 'web', Action: 'deny' }] });
    for (const [node, ns, svc] of [['n1', 'team-a', 'db'], ['n2', 'default', 'db'], ['n2', 'default', 'legacy']]) {
      const r = await call('PUT', '/v1/catalog/register', ROOT, { Node: node, Address: '10.1.0.1', Service: { Service: svc, Port: 5432, Namespace: ns } });
      assert.equal(r.status, 200, r.text);
    }
  });
  after(() => dev.stop());

  test('gateway-services-nodes?ns= summarizes the services the namespace\'s gateway links, with their instances there', async () => {
    const a = await call('GET', '/v1/internal/ui/gateway-services-nodes/tgw?ns=team-a', ROOT);
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(a.json.map((s: { Name: string; Nodes: string[]; InstanceCount: number; Namespace: string; Partition: string }) =>
      [s.Name, s.Nodes, s.InstanceCount, s.Namespace, s.Partition]), [['db', ['n1'], 1, 'team-a', 'default']]);
    // The default namespace's gateway is read as before, without tenancy fields.
    const d = await call('GET', '/v1/internal/ui/gateway-services-nodes/tgw', ROOT);
    assert.deepEqual(d.json.map((s: { Name: string; Nodes: string[] }) => [s.Name, s.Nodes]), [['legacy', ['n2']]]);
    assert.equal(d.json[0].Namespace, undefined);
    const wild = await call('GET', '/v1/internal/ui/gateway-services-nodes/tgw?ns=*', ROOT);
    assert.deepEqual([wild.status, wild.text], [400, 'Invalid namespace: wildcard "*" is not allowed for this request']);
  });

  test('gateway-intentions?ns= lists the intentions whose destination the namespace\'s gateway links', async () => {
    const a = await call('GET', '/v1/internal/ui/gateway-intentions/tgw?ns=team-a', ROOT);
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(a.json.map((i: { SourceName: string; DestinationName: string; DestinationNS: string; Action: string }) =>
      [i.SourceName, i.DestinationName, i.DestinationNS, i.Action]), [['web', 'db', 'team-a', 'allow']]);
    const d = await call('GET', '/v1/internal/ui/gateway-intentions/tgw', ROOT);
    assert.deepEqual(d.json.map((i: { DestinationName: string; Action: string }) => [i.DestinationName, i.Action]), [['legacy', 'deny']]);
    // A blocking read in the namespace wakes on its namespace's intentions.
    const index = Number(a.headers.get('X-Consul-Index'));
    const woken = call('GET', `/v1/internal/ui/gateway-intentions/tgw?ns=team-a&index=${index}&wait=10s`, ROOT);
    const r = await call('PUT', '/v1/config', ROOT, { Kind: 'service-intentions', Name: 'db', Namespace: 'team-a', Sources: [{ Name: 'web', Action: 'deny' }] });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual((await woken).json.map((i: { Action: string }) => i.Action), ['deny']);
    const wild = await call('GET', '/v1/internal/ui/gateway-intentions/tgw?ns=*', ROOT);
    assert.equal(wild.status, 400);
  });
});
