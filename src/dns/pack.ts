// Writing replies with name compression: each record is converted once from dns-packet's answer
// object into wire parts (owner name, TYPE/CLASS/TTL, RDATA bytes and names), and one writer lays
// out header, question and sections into a reusable buffer as miekg/dns packs a message: owner
// names and the RDATA names of CNAME, NS, PTR and SOA are compressed; SRV targets never are
// (RFC 2782) but later names may point into them. Records without compressible RDATA are copied
// whole after their owner name.
import dnsPacket, { type Answer } from 'dns-packet';
import { CompressionTable, wireName, type WireName } from './compress.ts';
import { bareName, referencedNames } from './truncate.ts';

/** A compressible name inside RDATA, or raw RDATA bytes (exactly one of the two is set). */
export interface RdataPart {
  name: WireName | null;
  bytes: Buffer | null;
}

/** A record ready to be written. */
export interface PackedRecord {
  type: number;
  owner: WireName;
  /** Everything after the owner name, uncompressed: TYPE, CLASS, TTL, RDLENGTH, RDATA. */
  wire: Buffer;
  /** RDATA with names that may be compressed (CNAME, NS, PTR, SOA); null when `wire` is written as is. */
  parts: RdataPart[] | null;
  /** A name written in full inside `wire` (an SRV target) and its offset there: later names may point into it. */
  inner: WireName | null;
  innerAt: number;
  /** Uncompressed size of the whole record. */
  size: number;
  /** Lower-case owner without the trailing dot, as additionals are matched. */
  key: string;
  /** The names the record refers to (its owner, an SRV target, a CNAME or NS host). */
  refs: string[];
  /** Numbers the prepared path gives the record's identity, owner and referenced names (-1 / empty elsewhere). */
  id: number;
  nameId: number;
  refIds: number[];
  /** The number layout.ts gives an SRV target or a glue owner by its exact spelling (-1 elsewhere). */
  exact: number;
}

/** The question of a reply: its name, then QTYPE and QCLASS (4 bytes). */
export interface PackedQuestion {
  name: WireName;
  tail: Buffer;
}

const TYPE_OPT = 41;
/** Where an SRV record's target starts in its `wire` (TYPE, CLASS, TTL, RDLENGTH, priority, weight, port). */
export const SRV_TARGET_AT = 16;
const MAX_MESSAGE = 65535;
const codec = dnsPacket as unknown as {
  answer: { encode(a: Answer): Buffer };
  question: { encode(q: { name: string; type: string; class: string }, buf: Buffer): unknown; encodingLength(q: { name: string }): number };
};

/**
 * Converts a dns-packet record (throws what dns-packet throws on bad data, or on over-long names).
 * `names` shares one WireName per spelling among the records of a prepared entry.
 */
export function packRecord(a: Answer, names?: Map<string, WireName>): PackedRecord {
  const wn = (n: string): WireName => {
    if (!names) return wireName(n);
    let w = names.get(n);
    if (w === undefined) names.set(n, (w = wireName(n)));
    return w;
  };
  const owner = wn(a.name);
  const direct = directWire(a, wn);
  const full = direct === null ? codec.answer.encode(a) : null;
  const wire = full === null ? direct! : tail(full, owner.bytes.length);
  const data = (a as { data?: unknown }).data;
  let parts: RdataPart[] | null = null;
  let inner: WireName | null = null;
  if (a.type === 'CNAME' || a.type === 'NS' || a.type === 'PTR') parts = [named(data as string)];
  else if (a.type === 'SOA') {
    const soa = data as { mname: string; rname: string };
    parts = [named(soa.mname), named(soa.rname), { name: null, bytes: full!.subarray(full!.length - 20) }];
  } else if (a.type === 'SRV') inner = wn((data as { target: string }).target);
  return {
    type: wire.readUInt16BE(0), owner, wire, parts, inner, innerAt: SRV_TARGET_AT, size: owner.bytes.length + wire.length, key: bareName(a.name),
    refs: a.type === 'OPT' ? [] : referencedNames(a), id: -1, nameId: -1, refIds: [], exact: -1,
  };
}

const DOTTED_QUAD = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const TYPE_A = 1;
const TYPE_SRV = 33;
const CLASS_IN = 1;

/**
 * What dns-packet writes after the owner name of an IN A record with a dotted-quad address or an IN
 * SRV record, the prepared path's bulk, written here without its encoder's per-label calls into C++;
 * null for any other record (dns-packet encodes it).
 */
