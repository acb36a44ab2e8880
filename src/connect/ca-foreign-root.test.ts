// A configured RootCert made elsewhere (here with RFC 5280's SHA-1 key identifier, as openssl
// writes it, not Consul's SHA-256 one): leaves it signs and certificates it cross-signs name the
// root's own Subject Key Identifier as their AKI, as Go's x509 does, so TLS clients chain them.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import assert from 'node:assert/strict';
import { KeyObject, X509Certificate, type webcrypto } from 'node:crypto';
import { duplexPair } from 'node:stream';
import { describe, it } from 'node:test';
import * as tls from 'node:tls';
import { generateRoot } from './ca-root.ts';
import { crossSignCA } from './ca-cross-sign.ts';
import { createCsr, parseCsr } from './csr.ts';
import { signLeaf } from './leaf-cert.ts';

const CLUSTER = '11111111-2222-3333-4444-555555555555';
const URI = `spiffe://${CLUSTER}.consul/ns/default/dc/dc1/svc/web`;
const now = Date.now();

/** A self-signed CA certificate and its key (PEM) as a tool other than Consul would make it. */
async function foreignRoot(): Promise<{ certPem: string; keyPem: string; ski: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = await globalThis.crypto.subtle.generateKey(alg, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01', name: 'CN=Foreign Root CA', notBefore: new Date(now - 3_600_000), notAfter: new Date(now + 365 * 86_400_000),
    keys, signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const keyPem = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }) as string;
  return { certPem: cert.toString('pem'), keyPem, ski: cert.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId };
}

async function leafUnder(rootPem: string, keyPem: string): Promise<{ certPem: string; keyPem: string }> {
  const { csrPem, keyPem: leafKey } = await createCsr(URI, [], []);
  const csr = await parseCsr(csrPem);
  const leaf = signLeaf({ spki: csr.spki, uris: [URI], dnsNames: [], ipAddresses: [], ttlMs: 3_600_000, nowMs: now }, rootPem, keyPem);
  return { certPem: leaf.certPem, keyPem: leafKey };
}

function aki(pem: string): string | undefined {
  return new x509.X509Certificate(pem).getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;
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

describe('a configured RootCert with its own key identifier', async () => {
  const foreign = await foreignRoot();
  const clock = { now: () => now };
  const configured = await generateRoot({ clusterId: CLUSTER, datacenter: 'dc1', clock, privateKeyPem: foreign.keyPem, rootCertPem: foreign.certPem });
  const generated = await generateRoot({ clusterId: CLUSTER, datacenter: 'dc1', clock });

  it('signs leaves whose AKI is the root\'s SKI, accepted by a client trusting the root', async () => {
    assert.equal(configured.root.SigningKeyID, foreign.ski.match(/../g)!.join(':'));
    const leaf = await leafUnder(configured.root.RootCert, configured.privateKeyPem);
    assert.equal(aki(leaf.certPem), foreign.ski);
    assert.ok(new X509Certificate(leaf.certPem).checkIssued(new X509Certificate(foreign.certPem)));
    await handshake(leaf.certPem, leaf.keyPem, [foreign.certPem]);
  });

  it('as the old root, cross-signs the new one under its SKI: new leaves chain to it', async () => {
    const xc = crossSignCA(generated.root.RootCert, configured.root.RootCert, configured.privateKeyPem, now);
    assert.equal(aki(xc), foreign.ski);
    const leaf = await leafUnder(generated.root.RootCert, generated.privateKeyPem);
    await handshake(leaf.certPem + xc, leaf.keyPem, [foreign.certPem]);
  });

  it('as the new root, is cross-signed keeping its SKI: its leaves chain to the old root', async () => {
    const xc = crossSignCA(configured.root.RootCert, generated.root.RootCert, generated.privateKeyPem, now);
    const leaf = await leafUnder(configured.root.RootCert, configured.privateKeyPem);
    await handshake(leaf.certPem + xc, leaf.keyPem, [generated.root.RootCert]);
    await handshake(leaf.certPem + xc, leaf.keyPem, [generated.root.RootCert, foreign.certPem]);
  });
});
