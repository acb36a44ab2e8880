// /v1/txn Service and Check ops in an admin partition (Consul Enterprise's convertOps reads each op's
// Partition and Namespace): the node is the partition's, the records land under t/<ap>/<ns>/, reads in
// that partition see them and the default partition's namesake node is untouched.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { aclDenyConfig, httpCaller, ROOT, tokenWithRules, type HttpCall } from './support/acl.ts';
import { startDevAgent, type DevAgent } from './support/agent.ts';

describe('txn catalog ops in a partition', () => {
  let dev: DevAgent;
  let call: HttpCall;
  const ok = async (method: string, path: string, body?: unknown) => {
    const r = await call(method, path, ROOT, body as object);
    assert.equal(r.status, 200, `${path}: ${r.text}`);
    return r;
  };
  before(async () => {
    dev = await startDevAgent({ config: aclDenyConfig() });
    call = httpCaller(() => dev.httpAddr);
    await ok('PUT', '/v1/partition', { Name: 'ap1' });
    await ok('PUT', '/v1/namespace?partition=ap1', { Name: 'team-a' });
    await ok('PUT', '/v1/catalog/register', { Node: 'n1', Address: '10.0.0.1', Partition: 'ap1' });
    await ok('PUT', '/v1/catalog/register', { Node: 'n1', Address: '10.9.9.9' });
    await ok('PUT', '/v1/catalog/register', { Node: 'only-default', Address: '10.9.9.8' });
  });
  after(() => dev.stop());

  test('Service and Check set in ap1 write to the partition\'s node, in its default namespace or a named one', async () => {
    const r = await ok('PUT', '/v1/txn', [
      { Service: { Verb: 'set', Node: 'n1', Service: { ID: 'web', Service: 'web', Port: 80, Partition: 'ap1' } } },
      { Service: { Verb: 'set', Node: 'N1', Service: { ID: 'api', Service: 'api', Port: 81, Partition: 'ap1', Namespace: 'team-a' } } },
      { Check: { Verb: 'set', Check: { Node: 'n1', CheckID: 'web-alive', Name: 'alive', Status: 'passing', ServiceID: 'web', Partition: 'ap1' } } },
      { Check: { Verb: 'set', Check: { Node: 'n1', CheckID: 'disk', Name: 'disk', Status: 'passing', Partition: 'ap1' } } },
    ]);
    const [web, api, alive, disk] = r.json.Results;
    assert.deepEqual([web.Service.Namespace, web.Service.Partition], ['default', 'ap1']);
    assert.deepEqual([api.Service.Namespace, api.Service.Partition], ['team-a', 'ap1']);
    assert.deepEqual([alive.Check.ServiceName, alive.Check.Partition], ['web', 'ap1']);
    assert.deepEqual([disk.Check.Node, disk.Check.Partition], ['n1', 'ap1']);
    const inAp1 = await ok('GET', '/v1/catalog/service/web?partition=ap1');
    assert.deepEqual(inAp1.json.map((s: { Node: string; Address: string }) => [s.Node, s.Address]), [['n1', '10.0.0.1']]);
    assert.equal((await ok('GET', '/v1/catalog/service/api?partition=ap1&ns=team-a')).json.length, 1);
    const checks = await ok('GET', '/v1/health/node/n1?partition=ap1');
    assert.deepEqual(checks.json.map((c: { CheckID: string }) => c.CheckID).sort(), ['disk', 'web-alive']);
    // The default partition's n1 has none of them.
    assert.deepEqual((await ok('GET', '/v1/catalog/service/web')).json, []);
    assert.deepEqual((await ok('GET', '/v1/health/node/n1')).json, []);
    // Read back, then delete the service: its check goes with it.
    const got = await ok('PUT', '/v1/txn', [{ Service: { Verb: 'get', Node: 'n1', Service: { ID: 'web', Partition: 'ap1' } } }]);
    assert.equal(got.json.Results[0].Service.Port, 80);
    await ok('PUT', '/v1/txn', [{ Service: { Verb: 'delete', Node: 'n1', Service: { ID: 'web', Partition: 'ap1' } } }]);
    assert.deepEqual((await ok('GET', '/v1/health/node/n1?partition=ap1')).json.map((c: { CheckID: string }) => c.CheckID), ['disk']);
  });

  test('a Service op in ap1 on a node only the default partition has: Missing node registration', async () => {
    const r = await call('PUT', '/v1/txn', ROOT, [
      { Service: { Verb: 'set', Node: 'only-default', Service: { ID: 'db', Service: 'db', Partition: 'ap1' } } },
    ]);
    assert.equal(r.status, 409, r.text);
    assert.equal(r.json.Errors[0].What, 'Missing node registration');
    const missing = await call('PUT', '/v1/txn', ROOT, [
      { Service: { Verb: 'set', Node: 'n1', Service: { ID: 'db', Service: 'db', Partition: 'nope' } } },
    ]);
    assert.equal(missing.status, 409, missing.text);
    assert.match(missing.json.Errors[0].What, /nope/);
    // Node ops act in the default partition only: one naming ap1 is refused, not applied to the default partition's n1.
    const node = await call('PUT', '/v1/txn', ROOT, [{ Node: { Verb: 'set', Node: { Node: 'n1', Address: '10.5.5.5', Partition: 'ap1' } } }]);
    assert.equal(node.status, 409, node.text);
    assert.match(node.json.Errors[0].What, /Partition "ap1"/);
    assert.equal((await ok('GET', '/v1/catalog/node/n1')).json.Node.Address, '10.9.9.9');
  });

  test('ACLs: an op in ap1 needs the rules of ap1 (default-partition rules do not reach it)', async () => {
    const body = [{ Service: { Verb: 'set', Node: 'n1', Service: { ID: 'cache', Service: 'cache', Partition: 'ap1' } } }];
    const home = await tokenWithRules(call, 'service_prefix "" { policy = "write" }\nnode_prefix "" { policy = "write" }');
    const denied = await call('PUT', '/v1/txn', home.SecretID, body);
    assert.equal(denied.status, 409, denied.text);
    assert.match(denied.json.Errors[0].What, /Permission denied/);
    const scoped = await tokenWithRules(call, 'partition "ap1" {\n  namespace "default" { service_prefix "" { policy = "write" } }\n}');
    const allowed = await call('PUT', '/v1/txn', scoped.SecretID, body);
    assert.equal(allowed.status, 200, allowed.text);
  });
});
