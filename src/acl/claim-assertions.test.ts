// ClaimAssertions: compiled on write against the value/list selector variables, all evaluated at login.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authMethodConfigError } from './auth-method-config.ts';
import { assertClaims, claimAssertionsError } from './claim-assertions.ts';

const vars = { value: { email: 'alice@example.com', team: '' }, list: { groups: ['admins', 'dev'] } };

test('valid assertions compile; malformed ones are refused with the index and bexpr\'s reason', () => {
  assert.equal(claimAssertionsError(undefined), null);
  assert.equal(claimAssertionsError(['"admins" in list.groups', 'value.email matches "@example\\\\.com$"', 'list.groups is not empty']), null);
  assert.equal(claimAssertionsError('"admins" in list.groups'), "'ClaimAssertions' must be a list of strings");
  assert.equal(claimAssertionsError(['value.email == "x"', 7]), "'ClaimAssertions' must be a list of strings");
  assert.equal(claimAssertionsError(['  ']), 'ClaimAssertions[0] is invalid: empty expression');
  assert.match(claimAssertionsError(['value.a == "b"', 'value.email ==']) ?? '', /^ClaimAssertions\[1\] is invalid: \S/);
  assert.equal(claimAssertionsError(['groups contains "x"']), 'ClaimAssertions[0] is invalid: Selector "groups" is not valid');
});

test('jwt and oidc configs carry the assertion error through authMethodConfigError', () => {
  const oidc = { OIDCDiscoveryURL: 'https://idp', OIDCClientID: 'c', OIDCClientSecret: 's', AllowedRedirectURIs: ['http://localhost:8550/oidc/callback'] };
  assert.equal(authMethodConfigError('oidc', { ...oidc, ClaimAssertions: ['"admins" in list.groups'] }), null);
  assert.equal(authMethodConfigError('jwt', { JWKSURL: 'https://k', ClaimAssertions: ['nope =='] })?.startsWith('ClaimAssertions[0] is invalid: '), true);
});

test('every assertion must hold; the first that does not is named', () => {
  assert.doesNotThrow(() => assertClaims(undefined, vars));
  assert.doesNotThrow(() => assertClaims(['"admins" in list.groups', 'value.email == "alice@example.com"', 'value.team == ""'], vars));
  assert.throws(() => assertClaims(['"admins" in list.groups', '"ops" in list.groups'], vars), {
    message: 'claims do not satisfy ClaimAssertions[1]: "ops" in list.groups',
  });
  assert.throws(() => assertClaims(['value.department == "eng"'], vars), /ClaimAssertions\[0\]/, 'an unmapped name never satisfies ==');
  assert.doesNotThrow(() => assertClaims(['value.department != "eng"'], vars), 'a missing key is not equal, as binding-rule selectors see it');
});
