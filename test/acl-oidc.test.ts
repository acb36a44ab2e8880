// The `oidc` auth method against a tiny OpenID provider started here (support/oidc-provider.ts):
// auth-url → the provider's redirect → callback → a token bound by binding rules from ID token and
// userinfo claims; replayed or unknown state, wrong nonce, audience and client nonce are refused;
// ClaimAssertions; config validation; the `jwt` method with JWKSURL and OIDCDiscoveryURL key sources; and
// `proconsul login -type=oidc` end to end with a stand-in browser.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryIO } from '../src/cli/io.ts';
import { runCli } from '../src/cli/registry.ts';
import { httpCaller, ROOT, startAclAgent } from './support/acl.ts';
import type { DevAgent } from './support/agent.ts';
import { startProvider, type TestProvider } from './support/oidc-provider.ts';

const REDIRECT = 'http://localhost:8550/oidc/callback';
let a: DevAgent;
let op: TestProvider;

const http = httpCaller(() => a.httpAddr);
const call = (method: string, path: string, body?: unknown, token = ROOT) => http(method, path, token, body);

const oidcConfig = () => ({
  OIDCDiscoveryURL: op.issuer, OIDCClientID: op.clientId, OIDCClientSecret: op.clientSecret,
  AllowedRedirectURIs: [REDIRECT, 'https://consul.example/ui/oidc/callback'], OIDCScopes: ['profile', 'groups'],
  ClaimMappings: { email: 'email', team: 'team' }, ListClaimMappings: { groups: 'groups' },
});

before(async () => {
  op = await startProvider();
  op.user = { groups: ['admins', 'dev'], email: 'alice@example.com' };
  a = await startAclAgent();
  const m = await call('PUT', '/v1/acl/auth-method', { Name: 'sso', Type: 'oidc', MaxTokenTTL: '10m', Config: oidcConfig() });
  assert.equal(m.status, 200, m.text);
  await call('PUT', '/v1/acl/policy', { Name: 'ops-policy', Rules: 'key_prefix "ops/" { policy = "write" }' });
  await call('PUT', '/v1/acl/role', { Name: 'admin-role', Policies: [{ Name: 'ops-policy' }] });
  for (const rule of [
    { Selector: '"admins" in list.groups', BindType: 'role', BindName: 'admin-role' },
    { Selector: 'value.team == "platform"', BindType: 'service', BindName: 'team-${value.team}' },
  ]) assert.equal((await call('PUT', '/v1/acl/binding-rule', { AuthMethod: 'sso', ...rule })).status, 200);
});
after(async () => {
  await a?.stop();
  await op?.close();
});

/** auth-url, then the provider's authorize redirect; answers the code and state it carried. */
async function authorize(extra: Record<string, unknown> = {}) {
  const r = await call('POST', '/v1/acl/oidc/auth-url', { AuthMethod: 'sso', RedirectURI: REDIRECT, ClientNonce: 'cn-1', ...extra }, '');
  assert.equal(r.status, 200, r.text);
  const res = await fetch(r.json.AuthURL, { redirect: 'manual' });
  assert.equal(res.status, 302);
  const back = new URL(res.headers.get('location')!);
  return { authURL: new URL(r.json.AuthURL), back, code: back.searchParams.get('code')!, state: back.searchParams.get('state')! };
}

const callback = (body: Record<string, unknown>) => call('POST', '/v1/acl/oidc/callback', { AuthMethod: 'sso', ClientNonce: 'cn-1', ...body }, '');

