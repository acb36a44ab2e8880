// ACL enforcement against a real agent (default_policy deny, initial management token "root"):
// KV read/write/recurse/keys, txn per-op denial, catalog and health filtering, sessions,
// service identities, role-linked policies, anonymous denial and Consul's 403 texts.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { httpCaller, ROOT, startAclAgent, tokenWithRules } from './support/acl.ts';
import type { DevAgent } from './support/agent.ts';

let a: DevAgent;
const call = httpCaller(() => a.httpAddr);

before(async () => {
  a = await startAclAgent();
  for (const k of ['app/x', 'app/y', 'secret/z']) assert.equal((await call('PUT', `/v1/kv/${k}`, ROOT, 'v')).status, 200);
});
after(() => a.stop());

test('the initial management token can do everything; bootstrap is then refused', async () => {
  assert.equal((await call('GET', '/v1/kv/secret/z', ROOT)).status, 200);
  assert.equal((await call('GET', '/v1/agent/self', ROOT)).status, 200);
  assert.equal((await call('GET', '/v1/acl/tokens', ROOT)).status, 200);
  assert.equal((await call('PUT', '/v1/acl/bootstrap')).status, 403);
  assert.equal((await call('GET', '/v1/kv/app/x')).headers.get('x-consul-default-acl-policy'), 'deny');
});

test('anonymous requests are denied under default deny; unknown tokens get ACL not found', async () => {
  const r = await call('GET', '/v1/kv/app/x');
  assert.equal(r.status, 403);
  assert.equal(r.text, `Permission denied: token with AccessorID '00000000-0000-0000-0000-000000000002' lacks permission 'key:read' on "app/x"`);
  const u = await call('GET', '/v1/kv/app/x', 'no-such-token');
  assert.equal(u.status, 403);
  assert.equal(u.text, 'ACL not found');
  const list = await call('GET', '/v1/catalog/nodes');
  assert.deepEqual(list.json, []);
  assert.equal(list.headers.get('x-consul-results-filtered-by-acls'), null, 'no header without a token');
});

test('key_prefix read: reads app/, cannot write it, recurse is filtered with the header', async () => {
  const t = await tokenWithRules(call, 'key_prefix "app/" { policy = "read" }');
  assert.equal((await call('GET', '/v1/kv/app/x', t.SecretID)).status, 200);
  const w = await call('PUT', '/v1/kv/app/x', t.SecretID, 'new');
  assert.equal(w.status, 403);
  assert.equal(w.text, `Permission denied: token with AccessorID '${t.AccessorID}' lacks permission 'key:write' on "app/x"`);
  const all = await call('GET', '/v1/kv/?recurse', t.SecretID);
  assert.equal(all.status, 200);
  assert.deepEqual(all.json.map((e: { Key: string }) => e.Key), ['app/x', 'app/y']);
  assert.equal(all.headers.get('x-consul-results-filtered-by-acls'), 'true');
  const own = await call('GET', '/v1/kv/app/?recurse', t.SecretID);
  assert.equal(own.headers.get('x-consul-results-filtered-by-acls'), null);
  const del = await call('DELETE', '/v1/kv/app/?recurse', t.SecretID);
  assert.equal(del.status, 403);
});

test('txn: a denied op is reported per op and nothing is applied', async () => {
  const t = await tokenWithRules(call, 'key_prefix "app/" { policy = "write" }');
  const ops = [
    { KV: { Verb: 'set', Key: 'app/t', Value: Buffer.from('1').toString('base64') } },
    { KV: { Verb: 'set', Key: 'secret/t', Value: Buffer.from('1').toString('base64') } },
  ];
  const r = await call('PUT', '/v1/txn', t.SecretID, ops);
  assert.equal(r.status, 409);
  assert.deepEqual(r.json.Errors, [{ OpIndex: 1, What: `Permission denied: token with AccessorID '${t.AccessorID}' lacks permission 'key:write' on "secret/t"` }]);
  assert.equal((await call('GET', '/v1/kv/app/t', ROOT)).status, 404);
  const reads = await call('PUT', '/v1/txn', t.SecretID, [{ KV: { Verb: 'get', Key: 'app/x' } }, { KV: { Verb: 'get', Key: 'secret/z' } }]);
  assert.equal(reads.status, 200, reads.text);
  assert.deepEqual(reads.json.Results.map((x: { KV: { Key: string } }) => x.KV.Key), ['app/x']);
});

