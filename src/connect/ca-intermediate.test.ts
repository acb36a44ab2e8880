import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { generateRoot } from './ca-root.ts';
import { createCsr, parseCsr } from './csr.ts';
import { checkIntermediate, createIntermediateCsr, signIntermediate } from './ca-intermediate.ts';
import { signLeaf } from './leaf-cert.ts';
import { serviceUri, signingUri } from './spiffe.ts';

const CLUSTER = '11111111-2222-3333-4444-555555555555';
const clock = { now: () => Date.now() };
const YEAR = 8760 * 3_600_000;

/** Signs a leaf for dc2's `web` under the intermediate and has `openssl verify` (with `flags`) check root → intermediate → leaf; `more` reads the written PEMs. */
async function verifyLeafChain(rootPem: string, interPem: string, keyPem: string, flags: string[], more?: (dir: string) => void): Promise<void> {
  const { csrPem } = await createCsr(serviceUri({ host: `${CLUSTER}.consul`, namespace: 'default', datacenter: 'dc2', service: 'web' }), [], []);
  const parsed = await parseCsr(csrPem);
  const leaf = signLeaf({ spki: parsed.spki, uris: parsed.uris, dnsNames: [], ipAddresses: [], ttlMs: 3_600_000, nowMs: clock.now() }, interPem, keyPem);
  const dir = mkdtempSync(join(tmpdir(), 'inter-'));
  try {
    writeFileSync(join(dir, 'root.pem'), rootPem);
    writeFileSync(join(dir, 'inter.pem'), interPem);
    writeFileSync(join(dir, 'leaf.pem'), leaf.certPem);
    const out = execFileSync('openssl', ['verify', ...flags, '-CAfile', join(dir, 'root.pem'), '-untrusted', join(dir, 'inter.pem'), join(dir, 'leaf.pem')], { encoding: 'utf8' });
    assert.match(out, /leaf\.pem: OK/);
    more?.(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a secondary CSR signed by the primary root is an intermediate that signs leaves verifying against the root', async () => {
  const { root, privateKeyPem } = await generateRoot({ clusterId: CLUSTER, datacenter: 'dc1', clock });
  const { csrPem, keyPem } = await createIntermediateCsr({ clusterId: CLUSTER, privateKeyType: 'ec', privateKeyBits: 256 });
  const csr = await parseCsr(csrPem);
  assert.deepEqual(csr.uris, [signingUri(CLUSTER)]);
  const interPem = signIntermediate({ csrPem, spki: csr.spki, uris: csr.uris }, root.RootCert, privateKeyPem, CLUSTER, YEAR, clock.now());
  const inter = new X509Certificate(interPem);
  assert.equal(inter.ca, true);
  assert.match(inter.subject, /^CN=sec-[a-z0-9]{1,8}\.consul\.ca\.11111111\.consul$/);
  assert.equal(inter.subjectAltName, `URI:${signingUri(CLUSTER)}`);
  assert.ok(inter.checkIssued(new X509Certificate(root.RootCert)));
  const ski = checkIntermediate(interPem, keyPem, root.RootCert, signingUri(CLUSTER));
  assert.match(ski, /^[0-9a-f]{2}(:[0-9a-f]{2}){31}$/);

  await verifyLeafChain(root.RootCert, interPem, keyPem, [], (dir) => {
    // The path length of 0 keeps the intermediate from making further CAs.
    assert.match(execFileSync('openssl', ['x509', '-noout', '-text', '-in', join(dir, 'inter.pem')], { encoding: 'utf8' }), /CA:TRUE, pathlen:0/);
  });
});

test('a P-224 root (Consul accepts PrivateKeyBits 224) signs a P-224 secondary CSR, and the chain verifies with openssl', async () => {
  const { root, privateKeyPem } = await generateRoot({ clusterId: CLUSTER, datacenter: 'dc1', clock, privateKeyType: 'ec', privateKeyBits: 224 });
  assert.deepEqual([root.PrivateKeyType, root.PrivateKeyBits], ['ec', 224]);
  const { csrPem, keyPem } = await createIntermediateCsr({ clusterId: CLUSTER, privateKeyType: 'ec', privateKeyBits: 224 });
  const csr = await parseCsr(csrPem);
  const der = Buffer.from(csrPem.split('\n').filter((l) => l && !l.startsWith('-----')).join(''), 'base64');
  der[der.indexOf('sec-')] ^= 1; // the CN, inside what the CSR's signature covers
  const forged = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
  await assert.rejects(parseCsr(forged), { message: 'CSR signature is invalid' });
  const interPem = signIntermediate({ csrPem, spki: csr.spki, uris: csr.uris }, root.RootCert, privateKeyPem, CLUSTER, YEAR, clock.now());
  checkIntermediate(interPem, keyPem, root.RootCert, signingUri(CLUSTER));
  await verifyLeafChain(root.RootCert, interPem, keyPem, ['-x509_strict']);
});

test('SignIntermediate refuses a CSR for another trust domain or with no URI, as Consul words it', async () => {
  const { root, privateKeyPem } = await generateRoot({ clusterId: CLUSTER, datacenter: 'dc1', clock });
  const other = await createIntermediateCsr({ clusterId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee', privateKeyType: 'ec', privateKeyBits: 256 });
  const csr = await parseCsr(other.csrPem);
  assert.throws(() => signIntermediate({ csrPem: other.csrPem, spki: csr.spki, uris: csr.uris }, root.RootCert, privateKeyPem, CLUSTER, YEAR, clock.now()),
    { message: `incoming CSR domain "spiffe://aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee.consul" is not valid for our domain "spiffe://${CLUSTER}.consul"` });
  assert.throws(() => signIntermediate({ csrPem: other.csrPem, spki: csr.spki, uris: [] }, root.RootCert, privateKeyPem, CLUSTER, YEAR, clock.now()),
    { message: 'incoming CSR has unexpected number of URIs: 0' });
});

test('an intermediate for another key or another root is refused by the secondary', async () => {
  const a = await generateRoot({ clusterId: CLUSTER, datacenter: 'dc1', clock });
  const b = await generateRoot({ clusterId: CLUSTER, datacenter: 'dc1', clock });
  const one = await createIntermediateCsr({ clusterId: CLUSTER, privateKeyType: 'ec', privateKeyBits: 256 });
  const two = await createIntermediateCsr({ clusterId: CLUSTER, privateKeyType: 'rsa', privateKeyBits: 2048 });
  const csr = await parseCsr(one.csrPem);
  const inter = signIntermediate({ csrPem: one.csrPem, spki: csr.spki, uris: csr.uris }, a.root.RootCert, a.privateKeyPem, CLUSTER, YEAR, clock.now());
  assert.throws(() => checkIntermediate(inter, two.keyPem, a.root.RootCert, signingUri(CLUSTER)), /for a different private key/);
  assert.throws(() => checkIntermediate(inter, one.keyPem, b.root.RootCert, signingUri(CLUSTER)), /could not verify intermediate cert against root/);
  assert.throws(() => checkIntermediate(inter, one.keyPem, a.root.RootCert, 'spiffe://x.consul'), /does not match current URI/);
});
