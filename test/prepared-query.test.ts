// Prepared queries over HTTP against a real agent: CRUD with Consul's validation texts and
// indexes, execute (health, tags with negation, node/service meta, limit, near), templates
// (name prefix and regexp), explain, and deletion with the session a query is bound to.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiAgent } from './support/api-agent.ts';
import { ConsulClient } from '../src/api/index.ts';

const api = apiAgent({}, async ({ call }) => {
  const reg = (body: unknown) => call('PUT', '/v1/catalog/register', body);
  for (let i = 1; i <= 4; i++) {
    await reg({
      Node: `n${i}`, Address: `10.0.0.${i}`, NodeMeta: { rack: i % 2 ? 'odd' : 'even' },
      Service: { ID: 'web', Service: 'web', Port: 8000 + i, Tags: i === 4 ? ['v2'] : ['v1', i === 1 ? 'canary' : 'stable'], Meta: { ver: String(i) } },
      Checks: [{ CheckID: 'web-check', Name: 'web', ServiceID: 'web', Status: i === 2 ? 'warning' : i === 3 ? 'critical' : 'passing' }],
    });
  }
  await reg({ Node: 'n5', Address: '10.0.0.5', Service: { ID: 'mysql-customer', Service: 'mysql-customer', Port: 3306, Tags: ['primary'] } });
  await reg({ Node: 'n6', Address: '10.0.0.6', Service: { ID: 'mysql-customer', Service: 'mysql-customer', Port: 3306, Tags: ['replica'] } });
});
const { call } = api;

const nodesOf = (r: { json: { Nodes: { Node: { Node: string } }[] } }) => r.json.Nodes.map((n) => n.Node.Node).sort();

