// Intermediate CA certificates for secondary datacenters (the consul provider's
// GenerateIntermediateCSR and SignIntermediate): a secondary makes a CA key and a CSR naming the
// primary's signing SPIFFE URI; the primary's root signs it as a CA certificate with a path
// length of 0, valid from a minute ago for the IntermediateCertTTL.
import { createPrivateKey, createPublicKey, sign, X509Certificate } from 'node:crypto';
import { caSignatureAlgorithm, extension, signCertificate } from './ca-cert.ts';
import { caCommonName, compactUid } from './common-names.ts';
import { bitString, boolean, directoryString, explicit, implicit, integer, octetString, oid, readTlv, sequence, set } from './der.ts';
import { hexString, keyId } from './fingerprints.ts';
import { authorityKeyId, certSubject, driftedNotBefore, randomSerial } from './leaf-cert.ts';
import { generatePrivateKey } from './private-key.ts';
import { signingUri, trustDomain } from './spiffe.ts';

/** Thrown for a CSR or certificate the intermediate steps refuse; the message is Consul's. */
export class IntermediateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IntermediateError';
  }
}

// keyCertSign | cRLSign | digitalSignature, as the root's.
const CA_KEY_USAGE = bitString(Buffer.from([0x86]), 1);
const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';

/** A secondary's new intermediate key and the CSR the primary signs. */
export interface IntermediateCsr {
  csrPem: string;
  keyPem: string;
}

/**
 * A new CA key of the configured type and size and a CSR for it: CN `sec-<uid>.consul.ca.<td>.consul`,
 * the signing URI of `clusterId` (the primary's trust domain) as its only SAN, CA basic constraints.
 */
export async function createIntermediateCsr(o: { clusterId: string; privateKeyType: string; privateKeyBits: number }): Promise<IntermediateCsr> {
  const key = await generatePrivateKey(o.privateKeyType, o.privateKeyBits);
  const signer = key.key;
  const spki = key.spki;
  const alg = caSignatureAlgorithm(signer);
  const subject = sequence(set(sequence(oid('2.5.4.3'), directoryString(caCommonName('consul', compactUid(), o.clusterId, false)))));
  const extensions = sequence(
    extension('2.5.29.19', true, sequence(boolean(true), integer(0))),
    extension('2.5.29.17', false, sequence(implicit(6, Buffer.from(signingUri(o.clusterId), 'ascii')))),
  );
  const info = sequence(integer(0), subject, spki, explicit(0, sequence(oid(EXTENSION_REQUEST), set(extensions))));
  const signature = sign(alg.hash, info, { key: signer, dsaEncoding: 'der' });
  const der = sequence(info, alg.algorithm, bitString(signature));
  return { csrPem: pem('CERTIFICATE REQUEST', der), keyPem: key.pem };
}

/** What signing an intermediate needs from the CSR (parsed, its signature checked, by csr.ts). */
export interface IntermediateRequest {
  /** The CSR's PEM (its subject is copied as it is). */
  csrPem: string;
  spki: Uint8Array;
  uris: string[];
}

/**
 * The primary's SignIntermediate: the CSR must name exactly one URI, the signing URI of this
 * cluster (`clusterId`); the certificate is issued by the root (`rootPem`, `rootKeyPem`).
 */
export function signIntermediate(req: IntermediateRequest, rootPem: string, rootKeyPem: string, clusterId: string, ttlMs: number, nowMs: number): string {
  if (req.uris.length !== 1) throw new IntermediateError(`incoming CSR has unexpected number of URIs: ${req.uris.length}`);
  const ours = signingUri(clusterId);
  const host = /^spiffe:\/\/([^/]+)\/?$/.exec(req.uris[0])?.[1];
  if (host?.toLowerCase() !== trustDomain(clusterId)) {
    throw new IntermediateError(`incoming CSR domain ${JSON.stringify(req.uris[0])} is not valid for our domain ${JSON.stringify(ours)}`);
  }
  const root = new X509Certificate(rootPem);
  const key = createPrivateKey(rootKeyPem);
  const notBefore = driftedNotBefore(nowMs);
  return new X509Certificate(signCertificate({
    serial: randomSerial(), issuer: certSubject(root.raw), notBeforeMs: notBefore, notAfterMs: notBefore + ttlMs,
    subject: csrSubject(pemBody(req.csrPem)), spki: req.spki,
    extensions: [
      extension('2.5.29.15', true, CA_KEY_USAGE),
      extension('2.5.29.19', true, sequence(boolean(true), integer(0))),
      extension('2.5.29.14', false, octetString(keyId(req.spki))),
      extension('2.5.29.35', false, sequence(implicit(0, authorityKeyId(root.raw)))),
      extension('2.5.29.17', false, sequence(implicit(6, Buffer.from(req.uris[0], 'ascii')))),
    ],
  }, key)).toString();
}

/**
 * The secondary's SetIntermediate checks: the intermediate is for `keyPem`, a CA, names
 * `signingUri` only, and chains to `rootPem`. Returns its Subject Key Identifier (colon hex).
 */
export function checkIntermediate(intermediatePem: string, keyPem: string, rootPem: string, uri: string): string {
  const cert = new X509Certificate(intermediatePem);
  const own = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
  if (!cert.publicKey.export({ type: 'spki', format: 'der' }).equals(own)) throw new IntermediateError('intermediate cert is for a different private key');
  if (!cert.ca) throw new IntermediateError('intermediate is not a CA certificate');
  const uris = (cert.subjectAltName ?? '').split(', ').filter((n) => n.startsWith('URI:')).map((n) => n.slice(4));
  if (uris.length !== 1) throw new IntermediateError(`incoming intermediate cert has unexpected number of URIs: ${uris.length}`);
  if (uris[0] !== uri) throw new IntermediateError(`incoming cert URI ${JSON.stringify(uris[0])} does not match current URI: ${JSON.stringify(uri)}`);
  const root = new X509Certificate(rootPem);
  if (!cert.checkIssued(root) || !cert.verify(root.publicKey)) {
    throw new IntermediateError('could not verify intermediate cert against root: x509: certificate signed by unknown authority');
  }
  return hexString(authorityKeyId(cert.raw));
}

/** The subject Name of a DER CSR, as its raw DER. */
function csrSubject(der: Uint8Array): Buffer {
  const info = readTlv(der, readTlv(der, 0).contentStart);
  const version = readTlv(der, info.contentStart);
  const subject = readTlv(der, version.end);
  return Buffer.from(der.subarray(subject.start, subject.end));
}

function pemBody(text: string): Buffer {
  const m = /-----BEGIN [A-Z ]+-----([\s\S]*?)-----END [A-Z ]+-----/.exec(text);
  return Buffer.from((m?.[1] ?? '').replace(/\s+/g, ''), 'base64');
}

function pem(type: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${type}-----\n${b64}-----END ${type}-----\n`;
}
