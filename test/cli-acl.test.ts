// `proconsul acl …` end to end: policy, role and token CRUD, bootstrap and set-agent-token run
// in-process against a real ACL-enabled agent, checking Consul's pretty and JSON output and texts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAclAgent } from './support/acl.ts';
import type { DevAgent } from './support/agent.ts';
import { runCliCaptured } from './support/cli.ts';

let a: DevAgent;
const dir = mkdtempSync(join(tmpdir(), 'proconsul-cli-acl-'));

before(async () => {
  a = await startAclAgent();
});
after(() => a.stop());

async function cli(argv: string[], token = 'root', stdin?: string) {
  return runCliCaptured(argv, { CONSUL_HTTP_ADDR: a.httpAddr, CONSUL_HTTP_TOKEN: token }, stdin);
}

test('acl bootstrap after the initial management token is refused with Consul\'s prefix', async () => {
  const r = await cli(['acl', 'bootstrap'], '');
  assert.equal(r.code, 1);
  assert.match(r.err, /^Failed ACL bootstrapping: Unexpected response code: 403 \(.*ACL bootstrap no longer allowed/);
});

test('policy create (@file rules), read by name, list, update and delete', async () => {
  const rules = join(dir, 'rules.hcl');
  writeFileSync(rules, 'key_prefix "app/" {\n  policy = "read"\n}\n');
  const c = await cli(['acl', 'policy', 'create', '-name', 'app-read', '-description', 'reads app', '-rules', `@${rules}`]);
  assert.equal(c.code, 0, c.err);
  const id = /^ID:\s+(\S+)$/m.exec(c.out)![1];
  assert.equal(c.out, `ID:           ${id}\nName:         app-read\nDescription:  reads app\nDatacenters:  \nRules:\nkey_prefix "app/" {\n  policy = "read"\n}\n\n`);
  const byName = await cli(['acl', 'policy', 'read', '-name', 'app-read', '-format', 'json']);
  assert.equal(JSON.parse(byName.out).ID, id);
  assert.ok(byName.out.startsWith('{\n    "ID"'), 'Go MarshalIndent style');
  const list = await cli(['acl', 'policy', 'list']);
  assert.match(list.out, new RegExp(`app-read:\\n   ID:           ${id}\\n   Description:  reads app\\n   Datacenters:  \\n`));
  assert.match(list.out, /global-management:\n   ID:           00000000-0000-0000-0000-000000000001\n/);
  const up = await cli(['acl', 'policy', 'update', '-id', id.slice(0, 8), '-description', 'new words', '-rules', '-'], 'root', 'key "x" { policy = "write" }');
  assert.equal(up.code, 0, up.err);
  assert.match(up.out, /Name:         app-read\nDescription:  new words\n/);
  assert.match(up.out, /Rules:\nkey "x" \{ policy = "write" \}\n$/);
  assert.deepEqual(await cli(['acl', 'policy', 'read']), { code: 1, out: '', err: 'Must specify either the -id or -name parameters\n' });
  const del = await cli(['acl', 'policy', 'delete', '-name', 'app-read']);
  assert.deepEqual(del, { code: 0, out: `Policy "${id}" deleted successfully\n`, err: '' });
  assert.equal((await cli(['acl', 'policy', 'create'])).err, 'Missing require \'-name\' flag\n');
});

test('role create, read by prefix and delete', async () => {
  await cli(['acl', 'policy', 'create', '-name', 'p-role', '-rules', 'node_prefix "" { policy = "read" }']);
  const c = await cli(['acl', 'role', 'create', '-name', 'ops', '-policy-name', 'p-role', '-service-identity', 'web:dc1,dc2', '-node-identity', 'n1:dc1']);
  assert.equal(c.code, 0, c.err);
  const id = /^ID:\s+(\S+)$/m.exec(c.out)![1];
  assert.match(c.out, /^Description:  \nPolicies:\n   \S+ - p-role\nService Identities:\n   web \(Datacenters: dc1, dc2\)\nNode Identities:\n   n1 \(Datacenter: dc1\)\n/m);
  const read = await cli(['acl', 'role', 'read', '-id', id.slice(0, 6), '-meta']);
  assert.match(read.out, /Hash:         [0-9a-f]+\nCreate Index: \d+\nModify Index: \d+\n/);
  const list = await cli(['acl', 'role', 'list']);
  assert.match(list.out, /ops:\n   ID:           \S+\n   Description:  \n   Policies:\n      \S+ - p-role\n/);
  assert.equal((await cli(['acl', 'role', 'create', '-name', 'x'])).err, 'Cannot create a role without specifying -policy-name, -policy-id, -service-identity, or -node-identity at least once\n');
  assert.equal((await cli(['acl', 'role', 'delete', '-id', id])).out, `Role "${id}" deleted successfully\n`);
});

test('token create, read, update (append), clone, list and delete', async () => {
  await cli(['acl', 'policy', 'create', '-name', 'tok-a', '-rules', 'key "a" { policy = "read" }']);
  await cli(['acl', 'policy', 'create', '-name', 'tok-b', '-rules', 'key "b" { policy = "read" }']);
  const c = await cli(['acl', 'token', 'create', '-description', 'first', '-policy-name', 'tok-a', '-expires-ttl', '1h']);
  assert.equal(c.code, 0, c.err);
  const accessor = /^AccessorID:\s+(\S+)$/m.exec(c.out)![1];
  assert.match(c.out, /^AccessorID:       \S+\nSecretID:         \S+\nDescription:      first\nLocal:            false\nCreate Time:      \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC\nExpiration Time:  .+\nPolicies:\n   \S+ - tok-a\n\n$/);
  const up = await cli(['acl', 'token', 'update', '-accessor-id', accessor.slice(0, 8), '-append-policy-name', 'tok-b']);
  assert.equal(up.code, 0, up.err);
  assert.match(up.out, /Policies:\n   \S+ - tok-a\n   \S+ - tok-b\n/);
  const clash = await cli(['acl', 'token', 'update', '-accessor-id', accessor, '-policy-name', 'tok-a', '-append-policy-name', 'tok-b']);
  assert.equal(clash.code, 1);
  assert.match(clash.err, /^Cannot combine the use of policy-id\/policy-name flags with append- variants/);
  const clone = await cli(['acl', 'token', 'clone', '-accessor-id', accessor, '-description', 'copy', '-format', 'json']);
  const cloned = JSON.parse(clone.out);
  assert.equal(cloned.Description, 'copy');
  assert.deepEqual(cloned.Policies.map((p: { Name: string }) => p.Name), ['tok-a', 'tok-b']);
  const self = await cli(['acl', 'token', 'read', '-self'], cloned.SecretID);
  assert.match(self.out, new RegExp(`AccessorID:       ${cloned.AccessorID}\\n`));
  const list = await cli(['acl', 'token', 'list']);
  assert.match(list.out, /Legacy:           false\n/);
  assert.match(list.out, /AccessorID:       00000000-0000-0000-0000-000000000002\n/);
  const anon = await cli(['acl', 'token', 'read', '-accessor-id', 'anonymous']);
  assert.match(anon.out, /Description:      Anonymous Token\n/);
  assert.equal((await cli(['acl', 'token', 'delete', '-accessor-id', accessor])).out, `Token "${accessor}" deleted successfully\n`);
  assert.equal((await cli(['acl', 'token', 'create'])).err, 'Cannot create a token without specifying -policy-name, -policy-id, -role-name, -role-id, -service-identity, or -node-identity at least once\n');
  assert.equal((await cli(['acl', 'token', 'read', '-accessor-id', 'zzzz'])).err, 'Error determining token ID: No such token ID with prefix: zzzz\n');
});

test('set-agent-token sets the agent\'s tokens; argument errors as Consul words them', async () => {
  const t = JSON.parse((await cli(['acl', 'token', 'create', '-service-identity', 'web', '-format', 'json'])).out);
  assert.deepEqual(await cli(['acl', 'set-agent-token', 'dns', t.SecretID]), { code: 0, out: 'ACL token "dns" set successfully\n', err: '' });
  assert.equal(a.agent.local.tokens.get('dns'), t.SecretID);
  assert.deepEqual(await cli(['acl', 'set-agent-token', 'agent']), { code: 1, out: '', err: 'Error! Missing TOKEN argument\n' });
  assert.deepEqual(await cli(['acl', 'set-agent-token']), { code: 1, out: '', err: 'Error! Missing TYPE and TOKEN arguments\n' });
  assert.deepEqual(await cli(['acl', 'set-agent-token', 'bogus', 'x']), { code: 1, out: '', err: 'Unknown token type\n' });
  const denied = await cli(['acl', 'set-agent-token', 'dns', 'x'], t.SecretID);
  assert.match(denied.err, /^Failed to set ACL token "dns": Unexpected response code: 403 \(Permission denied: token with AccessorID '\S+' lacks permission 'acl:write'\)/);
});