test('catalog and health: service identity tokens register their service and see only what they may read', async () => {
  const reg = (token: string, name: string) => call('PUT', '/v1/catalog/register', token, { Node: 'test-node', Address: '127.0.0.1', SkipNodeUpdate: true, Service: { Service: name, Port: 80 } });
  const t = await call('PUT', '/v1/acl/token', ROOT, { ServiceIdentities: [{ ServiceName: 'web' }] });
  assert.equal(t.status, 200, t.text);
  assert.equal((await reg(t.json.SecretID, 'web')).status, 200);
  const denied = await reg(t.json.SecretID, 'db');
  assert.equal(denied.status, 403);
  assert.match(denied.text, /lacks permission 'service:write' on "db"/);
  assert.equal((await reg(ROOT, 'db')).status, 200);
  const onlyWeb = await tokenWithRules(call, 'service "web" { policy = "read" }\nnode_prefix "" { policy = "read" }');
  const services = await call('GET', '/v1/catalog/services', onlyWeb.SecretID);
  assert.deepEqual(Object.keys(services.json), ['web']);
  assert.equal(services.headers.get('x-consul-results-filtered-by-acls'), 'true');
  const db = await call('GET', '/v1/health/service/db', onlyWeb.SecretID);
  assert.deepEqual(db.json, []);
  assert.equal(db.headers.get('x-consul-results-filtered-by-acls'), 'true');
  assert.equal((await call('GET', '/v1/health/service/web', onlyWeb.SecretID)).json.length, 1);
});

test('role-linked policies grant through the role; agent/self needs agent:read', async () => {
  const p = await call('PUT', '/v1/acl/policy', ROOT, { Name: 'secret-reader', Rules: 'key "secret/z" { policy = "read" }' });
  const role = await call('PUT', '/v1/acl/role', ROOT, { Name: 'readers', Policies: [{ Name: 'secret-reader' }] });
  assert.deepEqual(role.json.Policies, [{ ID: p.json.ID, Name: 'secret-reader' }]);
  const t = await call('PUT', '/v1/acl/token', ROOT, { Roles: [{ Name: 'readers' }] });
  assert.equal((await call('GET', '/v1/kv/secret/z', t.json.SecretID)).status, 200);
  assert.equal((await call('GET', '/v1/kv/app/x', t.json.SecretID)).status, 403);
  const self = await call('GET', '/v1/agent/self', t.json.SecretID);
  assert.equal(self.status, 403);
  assert.match(self.text, /lacks permission 'agent:read' on "test-node"/);
});

test('sessions need session:write on the node and are filtered by session:read', async () => {
  const t = await tokenWithRules(call, 'session_prefix "" { policy = "write" }\nnode_prefix "" { policy = "read" }');
  const s = await call('PUT', '/v1/session/create', t.SecretID, { Node: 'test-node', Checks: [] });
  assert.equal(s.status, 200, s.text);
  const other = await tokenWithRules(call, 'key_prefix "" { policy = "read" }');
  assert.equal((await call('PUT', '/v1/session/create', other.SecretID, { Checks: [] })).status, 403);
  const list = await call('GET', '/v1/session/list', other.SecretID);
  assert.deepEqual(list.json, []);
  assert.equal(list.headers.get('x-consul-results-filtered-by-acls'), 'true');
});

test('policy Rules are validated with the parser text (400)', async () => {
  const r = await call('PUT', '/v1/acl/policy', ROOT, { Name: 'bad', Rules: 'key "x" { policy = "bogus" }' });
  assert.equal(r.status, 400);
  assert.match(r.text, /Invalid key policy/);
});

test('catalog writes spelled in another case are vetted against the stored node and service', async () => {
  const reg = { Node: 'ACL-Case-Node', Address: '10.8.0.1', Service: { ID: 'Pay-1', Service: 'pay' } };
  assert.equal((await call('PUT', '/v1/catalog/register', ROOT, reg)).status, 200);
  const t = await tokenWithRules(call, 'service "pay" { policy = "write" }');
  // Nothing about the node changes, so no node:write is asked for, as in Consul.
  const again = await call('PUT', '/v1/catalog/register', t.SecretID,
    { Node: 'acl-case-node', Address: '10.8.0.1', Service: { ID: 'PAY-1', Service: 'pay', Port: 81 },
      Check: { CheckID: 'pay-check', ServiceID: 'pay-1', Status: 'passing' } });
  assert.equal(again.status, 200, again.text);
  const other = await tokenWithRules(call, 'service "other" { policy = "write" }');
  const takeover = await call('PUT', '/v1/catalog/register', other.SecretID,
    { Node: 'acl-case-node', Address: '10.8.0.1', Service: { ID: 'pay-1', Service: 'other' } });
  assert.equal(takeover.status, 403, 'replacing the pay instance needs service:write on pay');
  const moved = await call('PUT', '/v1/catalog/register', t.SecretID, { Node: 'acl-case-node', Address: '10.8.0.2' });
  assert.equal(moved.status, 403, 'changing the node still needs node:write');
  const dereg = await call('PUT', '/v1/catalog/deregister', t.SecretID, { Node: 'ACL-CASE-NODE', ServiceID: 'pay-1' });
  assert.equal(dereg.status, 200, dereg.text);
  const svc = (await call('GET', '/v1/catalog/service/pay', ROOT)).json;
  assert.deepEqual(svc, []);
});
