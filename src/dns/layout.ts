// The compressed layout of prepared service answers without a compression table. In a reply of
// A/AAAA/SRV answers owned by the question name, with glue owned by SRV targets, compression
// always comes out the same way: every answer owner is a pointer to the question (offset 12) and
// every glue owner a pointer to the first SRV target spelling the same name, as long as the
// message stays under 16 KiB (the pointer range) and no target is a suffix of another name. For
// such entries sizes are sums and writing is copying; anything else takes pack.ts's writer.
import { SRV_TARGET_AT, writeOpt, type PackedQuestion, type PackedRecord } from './pack.ts';
import { EXACT, LEN, OFF, SIZE, STRIDE, type PackedEntry } from './entry.ts';
import type { WireName } from './compress.ts';

/** Pointers reach only the first 16 KiB. */
const MAX_POINTER = 0x4000;
const OPT_SIZE = 11;
const QUESTION_POINTER_HI = 0xc0;
const QUESTION_OFFSET = 12;

/**
 * How many distinct SRV targets an entry has when its records have the simple layout, else -1;
 * numbers each SRV target and glue owner (`exact`, by spelling) so the writer finds a glue owner's target.
 */
export function markSimple(question: PackedQuestion, answers: PackedRecord[][], extras: PackedRecord[][]): number {
  const spelled = new Map<string, number>();
  const suffixes = new Set<string>();
  // A prepared entry's records share one WireName per spelling (prepared.ts): each is read once.
  const texts = new Map<WireName, string>();
  const text = (n: WireName): string => {
    let t = texts.get(n);
    if (t === undefined) texts.set(n, (t = n.bytes.toString('latin1')));
    return t;
  };
  const qname = text(question.name);
  // Suffixes past the first label: sliced from the spelling, one copy out of the bytes per name.
  const addSuffixes = (name: WireName): void => {
    const t = text(name);
    for (let i = 1; i < name.starts.length; i++) suffixes.add(t.slice(name.starts[i]));
  };
  addSuffixes(question.name);
  for (const list of answers) {
    for (const r of list) {
      if (r.parts !== null || text(r.owner) !== qname) return -1;
      if (r.inner === null) continue;
      const t = text(r.inner);
      if (t === qname) return -1;
      if (!spelled.has(t)) spelled.set(t, spelled.size);
      r.exact = spelled.get(t)!;
      addSuffixes(r.inner);
    }
  }
  for (const t of spelled.keys()) if (suffixes.has(t)) return -1;
  for (const list of extras) {
    for (const r of list) {
      const id = spelled.get(text(r.owner));
      if (r.parts !== null || id === undefined) return -1;
      r.exact = id;
    }
  }
  return spelled.size;
}

/** Sizes and writes simple-layout replies from packed entries (entry.ts); one per handler (not re-entrant). */
export class SimpleLayout {
  #seen = new Uint32Array(64);
  #at = new Uint16Array(64);
  #gen = 0;

  /** The size of the reply with records `answers[0..kept)` and `extras[0..ne)` of `e`, or -1 when compressed it would reach past the pointer range. */
  size(q: PackedQuestion, e: PackedEntry, answers: Int32Array, kept: number, extras: Int32Array, ne: number, compress: boolean, opt: boolean): number {
    const { meta, rec } = e;
    let len = QUESTION_OFFSET + q.name.bytes.length + 4 + (opt ? OPT_SIZE : 0);
    if (!compress) {
      for (let i = 0; i < kept; i++) len += meta[rec + STRIDE * answers[i] + SIZE];
      for (let i = 0; i < ne; i++) len += meta[rec + STRIDE * extras[i] + SIZE];
      return len;
    }
    for (let i = 0; i < kept; i++) len += meta[rec + STRIDE * answers[i] + LEN] + 2;
    for (let i = 0; i < ne; i++) len += meta[rec + STRIDE * extras[i] + LEN] + 2;
    return len < MAX_POINTER ? len : -1;
  }

  /**
   * Writes the compressed reply (counts, question, records, OPT; id and flags left to the caller)
   * into `out`, exactly `size()` long; false when a glue owner's target is missing (use pack.ts).
   */
  write(out: Buffer, q: PackedQuestion, e: PackedEntry, answers: Int32Array, kept: number, extras: Int32Array, ne: number, targets: number, optPayload: number): boolean {
    if (this.#seen.length < targets) this.#seen = new Uint32Array(targets * 2), this.#at = new Uint16Array(targets * 2);
    if (++this.#gen === 0xffffffff) this.#seen.fill(0), this.#gen = 1;
    const gen = this.#gen;
    const { bytes, meta, rec } = e;
    out.writeUInt16BE(1, 4);
    out.writeUInt16BE(kept, 6);
    out.writeUInt16BE(0, 8);
    out.writeUInt16BE(ne + (optPayload >= 0 ? 1 : 0), 10);
    out.set(q.name.bytes, QUESTION_OFFSET);
    let at = QUESTION_OFFSET + q.name.bytes.length;
    out.set(q.tail, at);
    at += 4;
    for (let i = 0; i < kept; i++) {
      const m = rec + STRIDE * answers[i];
      out[at] = QUESTION_POINTER_HI;
      out[at + 1] = QUESTION_OFFSET;
      const exact = meta[m + EXACT];
      if (exact >= 0 && this.#seen[exact] !== gen) this.#seen[exact] = gen, this.#at[exact] = at + 2 + SRV_TARGET_AT;
      at = copy(out, at + 2, bytes, meta[m + OFF], meta[m + LEN]);
    }
    for (let i = 0; i < ne; i++) {
      const m = rec + STRIDE * extras[i];
      const exact = meta[m + EXACT];
      if (this.#seen[exact] !== gen) return false;
      const to = this.#at[exact];
      out[at] = 0xc0 | (to >> 8);
      out[at + 1] = to & 0xff;
      at = copy(out, at + 2, bytes, meta[m + OFF], meta[m + LEN]);
    }
    if (optPayload >= 0) writeOpt(out, at, optPayload);
    return true;
  }
}

/** Copies `len` bytes (a few dozen: a loop beats Buffer.copy's argument handling); returns the offset after them. */
function copy(out: Buffer, at: number, from: Buffer, off: number, len: number): number {
  for (let j = 0; j < len; j++) out[at + j] = from[off + j];
  return at + len;
}
