// Reads the server name (SNI) from the first bytes a TLS client sends, without terminating TLS:
// the ClientHello's server_name extension (RFC 6066 §3), reassembled from as many handshake
// records as it spans. A mesh gateway routes on it and then splices the bytes it peeked.

/** The most a ClientHello may take before the gateway gives up on it (Envoy's tls_inspector reads up to 64 KiB). */
export const MAX_CLIENT_HELLO = 64 * 1024;

/** What the bytes read so far say: more are needed, the SNI ('' when the hello names none), or not a TLS ClientHello. */
export type PeekResult = { more: true } | { sni: string } | { error: string };

/**
 * The most handshake records a ClientHello may span: the bytes are parsed again on every packet,
 * so a hello cut into thousands of one-byte records (legal TLS, sent by no real client) cost
 * seconds of CPU per connection.
 */
export const MAX_HELLO_RECORDS = 64;

const HANDSHAKE = 0x16;
const CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0x0000;
const HOST_NAME = 0x00;

/** Parses the SNI out of `buf`, the bytes received so far from the client. */
export function peekSni(buf: Buffer): PeekResult {
  // Reassemble the handshake layer from consecutive handshake records.
  const parts: Buffer[] = [];
  let have = 0;
  let off = 0;
  let need = -1;
  while (need < 0 || have < need) {
    if (buf.length < off + 5) return buf.length > MAX_CLIENT_HELLO ? { error: 'ClientHello too large' } : { more: true };
    if (buf[off] !== HANDSHAKE) return { error: 'not a TLS handshake record' };
    if (buf[off + 1] !== 3) return { error: 'unsupported TLS record version' };
    const len = buf.readUInt16BE(off + 3);
    if (len === 0) return { error: 'empty TLS handshake record' };
    if (buf.length < off + 5 + len) return buf.length > MAX_CLIENT_HELLO ? { error: 'ClientHello too large' } : { more: true };
    if (parts.length === MAX_HELLO_RECORDS) return { error: 'ClientHello split over too many records' };
    parts.push(buf.subarray(off + 5, off + 5 + len));
    have += len;
    off += 5 + len;
    if (need < 0 && have >= 4) {
      const head = parts.length === 1 ? parts[0] : Buffer.concat(parts);
      if (head[0] !== CLIENT_HELLO) return { error: 'first handshake message is not a ClientHello' };
      need = 4 + head.readUIntBE(1, 3);
      if (need > MAX_CLIENT_HELLO) return { error: 'ClientHello too large' };
    }
  }
  return helloSni(Buffer.concat(parts).subarray(4, need));
}

/** The server_name of a ClientHello body (after the 4-byte handshake header). */
export function helloSni(b: Buffer): { sni: string } | { error: string } {
  const bad = { error: 'malformed ClientHello' };
  let p = 2 + 32; // client_version, random
  if (b.length < p + 1) return bad;
  p += 1 + b[p]; // session_id
  if (b.length < p + 2) return bad;
  p += 2 + b.readUInt16BE(p); // cipher_suites
  if (b.length < p + 1) return bad;
  p += 1 + b[p]; // compression_methods
  if (p === b.length) return { sni: '' }; // no extensions
  if (b.length < p + 2) return bad;
  const end = p + 2 + b.readUInt16BE(p);
  if (end > b.length) return bad;
  p += 2;
  while (p + 4 <= end) {
    const type = b.readUInt16BE(p);
    const len = b.readUInt16BE(p + 2);
    p += 4;
    if (p + len > end) return bad;
    if (type === EXT_SERVER_NAME) {
      if (len < 2) return bad;
      let q = p + 2;
      const listEnd = q + b.readUInt16BE(p);
      if (listEnd > p + len) return bad;
      while (q + 3 <= listEnd) {
        const nameType = b[q];
        const nameLen = b.readUInt16BE(q + 1);
        q += 3;
        if (q + nameLen > listEnd) return bad;
        if (nameType === HOST_NAME) return { sni: b.toString('latin1', q, q + nameLen) };
        q += nameLen;
      }
      return bad;
    }
    p += len;
  }
  return p === end ? { sni: '' } : bad;
}
