// Catalog names are case-insensitive as in Consul (its memdb indexes are lower-cased): service
// names in health/catalog reads, blocking queries, DNS and prepared queries; node names in node
// reads and sessions; registrations and deregistrations that differ only in case address the same
// node, service instance and check. As in Consul, the node keeps the spelling it was stored with
// (unless the registration also changes it: src/endpoint/catalog-write.test.ts) and service and
// check IDs take the latest registration's spelling; unlike Consul, a record so
// moved gets the moving write's CreateIndex (no index is stored in a value: DESIGN.md §4).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiAgent } from './support/api-agent.ts';
import { resolverFor } from './support/dns.ts';

const a = apiAgent({ config: { dnsAddrs: [{ kind: 'tcp', host: '127.0.0.1', port: 0 }] } });
const { call } = a;
const register = async (body: unknown): Promise<void> => {
  const r = await call('PUT', '/v1/catalog/register', body);
  assert.equal(r.status, 200, r.text);
};
const webOn = (status: string) => ({
  Node: 'Case-Node', Address: '10.7.0.1', Service: { ID: 'Web-1', Service: 'Web', Port: 8080, Tags: ['Blue'] },
  Check: { CheckID: 'Web-Check', ServiceID: 'Web-1', Status: status },
});

describe('catalog names are case-insensitive', () => {
  test('health/service, catalog/service and health/checks find a service registered as Web by any spelling', async () => {
    await register(webOn('passing'));
    const health = await call('GET', '/v1/health/service/web');
    assert.equal(health.json.length, 1);
    assert.equal(health.json[0].Service.Service, 'Web', 'the stored spelling is answered');
    assert.equal(health.json[0].Node.Node, 'Case-Node');
    assert.deepEqual(health.json[0].Checks.map((c: { CheckID: string }) => c.CheckID), ['Web-Check']);
    const svc = await call('GET', '/v1/catalog/service/WEB');
    assert.deepEqual(svc.json.map((s: { ServiceName: string; ServiceID: string }) => [s.ServiceName, s.ServiceID]), [['Web', 'Web-1']]);
    assert.equal((await call('GET', '/v1/catalog/service/wEb?tag=blue')).json.length, 1);
    assert.deepEqual((await call('GET', '/v1/health/checks/WEB')).json.map((c: { CheckID: string }) => c.CheckID), ['Web-Check']);
  });

  test('a blocking health/service on web wakes on a health change of Web', async () => {
    const first = await call('GET', '/v1/health/service/web');
    assert.ok(first.index > 0);
    const waiting = call('GET', `/v1/health/service/web?index=${first.index}&wait=10s`);
    // Let the query block before the change (it would also answer at once if the change came first).
    await new Promise((r) => setTimeout(r, 100));
    await register(webOn('critical'));
    const woke = await waiting;
    assert.ok(woke.index > first.index, `index moved: ${first.index} -> ${woke.index}`);
    assert.equal(woke.json[0].Checks[0].Status, 'critical');
  });

  test('node reads and their blocking queries match the node name case-insensitively', async () => {
    const node = await call('GET', '/v1/catalog/node/case-node');
    assert.equal(node.json?.Node.Node, 'Case-Node');
    assert.deepEqual(Object.keys(node.json.Services), ['Web-1']);
    assert.deepEqual((await call('GET', '/v1/catalog/node-services/CASE-NODE')).json.Services.map((s: { ID: string }) => s.ID), ['Web-1']);
    assert.deepEqual((await call('GET', '/v1/health/node/CASE-NODE')).json.map((c: { CheckID: string }) => c.CheckID), ['Web-Check']);
    const first = await call('GET', '/v1/health/node/case-node');
    const waiting = call('GET', `/v1/health/node/case-node?index=${first.index}&wait=10s`);
    await new Promise((r) => setTimeout(r, 100));
    await register(webOn('passing'));
    const woke = await waiting;
    assert.ok(woke.index > first.index);
    assert.equal(woke.json[0].Status, 'passing');
  });

  test('a registration differing only in case updates the same node, instance and check', async () => {
    const before = (await call('GET', '/v1/health/service/web')).json[0];
    await register({
      Node: 'CASE-NODE', Address: '10.7.0.1', Service: { ID: 'web-1', Service: 'Web', Port: 9090, Tags: ['Blue'] },
      Check: { CheckID: 'web-check', ServiceID: 'WEB-1', Status: 'warning' },
    });
    // Consul: the node is unchanged (ChangesNode compares names with EqualFold), so it keeps its
    // spelling; the instance and check IDs are compared exactly, so they are rewritten with the
    // new spelling (the check's ServiceID as given). Consul keeps their CreateIndex; here they are
    // moved to the new spelling's keys, so both indexes are the moving write's (DESIGN.md §4).
    const nodes = (await call('GET', '/v1/catalog/nodes')).json.map((n: { Node: string }) => n.Node);
    assert.deepEqual(nodes.filter((n: string) => n.toLowerCase() === 'case-node'), ['Case-Node']);
    const health = (await call('GET', '/v1/health/service/web')).json;
    assert.equal(health.length, 1);
    assert.deepEqual([health[0].Service.ID, health[0].Service.Port], ['web-1', 9090]);
    const moved = health[0].Service.CreateIndex;
    assert.ok(moved > before.Service.ModifyIndex && moved > before.Checks[0].ModifyIndex, 'a new CreateIndex');
    assert.equal(health[0].Service.ModifyIndex, moved);
    assert.deepEqual(health[0].Checks.map((c: { CheckID: string; Status: string; ServiceID: string }) => [c.CheckID, c.Status, c.ServiceID]),
      [['web-check', 'warning', 'WEB-1']]);
    assert.deepEqual([health[0].Checks[0].CreateIndex, health[0].Checks[0].ModifyIndex], [moved, moved], 'the same write moved the check');
    assert.deepEqual(Object.keys((await call('GET', '/v1/catalog/node/case-node')).json.Services), ['web-1'], 'one instance, not two');
    assert.deepEqual((await call('GET', '/v1/health/checks/Web')).json.map((c: { CheckID: string }) => c.CheckID), ['web-check']);
  });

  test('a check naming its service in another case stays the instance\'s check; the instance re-spelled keeps its checks', async () => {
    await register({ Node: 'Case-Node', Address: '10.7.0.1', Service: { ID: 'Web-1', Service: 'Web', Port: 9090, Tags: ['Blue'] } });
    const health = (await call('GET', '/v1/health/service/WEB')).json;
    assert.equal(health[0].Service.ID, 'Web-1');
    assert.deepEqual(health[0].Checks.map((c: { CheckID: string; ServiceID: string; ServiceName: string }) => [c.CheckID, c.ServiceID, c.ServiceName]),
      [['web-check', 'WEB-1', 'Web']]);
    assert.deepEqual((await call('GET', '/v1/health/checks/web')).json.map((c: { CheckID: string }) => c.CheckID), ['web-check']);
  });

  test('catalog/services keeps each stored spelling apart, as Consul does', async () => {
    await register({ Node: 'other-node', Address: '10.7.0.2', Service: { ID: 'web', Service: 'web', Tags: ['green'] } });
    const services = (await call('GET', '/v1/catalog/services')).json;
    assert.deepEqual(services.Web, ['Blue']);
    assert.deepEqual(services.web, ['green']);
    assert.deepEqual((await call('GET', '/v1/health/service/WEB')).json.map((e: { Node: { Node: string } }) => e.Node.Node), ['Case-Node', 'other-node']);
  });

  test('DNS and prepared queries find the service by any spelling', async () => {
    const port = Number(a.dev.agent.dnsAddresses().udp[0].split(':').pop());
    const srv = await resolverFor(port).resolveSrv('WEB.service.consul');
    assert.deepEqual(srv.map((r) => r.port).sort(), [0, 9090]);
    const q = await call('POST', '/v1/query', { Name: 'case-q', Service: { Service: 'wEB' } });
    assert.equal(q.status, 200, q.text);
    const exec = await call('GET', '/v1/query/case-q/execute');
    assert.deepEqual(exec.json.Nodes.map((n: { Node: { Node: string } }) => n.Node.Node).sort(), ['Case-Node', 'other-node']);
  });

  test('sessions and deregistration name the node, instance and check by any spelling', async () => {
    await register({ Node: 'Case-Node', Address: '10.7.0.1', Check: { CheckID: 'Web-Check-2', ServiceID: 'WEB-1', Status: 'passing' } });
    await call('PUT', '/v1/catalog/deregister', { Node: 'case-node', CheckID: 'WEB-CHECK' });
    assert.deepEqual((await call('GET', '/v1/health/node/Case-Node')).json.map((c: { CheckID: string }) => c.CheckID), ['Web-Check-2']);
    await call('PUT', '/v1/catalog/deregister', { Node: 'CASE-node', ServiceID: 'web-1' });
    assert.deepEqual((await call('GET', '/v1/catalog/service/Web')).json.map((s: { Node: string }) => s.Node), ['other-node']);
    assert.deepEqual((await call('GET', '/v1/health/node/Case-Node')).json, [], 'the instance\'s check named it in another case and went with it');
    const session = await call('PUT', '/v1/session/create', { Node: 'CASE-NODE', Checks: [] });
    assert.equal(session.status, 200, session.text);
    assert.deepEqual((await call('GET', '/v1/session/node/case-node')).json.map((x: { ID: string }) => x.ID), [session.json.ID]);
    await call('PUT', '/v1/catalog/deregister', { Node: 'case-NODE' });
    assert.equal((await call('GET', '/v1/catalog/node/Case-Node')).json, null);
    assert.deepEqual((await call('GET', `/v1/session/info/${session.json.ID}`)).json, [], 'the node\'s session went with it');
  });

  test('a session naming a check in another spelling is invalidated when the check turns critical or goes', async () => {
    await register({ Node: 'Sess-Node', Address: '10.7.0.9', Checks: [{ CheckID: 'Alive', Status: 'passing' }, { CheckID: 'Up', Status: 'passing' }] });
    const mk = async (check: string): Promise<string> => {
      const s = await call('PUT', '/v1/session/create', { Node: 'sess-node', Checks: [check] });
      assert.equal(s.status, 200, s.text);
      return s.json.ID;
    };
    const gone = async (id: string): Promise<boolean> => (await call('GET', `/v1/session/info/${id}`)).json.length === 0;
    const byRegister = await mk('ALIVE');
    await register({ Node: 'Sess-Node', Address: '10.7.0.9', Check: { CheckID: 'Alive', Status: 'critical' } });
    assert.ok(await gone(byRegister), 'catalog register of a critical check invalidates its sessions (Consul matches check IDs lower-cased)');
    const byTxn = await mk('up');
    const r = await call('PUT', '/v1/txn', [{ Check: { Verb: 'set', Check: { Node: 'Sess-Node', CheckID: 'Up', Status: 'critical' } } }]);
    assert.equal(r.status, 200, r.text);
    assert.ok(await gone(byTxn), 'a txn check set to critical invalidates its sessions');
    await register({ Node: 'Sess-Node', Address: '10.7.0.9', Check: { CheckID: 'Alive', Status: 'passing' } });
    const byDeregister = await mk('alive');
    await call('PUT', '/v1/catalog/deregister', { Node: 'Sess-Node', CheckID: 'Alive' });
    assert.ok(await gone(byDeregister), 'deregistering the check invalidates its sessions');
  });
});

