// Catalog and health HTTP API against a real agent: registration semantics and errors, the
// read views and their parameters, per-service blocking, session invalidation by checks and
// node removal, and the /v1/txn Node/Service/Check verbs.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiAgent } from './support/api-agent.ts';

const { call } = apiAgent();

const register = (body: unknown) => call('PUT', '/v1/catalog/register', body);

describe('catalog', () => {
  test('the agent\'s own node is registered with serfHealth passing and the consul service', async () => {
    const nodes = await call('GET', '/v1/catalog/nodes');
    assert.ok(nodes.json.some((n: { Node: string }) => n.Node === 'test-node'));
    const checks = await call('GET', '/v1/health/node/test-node');
    const serf = checks.json.find((c: { CheckID: string }) => c.CheckID === 'serfHealth');
    assert.equal(serf.Status, 'passing');
    assert.equal(serf.Name, 'Serf Health Status');
    assert.deepEqual((await call('GET', '/v1/catalog/services')).json.consul, []);
  });

  test('register with lowercase keys; service ID defaults to its name; checks bind to the service', async () => {
    const r = await register({ node: 'web1', address: '10.0.0.1', nodemeta: { rack: 'a' }, service: { service: 'web', tags: ['v1', 'Primary'], port: 8080 }, check: { name: 'web-alive', serviceid: 'web', status: 'passing' } });
    assert.equal(r.status, 200);
    assert.equal(r.json, true);
    const svc = await call('GET', '/v1/catalog/service/web');
    assert.equal(svc.json.length, 1);
    assert.equal(svc.json[0].ServiceID, 'web');
    assert.equal(svc.json[0].ServicePort, 8080);
    assert.deepEqual(svc.json[0].NodeMeta, { rack: 'a' });
    const health = await call('GET', '/v1/health/service/web');
    assert.deepEqual(health.json[0].Checks.map((c: { CheckID: string; ServiceName: string }) => [c.CheckID, c.ServiceName]), [['web-alive', 'web']]);
  });

  test('Consul\'s errors: missing node, missing address, unknown service for a check, bad state', async () => {
    assert.equal((await register({ Address: '1.2.3.4' })).text, 'Must provide node');
    assert.equal((await register({ Node: 'x' })).text, 'Must provide address if SkipNodeUpdate is not set');
    const r = await register({ Node: 'x', Address: '1.1.1.1', Check: { CheckID: 'c', ServiceID: 'nope' } });
    assert.equal(r.status, 500);
    assert.equal(r.text, 'Missing service registration');
    assert.equal((await call('GET', '/v1/health/state/bogus')).status, 400);
    assert.equal((await call('GET', '/v1/catalog/service/web?filter=Service.Tags%20contains')).status, 400);
  });

  test('tag (case-insensitive, AND), node-meta, passing and filter parameters', async () => {
    await register({ Node: 'web2', Address: '10.0.0.2', NodeMeta: { rack: 'b' }, Service: { Service: 'web', Tags: ['v2'] }, Checks: [{ CheckID: 'w2', ServiceID: 'web', Status: 'critical' }] });
    const names = (r: { json: { Node: string | { Node: string } }[] }) => r.json.map((x) => (typeof x.Node === 'string' ? x.Node : x.Node.Node)).sort();
    assert.deepEqual(names(await call('GET', '/v1/catalog/service/web?tag=primary')), ['web1']);
    assert.deepEqual(names(await call('GET', '/v1/catalog/service/web?tag=v1&tag=v2')), []);
    assert.deepEqual(names(await call('GET', '/v1/catalog/service/web?node-meta=rack:b')), ['web2']);
    assert.deepEqual(names(await call('GET', '/v1/health/service/web?passing')), ['web1']);
    assert.deepEqual(names(await call('GET', '/v1/health/service/web')), ['web1', 'web2']);
    assert.deepEqual(names(await call('GET', `/v1/health/service/web?filter=${encodeURIComponent('Node.Meta.rack == b')}`)), ['web2']);
    assert.deepEqual((await call('GET', '/v1/health/state/critical')).json.map((c: { CheckID: string }) => c.CheckID), ['w2']);
    assert.deepEqual((await call('GET', '/v1/catalog/services')).json.web.sort(), ['Primary', 'v1', 'v2']);
  });

  test('blocking health/service wakes on its own service\'s check change only', async () => {
    const first = await call('GET', '/v1/health/service/web');
    const waiting = call('GET', `/v1/health/service/web?index=${first.index}&wait=5s`);
    let woke = false;
    void waiting.then(() => { woke = true; });
    await register({ Node: 'other', Address: '10.9.9.9', Service: { Service: 'db' } });
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(woke, false, 'a change to another service does not wake it');
    await register({ Node: 'web2', Address: '10.0.0.2', NodeMeta: { rack: 'b' }, Service: { Service: 'web', Tags: ['v2'] }, Checks: [{ CheckID: 'w2', ServiceID: 'web', Status: 'passing' }] });
    const res = await waiting;
    assert.ok(res.index > first.index);
    assert.equal(res.json.find((e: { Node: { Node: string } }) => e.Node.Node === 'web2').Checks[0].Status, 'passing');
  });

  test('a node check turning critical invalidates the sessions tied to it; deregistering a node invalidates its sessions', async () => {
    await register({ Node: 'sess', Address: '10.3.3.3', Check: { CheckID: 'alive', Status: 'passing' } });
    const mk = async (body: unknown) => (await call('PUT', '/v1/session/create', body)).json.ID as string;
    const a = await mk({ Node: 'sess', NodeChecks: ['alive'], LockDelay: '0s' });
    const b = await mk({ Node: 'sess', Checks: [] });
    assert.equal((await call('PUT', `/v1/kv/held?acquire=${a}`, 'x')).json, true);
    await register({ Node: 'sess', Address: '10.3.3.3', Check: { CheckID: 'alive', Status: 'critical' } });
    assert.deepEqual((await call('GET', `/v1/session/info/${a}`)).json, []);
    assert.equal((await call('GET', '/v1/kv/held')).json[0].Session, undefined, 'the lock was released');
    assert.equal((await call('GET', `/v1/session/info/${b}`)).json.length, 1, 'a session without that check survives');
    assert.equal((await call('PUT', '/v1/session/create', { Node: 'sess', NodeChecks: ['alive'] })).text, "Check 'alive' is in critical state");
    await call('PUT', '/v1/catalog/deregister', { Node: 'sess' });
    assert.deepEqual((await call('GET', `/v1/session/info/${b}`)).json, []);
    assert.equal((await call('GET', '/v1/catalog/node/sess')).json, null);
  });

  test('deregister a check, a service with its checks, and a whole node', async () => {
    await register({ Node: 'dr', Address: '10.4.4.4', Service: { ID: 's1', Service: 'svc' }, Checks: [{ CheckID: 'c1', ServiceID: 's1', Status: 'passing' }, { CheckID: 'n1', Status: 'passing' }] });
    await call('PUT', '/v1/catalog/deregister', { Node: 'dr', CheckID: 'n1' });
    assert.deepEqual((await call('GET', '/v1/health/node/dr')).json.map((c: { CheckID: string }) => c.CheckID), ['c1']);
    await call('PUT', '/v1/catalog/deregister', { Node: 'dr', ServiceID: 's1' });
    assert.deepEqual((await call('GET', '/v1/health/node/dr')).json, []);
    assert.deepEqual((await call('GET', '/v1/catalog/service/svc')).json, []);
    const ns = await call('GET', '/v1/catalog/node-services/dr');
    assert.deepEqual(ns.json.Services, []);
  });
});

