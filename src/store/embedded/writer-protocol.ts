// Messages between the embedded store and its writer thread. A group of mutations is written into
// one of two shared slots (SharedArrayBuffer) and announced by a small message: posting keys and
// values themselves cost 20-30 µs per message (string serialization, ArrayBuffer allocation and
// transfer). A group too large for a slot travels as flat arrays with every value copied into one
// transferred buffer (structured-cloning each value would copy the pooled ArrayBuffer behind it).
import type { Mutation } from '../engine-store.ts';

/** One group commit's worth of mutations, in commit order. */
export interface WriteGroup {
  type: 'write';
  seq: number;
  /** Keys of the kv operations in order. */
  keys: string[];
  /** Five numbers per kv operation: createRevision, modRevision, version, lease, value length (-1: delete). */
  nums: Float64Array;
  /** The values of the puts, concatenated. */
  values: Uint8Array;
  /** Lease operations in order, two numbers each: id and TTL seconds, or id and -1 for a revoke. */
  leases: number[];
  /** Highest revision in the group (0: none). */
  revision: number;
  /** Highest lease id granted in the group (0: none). */
  lastLease: number;
}

/** Size of each shared slot. */
export const SLOT_BYTES = 1 << 20;

/** A group written into shared slot `slot` (its first `length` bytes). */
export interface SlotGroup {
  type: 'slot';
  seq: number;
  slot: number;
  length: number;
  revision: number;
  lastLease: number;
}

/** A shared slot as each thread sees it. */
export interface Slot {
  buf: Buffer;
  view: DataView;
}

/** Views of a shared slot's memory. */
export function slotViews(sab: SharedArrayBuffer): Slot {
  return { buf: Buffer.from(sab), view: new DataView(sab) };
}

/** When WAL frames are copied into the database file (SQLite's page-sized frames). */
export interface CheckpointTuning {
  /** Frames waiting to be copied that start a checkpointer pass (SQLite's own default is 1,000). */
  frames: number;
  /** WAL length at which the writer finishes a pass itself so that the WAL can restart. */
  capFrames: number;
  /** The SQLite version to plan for: node:sqlite's own, unless a test stands in for an older one. */
  sqliteVersion?: string;
}

/**
 * Whether `PRAGMA wal_checkpoint(NOOP)` only reports the WAL's length (SQLite 3.51.0 and later).
 * An older SQLite takes an unknown mode for PASSIVE and would copy frames on every call.
 */
export function walReportable(sqliteVersion: string): boolean {
  const [major, minor] = sqliteVersion.split('.').map(Number);
  return major > 3 || (major === 3 && minor >= 51);
}

/**
 * Ends the transaction a failed write left open. `isTransaction` exists from Node 22.16 / 24.0; on
 * Node 22.13–22.15 it is undefined, and a ROLLBACK is tried anyway (SQLite may already have rolled
 * back a failed COMMIT itself, which makes ROLLBACK throw "no transaction is active").
 */
export function rollbackOpen(db: { readonly isTransaction?: boolean; exec(sql: string): void }): void {
  if (db.isTransaction === false) return;
  try {
    db.exec('ROLLBACK');
  } catch (err) {
    if (db.isTransaction === true) throw err;
  }
}

/**
 * The defaults: passes as often as SQLite's, the WAL restarted by 2,000 frames (8 MiB). Every read of the
 * agent's main thread looks pages up in the WAL too: restarted only by 10,000 frames, a catalog run's
 * main thread took 140–157 µs per registration against 102–130 with SQLite's own checkpoints and
 * 104–130 with 2,000 (bench/catalog.ts, quiet machine, 2026-11-26 22:30–22:47 UTC).
 */
export const CHECKPOINT_TUNING: CheckpointTuning = { frames: 1000, capFrames: 2000 };

/** Slots of the Int32Array shared with the checkpointer: requests made, stop, pass under way. */
export const CHECKPOINT_REQUESTS = 0;
export const CHECKPOINT_STOP = 1;
export const CHECKPOINT_BUSY = 2;

/** What the main thread sends. */
export type WriterRequest = WriteGroup | SlotGroup | { type: 'close' };

/** What the writer answers: ready after opening, ack once every group up to `seq` is durable. */
export type WriterReply =
  | { type: 'ready' }
  | { type: 'ack'; seq: number }
  | { type: 'failed'; message: string; stack: string }
  /** A checkpoint failed (the first of a run, on the writer's or the checkpointer's thread). */
  | { type: 'checkpoint-failed'; message: string }
  | { type: 'closed' };

