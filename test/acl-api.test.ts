// ACL API against a real agent with ACLs on: bootstrap once, token/policy/role CRUD with Consul's
// shapes and texts, token self/clone/delete, list filters, templated policies and authorize.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { httpCaller } from './support/acl.ts';
import { startDevAgent, devConfig, type DevAgent } from './support/agent.ts';

let a: DevAgent;
const call = httpCaller(() => a.httpAddr);

before(async () => {
  a = await startDevAgent({ config: { acl: { ...devConfig().acl, enabled: true, defaultPolicy: 'deny' } } });
});
after(() => a.stop());

test('bootstrap returns a management token once, then 403 with the reset index', async () => {
  const first = await call('PUT', '/v1/acl/bootstrap');
  assert.equal(first.status, 200);
  assert.equal(first.json.Description, 'Bootstrap Token (Global Management)');
  assert.deepEqual(first.json.Policies, [{ ID: '00000000-0000-0000-0000-000000000001', Name: 'global-management' }]);
  const again = await call('PUT', '/v1/acl/bootstrap');
  assert.equal(again.status, 403);
  assert.match(again.text, /^Permission denied: ACL bootstrap no longer allowed \(reset index: \d+\)$/);
  const self = await call('GET', '/v1/acl/token/self', first.json.SecretID);
  assert.equal(self.json.AccessorID, first.json.AccessorID);
});

test('legacy rules translate to current syntax (POST /v1/acl/rules/translate, acl:read)', async () => {
  const b = await startDevAgent({ config: { acl: { ...devConfig().acl, enabled: true, defaultPolicy: 'deny', tokens: { ...devConfig().acl.tokens, initialManagement: 'root' } } } });
  try {
    const url = `http://${b.httpAddr}/v1/acl/rules/translate`;
    const res = await fetch(url, { method: 'POST', headers: { 'X-Consul-Token': 'root' }, body: 'key "app/" {\n  policy = "read"\n}\n' });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'key_prefix "app/" {\n  policy = "read"\n}\n');
    const anon = await fetch(url, { method: 'POST', body: 'key "" { policy = "read" }' });
    assert.equal(anon.status, 403);
  } finally {
    await b.stop();
  }
});
