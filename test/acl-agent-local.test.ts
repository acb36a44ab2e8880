// ACL enforcement on the agent-local routes against a real agent (default deny, management token
// "root"): service and check registration, updates and maintenance need write on what they touch,
// the local lists are filtered by read, and anti-entropy writes with the registration's token.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { httpCaller, ROOT, startAclAgent, tokenWithRules } from './support/acl.ts';
import type { DevAgent } from './support/agent.ts';

let a: DevAgent;
const call = httpCaller(() => a.httpAddr);

const denied = (accessor: string, perm: string, on: string) => `Permission denied: token with AccessorID '${accessor}' lacks permission '${perm}' on "${on}"`;

before(async () => {
  a = await startAclAgent();
  assert.equal((await call('PUT', '/v1/agent/service/register', ROOT, { Name: 'db', ID: 'db1', Port: 5432, Check: { TTL: '30s' } })).status, 200);
  assert.equal((await call('PUT', '/v1/agent/check/register', ROOT, { Name: 'disk', ID: 'disk', TTL: '30s' })).status, 200);
});
after(() => a.stop());

test('service register needs service:write on the service; the token registers it in the catalog', async () => {
  const web = await tokenWithRules(call, 'service "web" { policy = "write" }');
  const r = await call('PUT', '/v1/agent/service/register', web.SecretID, { Name: 'web', ID: 'web1', Port: 80 });
  assert.equal(r.status, 200, r.text);
  const cat = await call('GET', '/v1/catalog/service/web', ROOT);
  assert.equal(cat.json.length, 1, 'anti-entropy synced with the registration token');
  const other = await call('PUT', '/v1/agent/service/register', web.SecretID, { Name: 'api', Port: 81 });
  assert.equal(other.status, 403);
  assert.equal(other.text, denied(web.AccessorID, 'service:write', 'api'));
  const steal = await call('PUT', '/v1/agent/service/register', web.SecretID, { Name: 'web', ID: 'db1', Port: 82 });
  assert.equal(steal.status, 403, 'overwriting another service needs write on it too');
  assert.equal(steal.text, denied(web.AccessorID, 'service:write', 'db'));
  assert.equal((await call('PUT', '/v1/agent/service/register', '', { Name: 'web', Port: 80 })).status, 403);
  assert.equal((await call('PUT', '/v1/agent/service/register', 'nope', { Name: 'web', Port: 80 })).text, 'ACL not found');
});

test('a connect proxy also needs service:write on its destination', async () => {
  const proxyOnly = await tokenWithRules(call, 'service "web-proxy" { policy = "write" }');
  const def = { Name: 'web-proxy', Kind: 'connect-proxy', Port: 21000, Proxy: { DestinationServiceName: 'web' } };
  const r = await call('PUT', '/v1/agent/service/register', proxyOnly.SecretID, def);
  assert.equal(r.status, 403);
  assert.equal(r.text, denied(proxyOnly.AccessorID, 'service:write', 'web'));
  const both = await tokenWithRules(call, 'service "web-proxy" { policy = "write" }\nservice "web" { policy = "write" }');
  assert.equal((await call('PUT', '/v1/agent/service/register', both.SecretID, def)).status, 200);
});

test('deregister and service maintenance need service:write on the registered service', async () => {
  const web = await tokenWithRules(call, 'service "web" { policy = "write" }');
  const m = await call('PUT', '/v1/agent/service/maintenance/db1?enable=true', web.SecretID);
  assert.equal(m.status, 403);
  assert.equal(m.text, denied(web.AccessorID, 'service:write', 'db'));
  assert.equal((await call('PUT', '/v1/agent/service/deregister/db1', web.SecretID)).status, 403);
  assert.equal((await call('PUT', '/v1/agent/service/register', web.SecretID, { Name: 'web', ID: 'web-tmp', Port: 1 })).status, 200);
  assert.equal((await call('PUT', '/v1/agent/service/maintenance/web-tmp?enable=true', web.SecretID)).status, 200);
  assert.equal((await call('PUT', '/v1/agent/service/maintenance/web-tmp?enable=false', web.SecretID)).status, 200);
  assert.equal((await call('PUT', '/v1/agent/service/deregister/web-tmp', web.SecretID)).status, 200);
  assert.equal(a.agent.local.state.service('web-tmp'), undefined);
});