describe('txn catalog verbs', () => {
  test('set, get, cas, delete with Consul\'s errors and rollback', async () => {
    const txn = (ops: unknown[]) => call('PUT', '/v1/txn', ops);
    let r = await txn([
      { Node: { Verb: 'set', Node: { Node: 't1', Address: '10.5.5.5' } } },
      { Service: { Verb: 'set', Node: 't1', Service: { Service: 'api', Port: 9 } } },
      { Check: { Verb: 'set', Check: { Node: 't1', CheckID: 'c', ServiceID: 'api', Status: 'passing' } } },
    ]);
    assert.equal(r.status, 200);
    const idx = r.json.Results[0].Node.ModifyIndex;
    assert.ok(idx > 0);
    assert.equal(r.json.Results[2].Check.ServiceName, 'api');
    assert.equal((await call('GET', '/v1/health/service/api?passing')).json.length, 1);
    r = await txn([{ Node: { Verb: 'cas', Node: { Node: 't1', Address: '10.5.5.6', ModifyIndex: idx + 100 } } }, { Service: { Verb: 'get', Node: 't1', Service: { ID: 'nope' } } }]);
    assert.equal(r.status, 409);
    assert.deepEqual(r.json.Errors.map((e: { What: string }) => e.What), ['failed to set node "t1", index is stale', 'service "nope" on node "t1" doesn\'t exist']);
    r = await txn([{ Node: { Verb: 'delete', Node: { Node: 't1' } } }]);
    assert.equal(r.status, 200);
    assert.deepEqual((await call('GET', '/v1/catalog/service/api')).json, []);
  });

  test('delete-cas of a node, service or check that is not there fails as stale (Consul\'s delete*CASTxn find nothing)', async () => {
    const r = await call('PUT', '/v1/txn', [
      { Node: { Verb: 'delete-cas', Node: { Node: 'ghost', ModifyIndex: 5 } } },
      { Service: { Verb: 'delete-cas', Node: 'ghost', Service: { ID: 'nope', ModifyIndex: 5 } } },
      { Check: { Verb: 'delete-cas', Check: { Node: 'ghost', CheckID: 'nope', ModifyIndex: 5 } } },
    ]);
    assert.equal(r.status, 409);
    assert.deepEqual(r.json.Errors.map((e: { What: string }) => e.What), [
      'failed to delete node "ghost", index is stale',
      'failed to delete service "nope" on node "ghost", index is stale',
      'failed to delete check "nope" on node "ghost", index is stale',
    ]);
  });
});

