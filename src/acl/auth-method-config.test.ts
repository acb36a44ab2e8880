// authMethodConfigError: go-sso's Config.Validate texts for jwt and oidc auth methods.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authMethodConfigError } from './auth-method-config.ts';

const oidc = { OIDCDiscoveryURL: 'https://idp', OIDCClientID: 'c', OIDCClientSecret: 's', AllowedRedirectURIs: ['http://localhost:8550/oidc/callback'] };

test('oidc Config: required and forbidden fields, redirect URIs, algorithms and mapping targets', () => {
  assert.equal(authMethodConfigError('oidc', oidc), null);
  assert.equal(authMethodConfigError('oidc', { ...oidc, OIDCDiscoveryURL: '' }), '\'OIDCDiscoveryURL\' must be set for type "oidc"');
  assert.equal(authMethodConfigError('oidc', { ...oidc, AllowedRedirectURIs: [] }), '\'AllowedRedirectURIs\' must be set for type "oidc"');
  assert.equal(authMethodConfigError('oidc', { ...oidc, JWKSURL: 'https://k' }), '\'JWKSURL\' must not be set for type "oidc"');
  assert.equal(authMethodConfigError('oidc', { ...oidc, AllowedRedirectURIs: ['::nope'] }), 'Invalid AllowedRedirectURIs provided: [::nope]');
  assert.equal(authMethodConfigError('oidc', { ...oidc, JWTSupportedAlgs: ['none'] }), 'Invalid supported algorithm: none');
  assert.equal(authMethodConfigError('oidc', { ...oidc, ClaimMappings: { a: 'x', b: 'x' } }), 'ClaimMappings contains multiple mappings for key "x"');
  assert.equal(authMethodConfigError('oidc', { ...oidc, OIDCScopes: 'profile' }), '\'OIDCScopes\' must be a list of strings');
});

test('jwt Config: exactly one key source, CA certs only with their URL, parseable static keys', () => {
  assert.equal(authMethodConfigError('jwt', { JWKSURL: 'https://k' }), null);
  assert.equal(authMethodConfigError('jwt', {}), 'exactly one of \'JWTValidationPubKeys\', \'JWKSURL\', or \'OIDCDiscoveryURL\' must be set for type "jwt"');
  assert.equal(authMethodConfigError('jwt', { OIDCDiscoveryURL: 'https://i', JWKSCACert: 'x' }), '\'JWKSCACert\' should not be set unless \'JWKSURL\' is set');
  assert.equal(authMethodConfigError('jwt', { JWKSURL: 'https://k', OIDCDiscoveryCACert: 'x' }), '\'OIDCDiscoveryCACert\' should not be set unless \'OIDCDiscoveryURL\' is set');
  assert.equal(authMethodConfigError('jwt', { JWKSURL: 'https://k', AllowedRedirectURIs: ['http://x'] }), '\'AllowedRedirectURIs\' must not be set for type "jwt"');
  assert.match(authMethodConfigError('jwt', { JWTValidationPubKeys: ['junk'] }) ?? '', /^error parsing public key JWTValidationPubKeys\[0\]: /);
  assert.equal(authMethodConfigError('kubernetes', { anything: 1 }), null, 'other types are not checked here');
});
