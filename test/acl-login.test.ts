// /v1/acl/login and logout with a `jwt` auth method on static keys generated here (RS256, ES256,
// EdDSA): signature, issuer, audience and expiry checks, claim mappings into binding-rule
// selectors, every BindType, and `proconsul login` / `logout` end to end.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryIO } from '../src/cli/io.ts';
import { runCli } from '../src/cli/registry.ts';
import { httpCaller, ROOT, startAclAgent } from './support/acl.ts';
import { startDevAgent, devConfig, type DevAgent } from './support/agent.ts';

let a: DevAgent;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const pem = (k: KeyObject) => k.export({ type: 'spki', format: 'pem' }).toString();

function jwt(alg: 'RS256' | 'ES256' | 'EdDSA', key: KeyObject, claims: Record<string, unknown>): string {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const data = `${enc({ alg, typ: 'JWT' })}.${enc(claims)}`;
  const hash = alg === 'EdDSA' ? null : 'sha256';
  const sig = sign(hash, Buffer.from(data), alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key);
  return `${data}.${sig.toString('base64url')}`;
}

const http = httpCaller(() => a.httpAddr);
const call = (method: string, path: string, body?: unknown, token = ROOT) => http(method, path, token, body);

const now = () => Math.floor(Date.now() / 1000);
const good = (extra: Record<string, unknown> = {}) => ({ iss: 'https://idp.test', aud: ['consul'], exp: now() + 600, sub: 'alice', svc: 'web', groups: ['ops', 'dev'], ...extra });

before(async () => {
  a = await startAclAgent();
  const m = await call('PUT', '/v1/acl/auth-method', {
    Name: 'idp', Type: 'jwt', MaxTokenTTL: '10m',
    Config: {
      JWTValidationPubKeys: [pem(rsa.publicKey), pem(ec.publicKey), pem(ed.publicKey)], JWTSupportedAlgs: ['RS256', 'ES256', 'EdDSA'],
      BoundIssuer: 'https://idp.test', BoundAudiences: ['consul'], ClaimMappings: { svc: 'service', sub: 'user' }, ListClaimMappings: { groups: 'groups' },
    },
  });
  assert.equal(m.status, 200, m.text);
  await call('PUT', '/v1/acl/policy', { Name: 'ops-policy', Rules: 'key_prefix "ops/" { policy = "write" }' });
  await call('PUT', '/v1/acl/role', { Name: 'dev-role', Policies: [{ Name: 'ops-policy' }] });
  for (const rule of [
    { Selector: 'value.service != ""', BindType: 'service', BindName: '${value.service}' },
    { Selector: '"ops" in list.groups', BindType: 'policy', BindName: 'ops-policy' },
    { Selector: '"dev" in list.groups', BindType: 'role', BindName: 'dev-role' },
    { Selector: 'value.user == "alice"', BindType: 'node', BindName: 'node-${value.user}' },
    { Selector: 'value.user == "alice"', BindType: 'templated-policy', BindName: 'builtin/service', BindVars: { name: 'api-${value.user}' } },
  ]) assert.equal((await call('PUT', '/v1/acl/binding-rule', { AuthMethod: 'idp', ...rule })).status, 200);
});
after(() => a.stop());

test('a valid RS256 token logs in with every binding rule that matched', async () => {
  const r = await call('POST', '/v1/acl/login', { AuthMethod: 'idp', BearerToken: jwt('RS256', rsa.privateKey, good()), Meta: { pod: 'p1' } }, '');
  assert.equal(r.status, 200, r.text);
  const t = r.json;
  assert.equal(t.AuthMethod, 'idp');
  assert.equal(t.Local, true);
  assert.equal(t.Description, 'token created via login: {"pod":"p1"}');
  assert.deepEqual(t.ServiceIdentities, [{ ServiceName: 'web' }]);
  assert.deepEqual(t.NodeIdentities, [{ NodeName: 'node-alice', Datacenter: 'dc1' }]);
  assert.deepEqual(t.Policies.map((p: { Name: string }) => p.Name), ['ops-policy']);
  assert.deepEqual(t.Roles.map((p: { Name: string }) => p.Name), ['dev-role']);
  assert.equal(t.TemplatedPolicies[0].TemplateName, 'builtin/service');
  assert.deepEqual(t.TemplatedPolicies[0].TemplateVariables, { name: 'api-alice' });
  assert.ok(Date.parse(t.ExpirationTime) - Date.now() <= 600_000, 'MaxTokenTTL bounds the token');
  assert.equal((await call('PUT', '/v1/kv/ops/x', 'v', t.SecretID)).status, 200, 'the bound policy grants');
  assert.equal((await call('PUT', '/v1/kv/other', 'v', t.SecretID)).status, 403);
  assert.equal((await call('POST', '/v1/acl/logout', undefined, t.SecretID)).status, 200);
  assert.equal((await call('GET', '/v1/kv/ops/x', undefined, t.SecretID)).text, 'ACL not found');
});

