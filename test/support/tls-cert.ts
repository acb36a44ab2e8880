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

async function newKeys(): Promise<{ privateKey: CryptoKey; publicKey: CryptoKey }> {
  return await globalThis.crypto.subtle.generateKey(EC, true, ['sign', 'verify']) as { privateKey: CryptoKey; publicKey: CryptoKey };
}

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

async function pkcs8Pem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await globalThis.crypto.subtle.exportKey('pkcs8', key)).toString('base64');
  return `-----BEGIN PRIVATE KEY-----\n${der.match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

/** A CA that issues server and client certificates. */
export interface TestCA {
  cert: string;
  /**
   * Issues a leaf for `cn`; server leaves get SANs 127.0.0.1, localhost and `dnsNames`; valid an
   * hour, or `validForMs`; `uris` are added as URI SANs (a SPIFFE ID, say).
   */
  issue(cn: string, usage: 'server' | 'client', dnsNames?: string[], validForMs?: number, uris?: string[]): Promise<TestCert>;
}

/** Creates an EC P-256 CA (what `consul tls ca create` makes, in miniature). */
export async function testCA(name = 'Proconsul Test CA'): Promise<TestCA> {
  const keys = await newKeys();
  const window = { notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 3_600_000) };
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01', name: `CN=${name}`, ...window, keys, signingAlgorithm: EC,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  }, globalThis.crypto);
  let serial = 1;
  return {
    cert: ca.toString('pem'),
    async issue(cn, usage, dnsNames = [], validForMs, uris = []) {
      const leaf = await newKeys();
      const sans: x509.JsonGeneralName[] = usage === 'server'
        ? [{ type: 'ip', value: '127.0.0.1' }, { type: 'dns', value: 'localhost' }, ...dnsNames.map((d) => ({ type: 'dns' as const, value: d }))]
        : [{ type: 'dns', value: cn }];
      sans.push(...uris.map((u) => ({ type: 'url' as const, value: u })));
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: (++serial).toString(16).padStart(2, '0'), subject: `CN=${cn}`, issuer: ca.subject,
        ...(validForMs === undefined ? window : { notBefore: window.notBefore, notAfter: new Date(Date.now() + validForMs) }),
        publicKey: leaf.publicKey, signingKey: keys.privateKey, signingAlgorithm: EC,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
          new x509.ExtendedKeyUsageExtension([usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth, x509.ExtendedKeyUsage.clientAuth]),
          new x509.SubjectAlternativeNameExtension(sans),
        ],
      }, globalThis.crypto);
      return { cert: cert.toString('pem'), key: await pkcs8Pem(leaf.privateKey) };
    },
  };
}
