// /v1/acl/explain and `proconsul acl explain` against a real agent (default deny): the deciding
// policy, the role it came through, identities, exact vs prefix, deny precedence, the default
// policy and management; explaining another token needs acl:read.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { memoryIO } from '../src/cli/io.ts';
import { runCli } from '../src/cli/registry.ts';
import { ROOT, startAclAgent } from './support/acl.ts';
import type { DevAgent } from './support/agent.ts';

let a: DevAgent;
let dev: { SecretID: string; AccessorID: string };
let denier: { SecretID: string };
const ids: Record<string, string> = {};

async function call(method: string, path: string, token: string, body?: unknown) {
  const res = await a.agent.http.handle({
    method, url: path, headers: token ? { 'X-Consul-Token': token } : {}, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = res.body.toString('utf8');
  return { status: res.status, text, json: res.status === 200 ? JSON.parse(text) : undefined };
}

async function ok(method: string, path: string, body: unknown): Promise<any> {
  const r = await call(method, path, ROOT, body);
  assert.equal(r.status, 200, r.text);
  return r.json;
}

const explain = (token: string, resource: string, access: string) =>
  call('GET', `/v1/acl/explain?resource=${encodeURIComponent(resource)}&access=${access}`, token);

before(async () => {
  a = await startAclAgent();
  ids.reader = (await ok('PUT', '/v1/acl/policy', { Name: 'app-reader', Rules: 'key_prefix "app/" { policy = "read" }' })).ID;
  ids.writer = (await ok('PUT', '/v1/acl/policy', { Name: 'db-writer', Rules: 'key "app/db" { policy = "write" }' })).ID;
  ids.deny = (await ok('PUT', '/v1/acl/policy', { Name: 'db-deny', Rules: 'key "app/db" { policy = "deny" }' })).ID;
  ids.role = (await ok('PUT', '/v1/acl/role', { Name: 'dev', Policies: [{ ID: ids.writer }] })).ID;
  dev = await ok('PUT', '/v1/acl/token', { Policies: [{ ID: ids.reader }], Roles: [{ ID: ids.role }], ServiceIdentities: [{ ServiceName: 'web' }] });
  denier = await ok('PUT', '/v1/acl/token', { Policies: [{ ID: ids.reader }, { ID: ids.deny }], Roles: [{ ID: ids.role }] });
});
after(() => a.stop());

test('an exact rule reached through a role beats a prefix rule linked directly', async () => {
  const r = await explain(dev.SecretID, 'key:app/db', 'write');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, {
    Decision: 'allow', Resource: 'key:app/db', Access: 'write', AccessorID: dev.AccessorID,
    Rule: { Source: 'role', Policy: { ID: ids.writer, Name: 'db-writer' }, Role: { ID: ids.role, Name: 'dev' }, Match: 'exact', Segment: 'app/db', Level: 'write' },
  });
});

test('the governing prefix rule explains both its grant and its refusal', async () => {
  const read = (await explain(dev.SecretID, 'key:app/x', 'read')).json;
  assert.equal(read.Decision, 'allow');
  assert.deepEqual(read.Rule, { Source: 'policy', Policy: { ID: ids.reader, Name: 'app-reader' }, Match: 'prefix', Segment: 'app/', Level: 'read' });
  const write = (await explain(dev.SecretID, 'key:app/x', 'write')).json;
  assert.equal(write.Decision, 'deny');
  assert.equal(write.Rule.Policy.Name, 'app-reader');
});

test('identities, the default policy and management are named', async () => {
  const svc = (await explain(dev.SecretID, 'service:web', 'write')).json;
  assert.equal(svc.Decision, 'allow');
  assert.deepEqual(svc.Rule, { Source: 'service-identity', Identity: 'service:web', Match: 'exact', Segment: 'web', Level: 'write' });
  const other = (await explain(dev.SecretID, 'key:other', 'read')).json;
  assert.deepEqual([other.Decision, other.Rule], ['deny', { Source: 'default policy', Match: 'default', Segment: '' }]);
  const anon = (await explain('', 'operator', 'read')).json;
  assert.deepEqual([anon.Decision, anon.AccessorID, anon.Rule.Source], ['deny', '00000000-0000-0000-0000-000000000002', 'default policy']);
  const root = (await explain(ROOT, 'operator', 'write')).json;
  assert.deepEqual([root.Decision, root.Rule.Source], ['allow', 'management']);
});

test('deny wins over write on the same exact segment, and names its policy', async () => {
  const r = (await explain(denier.SecretID, 'key:app/db', 'read')).json;
  assert.equal(r.Decision, 'deny');
  assert.deepEqual(r.Rule, { Source: 'policy', Policy: { ID: ids.deny, Name: 'db-deny' }, Match: 'exact', Segment: 'app/db', Level: 'deny' });
});

test('POST explains another token only for acl:read holders; bad input is a 400; unknown tokens are not found', async () => {
  const body = { Token: dev.SecretID, Resource: 'key:app/db', Access: 'write' };
  const denied = await call('POST', '/v1/acl/explain', denier.SecretID, body);
  assert.equal(denied.status, 403);
  assert.match(denied.text, /lacks permission 'acl:read'/);
  const self = await call('POST', '/v1/acl/explain', dev.SecretID, body);
  assert.equal(self.json.Decision, 'allow');
  const byRoot = await call('POST', '/v1/acl/explain', ROOT, body);
  assert.equal(byRoot.json.AccessorID, dev.AccessorID);
  assert.equal((await call('POST', '/v1/acl/explain', ROOT, { ...body, Token: 'nope' })).text, 'ACL not found');
  assert.equal((await explain(ROOT, '', 'read')).status, 400);
  const level = await explain(ROOT, 'key:x', 'admin');
  assert.equal(level.status, 400);
  assert.match(level.text, /Invalid access level/);
});

test('proconsul acl explain prints the decision and the rule', async () => {
  const io = memoryIO({ env: { CONSUL_HTTP_ADDR: a.httpAddr } });
  const code = await runCli(['acl', 'explain', `-token=${dev.SecretID}`, '-resource=key:app/db', '-access=write'], io);
  assert.equal(code, 0, io.err);
  assert.equal(io.out, `Decision:   allow\nResource:   key:app/db\nAccess:     write\nAccessorID: ${dev.AccessorID}\n`
    + 'Rule:       role "dev" -> policy "db-writer": key "app/db" = "write" (exact match)\n');
  const json = memoryIO({ env: { CONSUL_HTTP_ADDR: a.httpAddr, CONSUL_HTTP_TOKEN: dev.SecretID } });
  assert.equal(await runCli(['acl', 'explain', '-resource=key:app/x', '-access=write', '-format=json'], json), 0, json.err);
  assert.equal(JSON.parse(json.out).Rule.Match, 'prefix');
  const missing = memoryIO({ env: { CONSUL_HTTP_ADDR: a.httpAddr } });
  assert.equal(await runCli(['acl', 'explain'], missing), 1);
  assert.match(missing.err, /Missing required -resource/);
});
