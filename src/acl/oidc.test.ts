// validRedirect: Consul's redirect URI matching for the oidc auth method.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validRedirect } from './oidc.ts';

test('redirect URIs match exactly, except that loopback URIs may use any port (RFC 8252 §7.3)', () => {
  const allowed = ['http://localhost:8550/oidc/callback', 'https://consul.example/ui/oidc/callback', 'http://127.0.0.1/cb', 'http://[::1]:1/cb'];
  assert.equal(validRedirect('https://consul.example/ui/oidc/callback', allowed), true);
  assert.equal(validRedirect('https://consul.example:8443/ui/oidc/callback', allowed), false);
  assert.equal(validRedirect('https://consul.example/ui/oidc/callback/', allowed), false);
  assert.equal(validRedirect('http://localhost:41234/oidc/callback', allowed), true);
  assert.equal(validRedirect('http://localhost:41234/other', allowed), false);
  assert.equal(validRedirect('https://localhost:8550/oidc/callback', allowed), false, 'the scheme still counts');
  assert.equal(validRedirect('http://127.0.0.1:9999/cb', allowed), true);
  assert.equal(validRedirect('http://[::1]:2/cb', allowed), true);
  assert.equal(validRedirect('http://127.0.0.1:8550/oidc/callback', allowed), false, 'localhost and 127.0.0.1 differ');
  assert.equal(validRedirect('not a url', allowed), false);
});
