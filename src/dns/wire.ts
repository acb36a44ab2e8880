// Reading the common query shape straight from the wire, without dns-packet: one question of
// class IN with a plain name (letters, digits, `-`, `_`), no answer or authority records and at
// most an EDNS0 OPT whose options the reply does not echo (dig and BIND send a COOKIE; client
// subnet, which is echoed, and options dns-packet parses take the general path). Anything else
// returns null and takes the general path.

/** A plain query as read from the wire. */
export interface WireQuery {
  /** The question name in wire form, lower-cased, followed by the QTYPE: the cache key (made on first use). */
  readonly key: string;
  /** A 30-bit hash of the key's bytes (a small integer: a cheap map key); sameKey() tells a collision. */
  hash: number;
  /** The question type number. */
  qtype: number;
  /** The RD bit of the request, to echo. */
  rd: boolean;
  /** The OPT's UDP payload size as sent, or -1 without EDNS0. */
  ednsPayload: number;
}

const CLASS_IN = 1;
const TYPE_OPT = 41;
/** EDNS0 options left to the general path: client subnet (echoed), keepalive and key-tag (parsed by dns-packet). */
const GENERAL_OPTIONS = new Set([8, 11, 14]);
const MAX_NAME = 255;
const scratch = Buffer.allocUnsafe(MAX_NAME + 2);
/** Length of the key in `scratch`. */
let keyLen = 0;

/** The one WireQuery readQuery fills: callers use it before reading the next query (no allocation per query). */
class Parsed implements WireQuery {
  #key: string | null = null;
  hash = 0;
  qtype = 0;
  rd = false;
  ednsPayload = -1;

  get key(): string {
    return (this.#key ??= scratch.toString('latin1', 0, keyLen));
  }

  reset(): void {
    this.#key = null;
  }
}
const parsed = new Parsed();

/** Parses a query of the common shape into a shared object (valid until the next call); null sends it down the general path. */
export function readQuery(msg: Buffer): WireQuery | null {
  if (msg.length < 17 || msg[4] !== 0 || msg[5] !== 1 || msg[6] !== 0 || msg[7] !== 0 || msg[8] !== 0 || msg[9] !== 0) return null;
  if (msg[10] !== 0 || msg[11] > 1) return null;
  const nameEnd = copyName(msg, 12);
  if (nameEnd < 0 || nameEnd + 5 > msg.length) return null;
  const end = nameEnd + 5;
  if (msg.readUInt16BE(end - 2) !== CLASS_IN) return null;
  const qtype = msg.readUInt16BE(end - 4);
  const rd = (msg[2] & 0x01) !== 0;
  const nameLen = nameEnd + 1 - 12;
  scratch[nameLen] = msg[end - 4];
  scratch[nameLen + 1] = msg[end - 3];
  const hash = Math.imul(Math.imul(nameHash ^ msg[end - 4], FNV_PRIME) ^ msg[end - 3], FNV_PRIME) >>> 2;
  let ednsPayload = -1;
  if (msg[11] === 0) {
    if (end !== msg.length) return null;
  } else {
    // The OPT: root name, TYPE 41, CLASS = payload size, TTL, RDLENGTH, then whole options to the end.
    if (msg.length < end + 11 || msg[end] !== 0 || msg.readUInt16BE(end + 1) !== TYPE_OPT) return null;
    if (msg.length !== end + 11 + msg.readUInt16BE(end + 9) || !plainOptions(msg, end + 11)) return null;
    ednsPayload = msg.readUInt16BE(end + 3);
  }
  keyLen = nameLen + 2;
  parsed.reset();
  parsed.hash = hash;
  parsed.qtype = qtype;
  parsed.rd = rd;
  parsed.ednsPayload = ednsPayload;
  return parsed;
}

/** True when the options from `at` to the end are whole and none needs the general path. */
function plainOptions(msg: Buffer, at: number): boolean {
  while (at < msg.length) {
    if (at + 4 > msg.length || GENERAL_OPTIONS.has(msg.readUInt16BE(at))) return false;
    at += 4 + msg.readUInt16BE(at + 2);
  }
  return at === msg.length;
}

/** Whether `bytes` is the key of the last query read (its whole length). */
export function sameKey(bytes: Uint8Array): boolean {
  if (bytes.length !== keyLen) return false;
  for (let i = 0; i < keyLen; i++) if (bytes[i] !== scratch[i]) return false;
  return true;
}

/** A copy of the key bytes of the last query read, for sameKey() (a plain Uint8Array: a short one keeps its bytes inside the object). */
export function keyBytes(): Uint8Array {
  return new Uint8Array(scratch.subarray(0, keyLen));
}

const FNV_PRIME = 0x01000193;
/** FNV-1a of the lower-cased name copyName copied last (its length octets included). */
let nameHash = 0;

/** Copies the name at `at` into `scratch`, lower-cased (and hashes it); returns the offset of its root label, or -1 if it is not plain. */
function copyName(msg: Buffer, at: number): number {
  let i = at;
  let h = 0x811c9dc5;
  for (;;) {
    if (i >= msg.length) return -1;
    const len = msg[i];
    if (i - at + len + 1 > MAX_NAME - 1) return -1;
    scratch[i - at] = len;
    h = Math.imul(h ^ len, FNV_PRIME);
    if (len === 0) {
      nameHash = h;
      return i === at ? -1 : i;
    }
    if (len > 63 || i + 1 + len > msg.length) return -1;
    for (let j = i + 1; j <= i + len; j++) {
      let c = msg[j];
      if (c >= 0x41 && c <= 0x5a) c |= 0x20;
      else if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f)) return -1;
      scratch[j - at] = c;
      h = Math.imul(h ^ c, FNV_PRIME);
    }
    i += len + 1;
  }
}

/** The dotted, lower-case question name of a cache key (no trailing dot). */
export function keyName(key: string): string {
  const labels: string[] = [];
  for (let i = 0; key.charCodeAt(i) !== 0; i += key.charCodeAt(i) + 1) labels.push(key.slice(i + 1, i + 1 + key.charCodeAt(i)));
  return labels.join('.');
}