test('ES256 and EdDSA signatures verify too; only matching rules apply', async () => {
  const es = await call('POST', '/v1/acl/login', { AuthMethod: 'idp', BearerToken: jwt('ES256', ec.privateKey, good({ groups: [], sub: 'bob' })) }, '');
  assert.equal(es.status, 200, es.text);
  assert.deepEqual(es.json.ServiceIdentities, [{ ServiceName: 'web' }]);
  assert.equal(es.json.Policies, undefined);
  assert.equal(es.json.NodeIdentities, undefined);
  const edd = await call('POST', '/v1/acl/login', { AuthMethod: 'idp', BearerToken: jwt('EdDSA', ed.privateKey, good()) }, '');
  assert.equal(edd.status, 200, edd.text);
});

test('bad signatures, issuers, audiences, expired tokens and no matching rule are refused', async () => {
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cases: [string, string][] = [
    [jwt('RS256', other.privateKey, good()), 'failed to verify id token signature'],
    [jwt('RS256', rsa.privateKey, good({ iss: 'https://evil.test' })), 'invalid issuer (iss) claim'],
    [jwt('RS256', rsa.privateKey, good({ aud: 'someone-else' })), 'invalid audience (aud) claim'],
    [jwt('RS256', rsa.privateKey, good({ exp: now() - 3600 })), 'token is expired'],
    [jwt('RS256', rsa.privateKey, { iss: 'https://idp.test', aud: 'consul', exp: now() + 60 }), 'no binding rule matched'],
    ['not-a-jwt', 'malformed token'],
  ];
  for (const [bearer, why] of cases) {
    const r = await call('POST', '/v1/acl/login', { AuthMethod: 'idp', BearerToken: bearer }, '');
    assert.equal(r.status, 403, `${why}: ${r.text}`);
    assert.ok(r.text.startsWith('Permission denied') && r.text.includes(why), r.text);
  }
  assert.equal((await call('POST', '/v1/acl/login', { AuthMethod: 'nope', BearerToken: 'x' }, '')).status, 400);
});

test('ClaimAssertions are checked on write and must all hold at login', async () => {
  const config = (ClaimAssertions: unknown) => ({
    JWTValidationPubKeys: [pem(rsa.publicKey)], BoundIssuer: 'https://idp.test', ClaimMappings: { sub: 'user' }, ListClaimMappings: { groups: 'groups' }, ClaimAssertions,
  });
  const put = (ClaimAssertions: unknown) => call('PUT', '/v1/acl/auth-method', { Name: 'strict', Type: 'jwt', Config: config(ClaimAssertions) });
  const bad = await put(['"ops" in list.groups', 'value.user =']);
  assert.equal(bad.status, 400);
  assert.match(bad.text, /^Invalid Auth Method: ClaimAssertions\[1\] is invalid: /);
  assert.equal((await put('"ops" in list.groups')).text, "Invalid Auth Method: 'ClaimAssertions' must be a list of strings");
  assert.equal((await put(['"ops" in list.groups', 'value.user != "mallory"'])).status, 200);
  assert.equal((await call('PUT', '/v1/acl/binding-rule', { AuthMethod: 'strict', BindType: 'service', BindName: 'svc-${value.user}' })).status, 200);
  const login = (claims: Record<string, unknown>) => call('POST', '/v1/acl/login', { AuthMethod: 'strict', BearerToken: jwt('RS256', rsa.privateKey, good(claims)) }, '');
  const ok = await login({});
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.json.ServiceIdentities, [{ ServiceName: 'svc-alice' }]);
  const noGroup = await login({ groups: ['dev'] });
  assert.equal(noGroup.status, 403);
  assert.equal(noGroup.text, 'Permission denied: failed to validate bearer token: claims do not satisfy ClaimAssertions[0]: "ops" in list.groups');
  const mallory = await login({ sub: 'mallory' });
  assert.equal(mallory.text, 'Permission denied: failed to validate bearer token: claims do not satisfy ClaimAssertions[1]: value.user != "mallory"');
});