test('auth-url → provider redirect → callback yields a token bound by the matching rules', async () => {
  const { authURL, back, code, state } = await authorize({ Meta: { host: 'laptop' } });
  assert.equal(`${authURL.origin}${authURL.pathname}`, `${op.issuer}/authorize`);
  const q = authURL.searchParams;
  assert.equal(q.get('client_id'), op.clientId);
  assert.equal(q.get('redirect_uri'), REDIRECT);
  assert.equal(q.get('scope'), 'openid profile groups');
  assert.equal(q.get('code_challenge_method'), 'S256');
  assert.ok(q.get('nonce') && q.get('state') && q.get('nonce') !== q.get('state'));
  assert.equal(`${back.origin}${back.pathname}`, REDIRECT);

  const r = await callback({ State: state, Code: code });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.AuthMethod, 'sso');
  assert.equal(r.json.Description, 'token created via login: {"host":"laptop"}');
  assert.deepEqual(r.json.Roles.map((x: { Name: string }) => x.Name), ['admin-role']);
  assert.deepEqual(r.json.ServiceIdentities, [{ ServiceName: 'team-platform' }], 'userinfo claims are mapped too');
  assert.ok(op.tokenRequests.at(-1)?.get('code_verifier'), 'the code exchange carried the PKCE verifier');
  assert.equal((await call('PUT', '/v1/kv/ops/db', 'v', r.json.SecretID)).status, 200, 'the role grants');
  assert.equal((await call('PUT', '/v1/kv/other', 'v', r.json.SecretID)).status, 403);

  const replay = await callback({ State: state, Code: code });
  assert.equal(replay.status, 403);
  assert.equal(replay.text, 'Permission denied: Provider login failed: Expired or missing OAuth state.');
});

test('unknown state, wrong nonce, wrong audience and wrong client nonce are refused', async () => {
  const { code } = await authorize();
  const unknown = await callback({ State: 'not-a-state', Code: code });
  assert.equal(unknown.status, 403);
  assert.match(unknown.text, /Expired or missing OAuth state\./);

  op.next = { nonce: 'someone-elses-nonce' };
  const n = await authorize();
  const badNonce = await callback({ State: n.state, Code: n.code });
  assert.equal(badNonce.status, 403, badNonce.text);
  assert.equal(badNonce.text, 'Permission denied: Token verification failed: Invalid ID token nonce.');

  op.next = { aud: 'another-client' };
  const au = await authorize();
  const badAud = await callback({ State: au.state, Code: au.code });
  assert.equal(badAud.status, 403, badAud.text);
  assert.match(badAud.text, /^Permission denied: Token verification failed: .*"aud"/);

  const cn = await authorize();
  const badClientNonce = await callback({ State: cn.state, Code: cn.code, ClientNonce: 'other' });
  assert.equal(badClientNonce.status, 403);
  assert.match(badClientNonce.text, /invalid client nonce/);

  const noCode = await callback({ State: (await authorize()).state, Code: '' });
  assert.match(noCode.text, /OAuth code parameter not provided/);
});

test('ClaimAssertions on an oidc method: validated on write, all must hold at the callback', async () => {
  const put = (ClaimAssertions: unknown) => call('PUT', '/v1/acl/auth-method', { Name: 'sso-strict', Type: 'oidc', Config: { ...oidcConfig(), ClaimAssertions } });
  assert.match((await put(['"admins" in list.groups', '(value.team'])).text, /^Invalid Auth Method: ClaimAssertions\[1\] is invalid: /);
  assert.equal((await put(['"admins" in list.groups', 'value.team == "platform"'])).status, 200);
  assert.equal((await call('PUT', '/v1/acl/binding-rule', { AuthMethod: 'sso-strict', BindType: 'role', BindName: 'admin-role' })).status, 200);
  const ok = await authorize({ AuthMethod: 'sso-strict' });
  const r = await callback({ AuthMethod: 'sso-strict', State: ok.state, Code: ok.code });
  assert.equal(r.status, 200, `userinfo's team and the ID token's groups satisfy both: ${r.text}`);
  op.next = { groups: ['dev'] };
  const dev = await authorize({ AuthMethod: 'sso-strict' });
  const refused = await callback({ AuthMethod: 'sso-strict', State: dev.state, Code: dev.code });
  assert.equal(refused.status, 403);
  assert.equal(refused.text, 'Permission denied: Token verification failed: claims do not satisfy ClaimAssertions[0]: "admins" in list.groups');
});

