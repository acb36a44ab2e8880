// The `oidc` and `jwt` auth methods against a real OpenID provider (npm `oidc-provider`, started
// here): `proconsul login -type=oidc` drives authorize → sign-in → consent → the CLI's callback
// listener with a stand-in browser, and an ID token the provider issued logs in through a `jwt`
// method with OIDCDiscoveryURL. Binding rules and ClaimAssertions see the provider's claims.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryIO } from '../src/cli/io.ts';
import { runCli } from '../src/cli/registry.ts';
import { httpCaller, ROOT, startAclAgent } from './support/acl.ts';
import type { DevAgent } from './support/agent.ts';
import { browse, startRealProvider, type BrowseResult, type RealProvider } from './support/node-oidc-provider.ts';

const CLI_REDIRECT = 'http://localhost:8550/oidc/callback';
const SVC_REDIRECT = 'http://localhost:8551/cb';
const ALICE = { login: 'alice', password: 'wonderland' };
const BOB = { login: 'bob', password: 'builder' };
let a: DevAgent;
let idp: RealProvider;
const dir = mkdtempSync(join(tmpdir(), 'proconsul-oidc-provider-'));

const http = httpCaller(() => a.httpAddr);
const call = (method: string, path: string, body?: unknown, token = ROOT) => http(method, path, token, body);

const client = (client_id: string, redirect: string) => ({
  client_id, client_secret: `${client_id}-secret`, application_type: 'native' as const, redirect_uris: [redirect],
  grant_types: ['authorization_code'], response_types: ['code' as const], token_endpoint_auth_method: 'client_secret_basic' as const,
});

before(async () => {
  idp = await startRealProvider([client('proconsul', CLI_REDIRECT), client('svc', SVC_REDIRECT)], {
    alice: { password: ALICE.password, claims: { email: 'alice@example.com', email_verified: true, groups: ['admins', 'dev'], name: 'Alice' } },
    bob: { password: BOB.password, claims: { email: 'bob@example.com', email_verified: true, groups: ['contractors'], name: 'Bob' } },
  });
  a = await startAclAgent();
  const claims = { ClaimMappings: { email: 'email' }, ListClaimMappings: { groups: 'groups' }, ClaimAssertions: ['list.groups is not empty', '"contractors" not in list.groups'] };
  const methods = [
    { Name: 'corp', Type: 'oidc', Config: { OIDCDiscoveryURL: idp.issuer, OIDCClientID: 'proconsul', OIDCClientSecret: 'proconsul-secret', AllowedRedirectURIs: [CLI_REDIRECT], OIDCScopes: ['email', 'groups'], ...claims } },
    { Name: 'corp-jwt', Type: 'jwt', Config: { OIDCDiscoveryURL: idp.issuer, BoundAudiences: ['svc'], ...claims } },
  ];
  for (const m of methods) assert.equal((await call('PUT', '/v1/acl/auth-method', m)).status, 200, m.Name);
  await call('PUT', '/v1/acl/policy', { Name: 'ops-policy', Rules: 'key_prefix "ops/" { policy = "write" }' });
  await call('PUT', '/v1/acl/role', { Name: 'admin-role', Policies: [{ Name: 'ops-policy' }] });
  for (const AuthMethod of ['corp', 'corp-jwt']) {
    const rule = { AuthMethod, Selector: '"admins" in list.groups', BindType: 'role', BindName: 'admin-role' };
    assert.equal((await call('PUT', '/v1/acl/binding-rule', rule)).status, 200);
  }
});
after(async () => {
  await a?.stop();
  await idp?.close();
});

/** `proconsul login -type=oidc` with a browser that signs in as `who`; answers the exit code, output and the browser's trail. */
async function cliLogin(who: Record<string, string>, sink: string) {
  const io = memoryIO({ env: { CONSUL_HTTP_ADDR: a.httpAddr } });
  let browsed: Promise<BrowseResult> | undefined;
  io.openBrowser = (url) => { browsed = browse(url, who); };
  const code = await runCli(['login', '-type=oidc', '-method=corp', '-oidc-callback-listen-addr=127.0.0.1:0', '-token-sink-file', sink], io);
  return { code, out: io.out, err: io.err, browser: await browsed! };
}

