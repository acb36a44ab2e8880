// Agent TLS certificates (not Connect's) as Consul's tlsutil/generate.go makes them for `tls ca
// create` and `tls cert create`: EC P-256 keys in SEC1 PEM, 128-bit random serials, a CA with
// HashiCorp's subject and optional DNS name constraints, leaves with DNS/IP SANs and extended key
// usages, and the Go x509 verification Consul runs on a new leaf before saving it.

import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { caSignatureAlgorithm, extension } from '../connect/ca-cert.ts';
import {
  bitString, boolean, directoryString, explicit, implicit, integer, octetString, oid, readTlv, sequence, set, time,
} from '../connect/der.ts';
import { keyId } from '../connect/fingerprints.ts';
import { authorityKeyId, certSubject } from '../connect/leaf-cert.ts';

/** The extended key usages Consul's `tls cert create` puts in leaves. */
export type ExtKeyUsage = 'serverAuth' | 'clientAuth';

/** Options of a CA (tlsutil.CAOpts). */
export interface CaOptions {
  /** Common name; `Consul Agent CA <serial>` when empty. */
  name?: string;
  days: number;
  domain: string;
  /** DNS name constraints (critical) when not empty. */
  permittedDnsDomains: string[];
  /** Adds the signing SPIFFE URI `spiffe://<clusterId>.<domain>` as SAN. */
  clusterId?: string;
  nowMs: number;
}

/** Options of a leaf (tlsutil.CertOpts). */
export interface CertOptions {
  caPem: string;
  /** The CA's private key PEM (EC, RSA or PKCS#8). */
  signerPem: string;
  name: string;
  days: number;
  dnsNames: string[];
  ipAddresses: string[];
  extKeyUsage: ExtKeyUsage[];
  nowMs: number;
  /** Certify this existing private key (PEM) instead of a new one (tlsutil.RenewCert); keyPem is then ''. */
  existingKeyPem?: string;
}

/** A certificate and, for a generated key, its key. */
export interface GeneratedCert {
  certPem: string;
  keyPem: string;
}

const EKU_OID: Record<ExtKeyUsage, string> = { serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2' };
// keyCertSign | cRLSign | digitalSignature (0b10000110, one unused bit), and digitalSignature |
// keyEncipherment (0b10100000, five unused bits), trimmed as Go writes key usage bit strings.
const CA_KEY_USAGE = bitString(Buffer.from([0x86]), 1);
const LEAF_KEY_USAGE = bitString(Buffer.from([0xa0]), 5);
const DAY_MS = 86_400_000;

/** A new EC P-256 key: the key object and its SEC1 `EC PRIVATE KEY` PEM (connect.GeneratePrivateKey). */
export function generatePrivateKey(): { key: KeyObject; pem: string } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { key: privateKey, pem: privateKey.export({ type: 'sec1', format: 'pem' }).toString() };
}

/** A random serial below 2^128 (tlsutil.GenerateSerialNumber), as magnitude bytes and a bigint. */
export function generateSerialNumber(): { bytes: Buffer; value: bigint } {
  const bytes = randomBytes(16);
  return { bytes, value: BigInt(`0x${bytes.toString('hex')}`) };
}

/** Parses the CA key the way connect.ParseSigner accepts it; throws Consul's texts. */
export function parseSigner(pem: string): KeyObject {
  const m = /-----BEGIN ([A-Z ]+)-----/.exec(pem);
  if (!m) throw new Error('no PEM-encoded data found');
  if (!['EC PRIVATE KEY', 'RSA PRIVATE KEY', 'PRIVATE KEY'].includes(m[1])) throw new Error(`unknown PEM block type for signing key: ${m[1]}`);
  return createPrivateKey(pem);
}

// Go's pkix.Name.ToRDNSequence order: C, ST, L, STREET, POSTALCODE, O, (OU), CN; one RDN each.
function caSubject(commonName: string): Buffer {
  const attrs: [string, string][] = [
    ['2.5.4.6', 'US'], ['2.5.4.8', 'CA'], ['2.5.4.7', 'San Francisco'], ['2.5.4.9', '101 Second Street'],
    ['2.5.4.17', '94105'], ['2.5.4.10', 'HashiCorp Inc.'], ['2.5.4.3', commonName],
  ];
  return sequence(...attrs.map(([id, v]) => set(sequence(oid(id), directoryString(v)))));
}

