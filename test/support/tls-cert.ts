// A self-signed certificate for 127.0.0.1 (also its own CA) for tests that need an https server
// whose CA a client must be given explicitly.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import type { webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;

/** PEM certificate and PKCS#8 private key. */
export interface TestCert {
  cert: string;
  key: string;
}

/** Creates an EC P-256 self-signed CA certificate with an IP SAN for 127.0.0.1. */
export async function selfSignedLocalhost(): Promise<TestCert> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await globalThis.crypto.subtle.generateKey(alg, true, ['sign', 'verify']) as { privateKey: CryptoKey; publicKey: CryptoKey };
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01', name: 'CN=127.0.0.1', notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 3_600_000),
    keys, signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }]),
    ],
  }, globalThis.crypto);
  const pkcs8 = Buffer.from(await globalThis.crypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`;
  return { cert: cert.toString('pem'), key };
}
