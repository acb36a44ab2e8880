// ACL policy and role names are unique case-insensitively, as Consul's Lowercase name indexes make
// them: /v1/acl/policy/name/<n> and /v1/acl/role/name/<n> find them by any spelling, links by
// name resolve by any spelling, a second spelling is refused, and concurrent creates of one name
// in several spellings leave one record (on the embedded store, where writes really overlap).
// Auth method names likewise (Consul's acl-auth-methods id index and the auth method indexes of
// binding rules and tokens are lower-cased): read, updated and deleted by any spelling, an update
// storing the name as given.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { ROOT, aclDenyConfig, httpCaller } from './support/acl.ts';

let dir = '';
let agent: DevAgent | undefined;
const call = httpCaller(() => agent!.httpAddr);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acl-names-'));
  agent = await startDevAgent({ config: { ...aclDenyConfig(), store: { backend: 'embedded' }, dataDir: dir } });
});
after(async () => {
  await agent?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('policy names', () => {
  test('read by name in any spelling; a second spelling is refused with Consul\'s text', async () => {
    const p = await call('PUT', '/v1/acl/policy', ROOT, { Name: 'Web-Read', Rules: 'service "web" { policy = "read" }' });
    assert.equal(p.status, 200, p.text);
    const got = await call('GET', '/v1/acl/policy/name/web-READ', ROOT);
    assert.equal(got.status, 200, got.text);
    assert.deepEqual([got.json.ID, got.json.Name], [p.json.ID, 'Web-Read']);
    const dup = await call('PUT', '/v1/acl/policy', ROOT, { Name: 'WEB-READ', Rules: '' });
    assert.notEqual(dup.status, 200);
    assert.match(dup.text, /Invalid Policy: A Policy with Name "WEB-READ" already exists/);
    const other = await call('PUT', '/v1/acl/policy', ROOT, { Name: 'other-policy', Rules: '' });
    const rename = await call('PUT', `/v1/acl/policy/${other.json.ID}`, ROOT, { ID: other.json.ID, Name: 'web-read', Rules: '' });
    assert.notEqual(rename.status, 200);
    assert.match(rename.text, /Invalid Policy: A policy with name "web-read" already exists/);
    // Consul's PolicySet compares the names exactly, then looks the new one up lower-cased and
    // finds the policy itself: a case-only rename is refused too.
    const own = await call('PUT', `/v1/acl/policy/${p.json.ID}`, ROOT, { ID: p.json.ID, Name: 'WEB-read', Rules: 'service "web" { policy = "read" }' });
    assert.notEqual(own.status, 200);
    assert.match(own.text, /Invalid Policy: A policy with name "WEB-read" already exists/);
    const same = await call('PUT', `/v1/acl/policy/${p.json.ID}`, ROOT, { ID: p.json.ID, Name: 'Web-Read', Rules: '', Description: 'd' });
    assert.equal(same.status, 200, same.text);
  });

  test('a token links a policy by name in any spelling', async () => {
    const t = await call('PUT', '/v1/acl/token', ROOT, { Policies: [{ Name: 'WEB-read' }] });
    assert.equal(t.status, 200, t.text);
    const policy = (await call('GET', '/v1/acl/policy/name/Web-Read', ROOT)).json;
    assert.deepEqual(t.json.Policies, [{ ID: policy.ID, Name: 'Web-Read' }]);
  });

  test('concurrent creates of one name in many spellings make one policy', async () => {
    const names = ['race-pol', 'Race-Pol', 'RACE-POL', 'race-POL', 'rAce-pol', 'raCe-pol', 'racE-pol', 'race-Pol',
      'race-pOl', 'race-poL', 'RAce-pol', 'rACe-pol', 'raCE-pol', 'racE-Pol', 'race-PoL', 'Race-poL'];
    const res = await Promise.all(names.map((Name) => call('PUT', '/v1/acl/policy', ROOT, { Name, Rules: '' })));
    assert.equal(res.filter((r) => r.status === 200).length, 1, res.map((r) => r.status).join(','));
    const list = (await call('GET', '/v1/acl/policies', ROOT)).json as { Name: string }[];
    assert.equal(list.filter((p) => p.Name.toLowerCase() === 'race-pol').length, 1);
  });

  test('a deleted policy\'s name can be taken again in another spelling', async () => {
    const p = (await call('GET', '/v1/acl/policy/name/race-pol', ROOT)).json;
    assert.equal((await call('DELETE', `/v1/acl/policy/${p.ID}`, ROOT)).status, 200);
    const again = await call('PUT', '/v1/acl/policy', ROOT, { Name: 'RACE-pol', Rules: '' });
    assert.equal(again.status, 200, again.text);
  });
});

describe('role names', () => {
  test('read by name in any spelling; a second spelling is refused; tokens link by any spelling', async () => {
    const r = await call('PUT', '/v1/acl/role', ROOT, { Name: 'Ops-Role', Policies: [{ Name: 'web-read' }] });
    assert.equal(r.status, 200, r.text);
    const got = await call('GET', '/v1/acl/role/name/OPS-role', ROOT);
    assert.equal(got.status, 200, got.text);
    assert.deepEqual([got.json.ID, got.json.Name], [r.json.ID, 'Ops-Role']);
    const dup = await call('PUT', '/v1/acl/role', ROOT, { Name: 'ops-role' });
    assert.notEqual(dup.status, 200);
    assert.match(dup.text, /Invalid Role: A Role with Name "ops-role" already exists/);
    const t = await call('PUT', '/v1/acl/token', ROOT, { Roles: [{ Name: 'ops-ROLE' }] });
    assert.equal(t.status, 200, t.text);
    assert.deepEqual(t.json.Roles, [{ ID: r.json.ID, Name: 'Ops-Role' }]);
  });

  test('concurrent creates of one name in many spellings make one role', async () => {
    const names = ['race-role', 'Race-Role', 'RACE-ROLE', 'race-ROLE', 'rAce-role', 'raCe-role', 'racE-role', 'race-Role',
      'race-rOle', 'race-roLe', 'race-rolE', 'RAce-role', 'rACe-role', 'raCE-role', 'racE-Role', 'Race-rolE'];
    const res = await Promise.all(names.map((Name) => call('PUT', '/v1/acl/role', ROOT, { Name })));
    assert.equal(res.filter((r) => r.status === 200).length, 1, res.map((r) => r.status).join(','));
    const list = (await call('GET', '/v1/acl/roles', ROOT)).json as { Name: string }[];
    assert.equal(list.filter((x) => x.Name.toLowerCase() === 'race-role').length, 1);
  });
});

describe('auth method names', () => {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const method = (Name: string, extra: object = {}) => ({ Name, Type: 'jwt', Config: { JWTValidationPubKeys: [key] }, ...extra });
  const methods = async () => ((await call('GET', '/v1/acl/auth-methods', ROOT)).json as { Name: string; Description?: string }[])
    .filter((m) => m.Name.toLowerCase() === 'corp-idp');

  test('read, updated and deleted by any spelling; binding rules name the method in any spelling', async () => {
    assert.equal((await call('PUT', '/v1/acl/auth-method', ROOT, method('Corp-IdP'))).status, 200);
    const got = await call('GET', '/v1/acl/auth-method/corp-idp', ROOT);
    assert.equal(got.status, 200, got.text);
    assert.equal(got.json.Name, 'Corp-IdP');
    const rule = await call('PUT', '/v1/acl/binding-rule', ROOT, { AuthMethod: 'CORP-IDP', BindType: 'service', BindName: 'web' });
    assert.equal(rule.status, 200, rule.text);
    assert.equal(rule.json.AuthMethod, 'CORP-IDP', 'the rule keeps the name as given');
    const rules = (await call('GET', '/v1/acl/binding-rules?authmethod=corp-IDP', ROOT)).json as { ID: string }[];
    assert.deepEqual(rules.map((r) => r.ID), [rule.json.ID]);

    // An update in another spelling updates the one method and stores the name as given (Consul's memdb insert replaces it).
    const upd = await call('PUT', '/v1/acl/auth-method/corp-idp', ROOT, method('corp-idp', { Description: 'updated' }));
    assert.equal(upd.status, 200, upd.text);
    assert.deepEqual((await methods()).map((m) => [m.Name, m.Description]), [['corp-idp', 'updated']]);
    assert.equal((await call('GET', '/v1/acl/auth-method/Corp-IdP', ROOT)).json.Description, 'updated');

    assert.equal((await call('DELETE', '/v1/acl/auth-method/CORP-idp', ROOT)).status, 200);
    assert.deepEqual(await methods(), []);
    assert.equal((await call('GET', '/v1/acl/auth-method/corp-idp', ROOT)).status, 404);
    assert.deepEqual((await call('GET', `/v1/acl/binding-rule/${rule.json.ID}`, ROOT)).status, 404, 'its binding rule went with it');
  });

  test('concurrent writes of one name in many spellings leave one method', async () => {
    const names = ['corp-idp', 'Corp-Idp', 'CORP-IDP', 'corp-IDP', 'cOrp-idp', 'coRp-idp', 'corP-idp', 'corp-Idp',
      'corp-iDp', 'corp-idP', 'COrp-idp', 'cORp-idp', 'coRP-idp', 'corP-Idp', 'corp-IdP', 'Corp-idP'];
    const res = await Promise.all(names.map((n) => call('PUT', '/v1/acl/auth-method', ROOT, method(n))));
    assert.deepEqual(res.map((r) => r.status), names.map(() => 200), 'each is an upsert of the one method');
    assert.equal((await methods()).length, 1);
  });
});