test('proconsul login writes the token to the sink file; proconsul logout destroys it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'proconsul-login-'));
  const bearer = join(dir, 'jwt');
  const sink = join(dir, 'token');
  writeFileSync(bearer, `${jwt('RS256', rsa.privateKey, good())}\n`);
  const run = async (argv: string[], token = '') => {
    const io = memoryIO({ env: { CONSUL_HTTP_ADDR: a.httpAddr, CONSUL_HTTP_TOKEN: token } });
    return { code: await runCli(argv, io), out: io.out, err: io.err };
  };
  assert.deepEqual(await run(['login', '-method', 'idp', '-bearer-token-file', bearer, '-token-sink-file', sink]), { code: 0, out: '', err: '' });
  const secret = readFileSync(sink, 'utf8');
  assert.equal((await call('GET', '/v1/acl/token/self', undefined, secret)).json.AuthMethod, 'idp');
  assert.deepEqual(await run(['logout'], secret), { code: 0, out: '', err: '' });
  assert.equal((await call('GET', '/v1/acl/token/self', undefined, secret)).status, 403);
  assert.equal((await run(['login', '-method', 'idp'])).err, 'Missing required \'-token-sink-file\' flag\n');
  writeFileSync(bearer, jwt('RS256', rsa.privateKey, good({ aud: 'x' })));
  const bad = await run(['login', '-method', 'idp', '-bearer-token-file', bearer, '-token-sink-file', sink]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /^Error logging in: Unexpected response code: 403 \(Permission denied: failed to validate bearer token: invalid audience/);
});

test('a binding rule with an unparseable selector is refused on write', async () => {
  const { startDevAgent, devConfig } = await import('./support/agent.ts');
  const dev = await startDevAgent({ config: { acl: { ...devConfig().acl, enabled: true, defaultPolicy: 'deny', tokens: { ...devConfig().acl.tokens, initialManagement: 'root' } } } });
  try {
    const put = (path: string, body: unknown) => fetch(`http://${dev.httpAddr}${path}`, { method: 'PUT', headers: { 'X-Consul-Token': 'root' }, body: JSON.stringify(body) });
    // The selector is checked before anything else about the rule.
    const r = await put('/v1/acl/binding-rule', { AuthMethod: 'm', BindType: 'service', BindName: 'x', Selector: 'value.a ==' });
    assert.equal(r.status, 400);
    assert.match(await r.text(), /^invalid Binding Rule: Selector is invalid: /);
  } finally {
    await dev.stop();
  }
});

test('login names the auth method in any spelling; binding rules naming it in another spelling apply (Consul\'s lower-cased indexes)', async () => {
  const rule = await call('PUT', '/v1/acl/binding-rule', { AuthMethod: 'IDP', Selector: 'value.user == "alice"', BindType: 'node', BindName: 'cased-${value.user}' });
  assert.equal(rule.status, 200, rule.text);
  try {
    const r = await call('POST', '/v1/acl/login', { AuthMethod: 'IdP', BearerToken: jwt('RS256', rsa.privateKey, good()) }, '');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.AuthMethod, 'idp', 'the token names the method as stored');
    assert.ok(r.json.NodeIdentities.some((n: { NodeName: string }) => n.NodeName === 'cased-alice'), JSON.stringify(r.json.NodeIdentities));
    const listed = (await call('GET', '/v1/acl/tokens?authmethod=IDP')).json as { AccessorID: string }[];
    assert.ok(listed.some((t) => t.AccessorID === r.json.AccessorID), 'tokens listed by the method in any spelling');
    assert.equal((await call('POST', '/v1/acl/logout', undefined, r.json.SecretID)).status, 200);
  } finally {
    await call('DELETE', `/v1/acl/binding-rule/${rule.json.ID}`);
  }
});
