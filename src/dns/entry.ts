// A prepared entry's records packed for the fast path: everything after each record's owner name
// (TYPE, CLASS, TTL, RDLENGTH, RDATA) back to back in one Buffer, and the few numbers the fast
// path reads per instance and per record in one Int32Array — two allocations per entry instead
// of a record object, a Buffer and arrays per record (a 1,000-service × 10-instance SRV catalog
// went from about 23 MB of prepared entries to the figure in bench/RESULTS.md). Owner names are
// not kept: in layout.ts's simple layout they are the question name or an SRV target, and
// entries without that layout keep their pack.ts records for the general writer.
import { wireNameOf, type WireName } from './compress.ts';
import { SRV_TARGET_AT, tail, type PackedQuestion, type PackedRecord } from './pack.ts';

/** Per-record numbers, STRIDE apart from `PackedEntry.rec`. */
export const OFF = 0; // where its wire bytes start in `bytes`
export const LEN = 1; // how many there are
export const SIZE = 2; // the whole record's uncompressed size (owner name included)
export const ID = 3; // its identity (de-duplication), numbered per entry
export const NAME = 4; // its owner name, numbered per entry (lower case, as additionals are matched)
export const REF = 5; // the other name it refers to (SRV target, CNAME/NS host), or -1
export const EXACT = 6; // layout.ts's number for an SRV target or glue owner by exact spelling, or -1
export const STRIDE = 7;

const TYPE_SRV = 33;

/** The records of one prepared entry. */
export interface PackedEntry {
  bytes: Buffer;
  /**
   * For n instances: 2n+1 record bounds (instance i's answers are records [b[2i], b[2i+1]), its
   * additionals [b[2i+1], b[2i+2])), then n answer sizes in full, n with owners as 2-byte
   * pointers, then STRIDE numbers per record from `rec`.
   */
  meta: Int32Array;
  instances: number;
  records: number;
  rec: number;
}

/** Packs pack.ts records (with id, nameId, refIds and exact set) of each instance: its answers, then its additionals. */
export function packEntry(answers: PackedRecord[][], extras: PackedRecord[][]): PackedEntry {
  const n = answers.length;
  let records = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (const r of answers[i]) records++, total += r.wire.length;
    for (const r of extras[i]) records++, total += r.wire.length;
  }
  const rec = 4 * n + 1;
  const meta = new Int32Array(rec + STRIDE * records);
  const bytes = Buffer.allocUnsafeSlow(total);
  let k = 0;
  let at = 0;
  const put = (r: PackedRecord): void => {
    const m = rec + STRIDE * k++;
    r.wire.copy(bytes, at);
    meta[m + OFF] = at;
    meta[m + LEN] = r.wire.length;
    meta[m + SIZE] = r.size;
    meta[m + ID] = r.id;
    meta[m + NAME] = r.nameId;
    meta[m + REF] = r.refIds.length > 1 ? r.refIds[1] : -1;
    meta[m + EXACT] = r.exact;
    at += r.wire.length;
  };
  for (let i = 0; i < n; i++) {
    meta[2 * i] = k;
    for (const r of answers[i]) {
      put(r);
      meta[2 * n + 1 + i] += r.size;
      meta[3 * n + 1 + i] += r.wire.length + 2;
    }
    meta[2 * i + 1] = k;
    for (const r of extras[i]) put(r);
  }
  meta[2 * n] = k;
  return { bytes, meta, instances: n, records, rec };
}

/**
 * The pack.ts records of an entry with layout.ts's simple layout (answers owned by the question
 * name, additionals by an SRV target of the same spelling), indexed by record number, for the
 * general writer (compression disabled, replies past 16 KiB, glue without its SRV record).
 */
export function unpackEntry(e: PackedEntry, q: PackedQuestion): PackedRecord[] {
  const { bytes, meta, rec } = e;
  const targets = new Map<number, WireName>();
  const out: PackedRecord[] = [];
  for (let k = 0; k < e.records; k++) {
    const m = rec + STRIDE * k;
    const wire = bytes.subarray(meta[m + OFF], meta[m + OFF] + meta[m + LEN]);
    const type = wire.readUInt16BE(0);
    const inner = type === TYPE_SRV ? wireNameOf(tail(wire, SRV_TARGET_AT)) : null;
    if (inner !== null && meta[m + EXACT] >= 0 && !targets.has(meta[m + EXACT])) targets.set(meta[m + EXACT], inner);
    out.push({
      type, owner: q.name, wire, parts: null, inner, innerAt: SRV_TARGET_AT, size: meta[m + SIZE], key: '', refs: [],
      id: meta[m + ID], nameId: meta[m + NAME], refIds: [], exact: meta[m + EXACT],
    });
  }
  // Additionals are owned by a target (layout.ts's markSimple checked every one has its SRV record).
  for (let i = 0; i < e.instances; i++) {
    for (let k = meta[2 * i + 1]; k < meta[2 * i + 2]; k++) out[k].owner = targets.get(out[k].exact)!;
  }
  return out;
}
