// Writing replies with name compression: each record is converted once from dns-packet's answer
// object into wire parts (owner name, TYPE/CLASS/TTL, RDATA bytes and names), and one writer lays
// out header, question and sections into a reusable buffer as miekg/dns packs a message: owner
// names and the RDATA names of CNAME, NS, PTR and SOA are compressed; SRV targets never are
// (RFC 2782) but later names may point into them.
import dnsPacket, { type Answer } from 'dns-packet';
import { CompressionTable, wireName, type WireName } from './compress.ts';
import { bareName, referencedNames } from './truncate.ts';

/** A piece of RDATA: raw bytes, or a name and whether it may be compressed. */
export type RdataPart = Buffer | { name: WireName; compress: boolean };

/** A record ready to be written. */
export interface PackedRecord {
  type: number;
  owner: WireName;
  /** TYPE, CLASS and TTL (8 bytes). */
  head: Buffer;
  rdata: RdataPart[];
  /** Uncompressed size of the whole record. */
  size: number;
  /** Lower-case owner without the trailing dot, as additionals are matched. */
  key: string;
  /** The names the record refers to (its owner, an SRV target, a CNAME or NS host). */
  refs: string[];
}

/** The question of a reply: its name, then QTYPE and QCLASS (4 bytes). */
export interface PackedQuestion {
  name: WireName;
  tail: Buffer;
}

const TYPE_OPT = 41;
const MAX_MESSAGE = 65535;
const codec = dnsPacket as unknown as {
  answer: { encode(a: Answer): Buffer };
  question: { encode(q: { name: string; type: string; class: string }, buf: Buffer): unknown; encodingLength(q: { name: string }): number };
};

/** Converts a dns-packet record (throws what dns-packet throws on bad data, or on over-long names). */
export function packRecord(a: Answer): PackedRecord {
  const full = codec.answer.encode(a);
  const owner = wireName(a.name);
  const at = owner.bytes.length;
  const head = full.subarray(at, at + 8);
  const data = (a as { data?: unknown }).data;
  let rdata: RdataPart[];
  switch (a.type) {
    case 'CNAME':
    case 'NS':
    case 'PTR':
      rdata = [{ name: wireName(data as string), compress: true }];
      break;
    case 'SOA': {
      const soa = data as { mname: string; rname: string };
      rdata = [{ name: wireName(soa.mname), compress: true }, { name: wireName(soa.rname), compress: true }, full.subarray(full.length - 20)];
      break;
    }
    case 'SRV':
      rdata = [full.subarray(at + 10, at + 16), { name: wireName((data as { target: string }).target), compress: false }];
      break;
    default:
      rdata = [full.subarray(at + 10)];
  }
  return { type: head.readUInt16BE(0), owner, head, rdata, size: full.length, key: bareName(a.name), refs: a.type === 'OPT' ? [] : referencedNames(a) };
}

/** The question of a reply to `name` with the request's type and class. */
export function packQuestion(name: string, type: string, klass: string): PackedQuestion {
  // question.encode returns the question, not the buffer: hand it one.
  const full = Buffer.alloc(codec.question.encodingLength({ name }));
  codec.question.encode({ name, type, class: klass }, full);
  return { name: wireName(name), tail: full.subarray(full.length - 4) };
}

/** Whether a record is the EDNS0 OPT pseudo-record (kept whatever the answers refer to). */
export function isOpt(r: PackedRecord): boolean {
  return r.type === TYPE_OPT;
}

/** The header fields of a reply besides the counts. */
export interface ReplyHead {
  id: number;
  flags: number;
}

/** Lays out replies in one reusable buffer; not re-entrant (callers are synchronous). */
export class MessageWriter {
  buf = Buffer.allocUnsafe(4096);
  readonly #table = new CompressionTable();

  /**
   * Writes a reply with the first `an` answers into `buf`; returns its length (which may exceed
   * 64 KiB while measuring). `optPayload` >= 0 appends an option-less OPT with that payload size.
   */
  write(head: ReplyHead, q: PackedQuestion, answers: readonly PackedRecord[], an: number, authorities: readonly PackedRecord[],
    additionals: readonly PackedRecord[], compress: boolean, optPayload = -1): number {
    this.#table.reset(compress);
    this.#ensure(12 + q.name.bytes.length + 4 + 11);
    const b = this.buf;
    b.writeUInt16BE(head.id, 0);
    b.writeUInt16BE(head.flags, 2);
    b.writeUInt16BE(1, 4);
    b.writeUInt16BE(an, 6);
    b.writeUInt16BE(authorities.length, 8);
    b.writeUInt16BE(additionals.length + (optPayload >= 0 ? 1 : 0), 10);
    let at = this.#table.write(b, 12, q.name, true);
    b.set(q.tail, at);
    at += 4;
    for (let i = 0; i < an; i++) at = this.#record(at, answers[i]);
    for (const r of authorities) at = this.#record(at, r);
    for (const r of additionals) at = this.#record(at, r);
    if (optPayload >= 0) {
      this.#ensure(at + 11);
      writeOpt(this.buf, at, optPayload);
      at += 11;
    }
    return at;
  }

  /** A copy of the first `len` bytes of the buffer (the reply to send). */
  take(len: number): Buffer {
    if (len > MAX_MESSAGE) throw new RangeError('reply over 64 KiB');
    const out = Buffer.allocUnsafe(len);
    out.set(this.buf.subarray(0, len));
    return out;
  }

  #record(at: number, r: PackedRecord): number {
    this.#ensure(at + r.size);
    const b = this.buf;
    at = this.#table.write(b, at, r.owner, true);
    b.set(r.head, at);
    const start = at + 10;
    at = start;
    for (const part of r.rdata) {
      if (part instanceof Uint8Array) b.set(part, at), at += part.length;
      else at = this.#table.write(b, at, part.name, part.compress);
    }
    b.writeUInt16BE(at - start, start - 2);
    return at;
  }

  #ensure(size: number): void {
    if (size <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(size, this.buf.length * 2));
    bigger.set(this.buf);
    this.buf = bigger;
  }
}

/** An option-less OPT echoing the client's payload size (dns-packet writes 4096 for 0). */
function writeOpt(out: Buffer, at: number, payload: number): void {
  out[at] = 0;
  out.writeUInt16BE(TYPE_OPT, at + 1);
  out.writeUInt16BE(payload || 4096, at + 3);
  out.writeUInt32BE(0, at + 5);
  out.writeUInt16BE(0, at + 9);
}