test('proconsul login -type=oidc signs in at the provider (login and consent pages) and gets a bound token', async () => {
  const sink = join(dir, 'alice.token');
  const r = await cliLogin(ALICE, sink);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`Launching browser to:\\n\\n {4}${idp.issuer.replaceAll('.', '\\.')}/auth\\?`));
  const trail = r.browser.visited.map((v) => v.replace(/[A-Za-z0-9_-]{20,}/g, ':uid'));
  assert.deepEqual(trail.map((v) => v.replace(/:\d+\//, ':PORT/')), [
    'GET http://127.0.0.1:PORT/auth', 'GET http://127.0.0.1:PORT/interaction/:uid', 'POST http://127.0.0.1:PORT/interaction/:uid/login',
    'GET http://127.0.0.1:PORT/auth/:uid', 'GET http://127.0.0.1:PORT/interaction/:uid', 'POST http://127.0.0.1:PORT/interaction/:uid/confirm',
    'GET http://127.0.0.1:PORT/auth/:uid', 'GET http://localhost:PORT/oidc/callback',
  ]);
  assert.match(r.browser.text, /Signed in via your OIDC provider/);
  const secret = readFileSync(sink, 'utf8');
  const self = await call('GET', '/v1/acl/token/self', undefined, secret);
  assert.equal(self.json.AuthMethod, 'corp');
  assert.deepEqual(self.json.Roles.map((x: { Name: string }) => x.Name), ['admin-role'], 'groups came from the provider\'s userinfo');
  assert.equal((await call('PUT', '/v1/kv/ops/db', 'v', secret)).status, 200, 'the role grants');
  assert.equal((await call('PUT', '/v1/kv/other', 'v', secret)).status, 403);
});

test('a user the ClaimAssertions exclude, and a wrong password, get no token', async () => {
  const sink = join(dir, 'bob.token');
  const bob = await cliLogin(BOB, sink);
  assert.equal(bob.code, 1);
  assert.equal(bob.err, 'Error logging in: Unexpected response code: 403 (Permission denied: Token verification failed: claims do not satisfy ClaimAssertions[1]: "contractors" not in list.groups)\n');
  const wrong = await cliLogin({ ...ALICE, password: 'guess' }, sink);
  assert.equal(wrong.code, 1);
  assert.match(wrong.err, /Provider login failed: access_denied: invalid credentials/);
});

/** The authorization code flow for the `svc` client, as an app would run it; answers its ID token. */
async function idTokenFor(who: Record<string, string>): Promise<string> {
  const meta = await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json() as { authorization_endpoint: string; token_endpoint: string };
  const verifier = randomBytes(32).toString('base64url');
  const auth = new URL(meta.authorization_endpoint);
  for (const [k, v] of Object.entries({
    client_id: 'svc', response_type: 'code', scope: 'openid email groups', redirect_uri: SVC_REDIRECT, state: 's1', nonce: 'n1',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
    claims: JSON.stringify({ id_token: { email: null, groups: null } }),
  })) auth.searchParams.set(k, v);
  const back = await browse(auth.href, who, (u) => u.href.startsWith(SVC_REDIRECT));
  const res = await fetch(meta.token_endpoint, {
    method: 'POST', headers: { authorization: `Basic ${Buffer.from('svc:svc-secret').toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: back.url.searchParams.get('code') ?? '', redirect_uri: SVC_REDIRECT, code_verifier: verifier }),
  });
  const tokens = await res.json() as { id_token?: string };
  assert.ok(tokens.id_token, JSON.stringify(tokens));
  return tokens.id_token;
}

test('an ID token the provider issued logs in through a jwt method with OIDCDiscoveryURL', async () => {
  const bearer = join(dir, 'alice.jwt');
  const sink = join(dir, 'alice-jwt.token');
  writeFileSync(bearer, await idTokenFor(ALICE));
  const io = memoryIO({ env: { CONSUL_HTTP_ADDR: a.httpAddr } });
  assert.equal(await runCli(['login', '-method=corp-jwt', '-bearer-token-file', bearer, '-token-sink-file', sink], io), 0, io.err);
  const secret = readFileSync(sink, 'utf8');
  const self = await call('GET', '/v1/acl/token/self', undefined, secret);
  assert.equal(self.json.AuthMethod, 'corp-jwt');
  assert.deepEqual(self.json.Roles.map((x: { Name: string }) => x.Name), ['admin-role']);
  assert.equal((await call('PUT', '/v1/kv/ops/jwt', 'v', secret)).status, 200);

  const bobs = await call('POST', '/v1/acl/login', { AuthMethod: 'corp-jwt', BearerToken: await idTokenFor(BOB) }, '');
  assert.equal(bobs.text, 'Permission denied: failed to validate bearer token: claims do not satisfy ClaimAssertions[1]: "contractors" not in list.groups');
  const [h, p] = readFileSync(bearer, 'utf8').split('.');
  const forged = await call('POST', '/v1/acl/login', { AuthMethod: 'corp-jwt', BearerToken: `${h}.${p}.${Buffer.from('nope').toString('base64url')}` }, '');
  assert.equal(forged.text, 'Permission denied: failed to validate bearer token: failed to verify id token signature');
});