/** Packs mutations into a group; post it with `[group.values.buffer]` as the transfer list. */
export function encodeGroup(seq: number, ms: readonly Mutation[]): WriteGroup {
  let ops = 0;
  let bytes = 0;
  for (const m of ms) {
    for (const e of m.batch?.events ?? []) {
      ops++;
      if (e.type === 'put') bytes += e.kv.value.byteLength;
    }
  }
  const keys: string[] = new Array(ops);
  const nums = new Float64Array(ops * 5);
  const values = new Uint8Array(bytes);
  const leases: number[] = [];
  let i = 0;
  let at = 0;
  let revision = 0;
  let lastLease = 0;
  for (const m of ms) {
    if (m.leasePut) {
      leases.push(m.leasePut.id, m.leasePut.ttlSeconds);
      lastLease = Math.max(lastLease, m.leasePut.id);
    }
    for (const e of m.batch?.events ?? []) {
      const kv = e.kv;
      keys[i] = kv.key;
      const n = i * 5;
      nums[n] = kv.createRevision;
      nums[n + 1] = kv.modRevision;
      nums[n + 2] = kv.version;
      nums[n + 3] = kv.lease;
      if (e.type === 'put') {
        values.set(kv.value, at);
        at += kv.value.byteLength;
        nums[n + 4] = kv.value.byteLength;
      } else nums[n + 4] = -1;
      i++;
    }
    if (m.batch) revision = m.batch.revision;
    if (m.leaseDelete) leases.push(m.leaseDelete, -1);
  }
  return { type: 'write', seq, keys, nums, values, leases, revision, lastLease };
}

/**
 * Writes mutations into a slot: per kv operation the key's UTF-8 length and bytes, then
 * createRevision, modRevision, version, lease and the value length (-1: delete) as doubles, then
 * the value; then the lease operations. Null when they do not fit.
 */
export function encodeIntoSlot(slot: Slot, ms: readonly Mutation[]): { length: number; revision: number; lastLease: number } | null {
  const { buf, view } = slot;
  const cap = buf.length;
  let at = 4;
  let ops = 0;
  let revision = 0;
  let lastLease = 0;
  const leases: number[] = [];
  for (const m of ms) {
    if (m.leasePut) {
      leases.push(m.leasePut.id, m.leasePut.ttlSeconds);
      lastLease = Math.max(lastLease, m.leasePut.id);
    }
    for (const e of m.batch?.events ?? []) {
      const kv = e.kv;
      const valueLen = e.type === 'put' ? kv.value.byteLength : 0;
      // Worst case for the key: 3 UTF-8 bytes per UTF-16 unit.
      if (at + 4 + kv.key.length * 3 + 40 + valueLen > cap) return null;
      const keyLen = buf.write(kv.key, at + 4, 'utf8');
      view.setUint32(at, keyLen);
      at += 4 + keyLen;
      view.setFloat64(at, kv.createRevision);
      view.setFloat64(at + 8, kv.modRevision);
      view.setFloat64(at + 16, kv.version);
      view.setFloat64(at + 24, kv.lease);
      view.setFloat64(at + 32, e.type === 'put' ? valueLen : -1);
      at += 40;
      if (e.type === 'put') {
        buf.set(kv.value, at);
        at += valueLen;
      }
      ops++;
    }
    if (m.batch) revision = m.batch.revision;
    if (m.leaseDelete) leases.push(m.leaseDelete, -1);
  }
  if (at + 4 + leases.length * 8 > cap) return null;
  view.setUint32(0, ops);
  view.setUint32(at, leases.length / 2);
  at += 4;
  for (const n of leases) {
    view.setFloat64(at, n);
    at += 8;
  }
  return { length: at, revision, lastLease };
}

/** Replays a slot's group into `sink` (see encodeIntoSlot); values are copied out of the slot. */
export function decodeSlot(slot: Slot, sink: GroupSink): void {
  const { buf, view } = slot;
  const ops = view.getUint32(0);
  let at = 4;
  for (let i = 0; i < ops; i++) {
    const keyLen = view.getUint32(at);
    const key = buf.toString('utf8', at + 4, at + 4 + keyLen);
    at += 4 + keyLen;
    const valueLen = view.getFloat64(at + 32);
    if (valueLen < 0) sink.delete(key);
    else {
      sink.put(key, buf.subarray(at + 40, at + 40 + valueLen), view.getFloat64(at), view.getFloat64(at + 8),
        view.getFloat64(at + 16), view.getFloat64(at + 24));
    }
    at += 40 + Math.max(valueLen, 0);
  }
  const leases = view.getUint32(at);
  at += 4;
  for (let i = 0; i < leases; i++, at += 16) {
    const id = view.getFloat64(at);
    const ttl = view.getFloat64(at + 8);
    if (ttl < 0) sink.leaseDelete(id);
    else sink.leasePut(id, ttl);
  }
}

/** Receivers of a decoded group's operations, called in order. */
export interface GroupSink {
  put(key: string, value: Uint8Array, createRevision: number, modRevision: number, version: number, lease: number): void;
  delete(key: string): void;
  leasePut(id: number, ttlSeconds: number): void;
  leaseDelete(id: number): void;
}

/** Replays a group into `sink`: kv operations in order, then lease operations in order. */
export function decodeGroup(g: WriteGroup, sink: GroupSink): void {
  let at = 0;
  for (let i = 0; i < g.keys.length; i++) {
    const n = i * 5;
    const len = g.nums[n + 4];
    if (len < 0) {
      sink.delete(g.keys[i]);
      continue;
    }
    sink.put(g.keys[i], g.values.subarray(at, at + len), g.nums[n], g.nums[n + 1], g.nums[n + 2], g.nums[n + 3]);
    at += len;
  }
  for (let i = 0; i < g.leases.length; i += 2) {
    if (g.leases[i + 1] < 0) sink.leaseDelete(g.leases[i]);
    else sink.leasePut(g.leases[i], g.leases[i + 1]);
  }
}