function directWire(a: Answer, wn: (n: string) => WireName): Buffer | null {
  const r = a as { type: string; class?: string; flush?: boolean; ttl?: number; data?: unknown };
  const ttl = r.ttl || 0;
  if ((r.class !== undefined && r.class !== 'IN') || r.flush || !Number.isInteger(ttl) || ttl < 0 || ttl > 0xffffffff) return null;
  if (r.type === 'A' && typeof r.data === 'string' && DOTTED_QUAD.test(r.data)) {
    const out = Buffer.alloc(14);
    head(out, TYPE_A, ttl, 4);
    let o = 10;
    let n = 0;
    // ip-codec's parse, as dns-packet writes the address.
    for (let i = 0; i < r.data.length; i++) {
      const c = r.data.charCodeAt(i);
      if (c === 46) out[o++] = n, n = 0;
      else n = n * 10 + (c - 48);
    }
    out[o] = n;
    return out;
  }
  if (r.type !== 'SRV') return null;
  const d = r.data as { priority?: number; weight?: number; port?: number; target: string };
  const fields = [d.priority || 0, d.weight || 0, d.port || 0];
  if (!fields.every((f) => Number.isInteger(f) && f >= 0 && f <= 0xffff)) return null;
  const target = wn(d.target).bytes;
  const out = Buffer.alloc(SRV_TARGET_AT + target.length);
  head(out, TYPE_SRV, ttl, 6 + target.length);
  out.writeUInt16BE(fields[0], 10);
  out.writeUInt16BE(fields[1], 12);
  out.writeUInt16BE(fields[2], 14);
  target.copy(out, SRV_TARGET_AT);
  return out;
}

function head(out: Buffer, type: number, ttl: number, rdlength: number): void {
  out.writeUInt16BE(type, 0);
  out.writeUInt16BE(CLASS_IN, 2);
  out.writeUInt32BE(ttl, 4);
  out.writeUInt16BE(rdlength, 8);
}

/**
 * A copy of `buf` from `at`. Not subarray(): a view makes V8 move the small record's bytes out of
 * the heap into their own allocation, and reading thousands of scattered ones per second costs
 * cache misses on the hot path.
 */
export function tail(buf: Buffer, at: number): Buffer {
  const out = Buffer.alloc(buf.length - at);
  for (let j = at; j < buf.length; j++) out[j - at] = buf[j];
  return out;
}

function named(name: string): RdataPart {
  return { name: wireName(name), bytes: null };
}

/** The question of a reply to `name` with the request's type and class. */
export function packQuestion(name: string, type: string, klass: string): PackedQuestion {
  // question.encode returns the question, not the buffer: hand it one.
  const full = Buffer.alloc(codec.question.encodingLength({ name }));
  codec.question.encode({ name, type, class: klass }, full);
  return { name: wireName(name), tail: tail(full, full.length - 4) };
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
   * Writes a reply with the first `an` answers and `ar` additionals into `buf`; returns its length (which may exceed
   * 64 KiB while measuring). `optPayload` >= 0 appends an option-less OPT with that payload size.
   */
  write(head: ReplyHead, q: PackedQuestion, answers: readonly PackedRecord[], an: number, authorities: readonly PackedRecord[],
    additionals: readonly PackedRecord[], ar: number, compress: boolean, optPayload = -1): number {
    this.#table.reset(compress);
    this.#ensure(12 + q.name.bytes.length + 4 + 11);
    const b = this.buf;
    b.writeUInt16BE(head.id, 0);
    b.writeUInt16BE(head.flags, 2);
    b.writeUInt16BE(1, 4);
    b.writeUInt16BE(an, 6);
    b.writeUInt16BE(authorities.length, 8);
    b.writeUInt16BE(ar + (optPayload >= 0 ? 1 : 0), 10);
    let at = this.#table.write(b, 12, q.name, true);
    b.set(q.tail, at);
    at += 4;
    for (let i = 0; i < an; i++) at = this.#record(at, answers[i]);
    for (const r of authorities) at = this.#record(at, r);
    for (let i = 0; i < ar; i++) at = this.#record(at, additionals[i]);
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
    const table = this.#table;
    at = table.write(b, at, r.owner, true);
    const wire = r.wire;
    if (r.parts === null || !table.enabled) {
      for (let j = 0; j < wire.length; j++) b[at + j] = wire[j];
      if (r.inner !== null) table.remember(b, at + r.innerAt, r.inner);
      return at + wire.length;
    }
    for (let j = 0; j < 8; j++) b[at + j] = wire[j];
    const start = at + 10;
    at = start;
    for (const part of r.parts) {
      if (part.name !== null) at = table.write(b, at, part.name, true);
      else for (let j = 0; j < part.bytes!.length; j++) b[at++] = part.bytes![j];
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
export function writeOpt(out: Buffer, at: number, payload: number): void {
  out[at] = 0;
  out.writeUInt16BE(TYPE_OPT, at + 1);
  out.writeUInt16BE(payload || 4096, at + 3);
  out.writeUInt32BE(0, at + 5);
  out.writeUInt16BE(0, at + 9);
}