describe('mesh views', () => {
  test('catalog/connect and health/connect list sidecar proxies and native services for a destination', async () => {
    await register({ Node: 'mesh1', Address: '10.6.6.6', Service: { Kind: 'connect-proxy', ID: 'pay-proxy', Service: 'pay-sidecar-proxy', Port: 21000, Proxy: { DestinationServiceName: 'pay' } } });
    await register({ Node: 'mesh2', Address: '10.6.6.7', Service: { ID: 'pay-native', Service: 'pay', Connect: { Native: true } } });
    await register({ Node: 'mesh3', Address: '10.6.6.8', Service: { ID: 'pay-plain', Service: 'pay' } });
    const cat = await call('GET', '/v1/catalog/connect/pay');
    assert.deepEqual(cat.json.map((s: { ServiceID: string }) => s.ServiceID).sort(), ['pay-native', 'pay-proxy']);
    const first = await call('GET', '/v1/health/connect/pay');
    assert.equal(first.json.length, 2);
    const waiting = call('GET', `/v1/health/connect/pay?index=${first.index}&wait=5s`);
    await register({ Node: 'mesh1', Address: '10.6.6.6', Service: { Kind: 'connect-proxy', ID: 'pay-proxy', Service: 'pay-sidecar-proxy', Port: 21001, Proxy: { DestinationServiceName: 'pay' } } });
    const woke = await waiting;
    assert.ok(woke.index > first.index);
    assert.equal(woke.json.find((e: { Service: { ID: string } }) => e.Service.ID === 'pay-proxy').Service.Port, 21001);
  });
});
