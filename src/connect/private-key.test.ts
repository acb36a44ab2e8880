import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { test } from 'node:test';
import { generatePrivateKey } from './private-key.ts';

test('EC keys are SEC1 PEM on the curve the bits name, with the matching SubjectPublicKeyInfo', async () => {
  for (const [bits, curve] of [[256, 'prime256v1'], [384, 'secp384r1'], [521, 'secp521r1']] as const) {
    const k = await generatePrivateKey('ec', bits);
    assert.match(k.pem, /^-----BEGIN EC PRIVATE KEY-----\n/);
    assert.equal(createPrivateKey(k.pem).asymmetricKeyDetails?.namedCurve, curve);
    assert.equal(k.key.asymmetricKeyDetails?.namedCurve, curve);
    assert.deepEqual(Buffer.from(k.spki), createPublicKey(k.pem).export({ type: 'spki', format: 'der' }));
    const pub = createPublicKey({ key: Buffer.from(k.spki), format: 'der', type: 'spki' });
    assert.ok(verify('sha256', Buffer.from('x'), pub, sign('sha256', Buffer.from('x'), k.key)));
    assert.deepEqual([k.type, k.bits], ['ec', bits]);
  }
});

test('RSA keys are PKCS#1 PEM of the requested modulus', async () => {
  const k = await generatePrivateKey('rsa', 2048);
  assert.match(k.pem, /^-----BEGIN RSA PRIVATE KEY-----\n/);
  assert.equal(createPrivateKey(k.pem).asymmetricKeyDetails?.modulusLength, 2048);
  assert.deepEqual(Buffer.from(k.spki), createPublicKey(k.pem).export({ type: 'spki', format: 'der' }));
});

test("bad types and sizes are refused with Consul's messages before any key is made", async () => {
  await assert.rejects(generatePrivateKey('ec', 2048), { message: 'EC key length must be one of (224, 256, 384, 521) bits' });
  await assert.rejects(generatePrivateKey('rsa', 1024), { message: 'RSA key length must be 2048 or 4096 bits' });
  await assert.rejects(generatePrivateKey('dsa', 256), { message: "private key type must be either 'ec' or 'rsa'" });
});