test('checks: service checks need service:write, node checks node:write; TTL updates likewise', async () => {
  const web = await tokenWithRules(call, 'service "db" { policy = "write" }');
  const node = await tokenWithRules(call, 'node "test-node" { policy = "write" }');
  const svcCheck = { Name: 'db-extra', ServiceID: 'db1', TTL: '30s' };
  assert.equal((await call('PUT', '/v1/agent/check/register', node.SecretID, svcCheck)).text, denied(node.AccessorID, 'service:write', 'db'));
  assert.equal((await call('PUT', '/v1/agent/check/register', web.SecretID, svcCheck)).status, 200);
  const nodeCheck = await call('PUT', '/v1/agent/check/register', web.SecretID, { Name: 'mem', TTL: '30s' });
  assert.equal(nodeCheck.status, 403);
  assert.equal(nodeCheck.text, denied(web.AccessorID, 'node:write', 'test-node'));
  assert.equal((await call('PUT', '/v1/agent/check/pass/disk', web.SecretID)).status, 403);
  assert.equal((await call('PUT', '/v1/agent/check/pass/disk', node.SecretID)).status, 200);
  assert.equal((await call('PUT', '/v1/agent/check/warn/db-extra', node.SecretID)).status, 403);
  assert.equal((await call('PUT', '/v1/agent/check/fail/db-extra', web.SecretID)).status, 200);
  assert.equal((await call('PUT', '/v1/agent/check/update/db-extra', node.SecretID, { Status: 'passing' })).status, 403);
  assert.equal((await call('PUT', '/v1/agent/check/update/db-extra', web.SecretID, { Status: 'passing' })).status, 200);
  assert.equal((await call('PUT', '/v1/agent/check/deregister/db-extra', node.SecretID)).status, 403);
  assert.equal((await call('PUT', '/v1/agent/check/deregister/db-extra', web.SecretID)).status, 200);
});

test('node maintenance needs node:write on this node', async () => {
  const reader = await tokenWithRules(call, 'node "test-node" { policy = "read" }');
  const r = await call('PUT', '/v1/agent/maintenance?enable=true', reader.SecretID);
  assert.equal(r.status, 403);
  assert.equal(r.text, denied(reader.AccessorID, 'node:write', 'test-node'));
  const writer = await tokenWithRules(call, 'node "test-node" { policy = "write" }');
  assert.equal((await call('PUT', '/v1/agent/maintenance?enable=true', writer.SecretID)).status, 200);
  assert.equal((await call('PUT', '/v1/agent/maintenance?enable=false', writer.SecretID)).status, 200);
});

test('agent services and checks are filtered by service:read / node:read, with the header for a token', async () => {
  const t = await tokenWithRules(call, 'service "db" { policy = "read" }');
  const services = await call('GET', '/v1/agent/services', t.SecretID);
  assert.deepEqual(Object.keys(services.json), ['db1']);
  assert.equal(services.headers.get('x-consul-results-filtered-by-acls'), 'true');
  const checks = await call('GET', '/v1/agent/checks', t.SecretID);
  assert.deepEqual(Object.keys(checks.json), ['service:db1'], 'the node check "disk" needs node:read');
  assert.equal(checks.headers.get('x-consul-results-filtered-by-acls'), 'true');
  const anon = await call('GET', '/v1/agent/services');
  assert.deepEqual(anon.json, {});
  assert.equal(anon.headers.get('x-consul-results-filtered-by-acls'), null, 'no header without a token');
  const all = await call('GET', '/v1/agent/checks', ROOT);
  assert.ok(Object.keys(all.json).includes('disk'));
  assert.equal(all.headers.get('x-consul-results-filtered-by-acls'), null);
});

test('local service details and health need service:read', async () => {
  const t = await tokenWithRules(call, 'service "web" { policy = "read" }');
  const one = await call('GET', '/v1/agent/service/db1', t.SecretID);
  assert.equal(one.status, 403);
  assert.equal(one.text, `Permission denied: token with AccessorID '${t.AccessorID}' lacks permission 'service:read' on "db"`);
  assert.equal((await call('GET', '/v1/agent/health/service/id/db1', t.SecretID)).status, 403);
  assert.equal((await call('GET', '/v1/agent/health/service/name/db', t.SecretID)).status, 403);
  const db = await tokenWithRules(call, 'service "db" { policy = "read" }');
  assert.equal((await call('GET', '/v1/agent/service/db1', db.SecretID)).status, 200);
  assert.notEqual((await call('GET', '/v1/agent/health/service/name/db', db.SecretID)).status, 403);
});

test('anti-entropy: a registration whose token loses its rights stays out of the catalog', async () => {
  const p = await call('PUT', '/v1/acl/policy', ROOT, { Name: 'cache-writer', Rules: 'service "cache" { policy = "write" }' });
  const t = await call('PUT', '/v1/acl/token', ROOT, { Policies: [{ ID: p.json.ID }] });
  assert.equal((await call('PUT', '/v1/agent/service/register', t.json.SecretID, { Name: 'cache', Port: 6379 })).status, 200);
  assert.equal((await call('GET', '/v1/catalog/service/cache', ROOT)).json.length, 1);
  assert.equal((await call('DELETE', `/v1/acl/token/${t.json.AccessorID}`, ROOT)).status, 200);
  // The catalog entry drifts away; the next full sync may not restore it with a deleted token.
  assert.equal((await call('PUT', '/v1/catalog/deregister', ROOT, { Node: 'test-node', ServiceID: 'cache' })).status, 200);
  await a.agent.local.ae.syncFull();
  assert.equal((await call('GET', '/v1/catalog/service/cache', ROOT)).json.length, 0);
  assert.ok(a.agent.local.state.service('cache'), 'the local registration is kept');
});
