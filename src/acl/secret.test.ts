// Unit tests of the constant-time secret helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { secretDigest, secretsEqual } from './secret.ts';

test('secretsEqual compares any two strings, lengths included', () => {
  assert.equal(secretsEqual('a3f0', 'a3f0'), true);
  assert.equal(secretsEqual('a3f0', 'a3f1'), false);
  assert.equal(secretsEqual('a3f0', 'a3f0-longer'), false);
  assert.equal(secretsEqual('', ''), true);
  assert.equal(secretsEqual('', 'x'), false);
});

test('secretDigest is a stable SHA-256 hex that does not contain the secret', () => {
  const d = secretDigest('s3cret');
  assert.match(d, /^[0-9a-f]{64}$/);
  assert.equal(d, secretDigest('s3cret'));
  assert.notEqual(d, secretDigest('s3cret '));
  assert.ok(!d.includes('s3cret'));
});
