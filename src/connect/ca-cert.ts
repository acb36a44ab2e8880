// The built-in CA's self-signed root certificate, encoded as Go's x509.CreateCertificate encodes
// the template of Consul's `generateCA`: v3, the CN as issuer and subject, critical key usage
// (cert sign, CRL sign, digital signature) and CA basic constraints without a path length, the
// key id as SKI and AKI, and the signing SPIFFE URI as the only SAN. Written with the small DER
// writer and signed with node:crypto: the @peculiar/x509 stack (≈280 modules) cost every
// `proconsul agent -dev` ≈100 ms of start-up CPU before its HTTP port answered.

import { sign, type KeyObject } from 'node:crypto';
import {
  bitString, boolean, directoryString, explicit, implicit, integer, nullValue, octetString, oid, sequence, set, time,
} from './der.ts';

/** What the root certificate says; every value is chosen by the caller. */
export interface CaCertTemplate {
  serialNumber: number;
  commonName: string;
  notBeforeMs: number;
  notAfterMs: number;
  /** DER SubjectPublicKeyInfo of the CA key. */
  spki: Uint8Array;
  /** The key id (SHA-256 of the SPKI), for the SKI and AKI extensions. */
  keyId: Uint8Array;
  /** The signing SPIFFE URI. */
  uri: string;
}

// Go's x509 signature algorithms for the keys Consul's CA makes: ECDSA with the curve's hash
// (SHA-256 for P-224 and P-256; no parameters), RSA PKCS#1 v1.5 with SHA-256 (NULL parameters).
const EC_SIGNATURE: Record<string, { oid: string; hash: string }> = {
  secp224r1: { oid: '1.2.840.10045.4.3.2', hash: 'sha256' },
  prime256v1: { oid: '1.2.840.10045.4.3.2', hash: 'sha256' },
  secp384r1: { oid: '1.2.840.10045.4.3.3', hash: 'sha384' },
  secp521r1: { oid: '1.2.840.10045.4.3.4', hash: 'sha512' },
};
const RSA_SHA256 = '1.2.840.113549.1.1.11';

// keyCertSign | cRLSign | digitalSignature: bits 0, 5 and 6 of the first byte (0b10000110), the
// trailing zero bit unused, as Go trims a key usage bit string.
const CA_KEY_USAGE = bitString(Buffer.from([0x86]), 1);

/** The DER AlgorithmIdentifier and hash Go's x509 signs a certificate with under `key`; throws on a key it cannot use. */
export function caSignatureAlgorithm(key: KeyObject): { algorithm: Buffer; hash: string } {
  if (key.asymmetricKeyType === 'rsa') return { algorithm: sequence(oid(RSA_SHA256), nullValue()), hash: 'sha256' };
  const ec = key.asymmetricKeyType === 'ec' ? EC_SIGNATURE[key.asymmetricKeyDetails?.namedCurve ?? ''] : undefined;
  if (!ec) throw new Error(`unsupported CA key: ${key.asymmetricKeyType} ${key.asymmetricKeyDetails?.namedCurve ?? ''}`.trimEnd());
  return { algorithm: sequence(oid(ec.oid)), hash: ec.hash };
}

/** A certificate's own fields: all of its TBSCertificate but the version and signature algorithm. */
export interface CertFields {
  serial: number | Uint8Array;
  /** DER Name of the issuer. */
  issuer: Buffer;
  notBeforeMs: number;
  notAfterMs: number;
  /** DER Name of the subject. */
  subject: Buffer;
  /** DER SubjectPublicKeyInfo. */
  spki: Uint8Array;
  /** DER extensions, in order. */
  extensions: Buffer[];
}

/** Encodes a v3 certificate as Go's x509.CreateCertificate does and signs it with `key`; returns its DER. */
export function signCertificate(f: CertFields, key: KeyObject): Buffer {
  const { algorithm, hash } = caSignatureAlgorithm(key);
  const tbs = sequence(
    explicit(0, integer(2)),
    integer(f.serial),
    algorithm,
    f.issuer,
    sequence(time(f.notBeforeMs), time(f.notAfterMs)),
    f.subject,
    Buffer.from(f.spki),
    explicit(3, sequence(...f.extensions)),
  );
  const signature = sign(hash, tbs, { key, dsaEncoding: 'der' });
  return sequence(tbs, algorithm, bitString(signature));
}

/** Encodes and signs the root certificate with `key`; returns its DER. */
export function selfSignedCaCert(t: CaCertTemplate, key: KeyObject): Buffer {
  const name = sequence(set(sequence(oid('2.5.4.3'), directoryString(t.commonName))));
  return signCertificate({
    serial: t.serialNumber, issuer: name, notBeforeMs: t.notBeforeMs, notAfterMs: t.notAfterMs, subject: name, spki: t.spki,
    extensions: [
      extension('2.5.29.15', true, CA_KEY_USAGE),
      extension('2.5.29.19', true, sequence(boolean(true))),
      extension('2.5.29.14', false, octetString(t.keyId)),
      extension('2.5.29.35', false, sequence(implicit(0, t.keyId))),
      extension('2.5.29.17', false, sequence(implicit(6, Buffer.from(t.uri, 'ascii')))),
    ],
  }, key);
}

/** One X.509 extension: its OID, the critical flag when set, and the DER value. */
export function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value));
}
