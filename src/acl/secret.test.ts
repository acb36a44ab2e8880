// Unit tests of the constant-time secret helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
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

test('secretDigest is SHA-256 of the UTF-8 bytes (tables and caches key tokens by it)', () => {
  assert.equal(secretDigest(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(secretDigest('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(secretDigest('ключ-🔑'), createHash('sha256').update(Buffer.from('ключ-🔑', 'utf8')).digest('hex'));
});