describe('prepared queries', () => {
  test('create, read, list, update and delete with indexes', async () => {
    const c = await call('POST', '/v1/query', { Name: 'web-q', Service: { Service: 'web' }, DNS: { TTL: '10s' } });
    assert.equal(c.status, 200, c.text);
    const id = c.json.ID as string;
    assert.match(id, /^[0-9a-f-]{36}$/);
    const g = await call('GET', `/v1/query/${id}`);
    assert.equal(g.status, 200);
    assert.equal(g.json.length, 1);
    const q = g.json[0];
    assert.equal(q.ID, id);
    assert.equal(q.Name, 'web-q');
    assert.equal(q.Service.Service, 'web');
    assert.equal(q.DNS.TTL, '10s');
    assert.deepEqual(q.Template, { Type: '', Regexp: '', RemoveEmptyTags: false });
    assert.ok(q.CreateIndex > 0 && q.ModifyIndex === q.CreateIndex);
    assert.ok(g.index >= q.ModifyIndex);
    const l = await call('GET', '/v1/query');
    assert.ok(l.json.some((x: { ID: string }) => x.ID === id));
    const u = await call('PUT', `/v1/query/${id}`, { Name: 'web-q', Service: { Service: 'web', OnlyPassing: true } });
    assert.equal(u.status, 200, u.text);
    const g2 = (await call('GET', `/v1/query/${id}`)).json[0];
    assert.equal(g2.Service.OnlyPassing, true);
    assert.equal(g2.CreateIndex, q.CreateIndex);
    assert.ok(g2.ModifyIndex > q.ModifyIndex);
    assert.equal((await call('DELETE', `/v1/query/${id}`)).status, 200);
    const gone = await call('GET', `/v1/query/${id}`);
    assert.equal(gone.status, 404);
    assert.equal(gone.text, 'Query not found');
    const again = await call('DELETE', `/v1/query/${id}`);
    assert.equal(again.status, 500);
    assert.equal(again.text, `Cannot modify non-existent prepared query: '${id}'`);
  });

  test('validation errors carry Consul texts', async () => {
    const bad = async (body: unknown) => (await call('POST', '/v1/query', body)).text;
    assert.equal(await bad({ Service: { Service: 'web' } }), 'Invalid prepared query: Must be bound to a session');
    assert.equal(await bad({ Name: 'x' }), 'Invalid prepared query: Must provide a Service name to query');
    assert.equal(await bad({ Name: 'x', Service: { Service: 'web', Failover: { NearestN: -1 } } }), "Invalid prepared query: Bad NearestN '-1', must be >= 0");
    assert.equal(await bad({ Name: 'x', Service: { Service: 'web', Failover: { NearestN: 1, Targets: [{ Datacenter: 'dc2' }] } } }), 'Invalid prepared query: Targets cannot be populated with NearestN or Datacenters');
    assert.equal(await bad({ Name: 'x', Service: { Service: 'web' }, DNS: { TTL: 'soon' } }), `Invalid prepared query: Bad DNS TTL 'soon': time: invalid duration "soon"`);
    assert.equal(await bad({ Name: 'x', Token: '<hidden>', Service: { Service: 'web' } }), "Invalid prepared query: Bad Token '<hidden>', it looks like a query definition with a redacted token was submitted");
    assert.equal(await bad({ Name: 'x', Session: 'nope', Service: { Service: 'web' } }), 'invalid session "nope"');
    assert.equal(await bad({ Name: 'x', Template: { Type: 'nope' }, Service: { Service: 'web' } }), "failed compiling template: Bad Template.Type 'nope'");
    assert.equal(await bad({ ID: 'abc', Name: 'x', Service: { Service: 'web' } }), 'ID must be empty when creating a new prepared query');
    assert.equal((await call('POST', '/v1/query', { Name: 'dup', Service: { Service: 'web' } })).status, 200);
    assert.equal(await bad({ Name: 'DUP', Service: { Service: 'web' } }), "name 'DUP' aliases an existing query name");
  });

  test('execute: health, tags, meta, limit, DNS and datacenter', async () => {
    const mk = async (Name: string, Service: unknown) => (await call('POST', '/v1/query', { Name, Service, DNS: { TTL: '3s' } })).json.ID as string;
    await mk('e-all', { Service: 'web' });
    await mk('e-passing', { Service: 'web', OnlyPassing: true });
    await mk('e-tags', { Service: 'web', Tags: ['v1', '!canary'] });
    await mk('e-meta', { Service: 'web', NodeMeta: { rack: 'even' }, ServiceMeta: { ver: '4' } });
    const idIgnore = await mk('e-ignore', { Service: 'web', IgnoreCheckIDs: ['web-check'] });
    const all = await call('GET', '/v1/query/e-all/execute');
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(nodesOf(all), ['n1', 'n2', 'n4']);
    assert.equal(all.json.Service, 'web');
    assert.deepEqual(all.json.DNS, { TTL: '3s' });
    assert.equal(all.json.Datacenter, 'dc1');
    assert.equal(all.json.Failovers, 0);
    // Consul's PreparedQueryExecuteResponse with its embedded QueryMeta; Execute is not a blocking
    // query, so the body's Index is 0 and X-Consul-Index says 1.
    assert.deepEqual(Object.keys(all.json), [
      'Service', 'Nodes', 'DNS', 'Datacenter', 'PeerName', 'Failovers',
      'Index', 'LastContact', 'KnownLeader', 'ConsistencyLevel', 'NotModified', 'Backend', 'ResultsFilteredByACLs',
    ]);
    assert.equal(all.json.Index, 0);
    assert.equal(all.index, 1);
    assert.equal(all.json.ResultsFilteredByACLs, false);
    assert.ok(Array.isArray(all.json.Nodes[0].Checks));
    assert.ok(all.json.Nodes[0].Service.Port > 8000);
    assert.deepEqual(nodesOf(await call('GET', '/v1/query/e-passing/execute')), ['n1', 'n4']);
    assert.deepEqual(nodesOf(await call('GET', '/v1/query/e-tags/execute')), ['n2']);
    assert.deepEqual(nodesOf(await call('GET', '/v1/query/e-meta/execute')), ['n4']);
    assert.deepEqual(nodesOf(await call('GET', `/v1/query/${idIgnore}/execute`)), ['n1', 'n2', 'n3', 'n4']);
    assert.equal((await call('GET', '/v1/query/e-all/execute?limit=1')).json.Nodes.length, 1);
    const near = await call('GET', '/v1/query/e-all/execute?near=n4');
    assert.equal(near.json.Nodes[0].Node.Node, 'n4');
    // Near _agent is the agent the request came through (a client agent names itself), _ip the asking address's node.
    await mk('e-agent', { Service: 'web', Near: '_agent' });
    await mk('e-ip', { Service: 'web', Near: '_ip' });
    for (let i = 0; i < 5; i++) {
      const viaClient = await fetch(`${api.base}/v1/query/e-agent/execute`, { headers: { 'X-Proconsul-Query-Agent': 'n4' } });
      assert.equal(((await viaClient.json()) as { Nodes: { Node: { Node: string } }[] }).Nodes[0].Node.Node, 'n4');
      const fromIp = await fetch(`${api.base}/v1/query/e-ip/execute`, { headers: { 'X-Forwarded-For': '10.0.0.2' } });
      assert.equal(((await fromIp.json()) as { Nodes: { Node: { Node: string } }[] }).Nodes[0].Node.Node, 'n2');
      // Parsed as Go's net.ParseIP does: trimmed, and an IPv4-mapped address is the IPv4 one.
      const mapped = await fetch(`${api.base}/v1/query/e-ip/execute`, { headers: { 'X-Forwarded-For': ' ::ffff:10.0.0.4 , 10.0.0.1' } });
      assert.equal(((await mapped.json()) as { Nodes: { Node: { Node: string } }[] }).Nodes[0].Node.Node, 'n4');
    }
    // A first entry that is not an IP falls back to the peer address (no node here): answered, unsorted.
    for (const junk of ['10.0.0.2x', 'fe80::1%eth0', ',', 'garbage, 10.0.0.2']) {
      const r = await fetch(`${api.base}/v1/query/e-ip/execute`, { headers: { 'X-Forwarded-For': junk } });
      assert.equal(r.status, 200, junk);
      assert.equal(((await r.json()) as { Nodes: unknown[] }).Nodes.length, 3, junk);
    }
    const missing = await call('GET', '/v1/query/nothing-here/execute');
    assert.equal(missing.status, 404);
    assert.equal(missing.text, 'Query not found');
    assert.equal((await call('PUT', '/v1/query/e-all/execute')).status, 405);
  });

  test('connect: the query\'s Connect or ?connect returns mesh-capable instances (native services and proxies)', async () => {
    await call('PUT', '/v1/catalog/register', { Node: 'm1', Address: '10.0.1.1', Service: { ID: 'pay', Service: 'pay', Port: 1, Connect: { Native: true } } });
    await call('PUT', '/v1/catalog/register', { Node: 'm2', Address: '10.0.1.2', Service: { ID: 'api', Service: 'api', Port: 2 } });
    await call('PUT', '/v1/catalog/register', { Node: 'm2', Address: '10.0.1.2', Service: { ID: 'api-proxy', Service: 'api-proxy', Kind: 'connect-proxy', Port: 3, Proxy: { DestinationServiceName: 'api' } } });
    await call('POST', '/v1/query', { Name: 'c-pay', Service: { Service: 'pay', Connect: true } });
    await call('POST', '/v1/query', { Name: 'c-api', Service: { Service: 'api' } });
    assert.deepEqual(nodesOf(await call('GET', '/v1/query/c-pay/execute')), ['m1']);
    assert.equal((await call('GET', '/v1/query/c-api/execute')).json.Nodes[0].Service.ID, 'api');
    const viaProxy = await call('GET', '/v1/query/c-api/execute?connect=true');
    assert.deepEqual(viaProxy.json.Nodes.map((n: { Service: { ID: string } }) => n.Service.ID), ['api-proxy']);
  });

  test('templates: longest prefix, regexp, interpolation and explain', async () => {
    assert.equal((await call('POST', '/v1/query', { Name: '', Template: { Type: 'name_prefix_match' }, Service: { Service: '${name.full}' } })).status, 200);
    const dup = await call('POST', '/v1/query', { Name: '', Template: { Type: 'name_prefix_match' }, Service: { Service: 'x' } });
    assert.equal(dup.text, 'a query template with an empty name already exists');
    const t = await call('POST', '/v1/query', {
      Name: 'geo-db-', Template: { Type: 'name_prefix_match', Regexp: '^geo-db-(.*?)-([^\\-]+?)$', RemoveEmptyTags: true },
      Service: { Service: 'mysql-${match(1)}', Tags: ['${match(2)}'] },
    });
    assert.equal(t.status, 200, t.text);
    const r = await call('GET', '/v1/query/geo-db-customer-primary/execute');
    assert.equal(r.json.Service, 'mysql-customer');
    assert.deepEqual(nodesOf(r), ['n5']);
    // The empty-named template catches every other name.
    assert.deepEqual(nodesOf(await call('GET', '/v1/query/web/execute')), ['n1', 'n2', 'n4']);
    const ex = await call('GET', '/v1/query/geo-db-customer-replica/explain');
    assert.equal(ex.status, 200, ex.text);
    assert.equal(ex.json.Query.Service.Service, 'mysql-customer');
    assert.deepEqual(ex.json.Query.Service.Tags, ['replica']);
    assert.equal(ex.json.Query.Name, 'geo-db-');
    assert.equal(ex.json.Query.Template.Regexp, '^geo-db-(.*?)-([^\\-]+?)$');
    assert.deepEqual(Object.keys(ex.json), ['Query', 'Index', 'LastContact', 'KnownLeader', 'ConsistencyLevel', 'NotModified', 'Backend', 'ResultsFilteredByACLs']);
    assert.equal(ex.json.Index, 0);
    assert.equal(ex.index, 1);
    assert.equal(ex.json.ResultsFilteredByACLs, false);
    const byId = await call('GET', `/v1/query/${t.json.ID}/execute`);
    assert.equal(byId.text, 'prepared query templates can only be resolved up by name, not by ID');
  });

  test('a query bound to a session goes with it', async () => {
    const s = await call('PUT', '/v1/session/create', { Name: 'pq' });
    const q = await call('POST', '/v1/query', { Session: s.json.ID, Service: { Service: 'web' } });
    assert.equal(q.status, 200, q.text);
    assert.equal((await call('GET', `/v1/query/${q.json.ID}`)).status, 200);
    assert.equal((await call('GET', `/v1/query/${q.json.ID}/execute`)).json.Nodes.length, 3);
    await call('PUT', `/v1/session/destroy/${s.json.ID}`);
    assert.equal((await call('GET', `/v1/query/${q.json.ID}`)).status, 404);
  });

  test('snapshots carry prepared queries', async () => {
    const c = await call('POST', '/v1/query', { Name: 'snap-q', Service: { Service: 'web' } });
    const save = await fetch(`${api.base}/v1/snapshot`);
    assert.equal(save.status, 200);
    const archive = Buffer.from(await save.arrayBuffer());
    await call('DELETE', `/v1/query/${c.json.ID}`);
    assert.equal((await call('GET', `/v1/query/${c.json.ID}`)).status, 404);
    assert.equal((await fetch(`${api.base}/v1/snapshot`, { method: 'PUT', body: archive })).status, 200);
    const back = await call('GET', `/v1/query/${c.json.ID}`);
    assert.equal(back.status, 200);
    assert.equal(back.json[0].Name, 'snap-q');
    assert.deepEqual(nodesOf(await call('GET', '/v1/query/snap-q/execute')), ['n1', 'n2', 'n4']);
  });

  test('concurrent creates of one name: exactly one wins', async () => {
    // In-process, so that every create plans before any commit is applied.
    const ep = api.dev.agent.endpoints.query;
    const body = (await import('../src/http/v1/query.ts')).decodeQuery({ Name: 'race-q', Service: { Service: 'web' } });
    const all = await Promise.allSettled(Array.from({ length: 6 }, () => ep.create({ ...body })));
    assert.equal(all.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of all) if (r.status === 'rejected') assert.equal((r.reason as Error).message, "name 'race-q' aliases an existing query name");
    assert.equal((await call('GET', '/v1/query')).json.filter((q: { Name: string }) => q.Name === 'race-q').length, 1);
  });

  test('the API client defines, executes, explains and deletes queries', async () => {
    const c = new ConsulClient({ address: api.base, env: {} });
    const { data: id } = await c.preparedQuery.create({ Name: 'api-q', Service: { Service: 'web', OnlyPassing: true } });
    assert.equal((await c.preparedQuery.get(id)).data[0].Name, 'api-q');
    await c.preparedQuery.update({ ID: id, Name: 'api-q', Service: { Service: 'web', Tags: ['v2'] } });
    const ex = await c.preparedQuery.execute('api-q', { limit: 5, near: '_agent' });
    assert.deepEqual(ex.data.Nodes.map((n) => n.Node.Node), ['n4']);
    assert.deepEqual((await c.preparedQuery.explain('api-q')).data.Service.Tags, ['v2']);
    assert.ok((await c.preparedQuery.list()).data.some((q) => q.ID === id));
    await c.preparedQuery.delete(id);
    assert.equal((await c.preparedQuery.list()).data.some((q) => q.ID === id), false);
  });

  test('blocking list wakes on a new query', async () => {
    const first = await call('GET', '/v1/query');
    const waiting = call('GET', `/v1/query?index=${first.index}&wait=5s`);
    await call('POST', '/v1/query', { Name: 'late', Service: { Service: 'web' } });
    const woke = await waiting;
    assert.ok(woke.index > first.index);
    assert.ok(woke.json.some((x: { Name: string }) => x.Name === 'late'));
  });
});
