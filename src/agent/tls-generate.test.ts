import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { generateCA, generateCert, parseSigner, permittedDnsDomains, verifyCert } from './tls-generate.ts';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const leaf = (ca: { certPem: string; keyPem: string }, dnsNames: string[], over: { days?: number; nowMs?: number } = {}) =>
  generateCert({ caPem: ca.certPem, signerPem: ca.keyPem, name: dnsNames[0], days: 365, dnsNames, ipAddresses: [], extKeyUsage: ['serverAuth'], nowMs: NOW, ...over });

test('a CA names its serial in the default common name and lasts the given days from now', () => {
  const ca = generateCA({ days: 10, domain: 'consul', permittedDnsDomains: [], nowMs: NOW });
  const cert = new X509Certificate(ca.certPem);
  assert.equal(cert.subject.split('\n').at(-1), `CN=Consul Agent CA ${BigInt(`0x${cert.serialNumber}`)}`);
  assert.equal(Date.parse(cert.validFrom), NOW);
  assert.equal(Date.parse(cert.validTo), NOW + 10 * 86_400_000);
  assert.ok(cert.ca);
  assert.deepEqual(permittedDnsDomains(cert.raw), []);
});

test('name constraints as Go matches them: a domain permits itself and its subdomains, a leading dot only subdomains', () => {
  const ca = generateCA({ days: 10, domain: 'consul', permittedDnsDomains: ['.example.com', 'consul'], nowMs: NOW });
  assert.deepEqual(permittedDnsDomains(new X509Certificate(ca.certPem).raw), ['.example.com', 'consul']);
  for (const ok of [['server.dc1.consul'], ['consul'], ['a.example.com', 'CONSUL']]) {
    verifyCert(ca.certPem, leaf(ca, ok).certPem, ok[0], NOW);
  }
  for (const bad of [['example.com'], ['notconsul'], ['x.consul', 'consul.org']]) {
    assert.throws(() => verifyCert(ca.certPem, leaf(ca, bad).certPem, bad[0], NOW),
      { message: `x509: a root or intermediate certificate is not authorized to sign for this name: DNS name ${JSON.stringify(bad.at(-1))} is not permitted by any constraint` });
  }
});

test('verification fails for another CA, outside the validity period, and for a name the leaf does not hold', () => {
  const ca = generateCA({ days: 10, domain: 'consul', permittedDnsDomains: [], nowMs: NOW });
  const other = generateCA({ days: 10, domain: 'consul', permittedDnsDomains: [], nowMs: NOW });
  const cert = leaf(ca, ['server.dc1.consul'], { days: 1 });
  assert.throws(() => verifyCert(other.certPem, cert.certPem, 'server.dc1.consul', NOW), { message: 'x509: certificate signed by unknown authority' });
  assert.throws(() => verifyCert(ca.certPem, cert.certPem, 'server.dc1.consul', NOW + 2 * 86_400_000), /^Error: x509: certificate has expired or is not yet valid: current time 2026-01-17T12:00:00Z is after 2026-01-16T12:00:00Z$/);
  assert.throws(() => verifyCert(ca.certPem, cert.certPem, 'client.dc1.consul', NOW), /not client\.dc1\.consul/);
});

test('CA keys Consul parses: EC, RSA (PKCS#1) and PKCS#8; anything else with its text', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  assert.equal(parseSigner(rsa.export({ type: 'pkcs1', format: 'pem' }).toString()).asymmetricKeyType, 'rsa');
  assert.equal(parseSigner(rsa.export({ type: 'pkcs8', format: 'pem' }).toString()).asymmetricKeyType, 'rsa');
  assert.throws(() => parseSigner('junk'), { message: 'no PEM-encoded data found' });
  assert.throws(() => parseSigner('-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n'), { message: 'unknown PEM block type for signing key: CERTIFICATE' });
});

test('IP SANs as Go marshals net.ParseIP results: IPv4-mapped IPv6 as 4 bytes, an embedded dotted quad read', () => {
  const ca = generateCA({ days: 10, domain: 'consul', permittedDnsDomains: [], nowMs: NOW });
  const ipAddresses = ['::ffff:10.0.0.1', '::ffff:a00:2', '64:ff9b::192.0.2.33', '2001:db8::1:2', '::', '127.0.0.1'];
  const cert = generateCert({ caPem: ca.certPem, signerPem: ca.keyPem, name: 'x', days: 1, dnsNames: [], ipAddresses, extKeyUsage: [], nowMs: NOW });
  assert.equal(
    new X509Certificate(cert.certPem).subjectAltName,
    'IP Address:10.0.0.1, IP Address:10.0.0.2, IP Address:64:FF9B:0:0:0:0:C000:221, IP Address:2001:DB8:0:0:0:0:1:2, IP Address:0:0:0:0:0:0:0:0, IP Address:127.0.0.1',
  );
});

test("a CA key that is not the CA certificate's key is refused before signing, with Go's CreateCertificate text", () => {
  const ca = generateCA({ days: 10, domain: 'consul', permittedDnsDomains: [], nowMs: NOW });
  const other = generateCA({ days: 10, domain: 'consul', permittedDnsDomains: [], nowMs: NOW });
  assert.throws(
    () => generateCert({ caPem: ca.certPem, signerPem: other.keyPem, name: 'x', days: 1, dnsNames: ['x'], ipAddresses: [], extKeyUsage: [], nowMs: NOW }),
    { message: "failed to create certificate: x509: provided PrivateKey doesn't match parent's PublicKey" },
  );
});

test("an expired CA fails verification as Go's chain building reports it (the root's own validity), so no leaf is saved from it", () => {
  const ca = generateCA({ days: 10, domain: 'consul', permittedDnsDomains: [], nowMs: NOW });
  const later = NOW + 20 * 86_400_000;
  const cert = leaf(ca, ['server.dc1.consul'], { days: 1, nowMs: later });
  assert.throws(() => verifyCert(ca.certPem, cert.certPem, 'server.dc1.consul', later),
    { message: 'x509: certificate has expired or is not yet valid: current time 2026-02-04T12:00:00Z is after 2026-01-25T12:00:00Z' });
});
