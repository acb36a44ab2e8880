// Tests for cross-signing a new CA root with the old one: the certificate's fields, and that a
// leaf signed by the new key chains to the OLD root through it (by signature and in a TLS handshake).
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { duplexPair } from 'node:stream';
import { describe, it } from 'node:test';
import * as tls from 'node:tls';
import { generateRoot } from './ca-root.ts';
import { crossSignCA, CROSS_SIGN_TTL_MS } from './ca-cross-sign.ts';
import { createCsr, parseCsr } from './csr.ts';
import { signLeaf } from './leaf-cert.ts';
import { hexString, keyId } from './fingerprints.ts';

const CLUSTER = '11111111-2222-3333-4444-555555555555';
const URI = `spiffe://${CLUSTER}.consul/ns/default/dc/dc1/svc/web`;

async function leafUnder(rootPem: string, keyPem: string, nowMs: number): Promise<{ certPem: string; keyPem: string }> {
  const { csrPem, keyPem: leafKey } = await createCsr(URI, [], []);
  const csr = await parseCsr(csrPem);
  const leaf = signLeaf({ spki: csr.spki, uris: [URI], dnsNames: [], ipAddresses: [], ttlMs: 3_600_000, nowMs }, rootPem, keyPem);
  return { certPem: leaf.certPem, keyPem: leafKey };
}

/** A TLS handshake: the server presents `chain` (leaf first); the client trusts only `trusted`. */
async function handshake(chain: string, key: string, trusted: string[]): Promise<void> {
  const [clientSide, serverSide] = duplexPair();
  const server = new tls.TLSSocket(serverSide, { isServer: true, secureContext: tls.createSecureContext({ cert: chain, key }) });
  server.on('error', () => {});
  const client = tls.connect({ socket: clientSide, ca: trusted, checkServerIdentity: () => undefined });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('secureConnect', resolve);
      client.once('error', reject);
    });
  } finally {
    client.destroy();
    server.destroy();
  }
}

for (const [oldType, newType] of [['ec', 'ec'], ['ec', 'rsa'], ['rsa', 'ec']] as const) {
  describe(`crossSignCA (old ${oldType} root, new ${newType} root)`, async () => {
    const now = Date.now();
    const clock = { now: () => now };
    const bits = (t: string) => (t === 'rsa' ? 2048 : 256);
    const old = await generateRoot({ clusterId: CLUSTER, datacenter: 'dc1', clock, privateKeyType: oldType, privateKeyBits: bits(oldType) });
    const fresh = await generateRoot({ clusterId: CLUSTER, datacenter: 'dc1', clock, privateKeyType: newType, privateKeyBits: bits(newType) });
    const xcPem = crossSignCA(fresh.root.RootCert, old.root.RootCert, old.privateKeyPem, now);
    const xc = new X509Certificate(xcPem);
    const oldCert = new X509Certificate(old.root.RootCert);
    const newCert = new X509Certificate(fresh.root.RootCert);

    it('is the new root\'s key and subject, issued and signed by the old root', () => {
      assert.ok(xc.checkIssued(oldCert));
      assert.ok(xc.verify(oldCert.publicKey));
      assert.ok(!xc.verify(newCert.publicKey));
      assert.equal(xc.subject, newCert.subject);
      assert.equal(xc.issuer, oldCert.subject);
      assert.ok(xc.publicKey.equals(newCert.publicKey));
      assert.equal(xc.ca, true);
      assert.equal(xc.subjectAltName, newCert.subjectAltName);
    });

    it('carries the new key id as SKI and the old key id as AKI, valid from a minute ago for 7 days', () => {
      const cert = new x509.X509Certificate(xcPem);
      const oldId = hexString(keyId(oldCert.publicKey.export({ type: 'spki', format: 'der' })));
      const newId = hexString(keyId(newCert.publicKey.export({ type: 'spki', format: 'der' })));
      assert.equal(colonHex(cert.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId!), oldId);
      assert.equal(colonHex(cert.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId), newId);
      assert.equal(cert.getExtension(x509.BasicConstraintsExtension)?.ca, true);
      const notBefore = Math.floor((now - 60_000) / 1000) * 1000;
      assert.equal(xc.validFromDate.getTime(), notBefore);
      assert.equal(xc.validToDate.getTime(), notBefore + CROSS_SIGN_TTL_MS);
      assert.notEqual(xc.serialNumber, newCert.serialNumber);
    });

    it('chains a leaf signed by the new key to the old root', async () => {
      const leaf = await leafUnder(fresh.root.RootCert, fresh.privateKeyPem, now);
      const leafCert = new X509Certificate(leaf.certPem);
      assert.ok(leafCert.checkIssued(xc) && leafCert.verify(xc.publicKey));
      assert.ok(!leafCert.verify(oldCert.publicKey), 'the old key did not sign the leaf itself');
      assert.ok(leafCert.checkPrivateKey(createPrivateKey(leaf.keyPem)));
      // A client trusting only the old root accepts leaf + cross-signed cert, and not the leaf alone.
      await handshake(leaf.certPem + xcPem, leaf.keyPem, [old.root.RootCert]);
      await assert.rejects(handshake(leaf.certPem, leaf.keyPem, [old.root.RootCert]), /unable to (get local issuer|verify the first) certificate/);
      // Clients trusting the new root, or both, accept the same chain.
      await handshake(leaf.certPem + xcPem, leaf.keyPem, [fresh.root.RootCert]);
      await handshake(leaf.certPem + xcPem, leaf.keyPem, [old.root.RootCert, fresh.root.RootCert]);
      // A leaf of the old root still verifies for a client trusting both.
      const oldLeaf = await leafUnder(old.root.RootCert, old.privateKeyPem, now);
      await handshake(oldLeaf.certPem, oldLeaf.keyPem, [old.root.RootCert, fresh.root.RootCert]);
    });
  });
}

function colonHex(hex: string): string {
  return hex.toLowerCase().match(/../g)!.join(':');
}
