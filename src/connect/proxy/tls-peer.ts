// What the proxy reads from a peer's certificate (Consul's connect/tls.go): its SPIFFE URI, its
// serial as Consul encodes it, and the check that an upstream presents the expected identity.
import type { PeerCertificate } from 'node:tls';

/**
 * The URI SANs of a certificate, in order, as Node lists them in `subjectaltname`: entries are
 * separated by `, ` and a value holding a comma or quote is written as a JSON string.
 */
export function certUris(cert: Pick<PeerCertificate, 'subjectaltname'>): string[] {
  const san = cert.subjectaltname ?? '';
  const out: string[] = [];
  const entry = /([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/y;
  for (let m = entry.exec(san); m && m[0] !== ''; m = entry.exec(san)) {
    if (m[1] !== 'URI') continue;
    try {
      out.push(m[2].startsWith('"') ? JSON.parse(m[2]) as string : m[2]);
    } catch {
      return out;
    }
  }
  return out;
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
 * Node's checkServerIdentity for an upstream dial (Consul's verifyServerCertMatchesURI): the
 * server certificate's first URI SAN must be `expected`, compared without case and with the trust
 * domain (host) taken from the certificate, as Consul leaves that to the CA's constraints (the
 * chain to the roots is verified by TLS itself).
 */
export function serverIdentityCheck(expected: string): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    const got = certUris(cert)[0];
    if (got === undefined) return new Error('peer certificate mismatch');
    if (withoutHost(got).toLowerCase() === withoutHost(expected).toLowerCase()) return undefined;
    return new Error(`peer certificate mismatch got ${got}, want ${expected}`);
  };
}

/** A `spiffe://host/path` URI without its host (`spiffe:///path`). */
function withoutHost(uri: string): string {
  return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/]*/i, '$1');
}
