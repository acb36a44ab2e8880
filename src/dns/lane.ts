// Whole replies of a prepared entry laid out once, for the common case where nothing about the
// reply but the order of its records depends on the query: every record distinct (nothing to
// de-duplicate), a_record_limit and the transport cut nothing, compression on, the layout simple
// (layout.ts). Each instance's answers sit in one block with their owners already written as
// pointers to the question (offset 12), and its glue in another whose owner pointers are patched
// per query to the instance's SRV target; a query copies the header and question, then the blocks
// in the shuffled instance order. The bytes are those layout.ts writes for the same order.
import { SRV_TARGET_AT, type PackedQuestion } from './pack.ts';
import { EXACT, ID, LEN, OFF, SIZE, STRIDE, type PackedEntry } from './entry.ts';

const MAX_POINTER = 0x4000;
const OPT_SIZE = 11;
const QUESTION_OFFSET = 12;
const TYPE_SRV = 33;
const TYPE_OPT = 41;

/** An entry's reply laid out by instance (see above). */
export interface Lane {
  /** Instances, answer records, additional records, and instances with at least one answer (what a_record_limit counts). */
  instances: number;
  answers: number;
  extras: number;
  contributing: number;
  srv: boolean;
  /** The reply's size without an OPT, and its header and question's. */
  size: number;
  head: number;
  /**
   * The uncompressed size of every answer when each instance has exactly one and they are all
   * as long (A or AAAA, no additionals), else -1: then a reply cut to its first answers (UDP
   * without EDNS0) is a lane reply too.
   */
  full: number;
  /**
   * Everything a query reads, in one array (one allocation to reach, not one per part): from 0,
   * per block b two numbers, its first word in `data` and its length in bytes; from `glue`, per
   * instance i + 1 numbers, where its glue pointer offsets (from the start of its glue block)
   * start, then the offsets; then the blocks' bytes as 32-bit words in the machine's byte order.
   * A block of at most SHORT bytes (an A or AAAA record) is kept in four copies, copy r shifted
   * by r zero bytes, span(len) words each, so it is copied to any alignment without shifts; a
   * longer one (an SRV record with its target, glue with TXT) once from a word boundary, padded,
   * and shifted while copied: four copies made an SRV entry's lane ≈ 3 KiB for 10 instances.
   * Block 0 is the header (counts set but ARCOUNT's OPT, id and flags left to the writer) and
   * question; block 1 + 2i holds instance i's answers, 2 + 2i its glue.
   */
  data: Int32Array;
  glue: number;
}

