// Tests for the built-in CA root: certificate contents as Consul makes them, the CARoot record,
// key/certificate agreement, and a TLS handshake anchored on the root.

import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, sign, verify, X509Certificate } from 'node:crypto';
import { duplexPair } from 'node:stream';
import { describe, it } from 'node:test';
import * as tls from 'node:tls';
import { generateRoot, goTime } from './ca-root.ts';

const CLUSTER = 'A1B2C3D4-0e2d-4a1b-9c3e-1234567890ab';
const NOW = Date.UTC(2025, 0, 15, 12, 30, 45, 678);
const clock = { now: () => NOW };
const HOUR = 3_600_000;

const CAROOT_KEYS = [
  'ID', 'Name', 'SerialNumber', 'SigningKeyID', 'ExternalTrustDomain', 'NotBefore', 'NotAfter', 'RootCert',
  'IntermediateCerts', 'Active', 'PrivateKeyType', 'PrivateKeyBits', 'CreateIndex', 'ModifyIndex',
];

const colonHex = (hex: string) => hex.toLowerCase().match(/../g)!.join(':');

describe('generateRoot (EC default)', async () => {
  const { root, privateKeyPem } = await generateRoot({ clusterId: CLUSTER, datacenter: 'dc1', clock, serialNumber: 7 });
  const node = new X509Certificate(root.RootCert);
  const cert = new x509.X509Certificate(root.RootCert);

  it('is a self-signed CA certificate on an EC P-256 key', async () => {
    assert.equal(node.ca, true);
    assert.equal(node.publicKey.asymmetricKeyType, 'ec');
    assert.equal(node.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.ok(node.checkIssued(node));
    assert.ok(node.verify(node.publicKey));
    assert.ok(await cert.verify({ publicKey: cert.publicKey, signatureOnly: true }));
    assert.deepEqual(cert.signatureAlgorithm, { name: 'ECDSA', hash: { name: 'SHA-256' } });
  });

  it("names the subject and issuer like Consul's CACN", () => {
    assert.match(node.subject, /^CN=pri-[a-z0-9]{1,8}\.consul\.ca\.A1B2C3D4\.consul$/);
    assert.equal(node.issuer, node.subject);
  });

  it('carries the trust domain as its only URI SAN', () => {
    assert.equal(node.subjectAltName, `URI:spiffe://${CLUSTER.toLowerCase()}.consul`);
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
    assert.deepEqual(san?.names.toJSON(), [{ type: 'url', value: `spiffe://${CLUSTER.toLowerCase()}.consul` }]);
  });

  it('has critical CA basic constraints and cert-sign, CRL-sign, digital-signature key usage', () => {
    const bc = cert.getExtension(x509.BasicConstraintsExtension);
    assert.equal(bc?.ca, true);
    assert.equal(bc?.critical, true);
    assert.equal(bc?.pathLength, undefined);
    const ku = cert.getExtension(x509.KeyUsagesExtension);
    const want = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature;
    assert.equal(ku?.usages, want);
    assert.equal(ku?.critical, true);
  });

  it('uses SHA-256 of the SPKI as SKI and AKI, and reports it as SigningKeyID', () => {
    const spki = node.publicKey.export({ type: 'spki', format: 'der' });
    const expected = createHash('sha256').update(spki).digest('hex');
    const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
    const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
    assert.equal(ski?.keyId, expected);
    assert.equal(aki?.keyId, expected);
    assert.equal(root.SigningKeyID, colonHex(expected));
  });

  it('is valid from now (whole seconds) for RootCertTTL 87600h', () => {
    const start = Math.floor(NOW / 1000) * 1000;
    assert.equal(cert.notBefore.getTime(), start);
    assert.equal(cert.notAfter.getTime(), start + 87_600 * HOUR);
    assert.equal(root.NotBefore, '2025-01-15T12:30:45Z');
    assert.equal(root.NotAfter, goTime(new Date(start + 87_600 * HOUR)));
  });

  it("fills CARoot like Consul's newCARoot", () => {
    assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(root))), CAROOT_KEYS);
    assert.equal(root.ID, node.fingerprint.toLowerCase());
    assert.equal(root.Name, 'Consul CA Primary Cert');
    assert.equal(root.SerialNumber, 7);
    assert.equal(node.serialNumber, '07');
    assert.equal(root.ExternalTrustDomain, CLUSTER);
    assert.equal(root.IntermediateCerts, null);
    assert.equal(root.Active, true);
    assert.equal(root.PrivateKeyType, 'ec');
    assert.equal(root.PrivateKeyBits, 256);
    assert.ok(root.RootCert.startsWith('-----BEGIN CERTIFICATE-----\n') && root.RootCert.endsWith('\n'));
  });

  it("returns a SEC1 private key that matches the certificate's public key", () => {
    assert.match(privateKeyPem, /^-----BEGIN EC PRIVATE KEY-----\n/);
    const data = Buffer.from('proconsul connect ca');
    const signature = sign('sha256', data, createPrivateKey(privateKeyPem));
    assert.ok(verify('sha256', data, node.publicKey, signature));
    assert.ok(!verify('sha256', Buffer.from('tampered'), node.publicKey, signature));
  });

  it('serves a TLS handshake that a client trusting only the root accepts', async () => {
    const [clientSide, serverSide] = duplexPair();
    const server = new tls.TLSSocket(serverSide, {
      isServer: true,
      secureContext: tls.createSecureContext({ cert: root.RootCert, key: privateKeyPem }),
    });
    server.on('error', () => {});
    const client = tls.connect({ socket: clientSide, ca: [root.RootCert], checkServerIdentity: () => undefined });
    await new Promise<void>((resolve, reject) => {
      client.once('secureConnect', resolve);
      client.once('error', reject);
    });
    assert.equal(client.authorized, true);
    assert.equal(client.getPeerX509Certificate()?.fingerprint256, node.fingerprint256);
    client.destroy();
    server.destroy();
  });
});

