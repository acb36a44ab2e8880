// The consul provider's CrossSignCA: the old root signs a copy of the new root (its subject, key and
// extensions; the old root's key id as AKI; valid from a minute ago for 7 days), so leaves of the new
// root chain to the old root for clients that trust only the old one.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { extension, signCertificate } from './ca-cert.ts';
import { implicit, sequence } from './der.ts';
import { authorityKeyId, driftedNotBefore, randomSerial } from './leaf-cert.ts';

/** How long a cross-signed certificate lasts (Consul: 7 days, past the default 72 h leaves). */
export const CROSS_SIGN_TTL_MS = 7 * 24 * 3_600_000;

const AKI_OID = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x23]); // 2.5.29.35

/** One DER element: where it starts, where its contents start, and where it ends. */
interface Tlv {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

function readTlv(der: Uint8Array, at: number): Tlv {
  let len = der[at + 1];
  let contentStart = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[at + 2 + i];
    contentStart += n;
  }
  return { tag: der[at], start: at, contentStart, end: contentStart + len };
}

/** The elements inside a constructed element. */
function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.contentStart; at < parent.end; at = out[out.length - 1].end) out.push(readTlv(der, at));
  return out;
}

/** The parts of a certificate's TBSCertificate the cross-signed copy reuses, as raw DER. */
interface TbsParts {
  subject: Buffer;
  spki: Buffer;
  /** Each extension's DER, in order. */
  extensions: Buffer[];
}

function tbsParts(der: Uint8Array): TbsParts {
  const cert = readTlv(der, 0);
  const tbs = children(der, children(der, cert)[0]);
  // version [0] is optional; then serial, signature, issuer, validity, subject, spki, [1], [2], [3].
  const fields = tbs[0].tag === 0xa0 ? tbs.slice(1) : tbs;
  const raw = (t: Tlv) => Buffer.from(der.subarray(t.start, t.end));
  const extsWrapper = fields.find((t) => t.tag === 0xa3);
  const extensions = extsWrapper ? children(der, children(der, extsWrapper)[0]).map(raw) : [];
  return { subject: raw(fields[4]), spki: raw(fields[5]), extensions };
}

function isAki(ext: Buffer): boolean {
  const first = readTlv(ext, 0);
  return Buffer.from(ext.subarray(first.contentStart, first.contentStart + AKI_OID.length)).equals(AKI_OID);
}

/**
 * The new root `newRootPem` signed by the old root (`oldRootPem` and its key `oldKeyPem`) at
 * `nowMs`: the certificate a rotation puts first in the new root's IntermediateCerts.
 */
export function crossSignCA(newRootPem: string, oldRootPem: string, oldKeyPem: string, nowMs: number): string {
  const oldRoot = new X509Certificate(oldRootPem);
  const key = createPrivateKey(oldKeyPem);
  const fresh = tbsParts(new X509Certificate(newRootPem).raw);
  const old = tbsParts(oldRoot.raw);
  // The AKI names the old root's key (its SKI, as Go takes the parent's), in the place the new root had its own.
  const aki = extension('2.5.29.35', false, sequence(implicit(0, authorityKeyId(oldRoot.raw))));
  const extensions = fresh.extensions.map((e) => (isAki(e) ? aki : e));
  if (!fresh.extensions.some(isAki)) extensions.push(aki);
  const notBefore = driftedNotBefore(nowMs);
  return new X509Certificate(signCertificate({
    serial: randomSerial(), issuer: old.subject, notBeforeMs: notBefore, notAfterMs: notBefore + CROSS_SIGN_TTL_MS,
    subject: fresh.subject, spki: fresh.spki, extensions,
  }, key)).toString();
}
