// `proconsul acl auth-method …` and `acl binding-rule …` against a real agent: Consul's pretty
// output, -format=json, merge/-no-merge updates, unique ID prefixes and error texts.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, startAclAgent } from './support/acl.ts';
import type { DevAgent } from './support/agent.ts';
import { runCliCaptured } from './support/cli.ts';

let a: DevAgent;
const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

async function run(...argv: string[]) {
  return runCliCaptured(argv, { CONSUL_HTTP_ADDR: a.httpAddr, CONSUL_HTTP_TOKEN: ROOT });
}

before(async () => {
  a = await startAclAgent();
});
after(() => a.stop());

test('auth-method create, read, list, update and delete', async () => {
  const cfg = join(mkdtempSync(join(tmpdir(), 'proconsul-am-')), 'jwt.json');
  writeFileSync(cfg, JSON.stringify({ JWTValidationPubKeys: [pem], JWTSupportedAlgs: ['ES256'], ClaimMappings: { sub: 'user' } }));
  const created = await run('acl', 'auth-method', 'create', '-type=jwt', '-name=ci', '-description=CI jobs', '-max-token-ttl=10m', `-config=@${cfg}`);
  assert.equal(created.code, 0, created.err);
  const config = JSON.stringify({ JWTValidationPubKeys: [pem], JWTSupportedAlgs: ['ES256'], ClaimMappings: { sub: 'user' } }, null, 2);
  assert.equal(created.out, `Name:          ci\nType:          jwt\nDescription:   CI jobs\nMaxTokenTTL:   10m\nConfig:\n${config}\n`);
  assert.equal((await run('acl', 'auth-method', 'read', '-name=ci')).out, created.out);
  assert.equal(JSON.parse((await run('acl', 'auth-method', 'read', '-name=ci', '-format=json')).out).Config.ClaimMappings.sub, 'user');
  assert.equal((await run('acl', 'auth-method', 'list')).out, 'ci:\n   Type:         jwt\n   Description:  CI jobs\n\n');
  const upd = await run('acl', 'auth-method', 'update', '-name=ci', '-display-name=CI', '-token-locality=global');
  assert.equal(upd.code, 0, upd.err);
  assert.match(upd.out, /^Name: {10}ci\nType: {10}jwt\nDisplayName: {3}CI\nDescription: {3}CI jobs\nMaxTokenTTL: {3}10m\nTokenLocality: global\n/);
  const noMerge = await run('acl', 'auth-method', 'update', '-name=ci', '-no-merge', `-config=@${cfg}`);
  assert.match(noMerge.out, /^Name: {10}ci\nType: {10}jwt\nDescription: {3}\nConfig:\n/);

  assert.equal((await run('acl', 'auth-method', 'create', '-name=x')).err, 'Missing required \'-type\' flag\n');
  const bad = await run('acl', 'auth-method', 'create', '-type=jwt', '-name=bad', '-config={"JWKSURL":"x","JWTValidationPubKeys":["y"]}');
  assert.match(bad.err, /^Failed to create new auth method: Unexpected response code: 400 \(Invalid Auth Method: exactly one of/);
  assert.equal((await run('acl', 'auth-method', 'read', '-name=nope')).err, 'Auth method not found with name "nope"\n');
  assert.equal((await run('acl', 'auth-method', 'create', '-type=kubernetes', '-name=k')).err, 'Missing required \'-kubernetes-host\' flag\n');
});

test('binding-rule create, list, read by prefix, update and delete', async () => {
  const created = await run('acl', 'binding-rule', 'create', '-method=ci', '-bind-type=service', '-bind-name=svc-${value.user}', '-selector=value.user != ""', '-description=per user');
  assert.equal(created.code, 0, created.err);
  const id = /^ID: {11}(\S+)\n/.exec(created.out)![1];
  assert.equal(created.out, `ID:           ${id}\nAuthMethod:   ci\nDescription:  per user\nBindType:     service\nBindName:     svc-\${value.user}\nSelector:     value.user != ""\n\n`, 'a blank line follows, as Consul prints it');
  assert.equal((await run('acl', 'binding-rule', 'read', `-id=${id.slice(0, 8)}`)).out, created.out);
  assert.equal((await run('acl', 'binding-rule', 'list', '-method=ci')).out,
    `${id}:\n   AuthMethod:   ci\n   Description:  per user\n   BindType:     service\n   BindName:     svc-\${value.user}\n   Selector:     value.user != ""\n\n`);
  assert.equal((await run('acl', 'binding-rule', 'list', '-method=other')).out, '\n');
  const tpl = await run('acl', 'binding-rule', 'create', '-method=ci', '-bind-type=templated-policy', '-bind-name=builtin/service', '-bind-vars', 'name=api-${value.user}');
  assert.match(tpl.out, /BindVars: {5}\n {5}- Name: api-\$\{value\.user\}\n/);
  const upd = await run('acl', 'binding-rule', 'update', `-id=${id}`, '-selector=', '-bind-type=node');
  assert.equal(upd.code, 0, upd.err);
  assert.match(upd.out, /^Binding rule updated successfully\nID: .*\nAuthMethod: {3}ci\nDescription: {2}per user\nBindType: {5}node\nBindName: {5}svc-\$\{value\.user\}\nSelector: {5}\n\n$/);
  assert.equal((await run('acl', 'binding-rule', 'update', `-id=${id}`, '-no-merge')).err, 'Missing required \'-bind-type\' flag\n');
  assert.equal((await run('acl', 'binding-rule', 'delete', `-id=${id}`)).out, `Binding rule "${id}" deleted successfully\n`);
  assert.equal((await run('acl', 'binding-rule', 'read', '-id=ffffffff')).err, 'Error determining binding rule ID: No such binding rule ID with prefix: ffffffff\n');
  assert.equal((await run('acl', 'binding-rule', 'create', '-bind-name=x')).err, 'Missing required \'-method\' flag\n');
  assert.equal((await run('acl', 'auth-method', 'delete', '-name=ci')).out, 'Auth method "ci" deleted successfully\n');
  assert.equal((await run('acl', 'binding-rule', 'list')).out, '\n', 'deleting the method removed its rules');
});