describe('generateRoot options', () => {
  it('makes an RSA 2048 root signed with SHA-256 and a PKCS#1 key when asked', async () => {
    const { root, privateKeyPem } = await generateRoot({
      clusterId: CLUSTER, datacenter: 'dc1', clock, privateKeyType: 'rsa', privateKeyBits: 2048,
    });
    const node = new X509Certificate(root.RootCert);
    assert.equal(node.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
    assert.ok(node.verify(node.publicKey));
    assert.equal(root.PrivateKeyType, 'rsa');
    assert.equal(root.PrivateKeyBits, 2048);
    assert.match(privateKeyPem, /^-----BEGIN RSA PRIVATE KEY-----\n/);
    const data = Buffer.from('x');
    assert.ok(verify('sha256', data, node.publicKey, sign('sha256', data, createPrivateKey(privateKeyPem))));
    const { signatureAlgorithm } = new x509.X509Certificate(root.RootCert);
    assert.deepEqual(signatureAlgorithm, { name: 'RSASSA-PKCS1-v1_5', hash: { name: 'SHA-256' } });
  });

  it('honours RootCertTTL and draws a positive safe-integer serial when none is given', async () => {
    const { root } = await generateRoot({ clusterId: CLUSTER, datacenter: 'dc1', clock, rootCertTtlMs: 24 * HOUR });
    const cert = new x509.X509Certificate(root.RootCert);
    assert.equal(cert.notAfter.getTime() - cert.notBefore.getTime(), 24 * HOUR);
    assert.ok(Number.isSafeInteger(root.SerialNumber) && root.SerialNumber > 0);
    assert.equal(BigInt(`0x${cert.serialNumber}`), BigInt(root.SerialNumber));
  });

  it("rejects key settings Consul rejects, with Consul's messages", async () => {
    const base = { clusterId: CLUSTER, datacenter: 'dc1', clock };
    // Consul's default PrivateKeyBits is 256 whatever the type, so `rsa` alone is refused.
    await assert.rejects(generateRoot({ ...base, privateKeyType: 'rsa' }), {
      name: 'BadRequestError',
      message: 'RSA key length must be 2048 or 4096 bits',
    });
    await assert.rejects(generateRoot({ ...base, privateKeyBits: 128 }), {
      message: 'EC key length must be one of (224, 256, 384, 521) bits',
    });
  });

  it('gives each root a fresh CN and ID', async () => {
    const a = await generateRoot({ clusterId: CLUSTER, datacenter: 'dc1', clock });
    const b = await generateRoot({ clusterId: CLUSTER, datacenter: 'dc1', clock });
    assert.notEqual(a.root.ID, b.root.ID);
    assert.notEqual(new X509Certificate(a.root.RootCert).subject, new X509Certificate(b.root.RootCert).subject);
  });
});

describe('generateRoot with a configured PrivateKey or RootCert', () => {
  const base = { clusterId: CLUSTER, datacenter: 'dc1', clock };

  it('makes the root on the configured key, with its type and size', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'sec1', format: 'pem' }) as string;
    const { root, privateKeyPem } = await generateRoot({ ...base, privateKeyPem: pem });
    assert.equal(privateKeyPem, pem);
    assert.deepEqual([root.PrivateKeyType, root.PrivateKeyBits], ['ec', 384]);
    assert.ok(new X509Certificate(root.RootCert).checkPrivateKey(createPrivateKey(pem)));
  });

  it('takes a configured RootCert as it is, and refuses one that is not for the key', async () => {
    const made = await generateRoot(base);
    const { root } = await generateRoot({ ...base, privateKeyPem: made.privateKeyPem, rootCertPem: made.root.RootCert });
    assert.equal(root.ID, made.root.ID);
    assert.equal(root.RootCert, made.root.RootCert);
    const other = await generateRoot(base);
    await assert.rejects(generateRoot({ ...base, privateKeyPem: other.privateKeyPem, rootCertPem: made.root.RootCert }), /not for the PrivateKey/);
  });

  it('refuses a RootCert or PrivateKey it cannot read with Consul\'s ParseCert and ParseSigner texts', async () => {
    const made = await generateRoot(base);
    const certErr = (rootCertPem: string) => generateRoot({ ...base, privateKeyPem: made.privateKeyPem, rootCertPem });
    await assert.rejects(certErr('garbage'), { name: 'RootCertError', message: 'no PEM-encoded data found' });
    await assert.rejects(certErr(made.privateKeyPem), { name: 'RootCertError', message: 'first PEM-block should be CERTIFICATE type' });
    await assert.rejects(certErr('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), { name: 'RootCertError', message: /^x509: / });
    await assert.rejects(generateRoot({ ...base, privateKeyPem: 'garbage' }), { message: 'error generating CA: error parsing private key: no PEM-encoded data found' });
    await assert.rejects(generateRoot({ ...base, privateKeyPem: made.root.RootCert }), {
      message: 'error generating CA: error parsing private key: unknown PEM block type for signing key: CERTIFICATE',
    });
  });
});
