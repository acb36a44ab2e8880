import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { generateRoot } from './ca-root.ts';
import { createCsr, parseCsr } from './csr.ts';
import { certSubject, signLeaf, CERT_DRIFT_MS } from './leaf-cert.ts';
import { agentUri, parseAgentUri } from './spiffe.ts';

const clock = { now: () => Date.UTC(2026, 0, 2, 3, 4, 5) };

test('an agent CSR round-trips and is signed into a leaf the CA verifies', async () => {
  const { root, privateKeyPem } = await generateRoot({ clusterId: '11111111-2222-3333-4444-555555555555', datacenter: 'dc1', clock });
  const uri = agentUri({ host: 'unknown', datacenter: 'dc1', agent: 'node-a' });
  const { csrPem, keyPem } = await createCsr(uri, ['localhost', 'a.example'], ['127.0.0.1', '::1']);
  const csr = await parseCsr(csrPem);
  assert.deepEqual(csr.uris, [uri]);
  assert.deepEqual(csr.dnsNames, ['localhost', 'a.example']);
  assert.deepEqual(csr.ipAddresses, ['127.0.0.1', '::1']);
  assert.deepEqual(parseAgentUri(uri), { host: 'unknown', datacenter: 'dc1', agent: 'node-a' });

  const leaf = signLeaf({ spki: csr.spki, uris: [uri], dnsNames: csr.dnsNames, ipAddresses: csr.ipAddresses, ttlMs: 3_600_000, nowMs: clock.now() }, root.RootCert, privateKeyPem);
  const cert = new X509Certificate(leaf.certPem);
  const ca = new X509Certificate(root.RootCert);
  assert.ok(cert.verify(ca.publicKey), 'signed by the CA key');
  assert.ok(cert.checkIssued(ca), 'issuer matches the CA subject');
  assert.ok(cert.checkPrivateKey((await import('node:crypto')).createPrivateKey(keyPem)));
  assert.ok(!cert.subject, 'no subject');
  assert.equal(cert.subjectAltName, `DNS:localhost, DNS:a.example, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, URI:${uri}`);
  assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.2', '1.3.6.1.5.5.7.3.1']);
  assert.equal(cert.ca, false);
  assert.equal(leaf.validAfter.getTime(), clock.now() - CERT_DRIFT_MS);
  assert.equal(leaf.validBefore.getTime() - leaf.validAfter.getTime(), 3_600_000);
  assert.equal(new Date(cert.validTo).getTime(), leaf.validBefore.getTime());
  assert.match(leaf.serialNumber, /^[0-9a-f]{2}(:[0-9a-f]{2})*$/);
  assert.deepEqual(certSubject(cert.raw), Buffer.from([0x30, 0x00]));
});

test('a CSR with a broken signature is refused', async () => {
  const { csrPem } = await createCsr('spiffe://x/agent/client/dc/dc1/id/n', [], []);
  const der = Buffer.from(csrPem.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');
  der[der.length - 5] ^= 0xff;
  const bad = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
  await assert.rejects(parseCsr(bad), /CSR signature is invalid|Failed to parse CSR/);
});
