// Certificate signing requests for agent certificates (Consul's connect.CreateCSR and the CSR
// checks of its Sign path): an agent makes a key and a CSR naming its SPIFFE ID and SANs; a
// server reads one back, its signature checked. @peculiar/x509 is imported on first use only.
import { createPrivateKey, createPublicKey, verify, type KeyObject, type webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';
import { BadRequestError } from '../errors.ts';
import { readTlv } from './der.ts';

let x509Module: Promise<typeof X509> | undefined;

function loadX509(): Promise<typeof X509> {
  x509Module ??= import('reflect-metadata').then(() => import('@peculiar/x509'));
  return x509Module;
}

/** What a server reads from a CSR. */
export interface ParsedCsr {
  /** DER SubjectPublicKeyInfo of the requested key. */
  spki: Uint8Array;
  uris: string[];
  dnsNames: string[];
  ipAddresses: string[];
  emails: string[];
}

/** A new EC P-256 key (Consul's default leaf key) and a CSR for `uri` with the given SANs. */
export async function createCsr(uri: string, dnsNames: string[], ipAddresses: string[]): Promise<{ csrPem: string; keyPem: string }> {
  const x509 = await loadX509();
  const keys = await globalThis.crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
  const san = new x509.SubjectAlternativeNameExtension([
    ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
    { type: 'url' as const, value: uri },
  ]);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' }, extensions: [san],
  });
  const pkcs8 = Buffer.from(await globalThis.crypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'sec1' }).toString();
  return { csrPem: csr.toString('pem'), keyPem };
}

/** Parses a PEM CSR and checks its signature; throws BadRequestError as Consul's ParseCSR fails. */
export async function parseCsr(pem: string): Promise<ParsedCsr> {
  const x509 = await loadX509();
  let csr: X509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem);
  } catch (err) {
    throw new BadRequestError(`Failed to parse CSR: ${(err as Error).message}`);
  }
  if (!(await signatureValid(csr))) throw new BadRequestError('CSR signature is invalid');
  const ext = csr.getExtension('2.5.29.17');
  const names = ext ? new x509.SubjectAlternativeNameExtension(ext.rawData).names.items : [];
  const of = (type: string) => names.filter((n) => n.type === type).map((n) => n.value);
  return {
    spki: new Uint8Array(csr.publicKey.rawData), uris: of('url'), dnsNames: of('dns'), ipAddresses: of('ip'), emails: of('email'),
  };
}

/**
 * The CSR's self-signature check. WebCrypto has no P-224, which Consul's CA keys may be on (a
 * secondary's intermediate CSR carries its CA key): those are checked with node:crypto.
 */
async function signatureValid(csr: X509.Pkcs10CertificateRequest): Promise<boolean> {
  let key: KeyObject | undefined;
  try {
    key = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
  } catch { /* WebCrypto's verify answers for a key node:crypto cannot read */ }
  if (key?.asymmetricKeyDetails?.namedCurve !== 'secp224r1') return csr.verify();
  const hash = (csr.signatureAlgorithm as { hash?: { name?: string } }).hash?.name;
  if (!hash || !/^SHA-(256|384|512)$/.test(hash)) return false;
  // CertificationRequest: SEQUENCE { certificationRequestInfo (what is signed), algorithm, signature }.
  const der = new Uint8Array(csr.rawData);
  const info = readTlv(der, readTlv(der, 0).contentStart);
  return verify(hash.replace('-', '').toLowerCase(), der.subarray(info.start, info.end), { key, dsaEncoding: 'der' }, Buffer.from(csr.signature));
}