function validity(nowMs: number, days: number): Buffer {
  const notBefore = Math.floor(nowMs / 1000) * 1000;
  return sequence(time(notBefore), time(notBefore + days * DAY_MS));
}

function spki(key: KeyObject): Buffer {
  return createPublicKey(key).export({ type: 'spki', format: 'der' });
}

function signCert(tbs: Buffer, signer: KeyObject, algorithm: Buffer, hash: string): string {
  const der = sequence(tbs, algorithm, bitString(sign(hash, tbs, { key: signer, dsaEncoding: 'der' })));
  return pem(der);
}

function pem(der: Buffer): string {
  const b64 = der.toString('base64').match(/.{1,64}/g)!.join('\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

/** Generates a self-signed CA and its key (tlsutil.GenerateCA). */
export function generateCA(opts: CaOptions): GeneratedCert {
  const { key, pem: keyPem } = generatePrivateKey();
  const serial = generateSerialNumber();
  const name = opts.name || `Consul Agent CA ${serial.value}`;
  const pub = spki(key);
  const id = keyId(pub);
  const { algorithm, hash } = caSignatureAlgorithm(key);
  const subject = caSubject(name);
  const exts = [
    extension('2.5.29.15', true, CA_KEY_USAGE),
    extension('2.5.29.19', true, sequence(boolean(true))),
    extension('2.5.29.14', false, octetString(id)),
    extension('2.5.29.35', false, sequence(implicit(0, id))),
  ];
  if (opts.clusterId) exts.push(extension('2.5.29.17', false, sequence(implicit(6, Buffer.from(`spiffe://${opts.clusterId}.${opts.domain}`, 'ascii')))));
  if (opts.permittedDnsDomains.length > 0) {
    const subtrees = opts.permittedDnsDomains.map((d) => sequence(implicit(2, Buffer.from(d, 'ascii'))));
    exts.push(extension('2.5.29.30', true, sequence(explicit(0, ...subtrees))));
  }
  const tbs = sequence(
    explicit(0, integer(2)), integer(serial.bytes), algorithm, subject, validity(opts.nowMs, opts.days || 365), subject, pub,
    explicit(3, sequence(...exts)),
  );
  return { certPem: signCert(tbs, key, algorithm, hash), keyPem };
}

// Go's marshalSANs order: DNS names, then IP addresses.
function sanValue(dnsNames: string[], ips: string[]): Buffer {
  return sequence(...dnsNames.map((d) => implicit(2, Buffer.from(d, 'ascii'))), ...ips.map((ip) => implicit(7, ipBytes(ip))));
}

// Go's net.ParseIP bytes as marshalSANs writes them: 4 bytes for IPv4 and IPv4-mapped IPv6
// (ip.To4()), else 16; an IPv6 address may end in a dotted quad.
function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  let text = ip;
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number);
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  const mapped = out.subarray(0, 10).every((x) => x === 0) && out[10] === 0xff && out[11] === 0xff;
  return mapped ? Buffer.from(out.subarray(12)) : out;
}

/** Generates a key and a leaf signed by the CA (tlsutil.GenerateCert). */
export function generateCert(opts: CertOptions): GeneratedCert {
  let ca: X509Certificate;
  try {
    ca = new X509Certificate(opts.caPem);
  } catch (err) {
    throw new Error(`failed to parse CA: ${(err as Error).message}`, { cause: err });
  }
  const signer = parseSigner(opts.signerPem);
  // Go's CreateCertificate refuses a signer whose public key is not the parent's.
  if (!spki(signer).equals(ca.publicKey.export({ type: 'spki', format: 'der' }))) {
    throw new Error("failed to create certificate: x509: provided PrivateKey doesn't match parent's PublicKey");
  }
  const { key, pem: keyPem } = opts.existingKeyPem === undefined ? generatePrivateKey() : { key: parseSigner(opts.existingKeyPem), pem: '' };
  const pub = spki(key);
  const { algorithm, hash } = caSignatureAlgorithm(signer);
  const exts = [extension('2.5.29.15', true, LEAF_KEY_USAGE)];
  if (opts.extKeyUsage.length) exts.push(extension('2.5.29.37', false, sequence(...opts.extKeyUsage.map((u) => oid(EKU_OID[u])))));
  exts.push(
    extension('2.5.29.19', true, sequence()),
    extension('2.5.29.14', false, octetString(keyId(pub))),
    extension('2.5.29.35', false, sequence(implicit(0, authorityKeyId(ca.raw)))),
  );
  if (opts.dnsNames.length || opts.ipAddresses.length) exts.push(extension('2.5.29.17', false, sanValue(opts.dnsNames, opts.ipAddresses)));
  const tbs = sequence(
    explicit(0, integer(2)), integer(generateSerialNumber().bytes), algorithm, certSubject(ca.raw), validity(opts.nowMs, opts.days),
    sequence(set(sequence(oid('2.5.4.3'), directoryString(opts.name)))), pub, explicit(3, sequence(...exts)),
  );
  return { certPem: signCert(tbs, signer, algorithm, hash), keyPem };
}

