// RFC 1035 §4.1.4 name compression as miekg/dns (Consul's DNS library) applies it: every name
// suffix written below offset 16384 is remembered (case-sensitively) and a later name whose
// suffix was seen ends in a pointer to it. Names that may not be compressed (SRV targets) are
// still remembered, so later names can point into them.
import dnsPacket from 'dns-packet';

/** A domain name in wire form with its suffixes precomputed, ready to be written many times. */
export interface WireName {
  /** The uncompressed wire form, ending with the root label. */
  bytes: Buffer;
  /** Offset in `bytes` of each label but the root. */
  starts: number[];
  /** The compression key of the suffix starting at each of `starts`. */
  keys: string[];
}

/** Pointers can only reach the first 16 KiB of a message (14-bit offsets). */
const MAX_POINTER = 0x4000;
const MAX_NAME = 255;
const codec = dnsPacket as unknown as { name: { encode(name: string): Buffer } };

/** The wire form of a presentation name (dns-packet's label splitting); throws on labels over 63 bytes or names over 255. */
export function wireName(name: string): WireName {
  const bytes = codec.name.encode(name);
  if (bytes.length > MAX_NAME) throw new RangeError(`name too long: ${name}`);
  const starts: number[] = [];
  const keys: string[] = [];
  for (let i = 0; bytes[i] !== 0; i += bytes[i] + 1) {
    if (bytes[i] > 63) throw new RangeError(`label too long in ${name}`);
    starts.push(i);
    keys.push(bytes.toString('latin1', i));
  }
  return { bytes, starts, keys };
}

/** The suffixes already written in one message and where. */
export class CompressionTable {
  readonly #seen = new Map<string, number>();
  /** False writes every name in full and remembers nothing (dns_config.disable_compression). */
  enabled = true;

  /** Forgets every name: call at the start of each message. */
  reset(enabled: boolean): void {
    this.#seen.clear();
    this.enabled = enabled;
  }

  /** Writes `name` at `at` (pointing to an earlier suffix when `compress`); returns the offset after it. */
  write(out: Buffer, at: number, name: WireName, compress: boolean): number {
    const { bytes, starts, keys } = name;
    let end = bytes.length;
    let pointer = -1;
    if (this.enabled) {
      for (let i = 0; i < starts.length; i++) {
        const seen = this.#seen.get(keys[i]);
        if (seen === undefined) {
          if (at + starts[i] < MAX_POINTER) this.#seen.set(keys[i], at + starts[i]);
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
}
