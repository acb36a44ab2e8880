import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { test } from 'node:test';
import { readTlv } from './der.ts';
import { generatePrivateKey } from './private-key.ts';

/** The tags and contents of the elements of the DER SEQUENCE `der`. */
function elements(der: Uint8Array): Array<{ tag: number; body: Buffer; whole: Buffer }> {
  const out: Array<{ tag: number; body: Buffer; whole: Buffer }> = [];
  const outer = readTlv(der, 0);
  for (let at = outer.contentStart; at < outer.end;) {
    const t = readTlv(der, at);
    out.push({ tag: der[at]!, body: Buffer.from(der.subarray(t.contentStart, t.end)), whole: Buffer.from(der.subarray(at, t.end)) });
    at = t.end;
  }
  return out;
}

const pemDer = (pem: string) => Buffer.from(pem.split('\n').filter((l) => l && !l.startsWith('-----')).join(''), 'base64');

test('EC keys are SEC1 PEM on the curve the bits name, with the matching SubjectPublicKeyInfo', async () => {
  for (const [bits, curve] of [[224, 'secp224r1'], [256, 'prime256v1'], [384, 'secp384r1'], [521, 'secp521r1']] as const) {
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

test("EC keys are Go's SEC1 form: version 1, the scalar padded to the curve's size, the named curve and the public key", async () => {
  for (const [bits, size] of [[224, 28], [256, 32], [256, 32], [256, 32], [384, 48], [521, 66]] as const) {
    const k = await generatePrivateKey('ec', bits);
    const [version, scalar, curve, pub, ...rest] = elements(pemDer(k.pem));
    assert.deepEqual([version!.tag, version!.body, scalar!.tag, scalar!.body.length, curve!.tag, pub!.tag, rest.length], [0x02, Buffer.from([1]), 0x04, size, 0xa0, 0xa1, 0]);
    const [algorithm, point] = elements(k.spki);
    assert.deepEqual(curve!.body, elements(algorithm!.whole)[1]!.whole, 'the SPKI names the same curve');
    assert.deepEqual(pub!.body, point!.whole, 'the SPKI carries the same public key');
  }
});

test("RSA keys are PKCS#1 version 0 with Go's public exponent 65537 and an rsaEncryption SPKI with NULL parameters", async () => {
  const k = await generatePrivateKey('rsa', 2048);
  const ints = elements(pemDer(k.pem));
  assert.deepEqual(ints.map((e) => e.tag), Array(9).fill(0x02));
  assert.deepEqual([ints[0]!.body, ints[2]!.body], [Buffer.from([0]), Buffer.from([1, 0, 1])]);
  assert.equal(k.key.asymmetricKeyDetails?.publicExponent, 65537n);
  assert.equal(elements(k.spki)[0]!.whole.toString('hex'), '300d06092a864886f70d0101010500');
});

test("bad types and sizes are refused with Consul's messages before any key is made", async () => {
  await assert.rejects(generatePrivateKey('ec', 2048), { message: 'EC key length must be one of (224, 256, 384, 521) bits' });
  await assert.rejects(generatePrivateKey('rsa', 1024), { message: 'RSA key length must be 2048 or 4096 bits' });
  await assert.rejects(generatePrivateKey('dsa', 256), { message: "private key type must be either 'ec' or 'rsa'" });
});
