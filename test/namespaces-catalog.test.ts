// The catalog and health in namespaces (Consul Enterprise's ?ns= / X-Consul-Namespace / Service.Namespace):
// one service ID on one node in two namespaces, nodes seen from every namespace, node deregistration
// removing every namespace's services, health watches woken only by their namespace, Consul
// Enterprise's Namespace/Partition fields, registration into a missing namespace refused, `ns=*`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { aclDenyConfig, httpCaller, tokenWithRules, ROOT, type HttpCall } from './support/acl.ts';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { seedTenants } from './support/tenancy.ts';

/** An ACL agent (aclDenyConfig) writing coordinate updates in batches every 200 ms instead of 5 s. */
const startAgent = (): Promise<DevAgent> => startDevAgent({ config: { ...aclDenyConfig(), raw: { consul: { coordinate: { update_period: '200ms' } } } } });

describe('catalog and health in namespaces', () => {
  let dev: DevAgent;
  let call: HttpCall;
  before(async () => {
    dev = await startAgent();
    call = httpCaller(() => dev.httpAddr);
    await seedTenants(dev.agent.store, ['team-a', 'team-b']);
  });
  after(() => dev.stop());

  const register = (body: object, query = '') => call('PUT', `/v1/catalog/register${query}`, ROOT, body);

  test('one service ID on one node in two namespaces and the default one: three instances', async () => {
    const base = { Node: 'n1', Address: '10.0.0.1' };
    assert.equal((await register({ ...base, Service: { ID: 'web-1', Service: 'web', Port: 80 } })).text, 'true');
    assert.equal((await register({ ...base, Service: { ID: 'web-1', Service: 'web', Port: 81, Namespace: 'team-a' } })).text, 'true');
    const viaHeader = await fetch(`http://${dev.httpAddr}/v1/catalog/register`, {
      method: 'PUT', headers: { 'X-Consul-Token': ROOT, 'X-Consul-Namespace': 'team-b' },
      body: JSON.stringify({ ...base, Service: { ID: 'web-1', Service: 'web', Port: 82 }, Check: { CheckID: 'c1', ServiceID: 'web-1', Status: 'passing' } }),
    });
    assert.equal(await viaHeader.text(), 'true');

    const plain = await call('GET', '/v1/catalog/service/web', ROOT);
    assert.deepEqual(plain.json.map((s: any) => s.ServicePort), [80]);
    assert.ok(!('Namespace' in plain.json[0]), 'a CE request sees no tenancy fields');
    const a = await call('GET', '/v1/catalog/service/web?ns=team-a', ROOT);
    assert.deepEqual(a.json.map((s: any) => [s.ServicePort, s.Namespace, s.Partition]), [[81, 'team-a', 'default']]);
    const keys = Object.keys(a.json[0]);
    assert.deepEqual(keys.slice(-4), ['Namespace', 'Partition', 'CreateIndex', 'ModifyIndex']);
    const b = await call('GET', '/v1/health/service/web?ns=team-b', ROOT);
    assert.equal(b.json.length, 1);
    assert.equal(b.json[0].Service.Port, 82);
    assert.equal(b.json[0].Node.Partition, 'default');
    assert.deepEqual(b.json[0].Checks.map((c: any) => [c.CheckID, c.Namespace]), [['c1', 'team-b']]);
    const named = await call('GET', '/v1/catalog/service/web?ns=default', ROOT);
    assert.deepEqual(named.json.map((s: any) => [s.ServicePort, s.Namespace]), [[80, 'default']]);

    const stored = (await dev.agent.store.range('')).kvs.map((kv) => kv.key);
    assert.ok(stored.includes('catalog/service/n1/web-1'));
    assert.ok(stored.includes('t/default/team-a/catalog/service/n1/web-1'));
    assert.ok(stored.includes('t/default/team-b/catalog/service/n1/web-1'));
    assert.ok(stored.includes('t/default/team-b/catalog/check/n1/c1'));
    assert.ok(!stored.some((k) => k.startsWith('t/') && k.includes('catalog/node/')), 'nodes are partition-level');

    assert.deepEqual(Object.keys((await call('GET', '/v1/catalog/services?ns=team-a', ROOT)).json), ['web']);
    const node = await call('GET', '/v1/catalog/node/n1?ns=team-a', ROOT);
    assert.deepEqual(Object.keys(node.json.Services), ['web-1']);
    assert.equal(node.json.Services['web-1'].Port, 81);
    assert.equal(node.json.Node.Partition, 'default');

    // Deregistering in one namespace leaves the others.
    assert.equal((await call('PUT', '/v1/catalog/deregister?ns=team-a', ROOT, { Node: 'n1', ServiceID: 'web-1' })).text, 'true');
    assert.equal((await call('GET', '/v1/catalog/service/web?ns=team-a', ROOT)).json.length, 0);
    assert.equal((await call('GET', '/v1/catalog/service/web', ROOT)).json.length, 1);
    assert.equal((await call('GET', '/v1/catalog/service/web?ns=team-b', ROOT)).json.length, 1);
  });

  test('/v1/catalog/nodes ignores ns; node checks apply to every namespace\'s instances', async () => {
    await register({ Node: 'n2', Address: '10.0.0.2', Service: { ID: 'api', Service: 'api', Namespace: 'team-a' } });
    const plain = await call('GET', '/v1/catalog/nodes', ROOT);
    const inNs = await call('GET', '/v1/catalog/nodes?ns=team-a', ROOT);
    // The namespace is not read at all (Consul Enterprise's parseEntMetaPartition): the same answer.
    assert.deepEqual(inNs.json, plain.json);
    assert.ok(!('Partition' in plain.json[0]));
    const inAp = await call('GET', '/v1/catalog/nodes?partition=default', ROOT);
    assert.deepEqual(inAp.json.map((n: any) => n.Node), plain.json.map((n: any) => n.Node));
    assert.deepEqual(Object.keys(inAp.json[0]).slice(0, 5), ['ID', 'Node', 'Address', 'Datacenter', 'Partition']);

    await register({ Node: 'n2', Address: '10.0.0.2', Check: { CheckID: 'node-up', Status: 'critical' } });
    const h = await call('GET', '/v1/health/service/api?ns=team-a', ROOT);
    assert.deepEqual(h.json[0].Checks.map((c: any) => [c.CheckID, c.Namespace]), [['node-up', 'default']]);
    assert.equal((await call('GET', '/v1/health/service/api?ns=team-a&passing', ROOT)).json.length, 0);
  });

  test('deregistering a node removes its services and checks in every namespace', async () => {
    await register({ Node: 'n3', Address: '10.0.0.3', Service: { ID: 's', Service: 's' } });
    await register({ Node: 'n3', Address: '10.0.0.3', Service: { ID: 's', Service: 's', Namespace: 'team-a' }, Check: { CheckID: 'sc', ServiceID: 's', Namespace: 'team-a' } });
    await register({ Node: 'n3', Address: '10.0.0.3', Service: { ID: 's', Service: 's' } }, '?ns=team-b');
    assert.equal((await call('PUT', '/v1/catalog/deregister', ROOT, { Node: 'n3' })).text, 'true');
    const stored = (await dev.agent.store.range('')).kvs.map((kv) => kv.key).filter((k) => k.includes('/n3'));
    assert.deepEqual(stored, []);
    for (const ns of ['', '?ns=team-a', '?ns=team-b']) assert.equal((await call('GET', `/v1/catalog/service/s${ns}`, ROOT)).json.length, 0);
  });

  test('a health watch in one namespace wakes only for its namespace', async () => {
    await register({ Node: 'n4', Address: '10.0.0.4', Service: { ID: 'w', Service: 'watched', Namespace: 'team-a' } });
    const first = await call('GET', '/v1/health/service/watched?ns=team-a', ROOT);
    const index = Number(first.headers.get('x-consul-index'));
    const blocked = call('GET', `/v1/health/service/watched?ns=team-a&index=${index}&wait=30s`, ROOT);
    let answered = false;
    void blocked.then(() => { answered = true; });
    await register({ Node: 'n4', Address: '10.0.0.4', Service: { ID: 'w', Service: 'watched', Namespace: 'team-b' } });
    await register({ Node: 'n4', Address: '10.0.0.4', Service: { ID: 'w', Service: 'watched' } });
    // Both writes are applied by the time this read answers: the blocked read is still waiting.
    await call('GET', '/v1/health/service/watched?ns=team-b&consistent', ROOT);
    assert.equal(answered, false);
    await register({ Node: 'n4', Address: '10.0.0.4', Service: { ID: 'w', Service: 'watched', Namespace: 'team-a', Port: 9 } });
    const got = await blocked;
    assert.equal(got.json[0].Service.Port, 9);
    assert.ok(Number(got.headers.get('x-consul-index')) > index);
  });

  test('registration into a missing namespace is refused with Consul\'s text; ns=* where Consul allows it', async () => {
    const missing = await register({ Node: 'n5', Address: '10.0.0.5', Service: { Service: 'x', Namespace: 'luke' } });
    assert.equal(missing.status, 500);
    assert.match(missing.text, /Namespace "luke" does not exist/);
    assert.equal((await call('GET', '/v1/catalog/service/x?ns=*', ROOT)).status, 400);
    assert.equal((await call('GET', '/v1/health/service/x?ns=*', ROOT)).status, 400);
    await register({ Node: 'n5', Address: '10.0.0.5', Service: { ID: 'x', Service: 'x' }, Check: { CheckID: 'xc', ServiceID: 'x', Status: 'warning' } });
    await register({ Node: 'n5', Address: '10.0.0.5', Service: { ID: 'x', Service: 'x', Namespace: 'team-a' }, Check: { CheckID: 'xc', ServiceID: 'x', Status: 'warning' } }, '?ns=team-a');
    const all = await call('GET', '/v1/health/state/warning?ns=*', ROOT);
    assert.deepEqual(all.json.filter((c: any) => c.Node === 'n5').map((c: any) => c.Namespace), ['default', 'team-a']);
    const nodeAll = await call('GET', '/v1/catalog/node-services/n5?ns=*', ROOT);
    assert.deepEqual(nodeAll.json.Services.map((s: any) => s.Namespace), ['default', 'team-a']);
  });

  test('coordinates are partition-level: ?ns is not read, ?partition=default adds Partition', async () => {
    await register({ Node: 'c1', Address: '10.0.0.9' });
    const coord = { Vec: [0.1, 0, 0, 0, 0, 0, 0, 0], Error: 1.5, Adjustment: 0, Height: 1e-5 };
    const index = (await call('GET', '/v1/coordinate/nodes', ROOT)).headers.get('x-consul-index');
    assert.equal((await call('PUT', '/v1/coordinate/update', ROOT, { Node: 'c1', Coord: coord })).status, 200);
    // Updates are written in batches (every 200 ms here): block until this one is.
    await call('GET', `/v1/coordinate/nodes?index=${index}&wait=20s`, ROOT);
    const plain = (await call('GET', '/v1/coordinate/nodes', ROOT)).json.filter((e: any) => e.Node === 'c1');
    assert.equal(plain.length, 1);
    assert.deepEqual((await call('GET', '/v1/coordinate/nodes?ns=team-a', ROOT)).json.filter((e: any) => e.Node === 'c1'), plain);
    const named = (await call('GET', '/v1/coordinate/node/c1?partition=default', ROOT)).json;
    assert.deepEqual(Object.keys(named[0]), ['Node', 'Segment', 'Partition', 'Coord']);
  });

  test('the UI\'s service listing in a namespace, and across namespaces with ns=*', async () => {
    await register({ Node: 'u1', Address: '10.0.0.20', Service: { ID: 'ui-svc', Service: 'ui-svc' }, Check: { CheckID: 'u', ServiceID: 'ui-svc', Status: 'passing' } });
    await register({ Node: 'u1', Address: '10.0.0.20', Service: { ID: 'ui-svc', Service: 'ui-svc', Namespace: 'team-b' } });
    const plain = (await call('GET', '/v1/internal/ui/services', ROOT)).json.find((s: any) => s.Name === 'ui-svc');
    assert.equal(plain.InstanceCount, 1);
    assert.ok(!('Namespace' in plain));
    const inB = (await call('GET', '/v1/internal/ui/services?ns=team-b', ROOT)).json.filter((s: any) => s.Name === 'ui-svc');
    assert.deepEqual(inB.map((s: any) => [s.Namespace, s.Partition, s.InstanceCount, s.ChecksCritical]), [['team-b', 'default', 1, 0]]);
    const keys = Object.keys(inB[0]);
    assert.deepEqual(keys.slice(-4), ['Namespace', 'Partition', 'ConnectedWithProxy', 'ConnectedWithGateway']);
    const all = (await call('GET', '/v1/internal/ui/services?ns=*', ROOT)).json.filter((s: any) => s.Name === 'ui-svc');
    assert.deepEqual(all.map((s: any) => [s.Namespace, s.ChecksPassing]), [['default', 1], ['team-b', 0]]);
  });

  test('/v1/txn Service and Check ops act in the namespace they name, with ACLs there', async () => {
    await register({ Node: 'tx1', Address: '10.0.0.10' });
    const txn = (ops: object[], token = ROOT) => call('PUT', '/v1/txn', token, ops);
    const set = await txn([
      { Service: { Verb: 'set', Node: 'tx1', Service: { ID: 'txs', Service: 'txs', Port: 7, Namespace: 'team-a' } } },
      { Check: { Verb: 'set', Check: { Node: 'tx1', CheckID: 'txc', Status: 'passing', ServiceID: 'txs', Namespace: 'team-a' } } },
    ]);
    assert.equal(set.status, 200, set.text);
    assert.deepEqual([set.json.Results[0].Service.Namespace, set.json.Results[0].Service.Partition], ['team-a', 'default']);
    assert.equal(set.json.Results[1].Check.ServiceName, 'txs');
    assert.equal(set.json.Results[1].Check.Namespace, 'team-a');
    assert.equal((await call('GET', '/v1/catalog/service/txs', ROOT)).json.length, 0);
    const inA = (await call('GET', '/v1/health/service/txs?ns=team-a', ROOT)).json;
    assert.deepEqual(inA.map((e: any) => [e.Service.Port, e.Checks.map((c: any) => c.CheckID)]), [[7, ['txc']]]);
    const got = await txn([{ Service: { Verb: 'get', Node: 'tx1', Service: { ID: 'txs', Namespace: 'team-a' } } }]);
    assert.equal(got.json.Results[0].Service.Port, 7);
    assert.equal((await txn([{ Service: { Verb: 'get', Node: 'tx1', Service: { ID: 'txs' } } }])).status, 409);
    // A missing namespace: Consul's text; a partition other than default: still refused.
    const missing = await txn([{ Service: { Verb: 'set', Node: 'tx1', Service: { ID: 'txs', Service: 'txs', Namespace: 'nope' } } }]);
    assert.equal(missing.status, 409);
    assert.equal(missing.json.Errors[0].What, 'Namespace "nope" does not exist');
    const ap = await txn([{ Service: { Verb: 'set', Node: 'tx1', Service: { ID: 'txs', Service: 'txs', Partition: 'p9' } } }]);
    assert.match(ap.json.Errors[0].What, /Partition "p9"/);
    // ACL: service rules of the op's namespace.
    const tok = await tokenWithRules(call, 'namespace "team-a" { service_prefix "" { policy = "write" } }');
    assert.equal((await txn([{ Service: { Verb: 'set', Node: 'tx1', Service: { ID: 'tz', Service: 'tz', Namespace: 'team-a' } } }], tok.SecretID)).status, 200);
    const denied = await txn([{ Service: { Verb: 'set', Node: 'tx1', Service: { ID: 'tz', Service: 'tz', Namespace: 'team-b' } } }], tok.SecretID);
    assert.notEqual(denied.status, 200);
    assert.equal((await call('GET', '/v1/catalog/service/tz?ns=team-b', ROOT)).json.length, 0);
    // Deleting the node through a txn takes its records in every namespace.
    assert.equal((await txn([{ Node: { Verb: 'delete', Node: { Node: 'tx1' } } }])).status, 200);
    assert.equal((await call('GET', '/v1/catalog/service/txs?ns=team-a', ROOT)).json.length, 0);
    assert.equal((await call('GET', '/v1/health/checks/txs?ns=team-a', ROOT)).json.length, 0);
  });

  test('/v1/txn check delete naming no ServiceID needs write on the stored check\'s service in its namespace', async () => {
    await register({ Node: 'tx2', Address: '10.0.0.11', Service: { ID: 'priv', Service: 'priv', Namespace: 'team-a' }, Check: { CheckID: 'pc', ServiceID: 'priv', Status: 'passing' } });
    // Write on node tx2 and on service "priv" of the default namespace only.
    const tok = await tokenWithRules(call, 'node "tx2" { policy = "write" } service "priv" { policy = "write" }');
    const del = await call('PUT', '/v1/txn', tok.SecretID, [{ Check: { Verb: 'delete', Check: { Node: 'tx2', CheckID: 'pc', Namespace: 'team-a' } } }]);
    assert.notEqual(del.status, 200, del.text);
    assert.deepEqual((await call('GET', '/v1/health/checks/priv?ns=team-a', ROOT)).json.map((c: any) => c.CheckID), ['pc']);
  });

  test('/v1/txn Service delete takes the service\'s checks in its namespace (and the default one), as Consul\'s deleteServiceTxn', async () => {
    const txn = (ops: object[]) => call('PUT', '/v1/txn', ROOT, ops);
    for (const ns of ['team-a', 'default']) {
      await register({ Node: 'tx3', Address: '10.0.0.12', Service: { ID: 'dsv', Service: 'dsv', Namespace: ns }, Check: { CheckID: 'dsc', ServiceID: 'dsv', Status: 'passing' } });
      const res = await txn([{ Service: { Verb: 'delete', Node: 'tx3', Service: { ID: 'dsv', Namespace: ns } } }]);
      assert.equal(res.status, 200, res.text);
      assert.equal((await call('GET', `/v1/catalog/service/dsv?ns=${ns}`, ROOT)).json.length, 0);
      assert.deepEqual((await call('GET', `/v1/health/node/tx3?ns=${ns}`, ROOT)).json.map((c: any) => c.CheckID), [], ns);
    }
  });

  test('a session names service checks of a namespace: created against that namespace\'s check, invalidated by it', async () => {
    await register({ Node: 'sn', Address: '10.0.0.40', Service: { ID: 'ss', Service: 'ss', Namespace: 'team-a' }, Check: { CheckID: 'sc', ServiceID: 'ss', Status: 'passing' } });
    await register({ Node: 'sn', Address: '10.0.0.40', Service: { ID: 'ss', Service: 'ss' }, Check: { CheckID: 'sc', ServiceID: 'ss', Status: 'critical' } });
    // Only the default namespace's sc is critical: a session on team-a's sc is valid.
    const created = await call('PUT', '/v1/session/create', ROOT, { Node: 'sn', NodeChecks: [], ServiceChecks: [{ ID: 'sc', Namespace: 'team-a' }] });
    assert.equal(created.status, 200, created.text);
    assert.equal((await call('GET', `/v1/session/info/${created.json.ID}`, ROOT)).json.length, 1);
    const refused = await call('PUT', '/v1/session/create', ROOT, { Node: 'sn', NodeChecks: [], ServiceChecks: [{ ID: 'sc' }] });
    assert.equal(refused.status, 500);
    assert.match(refused.text, /Check 'sc' is in critical state/);
    const missing = await call('PUT', '/v1/session/create', ROOT, { Node: 'sn', NodeChecks: [], ServiceChecks: [{ ID: 'sc', Namespace: 'team-b' }] });
    assert.equal(missing.status, 500);
    assert.match(missing.text, /Missing check 'sc' registration/);
    await register({ Node: 'sn', Address: '10.0.0.40', Service: { ID: 'ss', Service: 'ss', Namespace: 'team-a' }, Check: { CheckID: 'sc', ServiceID: 'ss', Status: 'critical' } });
    assert.deepEqual((await call('GET', `/v1/session/info/${created.json.ID}`, ROOT)).json, []);
  });

  test('deleting a namespace invalidates the sessions of other namespaces tied to its checks, as deleting the checks does', async () => {
    assert.equal((await call('PUT', '/v1/namespace', ROOT, { Name: 'team-gone' })).status, 200);
    await register({ Node: 'sg', Address: '10.0.0.41', Service: { ID: 'gs', Service: 'gs', Namespace: 'team-gone' }, Check: { CheckID: 'gc', ServiceID: 'gs', Status: 'passing' } });
    const s = await call('PUT', '/v1/session/create', ROOT, { Node: 'sg', NodeChecks: [], ServiceChecks: [{ ID: 'gc', Namespace: 'team-gone' }] });
    assert.equal(s.status, 200, s.text);
    assert.equal((await call('PUT', `/v1/kv/gone-lock?acquire=${s.json.ID}`, ROOT, 'x')).text, 'true');
    assert.equal((await call('DELETE', '/v1/namespace/team-gone', ROOT)).status, 200);
    for (let i = 0; i < 100 && (await call('GET', '/v1/namespace/team-gone', ROOT)).status !== 404; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal((await call('GET', '/v1/namespace/team-gone', ROOT)).status, 404, 'purged');
    assert.deepEqual((await call('GET', `/v1/session/info/${s.json.ID}`, ROOT)).json, []);
    assert.equal((await call('GET', '/v1/kv/gone-lock', ROOT)).json[0].Session, undefined, 'its lock is released');
  });

  test('catalog/gateway-services reads a namespace\'s gateway entries, its wildcard over that namespace\'s services', async () => {
    await register({ Node: 'g1', Address: '10.0.0.50', Service: { ID: 'gw-api', Service: 'gw-api', Namespace: 'team-a' } });
    await register({ Node: 'g1', Address: '10.0.0.50', Service: { ID: 'gw-default-only', Service: 'gw-default-only' } });
    const entry = { Kind: 'terminating-gateway', Name: 'tgw', Services: [{ Name: '*' }, { Name: 'db', SNI: 'db.example' }] };
    assert.equal((await call('PUT', '/v1/config?ns=team-a', ROOT, entry)).text, 'true');
    const res = await call('GET', '/v1/catalog/gateway-services/tgw?ns=team-a', ROOT);
    assert.equal(res.status, 200, res.text);
    const names = res.json.map((r: any) => r.Service.Name);
    assert.ok(names.includes('gw-api') && names.includes('db'), names.join(' '));
    assert.ok(!names.includes('gw-default-only'), 'a wildcard covers its own namespace\'s services');
    const db = res.json.find((r: any) => r.Service.Name === 'db');
    assert.deepEqual(db.Gateway, { Name: 'tgw', Namespace: 'team-a', Partition: 'default' });
    assert.deepEqual(db.Service, { Name: 'db', Namespace: 'team-a', Partition: 'default' });
    assert.deepEqual([db.GatewayKind, db.SNI], ['terminating-gateway', 'db.example']);
    // The default namespace has no such gateway; its plain answer keeps CE's shape.
    assert.deepEqual((await call('GET', '/v1/catalog/gateway-services/tgw', ROOT)).json, []);
    assert.equal((await call('GET', '/v1/catalog/gateway-services/tgw?ns=*', ROOT)).status, 400);
    // Reads in team-b see nothing; service:read is checked in the gateway's namespace.
    assert.deepEqual((await call('GET', '/v1/catalog/gateway-services/tgw?ns=team-b', ROOT)).json, []);
    const tok = await tokenWithRules(call, 'namespace "team-a" { service "tgw" { policy = "read" } service "db" { policy = "read" } }');
    assert.deepEqual((await call('GET', '/v1/catalog/gateway-services/tgw?ns=team-a', tok.SecretID)).json.map((r: any) => r.Service.Name), ['db']);
    assert.equal((await call('GET', '/v1/catalog/gateway-services/tgw?ns=team-b', tok.SecretID)).status, 403);
  });

  test('ACL: namespace blocks grant services only inside their namespace', async () => {
    const tok = await tokenWithRules(call, 'node_prefix "" { policy = "write" } namespace "team-a" { service_prefix "" { policy = "write" } }');
    const body = { Node: 'n6', Address: '10.0.0.6', Service: { ID: 'z', Service: 'z' } };
    assert.equal((await call('PUT', '/v1/catalog/register?ns=team-a', tok.SecretID, body)).text, 'true');
    assert.equal((await call('PUT', '/v1/catalog/register?ns=team-b', tok.SecretID, body)).status, 403);
    assert.equal((await call('PUT', '/v1/catalog/register', tok.SecretID, body)).status, 403);
    assert.equal((await call('GET', '/v1/catalog/service/z?ns=team-a', tok.SecretID)).json.length, 1);
  });
});

describe('catalog and health in an admin partition', () => {
  let dev: DevAgent;
  let call: HttpCall;
  before(async () => {
    dev = await startAgent();
    call = httpCaller(() => dev.httpAddr);
    assert.equal((await call('PUT', '/v1/partition', ROOT, { Name: 'p1' })).status, 200);
    assert.equal((await call('PUT', '/v1/namespace?partition=p1', ROOT, { Name: 'team-a', Partition: 'p1' })).status, 200);
  });
  after(() => dev.stop());

  test('one node name in two partitions: two nodes, each with its own services and node checks', async () => {
    const reg = (body: object, q: string) => call('PUT', `/v1/catalog/register${q}`, ROOT, body);
    assert.equal((await reg({ Node: 'n1', Address: '10.0.0.1', Service: { ID: 'web', Service: 'web', Port: 80 } }, '')).text, 'true');
    const inP = await reg({ Node: 'n1', Address: '10.1.0.1', Service: { ID: 'web', Service: 'web', Port: 81 }, Check: { CheckID: 'up', Status: 'warning' } }, '?partition=p1');
    assert.equal(inP.text, 'true');
    assert.equal((await reg({ Node: 'n1', Address: '10.1.0.1', Partition: 'p1', Service: { ID: 'web', Service: 'web', Port: 82, Namespace: 'team-a' } }, '')).text, 'true');

    const stored = (await dev.agent.store.range('')).kvs.map((kv) => kv.key).filter((k) => k.includes('catalog/'));
    for (const k of ['catalog/node/n1', 't/p1/default/catalog/node/n1', 't/p1/default/catalog/service/n1/web', 't/p1/default/catalog/check/n1/up',
      't/p1/team-a/catalog/service/n1/web']) assert.ok(stored.includes(k), `${k} in ${stored.join(' ')}`);

    const nodes = await call('GET', '/v1/catalog/nodes?partition=p1', ROOT);
    assert.deepEqual(nodes.json.map((n: any) => [n.Node, n.Address, n.Partition]), [['n1', '10.1.0.1', 'p1']]);
    assert.ok((await call('GET', '/v1/catalog/nodes', ROOT)).json.every((n: any) => n.Address !== '10.1.0.1'));
    const h = await call('GET', '/v1/health/service/web?partition=p1', ROOT);
    assert.deepEqual(h.json.map((r: any) => [r.Node.Address, r.Node.Partition, r.Service.Port, r.Service.Partition]), [['10.1.0.1', 'p1', 81, 'p1']]);
    assert.deepEqual(h.json[0].Checks.map((c: any) => [c.CheckID, c.Partition]), [['up', 'p1']]);
    const ha = await call('GET', '/v1/health/service/web?partition=p1&ns=team-a', ROOT);
    assert.deepEqual(ha.json.map((r: any) => [r.Service.Port, r.Service.Namespace, r.Checks.map((c: any) => c.CheckID)]), [[82, 'team-a', ['up']]]);
    assert.deepEqual((await call('GET', '/v1/catalog/service/web', ROOT)).json.map((s: any) => s.ServicePort), [80]);

    // Deregistering the node in p1 removes its records there (every namespace), not the default partition's n1.
    assert.equal((await call('PUT', '/v1/catalog/deregister?partition=p1', ROOT, { Node: 'n1' })).text, 'true');
    const after = (await dev.agent.store.range('t/p1/')).kvs.map((kv) => kv.key).filter((k) => k.includes('catalog/'));
    assert.deepEqual(after, []);
    assert.deepEqual((await call('GET', '/v1/catalog/service/web', ROOT)).json.map((s: any) => s.ServicePort), [80]);
  });

  test('node IDs are unique within a partition, not across partitions', async () => {
    const id = '11111111-2222-3333-4444-555555555555';
    assert.equal((await call('PUT', '/v1/catalog/register?partition=p1', ROOT, { ID: id, Node: 'idn', Address: '10.1.0.5' })).text, 'true');
    assert.equal((await call('PUT', '/v1/catalog/register', ROOT, { ID: id, Node: 'idn-default', Address: '10.0.0.5' })).text, 'true');
    const clash = await call('PUT', '/v1/catalog/register?partition=p1', ROOT, { ID: id, Node: 'other', Address: '10.1.0.6' });
    assert.equal(clash.status, 500);
    assert.match(clash.text, /node ID "11111111-2222-3333-4444-555555555555" belongs to node "idn"/);
    assert.equal((await call('PUT', '/v1/catalog/register?partition=p1', ROOT, { ID: id, Node: 'idn', Address: '10.1.0.7' })).text, 'true');
    const stored = (await dev.agent.store.range('t/p1/default/guard/')).kvs.map((kv) => kv.key);
    assert.ok(stored.includes(`t/p1/default/guard/node-id/${id}`), stored.join(' '));
  });

  test('a registration into a missing partition is refused; node rules are the partition\'s', async () => {
    const missing = await call('PUT', '/v1/catalog/register?partition=nope', ROOT, { Node: 'x', Address: '10.9.9.9' });
    assert.equal(missing.status, 500);
    assert.match(missing.text, /Partition "nope" does not exist/);
    const tok = await tokenWithRules(call, 'partition "p1" { node_prefix "" { policy = "write" } }');
    assert.equal((await call('PUT', '/v1/catalog/register?partition=p1', tok.SecretID, { Node: 'n2', Address: '10.1.0.2' })).text, 'true');
    assert.equal((await call('PUT', '/v1/catalog/register', tok.SecretID, { Node: 'n2', Address: '10.1.0.2' })).status, 403);
  });

  test('reads in a partition meet its node rules, not the default partition\'s', async () => {
    const body = { Node: 'rn', Address: '10.1.0.30', Service: { ID: 'rs', Service: 'rs' }, Check: { CheckID: 'rc', ServiceID: 'rs', Status: 'passing' } };
    assert.equal((await call('PUT', '/v1/catalog/register?partition=p1', ROOT, body)).text, 'true');
    assert.equal((await call('PUT', '/v1/catalog/register?partition=p1', ROOT, { Node: 'rn', Address: '10.1.0.30', Check: { CheckID: 'rn-up', Status: 'passing' } })).text, 'true');
    const reads = ['/v1/catalog/nodes?partition=p1', '/v1/catalog/service/rs?partition=p1', '/v1/health/service/rs?partition=p1',
      '/v1/health/node/rn?partition=p1', '/v1/health/checks/rs?partition=p1', '/v1/health/state/passing?partition=p1',
      '/v1/internal/ui/services?partition=p1'];
    const seen = async (token: string) => {
      const out: number[] = [];
      for (const r of reads) out.push((await call('GET', r, token)).json.filter((x: any) => x.Node === 'rn' || x.Node?.Node === 'rn' || x.Name === 'rs').length);
      const node = (await call('GET', '/v1/catalog/node/rn?partition=p1', token)).json;
      out.push(node ? Object.keys(node.Services).length : -1);
      return out;
    };
    // Top-level node rules are the default partition's: they grant nothing in p1.
    const dflt = await tokenWithRules(call, 'node_prefix "" { policy = "read" } partition "p1" { service_prefix "" { policy = "read" } }');
    assert.deepEqual(await seen(dflt.SecretID), [0, 0, 0, 0, 0, 0, 0, -1]);
    // p1's own node rules grant p1's nodes.
    const inP1 = await tokenWithRules(call, 'partition "p1" { node_prefix "" { policy = "read" } service_prefix "" { policy = "read" } }');
    assert.deepEqual(await seen(inP1.SecretID), [1, 1, 1, 2, 1, 2, 1, 1]);
  });

  test('coordinates are kept per partition: one node name in two partitions has two, read with ?partition=, gone with the node', async () => {
    const coord = (x: number) => ({ Vec: [x, 0, 0, 0, 0, 0, 0, 0], Error: 1.5, Adjustment: 0, Height: 1e-5 });
    assert.equal((await call('PUT', '/v1/catalog/register', ROOT, { Node: 'cn', Address: '10.0.0.40' })).text, 'true');
    assert.equal((await call('PUT', '/v1/catalog/register?partition=p1', ROOT, { Node: 'cn', Address: '10.1.0.40' })).text, 'true');
    const index = (await call('GET', '/v1/coordinate/nodes?partition=p1', ROOT)).headers.get('x-consul-index');
    assert.equal((await call('PUT', '/v1/coordinate/update', ROOT, { Node: 'cn', Coord: coord(0.1) })).status, 200);
    assert.equal((await call('PUT', '/v1/coordinate/update', ROOT, { Node: 'cn', Partition: 'p1', Coord: coord(0.2) })).status, 200);
    // Updates are written in batches (every 200 ms here): block until p1's is.
    await call('GET', `/v1/coordinate/nodes?partition=p1&index=${index}&wait=20s`, ROOT);
    const p1 = (await call('GET', '/v1/coordinate/nodes?partition=p1', ROOT)).json;
    assert.deepEqual(p1.map((e: any) => [e.Node, e.Partition, e.Coord.Vec[0]]), [['cn', 'p1', 0.2]]);
    assert.deepEqual(Object.keys(p1[0]), ['Node', 'Segment', 'Partition', 'Coord']);
    const dflt = (await call('GET', '/v1/coordinate/nodes', ROOT)).json.filter((e: any) => e.Node === 'cn');
    assert.deepEqual(dflt.map((e: any) => [e.Partition, e.Coord.Vec[0]]), [[undefined, 0.1]]);
    assert.equal((await call('GET', '/v1/coordinate/node/cn?partition=p1', ROOT)).json[0].Coord.Vec[0], 0.2);
    const stored = (await dev.agent.store.range('')).kvs.map((kv) => kv.key);
    assert.ok(stored.includes('coordinate/cn/') && stored.includes('t/p1/default/coordinate/cn/'), stored.filter((k) => k.includes('coordinate')).join(' '));
    // p1's node rules, not the default partition's, read p1's coordinates.
    const dfltTok = await tokenWithRules(call, 'node_prefix "" { policy = "read" }');
    assert.deepEqual((await call('GET', '/v1/coordinate/nodes?partition=p1', dfltTok.SecretID)).json, []);
    assert.equal((await call('GET', '/v1/coordinate/node/cn?partition=p1', dfltTok.SecretID)).status, 403);
    const p1Tok = await tokenWithRules(call, 'partition "p1" { node_prefix "" { policy = "read" } }');
    assert.equal((await call('GET', '/v1/coordinate/nodes?partition=p1', p1Tok.SecretID)).json.length, 1);
    // ?near= in p1 sorts by p1's coordinates: cn2 (only in p1) first from itself.
    assert.equal((await call('PUT', '/v1/catalog/register?partition=p1', ROOT, { Node: 'cn2', Address: '10.1.0.41' })).text, 'true');
    const at = (await call('GET', '/v1/coordinate/nodes?partition=p1', ROOT)).headers.get('x-consul-index');
    assert.equal((await call('PUT', '/v1/coordinate/update?partition=p1', ROOT, { Node: 'cn2', Coord: coord(5) })).status, 200);
    await call('GET', `/v1/coordinate/nodes?partition=p1&index=${at}&wait=20s`, ROOT);
    const names = async (q: string) => (await call('GET', `/v1/catalog/nodes?partition=p1${q}`, ROOT)).json.map((n: any) => n.Node).filter((n: string) => n.startsWith('cn'));
    assert.deepEqual(await names(''), ['cn', 'cn2']);
    assert.deepEqual(await names('&near=cn2'), ['cn2', 'cn']);
    // Deregistering p1's node deletes its coordinates, not the default partition's node's.
    assert.equal((await call('PUT', '/v1/catalog/deregister?partition=p1', ROOT, { Node: 'cn' })).text, 'true');
    assert.equal((await call('GET', '/v1/coordinate/node/cn?partition=p1', ROOT)).status, 404);
    assert.equal((await call('GET', '/v1/coordinate/node/cn', ROOT)).status, 200);
    assert.deepEqual((await dev.agent.store.range('t/p1/default/coordinate/')).kvs.map((kv) => kv.key), ['t/p1/default/coordinate/cn2/']);
  });
});
