// What the proxy reads from a peer's certificate (Consul's connect/tls.go): its SPIFFE URI, its
// serial as Consul encodes it, and the check that an upstream presents the expected identity.
import type { PeerCertificate } from 'node:tls';

/** The URI SANs of a certificate, as Node lists them in `subjectaltname`. */
export function certUris(cert: Pick<PeerCertificate, 'subjectaltname'>): string[] {
  const san = cert.subjectaltname ?? '';
  return san.split(/,\s*/).filter((s) => s.startsWith('URI:')).map((s) => s.slice(4));
}

/**
 * A serial number as Consul's connect.EncodeSerialNumber writes it: the big-endian bytes of the
 * number (no leading zero bytes), lower-case hex, colon-separated.
 */
export function encodeSerial(hex: string): string {
  let h = hex.toLowerCase().replace(/^0+/, '');
  if (h === '') return '';
  if (h.length % 2) h = `0${h}`;
  return h.match(/../g)!.join(':');
}

/**
 * Node's checkServerIdentity for an upstream dial: the server's certificate must carry `expected`
 * as a URI SAN (the chain to the roots is verified by TLS itself).
 */
export function serverIdentityCheck(expected: string): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    const uris = certUris(cert);
    if (uris.includes(expected)) return undefined;
    return new Error(`peer certificate mismatch got ${uris[0] ?? '<none>'}, want ${expected}`);
  };
}
