// Identity providers behind a private CA: OIDCDiscoveryCACert and JWKSCACert are the only roots
// trusted for discovery, JWKS, the token exchange and userinfo; without them the method is refused.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { idpFetch } from '../src/acl/identity-providers.ts';
import { httpCaller, ROOT, startAclAgent } from './support/acl.ts';
import type { DevAgent } from './support/agent.ts';
import { startProvider, type TestProvider } from './support/oidc-provider.ts';
import { selfSignedLocalhost, type TestCert } from './support/tls-cert.ts';

const REDIRECT = 'http://localhost:8550/oidc/callback';
let a: DevAgent;
let op: TestProvider;
let tls: TestCert;

const http = httpCaller(() => a.httpAddr);
const call = (method: string, path: string, body?: unknown, token = ROOT) => http(method, path, token, body);

before(async () => {
  tls = await selfSignedLocalhost();
  op = await startProvider({ tls });
  op.user = { groups: ['admins'] };
  a = await startAclAgent();
  await call('PUT', '/v1/acl/policy', { Name: 'p', Rules: 'key_prefix "ops/" { policy = "write" }' });
});
after(async () => {
  await a?.stop();
  await op?.close();
});

test('idpFetch trusts the given CA only', async () => {
  assert.equal((await idpFetch(tls.cert)(`${op.issuer}/jwks`, { method: 'GET' })).status, 200);
  await assert.rejects(idpFetch()(`${op.issuer}/jwks`, { method: 'GET' }));
});

test('an oidc method needs OIDCDiscoveryCACert for a private CA, then the whole flow runs over TLS', async () => {
  const cfg = { OIDCDiscoveryURL: op.issuer, OIDCClientID: op.clientId, OIDCClientSecret: op.clientSecret, AllowedRedirectURIs: [REDIRECT], ListClaimMappings: { groups: 'groups' } };
  const untrusted = await call('PUT', '/v1/acl/auth-method', { Name: 'sso', Type: 'oidc', Config: cfg });
  assert.equal(untrusted.status, 400);
  assert.match(untrusted.text, /^Invalid Auth Method: error checking OIDCDiscoveryURL: /);
  const ok = await call('PUT', '/v1/acl/auth-method', { Name: 'sso', Type: 'oidc', Config: { ...cfg, OIDCDiscoveryCACert: tls.cert } });
  assert.equal(ok.status, 200, ok.text);
  await call('PUT', '/v1/acl/binding-rule', { AuthMethod: 'sso', Selector: '"admins" in list.groups', BindType: 'policy', BindName: 'p' });

  const url = (await call('POST', '/v1/acl/oidc/auth-url', { AuthMethod: 'sso', RedirectURI: REDIRECT }, '')).json.AuthURL;
  const back = new URL((await idpFetch(tls.cert)(url, { method: 'GET' })).headers.get('location')!);
  const r = await call('POST', '/v1/acl/oidc/callback', { AuthMethod: 'sso', State: back.searchParams.get('state'), Code: back.searchParams.get('code') }, '');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.Policies.map((p: { Name: string }) => p.Name), ['p']);
});

test('a jwt method with JWKSURL needs JWKSCACert for a private CA', async () => {
  const cfg = { JWKSURL: `${op.issuer}/jwks`, ListClaimMappings: { groups: 'groups' } };
  assert.match((await call('PUT', '/v1/acl/auth-method', { Name: 'ci', Type: 'jwt', Config: cfg })).text, /^Invalid Auth Method: error checking JWKSURL: /);
  assert.equal((await call('PUT', '/v1/acl/auth-method', { Name: 'ci', Type: 'jwt', Config: { ...cfg, JWKSCACert: tls.cert } })).status, 200);
  await call('PUT', '/v1/acl/binding-rule', { AuthMethod: 'ci', Selector: '"admins" in list.groups', BindType: 'policy', BindName: 'p' });
  const bearer = await op.sign({ exp: Math.floor(Date.now() / 1000) + 60, groups: ['admins'] });
  const r = await call('POST', '/v1/acl/login', { AuthMethod: 'ci', BearerToken: bearer }, '');
  assert.equal(r.status, 200, r.text);
});
