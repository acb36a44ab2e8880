// Leaf certificates signed by the built-in CA, as the `consul` provider's Sign writes them: the
// CSR's key, URI, DNS and IP SANs, no subject (so the SAN extension is critical), key usage for
// signatures, key and data encipherment and key agreement, client and server auth, the CA certificate's
// SKI as AKI and the leaf key's id as SKI, valid from one minute ago for the leaf TTL.
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { bitString, implicit, octetString, oid, sequence } from './der.ts';
import { extension, signCertificate } from './ca-cert.ts';
import { hexString, keyId } from './fingerprints.ts';

/** What a leaf certificate says besides its issuer. */
export interface LeafTemplate {
  /** DER SubjectPublicKeyInfo of the leaf key (from the CSR). */
  spki: Uint8Array;
  uris: string[];
  dnsNames: string[];
  ipAddresses: string[];
  /** Milliseconds the certificate lasts from `nowMs` (the drift minute is not counted). */
  ttlMs: number;
  nowMs: number;
}

/** A signed leaf. */
export interface SignedLeaf {
  certPem: string;
  /** Colon-hex serial number, as Consul's EncodeSerialNumber writes it. */
  serialNumber: string;
  validAfter: Date;
  validBefore: Date;
}

/** Consul's CertificateTimeDriftBuffer: leaves are valid from a minute before they are signed. */
export const CERT_DRIFT_MS = 60_000;

/** The start of a certificate signed at `nowMs`: CERT_DRIFT_MS earlier, in whole seconds (X.509 times have no fractions). */
export function driftedNotBefore(nowMs: number): number {
  return Math.floor((nowMs - CERT_DRIFT_MS) / 1000) * 1000;
}

/** A random positive 64-bit serial number (the top bit cleared so the DER INTEGER is not negative). */
export function randomSerial(): Buffer {
  const serial = randomBytes(8);
  serial[0] &= 0x7f;
  return serial;
}

// digitalSignature, keyEncipherment, dataEncipherment, keyAgreement (bits 0, 2, 3, 4); the three
// trailing zero bits unused, as Go trims the bit string.
const LEAF_KEY_USAGE = bitString(Buffer.from([0xb8]), 3);
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

/**
 * The certificate that signs a root's leaves: in a secondary datacenter its intermediate (the last
 * of the root's IntermediateCerts whose key id is the root's SigningKeyID), else the root itself.
 */
export function signingCert(root: { RootCert: string; SigningKeyID: string; IntermediateCerts: string[] | null }): string {
  // The root's own key (a cross-signature after a rotation carries it too) signs in the primary.
  if (hexString(authorityKeyId(new X509Certificate(root.RootCert).raw)) === root.SigningKeyID) return root.RootCert;
  const inters = root.IntermediateCerts ?? [];
  for (let i = inters.length - 1; i >= 0; i--) {
    if (hexString(authorityKeyId(new X509Certificate(inters[i]).raw)) === root.SigningKeyID) return inters[i];
  }
  return root.RootCert;
}

/** Signs a leaf with the CA certificate and key (PEM); throws on a key it cannot use. */
export function signLeaf(t: LeafTemplate, caCertPem: string, caKeyPem: string): SignedLeaf {
  const ca = new X509Certificate(caCertPem);
  const key = createPrivateKey(caKeyPem);
  const notBefore = driftedNotBefore(t.nowMs);
  const notAfter = notBefore + t.ttlMs;
  const serial = randomSerial();
  const der = signCertificate({
    serial, issuer: certSubject(ca.raw), notBeforeMs: notBefore, notAfterMs: notAfter, subject: sequence(), spki: t.spki,
    extensions: [
      extension('2.5.29.15', true, LEAF_KEY_USAGE),
      extension('2.5.29.37', false, sequence(oid(CLIENT_AUTH), oid(SERVER_AUTH))),
      extension('2.5.29.19', true, sequence()),
      extension('2.5.29.14', false, octetString(keyId(t.spki))),
      extension('2.5.29.35', false, sequence(implicit(0, authorityKeyId(ca.raw)))),
      extension('2.5.29.17', true, sanValue(t)),
    ],
  }, key);
  const cert = new X509Certificate(der);
  return {
    certPem: cert.toString(), serialNumber: serialHex(serial),
    validAfter: new Date(notBefore), validBefore: new Date(notAfter),
  };
}

// Go's marshalSANs order: DNS names, (emails), IP addresses, URIs.
function sanValue(t: LeafTemplate): Buffer {
  return sequence(
    ...t.dnsNames.map((d) => implicit(2, Buffer.from(d, 'ascii'))),
    ...t.ipAddresses.map((ip) => implicit(7, ipBytes(ip))),
    ...t.uris.map((u) => implicit(6, Buffer.from(u, 'ascii'))),
  );
}

function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  const [head, tail] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** The subject Name of a DER certificate, as its raw DER (the leaf's issuer must match it byte for byte). */
export function certSubject(der: Uint8Array): Buffer {
  const cert = readTlv(der, 0);
  const tbs = readTlv(der, cert.contentStart);
  let at = tbs.contentStart;
  // version [0] is optional; then serial, signature algorithm, issuer, validity, subject.
  if (der[at] === 0xa0) at = readTlv(der, at).end;
  for (let i = 0; i < 4; i++) at = readTlv(der, at).end;
  const subject = readTlv(der, at);
  return Buffer.from(der.subarray(at, subject.end));
}

const SKI_OID = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x0e]); // 2.5.29.14

/**
 * The key id a certificate issued by the CA certificate `der` names as its AKI: the CA's own
 * Subject Key Identifier when it has one (Go's CreateCertificate takes the parent's, so a
 * configured RootCert made by another tool, with RFC 5280's SHA-1 id, still chains), else the
 * key id of its public key.
 */
export function authorityKeyId(der: Uint8Array): Uint8Array {
  const cert = readTlv(der, 0);
  const tbs = readTlv(der, cert.contentStart);
  let at = tbs.contentStart;
  if (der[at] === 0xa0) at = readTlv(der, at).end;
  // serial, signature algorithm, issuer, validity, subject; then the key and the optional fields.
  for (let i = 0; i < 5; i++) at = readTlv(der, at).end;
  const spki = readTlv(der, at);
  const spkiDer = der.subarray(at, spki.end);
  for (at = spki.end; at < tbs.end; at = readTlv(der, at).end) {
    if (der[at] !== 0xa3) continue;
    const exts = readTlv(der, readTlv(der, at).contentStart);
    for (let e = exts.contentStart; e < exts.end; e = readTlv(der, e).end) {
      const id = readTlv(der, readTlv(der, e).contentStart);
      if (!Buffer.from(der.subarray(id.start, id.end)).equals(SKI_OID)) continue;
      // The extension's value: an OCTET STRING (after an optional critical flag) holding the key id's OCTET STRING.
      let v = readTlv(der, id.end);
      if (der[v.start] === 0x01) v = readTlv(der, v.end);
      const inner = readTlv(der, v.contentStart);
      return new Uint8Array(der.subarray(inner.contentStart, inner.end));
    }
  }
  return keyId(spkiDer);
}

function readTlv(der: Uint8Array, at: number): { start: number; contentStart: number; end: number } {
  let len = der[at + 1];
  let contentStart = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[at + 2 + i];
    contentStart += n;
  }
  return { start: at, contentStart, end: contentStart + len };
}

function serialHex(serial: Uint8Array): string {
  let start = 0;
  while (start < serial.length - 1 && serial[start] === 0) start++;
  return Array.from(serial.subarray(start), (b) => b.toString(16).padStart(2, '0')).join(':');
}