const NAME_CONSTRAINTS = Buffer.from(oid('2.5.29.30'));

/** The permitted DNS subtrees of a certificate's name constraints (none when it has none). */
export function permittedDnsDomains(der: Uint8Array): string[] {
  const tbs = readTlv(der, readTlv(der, 0).contentStart);
  let at = tbs.contentStart;
  if (der[at] === 0xa0) at = readTlv(der, at).end;
  for (let i = 0; i < 6; i++) at = readTlv(der, at).end;
  for (; at < tbs.end; at = readTlv(der, at).end) {
    if (der[at] !== 0xa3) continue;
    const exts = readTlv(der, readTlv(der, at).contentStart);
    for (let e = exts.contentStart; e < exts.end; e = readTlv(der, e).end) {
      const id = readTlv(der, readTlv(der, e).contentStart);
      if (!Buffer.from(der.subarray(id.start, id.end)).equals(NAME_CONSTRAINTS)) continue;
      let v = readTlv(der, id.end);
      if (der[v.start] === 0x01) v = readTlv(der, v.end);
      const nc = readTlv(der, v.contentStart);
      const out: string[] = [];
      for (let s = nc.contentStart; s < nc.end; s = readTlv(der, s).end) {
        if (der[s] !== 0xa0) continue;
        const permitted = readTlv(der, s);
        for (let g = permitted.contentStart; g < permitted.end; g = readTlv(der, g).end) {
          const base = readTlv(der, readTlv(der, g).contentStart);
          if (der[base.start] === 0x82) out.push(Buffer.from(der.subarray(base.contentStart, base.end)).toString('ascii'));
        }
      }
      return out;
    }
  }
  return [];
}

// Go's matchDomainConstraint: "example.com" permits itself and its subdomains, ".example.com" only subdomains.
function permits(constraint: string, name: string): boolean {
  const c = constraint.toLowerCase();
  const n = name.toLowerCase();
  if (c === '') return true;
  if (c.startsWith('.')) return n.endsWith(c);
  return n === c || n.endsWith(`.${c}`);
}

/**
 * Verifies a new leaf against the CA as Consul's tlsutil.Verify does with Go's x509 (signature,
 * validity, the DNS name, the CA's DNS name constraints); throws Go's error texts.
 */
export function verifyCert(caPem: string, certPem: string, dnsName: string, nowMs: number): void {
  let ca: X509Certificate;
  try {
    ca = new X509Certificate(caPem);
  } catch {
    throw new Error('failed to parse root certificate');
  }
  const cert = new X509Certificate(certPem);
  // Go's Verify order: the leaf's validity, the host name, then the chain (signature, the root's
  // own validity, its name constraints).
  checkValidity(cert, nowMs);
  if (cert.checkHost(dnsName) === undefined) throw new Error(`x509: certificate is valid for ${dnsNamesOf(cert).join(', ')}, not ${dnsName}`);
  if (!cert.verify(ca.publicKey)) throw new Error('x509: certificate signed by unknown authority');
  checkValidity(ca, nowMs);
  const permitted = permittedDnsDomains(ca.raw);
  if (permitted.length) {
    for (const name of dnsNamesOf(cert)) {
      if (!permitted.some((c) => permits(c, name))) {
        throw new Error(`x509: a root or intermediate certificate is not authorized to sign for this name: DNS name ${JSON.stringify(name)} is not permitted by any constraint`);
      }
    }
  }
}

// Go's isValid expiry check, with its text.
function checkValidity(cert: X509Certificate, nowMs: number): void {
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (nowMs < from || nowMs > to) {
    throw new Error(`x509: certificate has expired or is not yet valid: current time ${goTime(nowMs)} is ${nowMs > to ? `after ${goTime(to)}` : `before ${goTime(from)}`}`);
  }
}

function dnsNamesOf(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '').split(', ').filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4));
}

function goTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}