test('auth-url checks the method type and the redirect URI (loopback ports are free)', async () => {
  const other = await call('POST', '/v1/acl/oidc/auth-url', { AuthMethod: 'sso', RedirectURI: 'https://evil.example/cb' }, '');
  assert.equal(other.status, 400);
  assert.equal(other.text, 'unauthorized redirect_uri: https://evil.example/cb');
  const port = await call('POST', '/v1/acl/oidc/auth-url', { AuthMethod: 'sso', RedirectURI: 'http://localhost:43111/oidc/callback' }, '');
  assert.equal(port.status, 200, port.text);
  assert.equal((await call('POST', '/v1/acl/oidc/auth-url', { AuthMethod: 'sso', RedirectURI: '' }, '')).text, 'missing redirect_uri');
  assert.equal((await call('POST', '/v1/acl/oidc/auth-url', { AuthMethod: 'nope', RedirectURI: REDIRECT }, '')).status, 400);
  const login = await call('POST', '/v1/acl/login', { AuthMethod: 'sso', BearerToken: await op.sign({ sub: 'x' }) }, '');
  assert.equal(login.status, 400);
});

test('oidc and jwt method configs are validated with Consul\'s texts', async () => {
  const put = (Type: string, Config: Record<string, unknown>) => call('PUT', '/v1/acl/auth-method', { Name: 'bad', Type, Config });
  const { OIDCClientSecret: _s, ...noSecret } = oidcConfig();
  assert.equal((await put('oidc', noSecret)).text, 'Invalid Auth Method: \'OIDCClientSecret\' must be set for type "oidc"');
  assert.equal((await put('oidc', { ...oidcConfig(), BoundIssuer: 'x' })).text, 'Invalid Auth Method: \'BoundIssuer\' must not be set for type "oidc"');
  assert.equal((await put('oidc', { ...oidcConfig(), JWTSupportedAlgs: ['HS256'] })).text, 'Invalid Auth Method: Invalid supported algorithm: HS256');
  assert.match((await put('oidc', { ...oidcConfig(), OIDCDiscoveryURL: 'http://127.0.0.1:1' })).text, /^Invalid Auth Method: error checking OIDCDiscoveryURL: /);
  assert.equal((await put('jwt', { JWKSURL: `${op.issuer}/jwks`, OIDCDiscoveryURL: op.issuer })).text,
    'Invalid Auth Method: exactly one of \'JWTValidationPubKeys\', \'JWKSURL\', or \'OIDCDiscoveryURL\' must be set for type "jwt"');
  assert.equal((await put('jwt', { JWKSURL: `${op.issuer}/jwks`, OIDCClientID: 'x' })).text, 'Invalid Auth Method: \'OIDCClientID\' must not be set for type "jwt"');
  assert.match((await put('jwt', { JWKSURL: `${op.issuer}/nothing-here` })).text, /^Invalid Auth Method: error checking JWKSURL: /);
  assert.equal((await call('GET', '/v1/acl/auth-method/bad')).status, 404);
});

