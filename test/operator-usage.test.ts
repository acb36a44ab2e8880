// GET /v1/operator/usage and `proconsul operator usage instances` against a real dev agent:
// Consul's body (counts by datacenter with the query meta inline), blocking on the index,
// operator:read under ACLs, and the CLI tables.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { httpCaller, ROOT, startAclAgent, tokenWithRules } from './support/acl.ts';
import { cliAgent } from './support/cli.ts';

describe('operator usage on a dev agent', () => {
  const h = cliAgent();
  const call = httpCaller(() => h.agent.httpAddr);
  const register = async (node: string, service: object) => {
    const r = await call('PUT', '/v1/catalog/register', '', { Node: node, Address: '10.1.0.1', Service: service });
    assert.equal(r.status, 200, r.text);
  };

  test('counts services, instances, mesh kinds, billable instances and nodes', async () => {
    const before = await call('GET', '/v1/operator/usage');
    assert.equal(before.status, 200);
    const base = before.json.Usage.dc1;
    await register('u1', { ID: 'web-1', Service: 'web', Port: 80 });
    await register('u2', { ID: 'web-2', Service: 'web', Port: 80 });
    await register('u2', { ID: 'web-proxy', Service: 'web-sidecar-proxy', Kind: 'connect-proxy', Port: 21000, Proxy: { DestinationServiceName: 'web' } });
    await register('u2', { ID: 'native', Service: 'native', Port: 81, Connect: { Native: true } });
    const r = await call('GET', '/v1/operator/usage');
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.json).sort(), ['Backend', 'ConsistencyLevel', 'Index', 'KnownLeader', 'LastContact', 'NotModified', 'ResultsFilteredByACLs', 'Usage']);
    assert.deepEqual(Object.keys(r.json.Usage), ['dc1']);
    const u = r.json.Usage.dc1;
    assert.equal(u.Services - base.Services, 3);
    assert.equal(u.ServiceInstances - base.ServiceInstances, 4);
    assert.equal(u.BillableServiceInstances - base.BillableServiceInstances, 3);
    assert.equal(u.Nodes - base.Nodes, 2);
    assert.deepEqual(Object.keys(u.ConnectServiceInstances).sort(),
      ['api-gateway', 'connect-native', 'connect-proxy', 'ingress-gateway', 'mesh-gateway', 'terminating-gateway']);
    assert.equal(u.ConnectServiceInstances['connect-proxy'] - base.ConnectServiceInstances['connect-proxy'], 1);
    assert.equal(u.ConnectServiceInstances['connect-native'] - base.ConnectServiceInstances['connect-native'], 1);
    assert.equal(r.json.KnownLeader, true);
    assert.equal(r.json.ConsistencyLevel, 'leader');
    assert.equal(String(r.json.Index), r.headers.get('x-consul-index'));
    assert.equal((await call('GET', '/v1/operator/usage?stale')).json.ConsistencyLevel, 'stale');
  });

  test('a blocking read returns when a service instance changes the counts', async () => {
    const first = await call('GET', '/v1/operator/usage');
    const waiting = call('GET', `/v1/operator/usage?index=${first.json.Index}&wait=30s`);
    await register('u3', { ID: 'late', Service: 'late', Port: 82 });
    const woke = await waiting;
    assert.ok(woke.json.Index > first.json.Index);
    assert.equal(woke.json.Usage.dc1.ServiceInstances, first.json.Usage.dc1.ServiceInstances + 1);
  });

  test('?global without other datacenters answers this one; the CLI prints the tables', async () => {
    const g = await call('GET', '/v1/operator/usage?global');
    assert.deepEqual(Object.keys(g.json.Usage), ['dc1']);
    const usage = g.json.Usage.dc1;
    const out = await h.cli(['operator', 'usage', 'instances']);
    assert.equal(out.code, 0, out.err);
    const lines = out.out.split('\n');
    assert.equal(lines[0], `Billable Service Instances Total: ${usage.BillableServiceInstances}`);
    assert.equal(lines[1], `dc1 Billable Service Instances: ${usage.BillableServiceInstances}`);
    assert.match(out.out, new RegExp(`\nBillable Services\nServices {6}Service instances\n${usage.Services} +${usage.BillableServiceInstances}\n\nConnect Services\nType {21}Service instances\napi-gateway {14}0\n`));
    const all = await h.cli(['operator', 'usage', 'instances', '-all-datacenters', '-connect']);
    assert.equal(all.code, 0, all.err);
    assert.match(all.out, /^Connect Services\nDatacenter {6}Type {21}Service instances\ndc1 {13}api-gateway {14}0\n/);
    assert.match(all.out, /\nTotal {36}\d+\n$/);
    const both = await h.cli(['operator', 'usage', 'instances', '-billable', '-connect']);
    assert.equal(both.code, 1);
    assert.equal(both.err, 'Cannot specify both -billable and -connect flags\n');
  });
});

test('operator usage needs operator:read', async () => {
  const a = await startAclAgent();
  try {
    const call = httpCaller(() => a.httpAddr);
    const denied = await call('GET', '/v1/operator/usage');
    assert.equal(denied.status, 403);
    assert.match(denied.text, /^Permission denied: token with AccessorID '.+' lacks permission 'operator:read'/);
    const reader = await tokenWithRules(call, 'operator = "read"');
    assert.equal((await call('GET', '/v1/operator/usage', reader.SecretID)).status, 200);
    assert.equal((await call('GET', '/v1/operator/usage', ROOT)).status, 200);
  } finally {
    await a.stop();
  }
});