/** The lane of a simple-layout entry (`targets` >= 0), or null when some reply would not be a plain concatenation of its blocks. */
export function laneOf(q: PackedQuestion, e: PackedEntry, srv: boolean, targets: number): Lane | null {
  if (targets < 0) return null;
  const { meta, rec, instances: n, bytes: src } = e;
  const ids = new Set<number>();
  const extIds = new Set<number>();
  const exacts = new Set<number>();
  let answers = 0;
  let extras = 0;
  let contributing = 0;
  let body = 0;
  let full = srv || n === 0 ? -1 : meta[rec + SIZE];
  for (let i = 0; i < n; i++) {
    const a0 = meta[2 * i];
    const e0 = meta[2 * i + 1];
    const e1 = meta[2 * i + 2];
    if (e0 > a0) contributing++;
    for (let k = a0; k < e0; k++) {
      const m = rec + STRIDE * k;
      if (ids.has(meta[m + ID])) return null;
      ids.add(meta[m + ID]);
      body += meta[m + LEN] + 2;
    }
    if (!srv) {
      if (e1 > e0) return null;
      if (e0 - a0 !== 1 || meta[rec + STRIDE * a0 + SIZE] !== full) full = -1;
    } else {
      // One SRV answer per instance, its target spelled by no other instance, owning all the instance's glue.
      if (e0 - a0 > 1 || (e0 === a0 && e1 > e0)) return null;
      if (e0 === a0) continue;
      const m0 = rec + STRIDE * a0;
      const exact = meta[m0 + EXACT];
      if (src.readUInt16BE(meta[m0 + OFF]) !== TYPE_SRV || exact < 0 || exacts.has(exact)) return null;
      exacts.add(exact);
      for (let k = e0; k < e1; k++) {
        const m = rec + STRIDE * k;
        if (extIds.has(meta[m + ID]) || meta[m + EXACT] !== exact) return null;
        extIds.add(meta[m + ID]);
        body += meta[m + LEN] + 2;
      }
    }
    answers += e0 - a0;
    extras += e1 - e0;
  }
  const headLen = QUESTION_OFFSET + q.name.bytes.length + 4;
  if (headLen + body + OPT_SIZE >= MAX_POINTER) return null;
  // The blocks as bytes first, then their words.
  const blocks = 2 * n + 1;
  const bytes = Buffer.alloc(headLen + body + 4 * blocks);
  const starts: number[] = [0];
  const lens: number[] = [headLen];
  const offsets: number[][] = [];
  bytes.writeUInt16BE(1, 4);
  bytes.writeUInt16BE(answers, 6);
  bytes.writeUInt16BE(extras, 10);
  q.name.bytes.copy(bytes, QUESTION_OFFSET);
  q.tail.copy(bytes, QUESTION_OFFSET + q.name.bytes.length);
  let w = padded(headLen);
  const put = (k: number, owner: number): void => {
    const m = rec + STRIDE * k;
    bytes[w] = owner >> 8;
    bytes[w + 1] = owner & 0xff;
    src.copy(bytes, w + 2, meta[m + OFF], meta[m + OFF] + meta[m + LEN]);
    w += 2 + meta[m + LEN];
  };
  for (let i = 0; i < n; i++) {
    let start = w;
    for (let k = meta[2 * i]; k < meta[2 * i + 1]; k++) put(k, 0xc000 | QUESTION_OFFSET);
    starts.push(start);
    lens.push(w - start);
    w = start + padded(w - start);
    start = w;
    const own: number[] = [];
    for (let k = meta[2 * i + 1]; k < meta[2 * i + 2]; k++) own.push(w - start), put(k, 0);
    offsets.push(own);
    starts.push(start);
    lens.push(w - start);
    w = start + padded(w - start);
  }
  const glue = 2 * blocks;
  const wordsAt = glue + n + 1 + extras;
  let words = 0;
  for (let b = 0; b < blocks; b++) words += lens[b] <= SHORT ? 4 * span(lens[b]) : padded(lens[b]) >> 2;
  const data = new Int32Array(wordsAt + words);
  // The blocks are laid out as bytes over data's own memory, so its words are in machine order.
  const out = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let at = wordsAt;
  for (let b = 0; b < blocks; b++) {
    data[2 * b] = at;
    data[2 * b + 1] = lens[b];
    const src = bytes.subarray(starts[b], starts[b] + lens[b]);
    if (lens[b] > SHORT) out.set(src, 4 * at), at += padded(lens[b]) >> 2;
    else for (let r = 0; r < 4; r++, at += span(lens[b])) out.set(src, 4 * at + r);
  }
  let x = glue + n + 1;
  for (let i = 0; i < n; i++) {
    data[glue + i] = x;
    for (const o of offsets[i]) data[x++] = o;
  }
  data[glue + n] = x;
  return { instances: n, answers, extras, contributing, srv, size: headLen + body, head: headLen, full, data, glue };
}

/** `len` rounded up to whole 32-bit words. */
function padded(len: number): number {
  return (len + 3) & ~3;
}

/** Blocks up to this many bytes are kept in four shifted copies (see Lane.data). */
const SHORT = 32;

/** Words of one shifted copy of a short block of `len` bytes: up to 3 leading zero bytes, then the block, padded. */
function span(len: number): number {
  return ((len + 3) >> 2) + 1;
}

/**
 * Replies are written straight into a slab and handed out as views of it: no copy, and one
 * ArrayBuffer per SLAB bytes of replies instead of one per 8 KiB pool of Buffer.allocUnsafe (a
 * young-generation GC sweeps every ArrayBuffer that died). A slab lives while a reply in it does.
 */
const SLAB = 256 * 1024;
let slab = Buffer.allocUnsafeSlow(SLAB);
let slabWords = new Int32Array(slab.buffer, slab.byteOffset, SLAB >> 2);
let used = 0;
/** Whether the machine is little-endian: which way a shift moves a word's bytes to later addresses. */
const LE = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;
/** Per alignment r, the mask of a word that keeps its first r bytes in memory (whatever the byte order). */
const KEEP = ((): Int32Array => {
  const keep = new Int32Array(4);
  const bytes = new Uint8Array(keep.buffer);
  for (let r = 1; r < 4; r++) bytes.fill(0xff, 4 * r, 4 * r + r);
  return keep;
})();
/** Where each instance's SRV target landed in the reply being written. */
let targetAt = new Int32Array(64);