test('jwt methods verify against a JWKS URL and an OIDC discovery URL', async () => {
  const now = Math.floor(Date.now() / 1000);
  const base = { ListClaimMappings: { groups: 'groups' }, BoundAudiences: ['svc'] };
  assert.equal((await call('PUT', '/v1/acl/auth-method', { Name: 'jwks', Type: 'jwt', Config: { JWKSURL: `${op.issuer}/jwks`, ...base } })).status, 200);
  assert.equal((await call('PUT', '/v1/acl/auth-method', { Name: 'disco', Type: 'jwt', Config: { OIDCDiscoveryURL: op.issuer, ...base } })).status, 200);
  for (const name of ['jwks', 'disco']) {
    assert.equal((await call('PUT', '/v1/acl/binding-rule', { AuthMethod: name, Selector: '"admins" in list.groups', BindType: 'role', BindName: 'admin-role' })).status, 200);
  }
  const good = await op.sign({ iss: op.issuer, aud: 'svc', exp: now + 60, groups: ['admins'] });
  for (const name of ['jwks', 'disco']) {
    const r = await call('POST', '/v1/acl/login', { AuthMethod: name, BearerToken: good }, '');
    assert.equal(r.status, 200, `${name}: ${r.text}`);
    assert.deepEqual(r.json.Roles.map((x: { Name: string }) => x.Name), ['admin-role']);
  }
  const wrongIss = await op.sign({ iss: 'https://elsewhere', aud: 'svc', exp: now + 60, groups: ['admins'] });
  assert.equal((await call('POST', '/v1/acl/login', { AuthMethod: 'jwks', BearerToken: wrongIss }, '')).status, 200, 'JWKS alone does not bind the issuer');
  assert.match((await call('POST', '/v1/acl/login', { AuthMethod: 'disco', BearerToken: wrongIss }, '')).text, /invalid issuer \(iss\) claim/);
  const wrongAud = await op.sign({ iss: op.issuer, aud: 'other', exp: now + 60, groups: ['admins'] });
  assert.match((await call('POST', '/v1/acl/login', { AuthMethod: 'jwks', BearerToken: wrongAud }, '')).text, /invalid audience \(aud\) claim/);
  const [h, p] = good.split('.');
  const forged = `${h}.${p}.${Buffer.from('not the signature').toString('base64url')}`;
  const bad = await call('POST', '/v1/acl/login', { AuthMethod: 'jwks', BearerToken: forged }, '');
  assert.equal(bad.text, 'Permission denied: failed to validate bearer token: failed to verify id token signature');
});

test('proconsul login -type=oidc runs the browser flow through a local callback listener', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'proconsul-oidc-'));
  const sink = join(dir, 'token');
  let page = '';
  const io = memoryIO({ env: { CONSUL_HTTP_ADDR: a.httpAddr } });
  // The "browser": follows the provider's redirect back to the CLI's listener.
  io.openBrowser = (url) => void fetch(url).then(async (res) => { page = await res.text(); });
  const code = await runCli(['login', '-type=oidc', '-method=sso', '-oidc-callback-listen-addr=127.0.0.1:0', '-meta', 'via=cli', '-token-sink-file', sink], io);
  assert.equal(code, 0, io.err);
  assert.match(io.out, /^\nComplete the login via your OIDC provider\. Launching browser to:\n\n {4}http:\/\/127\.0\.0\.1:\d+\/authorize\?/);
  const self = await call('GET', '/v1/acl/token/self', undefined, readFileSync(sink, 'utf8'));
  assert.equal(self.status, 200, self.text);
  assert.equal(self.json.AuthMethod, 'sso');
  assert.equal(self.json.Description, 'token created via login: {"via":"cli"}');
  for (let i = 0; i < 50 && !page; i++) await new Promise((r) => setTimeout(r, 10));
  assert.match(page, /Signed in via your OIDC provider/);

  const noSink = memoryIO({ env: { CONSUL_HTTP_ADDR: a.httpAddr } });
  assert.equal(await runCli(['login', '-type=oidc', '-method=sso'], noSink), 1);
  assert.equal(noSink.err, 'Missing required \'-token-sink-file\' flag\n');
  const badAddr = memoryIO({ env: { CONSUL_HTTP_ADDR: a.httpAddr } });
  assert.equal(await runCli(['login', '-type=oidc', '-method=sso', '-oidc-callback-listen-addr=nonsense', '-token-sink-file', sink], badAddr), 1);
  assert.match(badAddr.err, /^Error logging in: Invalid -oidc-callback-listen-addr "nonsense"/);
});
