// A minimal DER (X.690) writer for the certificates Proconsul builds itself (the built-in CA root,
// agent TLS certificates): tag-length-value concatenation of the universal types X.509 uses, and
// one TLV reader for walking to a field; certificates are otherwise read with X509Certificate.

/** Encodes one tag-length-value from the concatenated contents. */
export function tlv(tag: number, ...contents: Uint8Array[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** SEQUENCE of the encoded elements. */
export const sequence = (...elements: Uint8Array[]): Buffer => tlv(0x30, ...elements);
/** SET of the encoded elements (in the order given: callers pass one element or sorted ones). */
export const set = (...elements: Uint8Array[]): Buffer => tlv(0x31, ...elements);
/** OCTET STRING. */
export const octetString = (bytes: Uint8Array): Buffer => tlv(0x04, bytes);
/** BOOLEAN (DER: TRUE is 0xff). */
export const boolean = (value: boolean): Buffer => tlv(0x01, Buffer.from([value ? 0xff : 0]));
/** NULL. */
export const nullValue = (): Buffer => tlv(0x05);
/** Context-specific constructed [n] (an EXPLICIT tag). */
export const explicit = (n: number, ...elements: Uint8Array[]): Buffer => tlv(0xa0 | n, ...elements);
/** Context-specific primitive [n] carrying raw contents (an IMPLICIT tag on a primitive type). */
export const implicit = (n: number, contents: Uint8Array): Buffer => tlv(0x80 | n, contents);

/** BIT STRING whose last `unusedBits` bits are padding. */
export function bitString(bytes: Uint8Array, unusedBits = 0): Buffer {
  return tlv(0x03, Buffer.from([unusedBits]), bytes);
}

/** INTEGER of a non-negative value: a safe integer or big-endian magnitude bytes. */
export function integer(value: number | Uint8Array): Buffer {
  let bytes = typeof value === 'number' ? unsignedBytes(value) : Buffer.from(value);
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  bytes = bytes.subarray(start);
  // A set high bit would read as negative: prefix a zero byte.
  return tlv(0x02, bytes[0] & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

function unsignedBytes(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a non-negative safe integer: ${n}`);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from(bytes.length ? bytes : [0]);
}

/** OBJECT IDENTIFIER from its dotted form (`2.5.29.19`). */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const out = [40 * arcs[0] + arcs[1]];
  for (const arc of arcs.slice(2)) {
    const base128 = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) base128.unshift(0x80 | (v & 0x7f));
    out.push(...base128);
  }
  return tlv(0x06, Buffer.from(out));
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** A directory string as Go's x509 writes one: PrintableString when it can, else UTF8String. */
export function directoryString(s: string): Buffer {
  return PRINTABLE.test(s) ? tlv(0x13, Buffer.from(s, 'ascii')) : tlv(0x0c, Buffer.from(s, 'utf8'));
}

/**
 * An X.509 Time (RFC 5280 4.1.2.5) at whole seconds: UTCTime (`YYMMDDHHMMSSZ`) for years
 * 1950–2049, GeneralizedTime (`YYYYMMDDHHMMSSZ`) otherwise.
 */
export function time(ms: number): Buffer {
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  const year = Number(iso.slice(0, 4));
  if (year >= 1950 && year < 2050) return tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'ascii'));
  return tlv(0x18, Buffer.from(`${digits}Z`, 'ascii'));
}

/** One TLV's offsets in `der`: where it starts, where its contents start, and its end. */
export interface Tlv {
  start: number;
  contentStart: number;
  end: number;
}

/** Reads the tag-length header of the TLV at `at`. */
export function readTlv(der: Uint8Array, at: number): Tlv {
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