describe('/v1/txn catalog verbs match names as catalog register does', () => {
  const txn = (ops: unknown) => call('PUT', '/v1/txn', ops);
  test('service and check ops find the node, instance and check by any spelling and store the IDs as spelled, as Consul does', async () => {
    await register({
      Node: 'Txn-Node', Address: '10.7.1.1', Service: { ID: 'Api-1', Service: 'Api' },
      Check: { CheckID: 'Api-Check', ServiceID: 'Api-1', Status: 'passing' },
    });
    const got = await txn([
      { Node: { Verb: 'get', Node: { Node: 'txn-node' } } },
      { Service: { Verb: 'get', Node: 'TXN-NODE', Service: { ID: 'api-1' } } },
      { Check: { Verb: 'get', Check: { Node: 'txn-NODE', CheckID: 'api-check' } } },
    ]);
    assert.equal(got.status, 200, got.text);
    assert.deepEqual(got.json.Results.map((r: Record<string, { Node?: string; ID?: string; CheckID?: string }>) =>
      r.Node?.Node ?? r.Service?.ID ?? r.Check?.CheckID), ['Txn-Node', 'Api-1', 'Api-Check']);

    const set = await txn([
      { Service: { Verb: 'set', Node: 'txn-node', Service: { ID: 'API-1', Service: 'Api', Port: 9000 } } },
      { Check: { Verb: 'set', Check: { Node: 'TXN-node', CheckID: 'api-CHECK', ServiceID: 'api-1', Status: 'warning' } } },
    ]);
    assert.equal(set.status, 200, set.text);
    // As Consul stores them: IDs as the op spells them, the same records (not duplicated); moved to
    // the new spellings' keys, with the commit's CreateIndex (Consul keeps theirs; DESIGN.md §4).
    const node = (await call('GET', '/v1/catalog/node/Txn-Node')).json;
    assert.deepEqual(Object.keys(node.Services), ['API-1'], 'the instance was updated, not duplicated');
    assert.equal(node.Services['API-1'].Port, 9000);
    const commit = set.json.Results[0].Service.ModifyIndex;
    assert.equal(set.json.Results[0].Service.CreateIndex, commit);
    assert.deepEqual([node.Services['API-1'].CreateIndex, node.Services['API-1'].ModifyIndex], [commit, commit]);
    assert.deepEqual([set.json.Results[1].Check.CreateIndex, set.json.Results[1].Check.ModifyIndex], [commit, commit]);
    const checks = (await call('GET', '/v1/health/node/Txn-Node')).json;
    assert.deepEqual(checks.map((c: { CheckID: string; Status: string; ServiceID: string }) => [c.CheckID, c.Status, c.ServiceID]),
      [['api-CHECK', 'warning', 'api-1']]);
    assert.deepEqual([checks[0].CreateIndex, checks[0].ModifyIndex], [commit, commit]);
    assert.deepEqual((await call('GET', '/v1/health/service/api')).json[0].Checks.map((c: { CheckID: string }) => c.CheckID), ['api-CHECK']);
  });

  test('node set and delete by another spelling address the stored node', async () => {
    const same = await txn([{ Node: { Verb: 'set', Node: { Node: 'txn-node', Address: '10.7.1.1' } } }]);
    assert.equal(same.status, 200, same.text);
    assert.equal(same.json.Results[0].Node.Node, 'Txn-Node', 'a case-only difference changes nothing');
    // A node set that changes the node stores it as sent (Consul's ensureNodeTxn); its records follow it.
    const set = await txn([{ Node: { Verb: 'set', Node: { Node: 'TXN-NODE', Address: '10.7.1.2' } } }]);
    assert.equal(set.status, 200, set.text);
    assert.equal(set.json.Results[0].Node.Node, 'TXN-NODE');
    assert.deepEqual((await call('GET', '/v1/catalog/nodes')).json.filter((n: { Node: string }) => /^txn-node$/i.test(n.Node))
      .map((n: { Node: string; Address: string }) => [n.Node, n.Address]), [['TXN-NODE', '10.7.1.2']]);
    assert.deepEqual(Object.keys((await call('GET', '/v1/catalog/node/txn-node')).json.Services), ['API-1']);
    assert.deepEqual((await call('GET', '/v1/health/node/Txn-Node')).json.map((c: { Node: string; CheckID: string }) => [c.Node, c.CheckID]),
      [['TXN-NODE', 'api-CHECK']]);
    const del = await txn([{ Node: { Verb: 'delete', Node: { Node: 'txn-node' } } }]);
    assert.equal(del.status, 200, del.text);
    assert.equal((await call('GET', '/v1/catalog/node/Txn-Node')).json, null);
    assert.deepEqual((await call('GET', '/v1/catalog/service/api')).json, [], 'its services went with it');
  });
});
