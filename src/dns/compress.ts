// RFC 1035 §4.1.4 name compression as miekg/dns (Consul's DNS library) applies it: every name
// suffix written below offset 16384 is remembered (case-sensitively) and a later name whose
// suffix was seen ends in a pointer to it. Names that may not be compressed (SRV targets) are
// still remembered, so later names can point into them. The table is a hash of suffixes to
// offsets, checked against the bytes already written, reused across messages without allocating.
import dnsPacket from 'dns-packet';

/** A domain name in wire form with its suffixes precomputed, ready to be written many times. */
export interface WireName {
  /** The uncompressed wire form, ending with the root label. */
  bytes: Buffer;
  /** Offset in `bytes` of each label but the root. */
  starts: number[];
  /** A hash of the suffix starting at each of `starts`. */
  hashes: number[];
}

/** Pointers can only reach the first 16 KiB of a message (14-bit offsets). */
const MAX_POINTER = 0x4000;
const MAX_NAME = 255;
const codec = dnsPacket as unknown as { name: { encode(name: string): Buffer } };

/** The wire form of a presentation name (dns-packet's label splitting); throws on labels over 63 bytes or names over 255. */
export function wireName(name: string): WireName {
  return wireNameOf(encodeName(name), name);
}

/**
 * dns-packet's name.encode, in JavaScript for a printable ASCII name: dns-packet writes each label
 * with a call into C++ (Buffer#write), which cost a fifth of building a prepared entry (issue #5).
 * Other names (empty, control or non-ASCII characters) go to dns-packet.
 */
export function encodeName(name: string): Buffer {
  // dns-packet strips one leading and one trailing dot.
  const from = name.charCodeAt(0) === 46 ? 1 : 0;
  const to = name.length > from && name.charCodeAt(name.length - 1) === 46 ? name.length - 1 : name.length;
  if (to <= from) return codec.name.encode(name);
  const out = Buffer.alloc(to - from + 2);
  let lenAt = 0;
  let o = 1;
  for (let i = from; i < to; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c >= 0x7f) return codec.name.encode(name);
    if (c === 46) {
      out[lenAt] = o - lenAt - 1;
      lenAt = o++;
    } else out[o++] = c;
  }
  out[lenAt] = o - lenAt - 1;
  return out;
}

/** A name already in uncompressed wire form (its own copy, ending with the root label); `name` only labels errors. */
export function wireNameOf(bytes: Buffer, name = bytes.toString('latin1')): WireName {
  if (bytes.length > MAX_NAME) throw new RangeError(`name too long: ${name}`);
  const starts: number[] = [];
  for (let i = 0; bytes[i] !== 0; i += bytes[i] + 1) {
    if (bytes[i] > 63) throw new RangeError(`label too long in ${name}`);
    starts.push(i);
  }
  // FNV-1a from the root up, so each suffix's hash extends the next one's.
  const hashes = new Array<number>(starts.length);
  let h = 0x811c9dc5;
  for (let i = starts.length - 1; i >= 0; i--) {
    for (let j = starts[i]; j < (i + 1 < starts.length ? starts[i + 1] : bytes.length - 1); j++) h = Math.imul(h ^ bytes[j], 0x01000193);
    hashes[i] = h | 0;
  }
  return { bytes, starts, hashes };
}

/** The suffixes already written in one message and where. */
export class CompressionTable {
  /** False writes every name in full and remembers nothing (dns_config.disable_compression). */
  enabled = true;
  #mask = 255;
  #stamp = new Uint32Array(256);
  #hash = new Int32Array(256);
  #where = new Uint16Array(256);
  #gen = 1;
  #count = 0;

  /** Forgets every name: call at the start of each message. */
  reset(enabled: boolean): void {
    this.enabled = enabled;
    this.#count = 0;
    if (++this.#gen === 0xffffffff) this.#stamp.fill(0), this.#gen = 1;
  }

  /** Writes `name` at `at` (pointing to an earlier suffix when `compress`); returns the offset after it. */
  write(out: Buffer, at: number, name: WireName, compress: boolean): number {
    const { bytes, starts } = name;
    let end = bytes.length;
    let pointer = -1;
    if (this.enabled) {
      for (let i = 0; i < starts.length; i++) {
        const seen = this.#find(out, name, i);
        if (seen < 0) {
          if (at + starts[i] < MAX_POINTER) this.#insert(name.hashes[i], at + starts[i]);
        } else if (compress) {
          end = starts[i];
          pointer = seen;
          break;
        }
      }
    }
    // Names are short: a plain loop beats Buffer.copy's argument handling.
    for (let j = 0; j < end; j++) out[at + j] = bytes[j];
    if (pointer < 0) return at + end;
    out[at + end] = 0xc0 | (pointer >> 8);
    out[at + end + 1] = pointer & 0xff;
    return at + end + 2;
  }

  /** Remembers the suffixes of a name already written in full at `at` (an SRV target). */
  remember(out: Buffer, at: number, name: WireName): void {
    if (!this.enabled) return;
    for (let i = 0; i < name.starts.length; i++) {
      if (at + name.starts[i] < MAX_POINTER && this.#find(out, name, i) < 0) this.#insert(name.hashes[i], at + name.starts[i]);
    }
  }

  /** Where the suffix of `name` from its label `i` was written in `out`, or -1. */
  #find(out: Buffer, name: WireName, i: number): number {
    const h = name.hashes[i];
    for (let slot = h & this.#mask; this.#stamp[slot] === this.#gen; slot = (slot + 1) & this.#mask) {
      if (this.#hash[slot] === h && sameSuffix(out, this.#where[slot], name.bytes, name.starts[i])) return this.#where[slot];
    }
    return -1;
  }

  #insert(h: number, at: number): void {
    if (++this.#count * 2 > this.#mask) this.#grow();
    let slot = h & this.#mask;
    while (this.#stamp[slot] === this.#gen) slot = (slot + 1) & this.#mask;
    this.#stamp[slot] = this.#gen;
    this.#hash[slot] = h;
    this.#where[slot] = at;
  }

  #grow(): void {
    const [stamp, hash, where, gen] = [this.#stamp, this.#hash, this.#where, this.#gen];
    const size = stamp.length * 2;
    this.#mask = size - 1;
    this.#stamp = new Uint32Array(size);
    this.#hash = new Int32Array(size);
    this.#where = new Uint16Array(size);
    this.#gen = 1;
    for (let s = 0; s < stamp.length; s++) {
      if (stamp[s] !== gen) continue;
      let slot = hash[s] & this.#mask;
      while (this.#stamp[slot] === 1) slot = (slot + 1) & this.#mask;
      this.#stamp[slot] = 1;
      this.#hash[slot] = hash[s];
      this.#where[slot] = where[s];
    }
  }
}

/** Whether the name written at `at` in `out` (following pointers) equals `bytes` from `from`, byte for byte. */
function sameSuffix(out: Buffer, at: number, bytes: Buffer, from: number): boolean {
  for (;;) {
    while (out[at] >= 0xc0) at = ((out[at] & 0x3f) << 8) | out[at + 1];
    const len = out[at];
    if (len !== bytes[from]) return false;
    if (len === 0) return true;
    for (let j = 1; j <= len; j++) if (out[at + j] !== bytes[from + j]) return false;
    at += len + 1;
    from += len + 1;
  }
}
