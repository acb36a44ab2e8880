// ACL tokens, policies, roles, auth methods and binding rules in namespaces (Consul Enterprise's
// ?ns= / body Namespace): names unique per namespace, records of one namespace invisible from
// another, a namespaced token's rules apply in its home namespace, the namespace's ACL defaults
// decide only where the token's own rules are silent, policy rules checked by their home, `ns=*`
// lists, login through NamespaceRules and `authmethod-ns`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { startAclAgent, httpCaller, ROOT, type HttpCall } from './support/acl.ts';
import type { DevAgent } from './support/agent.ts';
import { until } from './support/wait.ts';

describe('ACL objects in namespaces', () => {
  let dev: DevAgent;
  let call: HttpCall;
  before(async () => {
    dev = await startAclAgent();
    call = httpCaller(() => dev.httpAddr);
    for (const name of ['team-a', 'team-b']) {
      const res = await call('PUT', '/v1/namespace', ROOT, { Name: name });
      assert.equal(res.status, 200, res.text);
    }
  });
  after(() => dev.stop());

  const keys = async () => (await dev.agent.store.range('')).kvs.map((kv) => kv.key);

  test('policy names are unique per namespace; a record of one namespace is missing in another', async () => {
    const d = await call('PUT', '/v1/acl/policy', ROOT, { Name: 'shared', Rules: 'key_prefix "" { policy = "read" }' });
    assert.equal(d.status, 200, d.text);
    assert.ok(!('Namespace' in d.json), 'a default-tenant answer to a CE request has no tenancy fields');
    const a = await call('PUT', '/v1/acl/policy?ns=team-a', ROOT, { Name: 'shared', Rules: 'key_prefix "" { policy = "write" }' });
    assert.equal(a.status, 200, a.text);
    assert.deepEqual([a.json.Namespace, a.json.Partition], ['team-a', 'default']);
    const keysOf = Object.keys(a.json);
    assert.deepEqual(keysOf.slice(-4), ['Namespace', 'Partition', 'CreateIndex', 'ModifyIndex']);
    // The body's Namespace wins over the query.
    const b = await call('PUT', '/v1/acl/policy?ns=team-a', ROOT, { Name: 'shared', Namespace: 'team-b' });
    assert.equal(b.status, 200, b.text);
    assert.equal(b.json.Namespace, 'team-b');
    const dup = await call('PUT', '/v1/acl/policy?ns=team-a', ROOT, { Name: 'SHARED' });
    assert.equal(dup.status, 400);
    assert.match(dup.text, /A Policy with Name "SHARED" already exists/);

    const all = await keys();
    assert.ok(all.includes(`acl/policy/${d.json.ID}`));
    assert.ok(all.includes(`t/default/team-a/acl/policy/${a.json.ID}`));
    assert.ok(all.includes(`t/default/team-b/acl/policy/${b.json.ID}`));

    assert.equal((await call('GET', `/v1/acl/policy/name/shared?ns=team-a`, ROOT)).json.ID, a.json.ID);
    assert.equal((await call('GET', `/v1/acl/policy/name/shared`, ROOT)).json.ID, d.json.ID);
    assert.equal((await call('GET', `/v1/acl/policy/${a.json.ID}`, ROOT)).status, 404);
    assert.equal((await call('GET', `/v1/acl/policy/${a.json.ID}?ns=team-b`, ROOT)).status, 404);
    const named = await call('GET', `/v1/acl/policy/${d.json.ID}?ns=default`, ROOT);
    assert.deepEqual([named.json.Namespace, named.json.Partition], ['default', 'default']);

    const listA = await call('GET', '/v1/acl/policies?ns=team-a', ROOT);
    assert.deepEqual(listA.json.map((p: any) => p.ID), [a.json.ID]);
    const plain = await call('GET', '/v1/acl/policies', ROOT);
    assert.ok(plain.json.every((p: any) => !('Namespace' in p)));
    assert.ok(!plain.json.some((p: any) => p.ID === a.json.ID));
    const wild = await call('GET', '/v1/acl/policies?ns=*', ROOT);
    const ids = wild.json.map((p: any) => p.ID);
    for (const id of [d.json.ID, a.json.ID, b.json.ID]) assert.ok(ids.includes(id));
    assert.ok(wild.json.every((p: any) => typeof p.Namespace === 'string'));

    // Deleting in the wrong namespace leaves the policy; in its own it goes.
    assert.equal((await call('DELETE', `/v1/acl/policy/${a.json.ID}?ns=team-b`, ROOT)).status, 200);
    assert.equal((await call('GET', `/v1/acl/policy/${a.json.ID}?ns=team-a`, ROOT)).status, 200);
    assert.equal((await call('DELETE', `/v1/acl/policy/${b.json.ID}?ns=team-b`, ROOT)).status, 200);
    assert.equal((await call('GET', `/v1/acl/policy/${b.json.ID}?ns=team-b`, ROOT)).status, 404);

    // A write into a namespace that does not exist is refused with Consul's text.
    const missing = await call('PUT', '/v1/acl/policy?ns=nope', ROOT, { Name: 'x' });
    assert.equal(missing.status, 500);
    assert.match(missing.text, /Namespace "nope" does not exist/);
  });

  test('a namespaced token is governed by its home namespace: rules outside blocks apply there only', async () => {
    const p = await call('PUT', '/v1/acl/policy?ns=team-a', ROOT, { Name: 'kv-writer', Rules: 'key_prefix "" { policy = "write" }' });
    assert.equal(p.status, 200, p.text);
    // Linked by name: resolved in the token's namespace.
    const t = await call('PUT', '/v1/acl/token?ns=team-a', ROOT, { Policies: [{ Name: 'kv-writer' }] });
    assert.equal(t.status, 200, t.text);
    assert.equal(t.json.Namespace, 'team-a');
    assert.deepEqual(t.json.Policies, [{ ID: p.json.ID, Name: 'kv-writer' }]);
    assert.ok((await keys()).includes(`t/default/team-a/acl/token/${t.json.AccessorID}`));
    const secret = t.json.SecretID;

    // No ns given: the token's namespace is the request's (ResolveTokenAndDefaultMeta).
    assert.equal((await call('PUT', '/v1/kv/home', secret, 'v')).text, 'true');
    assert.equal((await call('GET', '/v1/kv/home?ns=team-a&raw', ROOT)).text, 'v');
    assert.equal((await call('GET', '/v1/kv/home?raw', ROOT)).status, 404);
    // Elsewhere its rules do not apply: default deny, and the denial names the scope.
    const other = await call('PUT', '/v1/kv/x?ns=team-b', secret, 'no');
    assert.equal(other.status, 403);
    assert.match(other.text, /lacks permission 'key:write' on "x" in partition "default" in namespace "team-b"/);
    const dflt = await call('PUT', '/v1/kv/x?ns=default', secret, 'no');
    assert.equal(dflt.status, 403);
    // /v1/acl/explain (Proconsul's) judges a namespaced token in its home namespace.
    const ex = await call('GET', '/v1/acl/explain?resource=key:x&access=write', secret);
    assert.equal(ex.json.Decision, 'allow', ex.text);
    // The UI's batch check asks in the request's namespace, else the token's.
    const ask = [{ Resource: 'key', Segment: 'x', Access: 'write' }];
    assert.equal((await call('POST', '/v1/internal/acl/authorize', secret, ask)).json[0].Allow, true);
    assert.equal((await call('POST', '/v1/internal/acl/authorize?ns=team-b', secret, ask)).json[0].Allow, false);

    // The token reads itself; a token of another namespace is not found by accessor without its ns.
    assert.equal((await call('GET', '/v1/acl/token/self', secret)).json.Namespace, 'team-a');
    assert.equal((await call('GET', `/v1/acl/token/${t.json.AccessorID}`, ROOT)).status, 403); // ACL not found
    assert.equal((await call('GET', `/v1/acl/token/${t.json.AccessorID}?ns=team-a`, ROOT)).json.AccessorID, t.json.AccessorID);

    // A token cannot link a policy of another namespace (by ID or name).
    const foreign = await call('PUT', '/v1/acl/token?ns=team-b', ROOT, { Policies: [{ ID: p.json.ID }] });
    assert.equal(foreign.status, 400);
    assert.match(foreign.text, /No such ACL policy with ID/);
    assert.equal((await call('PUT', '/v1/acl/token?ns=team-b', ROOT, { Policies: [{ Name: 'kv-writer' }] })).status, 400);
    // Nor one of the default namespace ("Tokens may only link to policies and roles defined in the
    // same namespace as the token itself", Consul Enterprise's ACL system docs).
    const dp = await call('PUT', '/v1/acl/policy', ROOT, { Name: 'svc-reader', Rules: 'service_prefix "" { policy = "write" }' });
    assert.equal(dp.status, 200, dp.text);
    const tb = await call('PUT', '/v1/acl/token?ns=team-b', ROOT, { Policies: [{ Name: 'svc-reader' }] });
    assert.equal(tb.status, 400, tb.text);
    assert.match(tb.text, /No such ACL policy with name "svc-reader"/);
    assert.equal((await call('PUT', '/v1/acl/token?ns=team-b', ROOT, { Policies: [{ ID: dp.json.ID }] })).status, 400);
  });

  test("a namespace's ACL admin cannot mint global-management or default-namespace grants through links", async () => {
    const GM = '00000000-0000-0000-0000-000000000001';
    const ap = await call('PUT', '/v1/acl/policy?ns=team-b', ROOT, { Name: 'ns-acl-admin', Rules: 'acl = "write"' });
    assert.equal(ap.status, 200, ap.text);
    const admin = await call('PUT', '/v1/acl/token?ns=team-b', ROOT, { Policies: [{ ID: ap.json.ID }] });
    assert.equal(admin.status, 200, admin.text);
    const s = admin.json.SecretID;
    // Its own namespace is where it may manage ACLs; its reach stops there.
    assert.equal((await call('PUT', '/v1/acl/policy', s, { Name: 'in-b' })).status, 200);
    assert.equal((await call('PUT', '/v1/acl/policy?ns=default', s, { Name: 'in-default' })).status, 403);
    for (const link of [{ ID: GM }, { Name: 'global-management' }]) {
      const t = await call('PUT', '/v1/acl/token', s, { Policies: [link] });
      assert.equal(t.status, 400, `token linking ${JSON.stringify(link)}: ${t.text}`);
      const r = await call('PUT', '/v1/acl/role', s, { Name: `gm-${link.ID ? 'id' : 'name'}`, Policies: [link] });
      assert.equal(r.status, 400, `role linking ${JSON.stringify(link)}: ${r.text}`);
    }
    // A default-namespace role is not linkable either.
    const dr = await call('PUT', '/v1/acl/role', ROOT, { Name: 'default-admins', Policies: [{ ID: GM }] });
    assert.equal(dr.status, 200, dr.text);
    assert.equal((await call('PUT', '/v1/acl/token', s, { Roles: [{ Name: 'default-admins' }] })).status, 400);
    assert.equal((await call('PUT', '/v1/acl/token', s, { Roles: [{ ID: dr.json.ID }] })).status, 400);
    // Even written by a global manager, a namespaced token gets no global-management link.
    assert.equal((await call('PUT', '/v1/acl/token?ns=team-b', ROOT, { Policies: [{ ID: GM }] })).status, 400);
  });

  test('a namespace ACL admin: acl = "write" inside a namespace block of a default policy', async () => {
    const p = await call('PUT', '/v1/acl/policy', ROOT, { Name: 'team-a-admin', Rules: 'namespace "team-a" { acl = "write" }' });
    assert.equal(p.status, 200, p.text);
    const admin = await call('PUT', '/v1/acl/token', ROOT, { Policies: [{ ID: p.json.ID }] });
    const s = admin.json.SecretID;
    assert.equal((await call('PUT', '/v1/acl/policy?ns=team-a', s, { Name: 'by-admin' })).status, 200);
    const denied = await call('PUT', '/v1/acl/policy?ns=team-b', s, { Name: 'by-admin' });
    assert.equal(denied.status, 403);
    assert.match(denied.text, /lacks permission 'acl:write' in namespace "team-b"|acl:write/);
    assert.equal((await call('PUT', '/v1/acl/policy', s, { Name: 'by-admin' })).status, 403);
    // ns=* lists only what it may read, and says the list was filtered.
    const wild = await call('GET', '/v1/acl/policies?ns=*', s);
    assert.equal(wild.status, 200, wild.text);
    assert.ok(wild.json.length > 0 && wild.json.every((x: any) => x.Namespace === 'team-a'));
    assert.equal(wild.headers.get('x-consul-results-filtered-by-acls'), 'true');
  });

  test('policy rules are checked by their home: no namespace blocks or operator rules inside a namespace', async () => {
    const block = await call('PUT', '/v1/acl/policy?ns=team-a', ROOT, { Name: 'blocky', Rules: 'namespace "team-b" { key_prefix "" { policy = "read" } }' });
    assert.equal(block.status, 400);
    assert.match(block.text, /only allowed in policies of the default namespace/);
    const op = await call('PUT', '/v1/acl/policy?ns=team-a', ROOT, { Name: 'op', Rules: 'operator = "read"' });
    assert.equal(op.status, 400);
    assert.match(op.text, /operator rules are not allowed in a non-default namespace/);
    const nodeWrite = await call('PUT', '/v1/acl/policy?ns=team-a', ROOT, { Name: 'nw', Rules: 'node_prefix "" { policy = "write" }' });
    assert.equal(nodeWrite.status, 400);
    assert.equal((await call('PUT', '/v1/acl/policy?ns=team-a', ROOT, { Name: 'nr', Rules: 'node_prefix "" { policy = "read" }' })).status, 200);
    assert.equal((await call('PUT', '/v1/acl/policy', ROOT, { Name: 'ok-blocks', Rules: 'namespace "team-b" { operator = "read" }' })).status, 200);
  });

  test("the namespace's PolicyDefaults and RoleDefaults apply only where the token's own rules are silent", async () => {
    const def = await call('PUT', '/v1/acl/policy', ROOT, {
      Name: 'team-defaults', Rules: 'key_prefix "" { policy = "write" }\nkey_prefix "locked/" { policy = "write" }',
    });
    assert.equal(def.status, 200, def.text);
    const ns = await call('PUT', '/v1/namespace', ROOT, { Name: 'team-c', ACLs: { PolicyDefaults: [{ Name: 'team-defaults' }] } });
    assert.equal(ns.status, 200, ns.text);
    const own = await call('PUT', '/v1/acl/policy?ns=team-c', ROOT, { Name: 'no-locked', Rules: 'key_prefix "locked/" { policy = "deny" }' });
    assert.equal(own.status, 200, own.text);
    const t = await call('PUT', '/v1/acl/token?ns=team-c', ROOT, { Policies: [{ Name: 'no-locked' }] });
    assert.equal(t.status, 200, t.text);
    const s = t.json.SecretID;
    // Silent own rules: the defaults grant write.
    assert.equal((await call('PUT', '/v1/kv/open?ns=team-c', s, 'v')).text, 'true');
    // The token's own deny wins over the defaults' write.
    assert.equal((await call('PUT', '/v1/kv/locked/k?ns=team-c', s, 'v')).status, 403);
    // Defaults of team-c are not a default-namespace token's.
    const plain = await call('PUT', '/v1/acl/token', ROOT, { Policies: [{ Name: 'svc-reader' }] });
    assert.equal((await call('PUT', '/v1/kv/open?ns=team-c', plain.json.SecretID, 'v')).status, 403);
    // Removing the defaults takes effect at once (the resolver cache follows the namespace record).
    assert.equal((await call('PUT', '/v1/namespace/team-c', ROOT, { Name: 'team-c' })).status, 200);
    assert.equal((await call('PUT', '/v1/kv/open?ns=team-c', s, 'v')).status, 403);

    // RoleDefaults: the role's policies and identities, in the token's namespace.
    const sp = await call('PUT', '/v1/acl/policy', ROOT, { Name: 'sess-writer', Rules: 'session_prefix "" { policy = "write" }' });
    const role = await call('PUT', '/v1/acl/role', ROOT, { Name: 'team-role', Policies: [{ ID: sp.json.ID }], ServiceIdentities: [{ ServiceName: 'api' }] });
    assert.equal(role.status, 200, role.text);
    assert.equal((await call('PUT', '/v1/namespace', ROOT, { Name: 'team-e', ACLs: { RoleDefaults: [{ Name: 'team-role' }] } })).status, 200);
    const bare = await call('PUT', '/v1/acl/token?ns=team-e', ROOT, {});
    assert.equal(bare.status, 200, bare.text);
    const asked = await call('POST', '/v1/internal/acl/authorize', bare.json.SecretID, [
      { Resource: 'service', Segment: 'api', Access: 'write' }, { Resource: 'session', Segment: 'n1', Access: 'write' },
      { Resource: 'service', Segment: 'other', Access: 'write' }, { Resource: 'key', Segment: 'k', Access: 'read' },
    ]);
    assert.deepEqual(asked.json.map((r: any) => r.Allow), [true, true, false, false]);
    const elsewhere = await call('POST', '/v1/internal/acl/authorize?ns=team-a', bare.json.SecretID, [{ Resource: 'service', Segment: 'api', Access: 'write' }]);
    assert.equal(elsewhere.json[0].Allow, false);
  });

  test("a namespace's deletion purges its ACL objects: its tokens stop resolving, its names are free again", async () => {
    assert.equal((await call('PUT', '/v1/namespace', ROOT, { Name: 'doomed' })).status, 200);
    const role = await call('PUT', '/v1/acl/role?ns=doomed', ROOT, { Name: 'r', ServiceIdentities: [{ ServiceName: 'web' }] });
    assert.equal(role.status, 200, role.text);
    const t = await call('PUT', '/v1/acl/token?ns=doomed', ROOT, { Roles: [{ Name: 'r' }] });
    assert.equal(t.status, 200, t.text);
    assert.equal((await call('GET', '/v1/acl/token/self', t.json.SecretID)).status, 200);
    assert.equal((await call('DELETE', '/v1/namespace/doomed', ROOT)).status, 200);
    await until('the namespace purged', 10_000, async () => (await call('GET', '/v1/namespace/doomed', ROOT)).status === 404);
    const gone = await call('GET', '/v1/acl/token/self', t.json.SecretID);
    assert.equal(gone.status, 403);
    assert.match(gone.text, /ACL not found/);
    assert.ok(!(await keys()).some((k) => k.startsWith('t/default/doomed/')));
    // Made again, the namespace starts empty and the role name is free.
    assert.equal((await call('PUT', '/v1/namespace', ROOT, { Name: 'doomed' })).status, 200);
    assert.equal((await call('PUT', '/v1/acl/role?ns=doomed', ROOT, { Name: 'r' })).status, 200);
  });

  test('ACL objects of an admin partition: stored under it, governed by it, no partition blocks in its policies', async () => {
    assert.equal((await call('PUT', '/v1/partition', ROOT, { Name: 'ap-1' })).status, 200);
    const p = await call('PUT', '/v1/acl/policy?partition=ap-1', ROOT, { Name: 'shared', Rules: 'key_prefix "" { policy = "write" }' });
    assert.equal(p.status, 200, p.text);
    assert.deepEqual([p.json.Namespace, p.json.Partition], ['default', 'ap-1']);
    assert.ok((await keys()).includes(`t/ap-1/default/acl/policy/${p.json.ID}`));
    const blocks = await call('PUT', '/v1/acl/policy?partition=ap-1', ROOT, { Name: 'pb', Rules: 'partition "default" { acl = "write" }' });
    assert.equal(blocks.status, 400);
    // A policy of the default partition is not linkable from another partition.
    assert.equal((await call('PUT', '/v1/acl/token?partition=ap-1', ROOT, { Policies: [{ Name: 'svc-reader' }] })).status, 400);
    const t = await call('PUT', '/v1/acl/token?partition=ap-1', ROOT, { Policies: [{ Name: 'shared' }] });
    assert.equal(t.status, 200, t.text);
    assert.deepEqual(t.json.Policies, [{ ID: p.json.ID, Name: 'shared' }]);
    assert.equal((await call('PUT', '/v1/kv/in-ap', t.json.SecretID, 'v')).text, 'true');
    assert.equal((await call('GET', '/v1/kv/in-ap?partition=ap-1&raw', ROOT)).text, 'v');
    assert.equal((await call('PUT', '/v1/kv/in-ap?partition=default', t.json.SecretID, 'v')).status, 403);
    assert.equal((await call('PUT', '/v1/acl/policy?partition=nope', ROOT, { Name: 'x' })).status, 500);

    // A namespace's ACL defaults link policies and roles of its own partition's default namespace:
    // never the default partition's (global-management there would manage the whole cluster).
    const GM = '00000000-0000-0000-0000-000000000001';
    for (const link of [{ ID: GM }, { Name: 'svc-reader' }]) {
      const ns = await call('PUT', '/v1/namespace?partition=ap-1', ROOT, { Name: 'ap-ns', ACLs: { PolicyDefaults: [link] } });
      assert.equal(ns.status, 400, `PolicyDefaults ${JSON.stringify(link)}: ${ns.text}`);
    }
    const dr = await call('PUT', '/v1/acl/role', ROOT, { Name: 'dflt-role', Policies: [{ ID: GM }] });
    assert.equal(dr.status, 200, dr.text);
    assert.equal((await call('PUT', '/v1/namespace?partition=ap-1', ROOT, { Name: 'ap-ns', ACLs: { RoleDefaults: [{ ID: dr.json.ID }] } })).status, 400);
    const ok = await call('PUT', '/v1/namespace?partition=ap-1', ROOT, { Name: 'ap-ns', ACLs: { PolicyDefaults: [{ Name: 'shared' }] } });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.json.ACLs.PolicyDefaults, [{ ID: p.json.ID, Name: 'shared' }]);
    // The partition's own ACL admin may set them (acl:write where the linked policy lives).
    const adm = await call('PUT', '/v1/acl/policy?partition=ap-1', ROOT, { Name: 'ap-admin', Rules: 'acl = "write"\nnamespace_prefix "" { policy = "write" }' });
    assert.equal(adm.status, 200, adm.text);
    const admTok = await call('PUT', '/v1/acl/token?partition=ap-1', ROOT, { Policies: [{ ID: adm.json.ID }] });
    assert.equal(admTok.status, 200, admTok.text);
    const byAdmin = await call('PUT', '/v1/namespace', admTok.json.SecretID, { Name: 'ap-ns2', ACLs: { PolicyDefaults: [{ Name: 'shared' }] } });
    assert.equal(byAdmin.status, 200, byAdmin.text);
    assert.equal(byAdmin.json.Partition, 'ap-1');
  });

  test('roles, auth methods and binding rules per namespace; login with NamespaceRules; authmethod-ns', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const jwt = (claims: Record<string, unknown>) => {
      const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const body = `${enc({ alg: 'ES256', typ: 'JWT' })}.${enc({ iss: 'test', aud: 'consul', ...claims, exp: Math.floor(Date.now() / 1000) + 600 })}`;
      return `${body}.${sign('sha256', Buffer.from(body), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
    };
    const config = { JWTValidationPubKeys: [pem], JWTSupportedAlgs: ['ES256'], BoundIssuer: 'test', BoundAudiences: ['consul'], ClaimMappings: { team: 'team', sub: 'sub' } };

    // Same role name in two namespaces.
    const rp = await call('PUT', '/v1/acl/policy?ns=team-a', ROOT, { Name: 'svc-w', Rules: 'service_prefix "" { policy = "write" }' });
    assert.equal(rp.status, 200, rp.text);
    const ra = await call('PUT', '/v1/acl/role?ns=team-a', ROOT, { Name: 'deployer', Policies: [{ Name: 'svc-w' }] });
    assert.equal(ra.status, 200, ra.text);
    const rb = await call('PUT', '/v1/acl/role?ns=team-b', ROOT, { Name: 'deployer' });
    assert.equal(rb.status, 200, rb.text);
    assert.notEqual(ra.json.ID, rb.json.ID);
    assert.equal((await call('GET', '/v1/acl/role/name/deployer?ns=team-b', ROOT)).json.ID, rb.json.ID);

    // A method in team-a: its logins make team-a tokens, its binding rules live there.
    const m = await call('PUT', '/v1/acl/auth-method?ns=team-a', ROOT, { Name: 'jwt', Type: 'jwt', Config: config });
    assert.equal(m.status, 200, m.text);
    assert.equal(m.json.Namespace, 'team-a');
    assert.equal((await call('GET', '/v1/acl/auth-method/jwt', ROOT)).status, 404);
    const br = await call('PUT', '/v1/acl/binding-rule?ns=team-a', ROOT, { AuthMethod: 'jwt', BindType: 'role', BindName: 'deployer' });
    assert.equal(br.status, 200, br.text);
    assert.equal((await call('PUT', '/v1/acl/binding-rule', ROOT, { AuthMethod: 'jwt', BindType: 'role', BindName: 'deployer' })).status, 400);
    assert.equal((await call('PUT', '/v1/acl/auth-method?ns=team-a', ROOT, {
      Name: 'jwt2', Type: 'jwt', Config: config, NamespaceRules: [{ BindNamespace: 'team-b' }],
    })).status, 400, 'NamespaceRules only on default-namespace methods');

    const login = await call('POST', '/v1/acl/login?ns=team-a', '', { AuthMethod: 'jwt', BearerToken: jwt({ sub: 'x', team: 'b' }) });
    assert.equal(login.status, 200, login.text);
    assert.equal(login.json.Namespace, 'team-a');
    assert.deepEqual(login.json.Roles, [{ ID: ra.json.ID, Name: 'deployer' }]);
    assert.equal((await call('POST', '/v1/acl/login', '', { AuthMethod: 'jwt', BearerToken: jwt({ sub: 'x' }) })).status, 400);

    // A default-namespace method with NamespaceRules sends logins to the namespace the claims pick.
    const dm = await call('PUT', '/v1/acl/auth-method', ROOT, {
      Name: 'router', Type: 'jwt', Config: config,
      NamespaceRules: [{ Selector: 'value.team == "b"', BindNamespace: 'team-${value.team}' }],
    });
    assert.equal(dm.status, 200, dm.text);
    assert.deepEqual(dm.json.NamespaceRules, [{ Selector: 'value.team == "b"', BindNamespace: 'team-${value.team}' }]);
    assert.equal((await call('PUT', '/v1/acl/binding-rule', ROOT, { AuthMethod: 'router', BindType: 'role', BindName: 'deployer' })).status, 200);
    const routed = await call('POST', '/v1/acl/login', '', { AuthMethod: 'router', BearerToken: jwt({ sub: 'y', team: 'b' }) });
    assert.equal(routed.status, 200, routed.text);
    assert.equal(routed.json.Namespace, 'team-b');
    assert.equal(routed.json.AuthMethodNamespace, 'default');
    assert.deepEqual(routed.json.Roles, [{ ID: rb.json.ID, Name: 'deployer' }], 'the role of the namespace logged into');

    // authmethod-ns filters tokens by their method's namespace.
    const byNs = await call('GET', '/v1/acl/tokens?ns=*&authmethod-ns=default', ROOT);
    assert.deepEqual(byNs.json.filter((t: any) => t.AuthMethod).map((t: any) => t.AccessorID), [routed.json.AccessorID]);
    const fromA = await call('GET', '/v1/acl/tokens?ns=team-a&authmethod=jwt&authmethod-ns=team-a', ROOT);
    assert.deepEqual(fromA.json.map((t: any) => t.AccessorID), [login.json.AccessorID]);

    // Deleting the team-a method deletes its rules and tokens only.
    assert.equal((await call('DELETE', '/v1/acl/auth-method/jwt?ns=team-a', ROOT)).status, 200);
    assert.equal((await call('GET', `/v1/acl/token/${login.json.AccessorID}?ns=team-a`, ROOT)).status, 403);
    assert.equal((await call('GET', `/v1/acl/binding-rule/${br.json.ID}?ns=team-a`, ROOT)).status, 404);
    assert.equal((await call('GET', `/v1/acl/token/${routed.json.AccessorID}?ns=team-b`, ROOT)).status, 200);
  });
});
