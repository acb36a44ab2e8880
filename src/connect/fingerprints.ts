// Identifiers Consul derives from keys and certificates: the colon-hex encoding, the key id
// (SHA-256 over the DER SubjectPublicKeyInfo) and the certificate fingerprint (SHA-1 over the DER).

import { createHash } from 'node:crypto';

/** Lower-case, colon-separated hex of `bytes` (`0a:1b:…`), Consul's `connect.HexString`. */
export function hexString(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}

/**
 * The raw key id Consul puts in Subject/Authority Key Identifier extensions: SHA-256 over the
 * DER SubjectPublicKeyInfo, tags included (`connect.KeyId`). Not RFC 5280's SHA-1 method.
 */
export function keyId(spkiDer: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(spkiDer).digest());
}

/** A certificate's CARoot ID: colon-hex SHA-1 of its DER (`connect.CalculateCertFingerprint`). */
export function certFingerprint(certDer: Uint8Array): string {
  return hexString(new Uint8Array(createHash('sha1').update(certDer).digest()));
}
