// Messages between the embedded store and its writer thread. A group of mutations travels as
// flat arrays with every value copied into one transferred buffer: structured-cloning each
// value would copy the whole pooled ArrayBuffer behind it.
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

/** What the main thread sends. */
export type WriterRequest = WriteGroup | { type: 'close' };

/** What the writer answers: ready after opening, ack once every group up to `seq` is durable. */
export type WriterReply =
  | { type: 'ready' }
  | { type: 'ack'; seq: number }
  | { type: 'failed'; message: string; stack: string }
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