/**
 * Copies block `b` of `data` to `w` in the slab in aligned whole words, the first merged with
 * the r = w & 3 bytes already before `w`: a short block from its copy shifted by r, a longer one
 * with each word shifted by r into two (up to 7 bytes after the block are overwritten, by what
 * follows or beyond the reply); returns the offset after its bytes.
 */
function block(data: Int32Array, b: number, w: number): number {
  const len = data[2 * b + 1];
  const r = w & 3;
  const out = slabWords;
  let x = w >> 2;
  if (len <= SHORT) {
    const words = ((len + 3) >> 2) + 1;
    const from = data[2 * b] + r * words;
    const to = from + ((r + len + 3) >> 2);
    out[x] = (out[x] & KEEP[r]) | data[from];
    for (let m = from + 1; m < to; m++) out[++x] = data[m];
    return w + len;
  }
  const first = data[2 * b];
  const end = first + ((len + 3) >> 2);
  if (r === 0) {
    for (let m = first; m < end; m++) out[x++] = data[m];
    return w + len;
  }
  const s = 8 * r;
  const t = 32 - s;
  let carry = out[x] & KEEP[r];
  for (let m = first; m < end; m++) {
    const v = data[m];
    out[x++] = carry | (LE ? v << s : v >>> s);
    carry = LE ? v >>> t : v << t;
  }
  out[x] = carry;
  return w + len;
}

/**
 * The lane's reply with the instances in `order` (only the first `kept`, each with one answer,
 * when `kept` is less than all), the request's id (`msg[0..2)`), `flags`, and
 * an OPT with `optPayload` when it is >= 0 (as pack.ts writes one). The reply is a view of a
 * shared slab: whoever keeps one for long should keep a copy instead.
 */
export function writeLane(lane: Lane, order: ArrayLike<number>, msg: Buffer, flags: number, optPayload: number, kept = lane.instances): Buffer {
  const n = kept;
  const data = lane.data;
  // Room for the reply, its OPT and block()'s overrun; replies start 8-aligned.
  if (used + lane.size + OPT_SIZE + 8 > SLAB) {
    slab = Buffer.allocUnsafeSlow(SLAB);
    slabWords = new Int32Array(slab.buffer, slab.byteOffset, SLAB >> 2);
    used = 0;
  }
  const at = used;
  const b = slab;
  let w = block(data, 0, at);
  b[at] = msg[0];
  b[at + 1] = msg[1];
  b[at + 2] = flags >> 8;
  b[at + 3] = flags & 0xff;
  if (!lane.srv) {
    for (let k = 0; k < n; k++) w = block(data, 1 + 2 * order[k], w);
    if (n < lane.instances) b[at + 6] = n >> 8, b[at + 7] = n & 0xff;
  } else {
    if (targetAt.length < n) targetAt = new Int32Array(n * 2);
    for (let k = 0; k < n; k++) {
      const i = order[k];
      targetAt[i] = w - at + 2 + SRV_TARGET_AT;
      w = block(data, 1 + 2 * i, w);
    }
    const glue = lane.glue;
    for (let k = 0; k < n; k++) {
      const i = order[k];
      const start = w;
      w = block(data, 2 + 2 * i, w);
      const hi = 0xc0 | (targetAt[i] >> 8);
      const lo = targetAt[i] & 0xff;
      for (let x = data[glue + i], end = data[glue + i + 1]; x < end; x++) b[start + data[x]] = hi, b[start + data[x] + 1] = lo;
    }
  }
  if (optPayload >= 0) {
    // pack.ts's writeOpt, in byte stores (writeUInt16BE's argument checks cost more than the rest).
    const payload = optPayload || 4096;
    b[w] = 0;
    b[w + 1] = 0;
    b[w + 2] = TYPE_OPT;
    b[w + 3] = payload >> 8;
    b[w + 4] = payload & 0xff;
    for (let j = 5; j < OPT_SIZE; j++) b[w + j] = 0;
    w += OPT_SIZE;
    b[at + 10] = (lane.extras + 1) >> 8;
    b[at + 11] = (lane.extras + 1) & 0xff;
  }
  used = (w + 7) & ~7;
  return b.subarray(at, w);
}
