// Prepared query ACLs against a real agent (default deny): `query`/`query_prefix` write rules on
// the query's name for changes, read rules for get/list/explain, unnamed queries hidden from
// listings, tokens shown as <hidden> except to management, and execution under the query's own
// Token when it has one.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { httpCaller, ROOT, startAclAgent, tokenWithRules } from './support/acl.ts';
import type { DevAgent } from './support/agent.ts';

let a: DevAgent;
const call = httpCaller(() => a.httpAddr);
let reader: string;

before(async () => {
  a = await startAclAgent();
  const r = await call('PUT', '/v1/catalog/register', ROOT, { Node: 'n1', Address: '10.0.0.1', Service: { ID: 'web', Service: 'web', Port: 80 } });
  assert.equal(r.status, 200, r.text);
  reader = (await tokenWithRules(call, 'service_prefix "" { policy = "read" }\nnode_prefix "" { policy = "read" }')).SecretID;
});
after(() => a.stop());

test('writes need query write on the name; reads are filtered and tokens hidden', async () => {
  const w = await tokenWithRules(call, 'query_prefix "app-" { policy = "write" }');
  const ok = await call('POST', '/v1/query', w.SecretID, { Name: 'app-web', Token: reader, Service: { Service: 'web' } });
  assert.equal(ok.status, 200, ok.text);
  const denied = await call('POST', '/v1/query', w.SecretID, { Name: 'ops-web', Service: { Service: 'web' } });
  assert.equal(denied.status, 403);
  assert.equal(denied.text, `Permission denied: token with AccessorID '${w.AccessorID}' lacks permission 'query:write' on "ops-web"`);
  const other = await call('POST', '/v1/query', ROOT, { Name: 'ops-web', Service: { Service: 'web' } });
  assert.equal(other.status, 200);
  assert.equal((await call('PUT', `/v1/query/${other.json.ID}`, w.SecretID, { Name: 'app-stolen', Service: { Service: 'web' } })).status, 403);
  assert.equal((await call('DELETE', `/v1/query/${other.json.ID}`, w.SecretID)).status, 403);
  const s = await call('PUT', '/v1/session/create', ROOT, { Node: 'n1', Checks: [] });
  assert.equal(s.status, 200, s.text);
  const unnamed = await call('POST', '/v1/query', ROOT, { Session: s.json.ID, Token: reader, Service: { Service: 'web' } });
  assert.equal(unnamed.status, 200, unnamed.text);

  const list = await call('GET', '/v1/query', w.SecretID);
  assert.deepEqual(list.json.map((q: { Name: string }) => q.Name), ['app-web']);
  assert.equal(list.json[0].Token, '<hidden>');
  assert.equal(list.headers.get('x-consul-results-filtered-by-acls'), 'true');
  const all = await call('GET', '/v1/query', ROOT);
  assert.equal(all.json.length, 3);
  assert.equal(all.json.find((q: { Name: string }) => q.Name === 'app-web').Token, reader);
  assert.equal((await call('GET', `/v1/query/${other.json.ID}`, w.SecretID)).status, 403);
  // An unnamed query is visible by ID to anyone who has it, token hidden.
  const byId = await call('GET', `/v1/query/${unnamed.json.ID}`);
  assert.equal(byId.status, 200);
  assert.equal(byId.json[0].Token, '<hidden>');
  const ex = await call('GET', '/v1/query/app-web/explain');
  assert.equal(ex.status, 403);
  assert.equal(ex.text, 'Permission denied');
  assert.equal((await call('GET', '/v1/query/app-web/explain', w.SecretID)).json.Query.Token, '<hidden>');
});

test('execution filters by the query token, else the caller', async () => {
  const withToken = await call('GET', '/v1/query/app-web/execute');
  assert.equal(withToken.status, 200, withToken.text);
  assert.deepEqual(withToken.json.Nodes.map((n: { Node: { Node: string } }) => n.Node.Node), ['n1']);
  const without = await call('GET', '/v1/query/ops-web/execute');
  assert.equal(without.status, 200);
  assert.deepEqual(without.json.Nodes, []);
  // Filtering is reported only to callers that presented a token (Consul's maskResultsFilteredByACLs).
  assert.equal(without.json.ResultsFilteredByACLs, false);
  const w = await tokenWithRules(call, 'node_prefix "" { policy = "read" }');
  const filtered = await call('GET', '/v1/query/ops-web/execute', w.SecretID);
  assert.deepEqual(filtered.json.Nodes, []);
  assert.equal(filtered.headers.get('x-consul-results-filtered-by-acls'), 'true');
  assert.equal(filtered.json.ResultsFilteredByACLs, true);
  assert.equal((await call('GET', '/v1/query/ops-web/execute', reader)).json.Nodes.length, 1);
});
