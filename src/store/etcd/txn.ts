// Translates Store transactions into etcd Txn requests and etcd responses back into results.
// etcd runs ops in order and later reads see earlier writes, like the contract, but it refuses
// a txn that writes one key twice; `writesOverlap()` finds those so overlap.ts can plan them.
import type { ICompare, IRequestOp, IResponseOp, ITxnRequest } from 'etcd3';
import type { Compare, Op, OpResult, TxnRequest } from '../store.ts';
import type { Keyspace } from './keyspace.ts';

const RESULT = { '=': 'Equal', '!=': 'NotEqual', '<': 'Less', '>': 'Greater' } as const;

/**
 * A revision or version bound moved into etcd's revision space. Missing keys read as 0 on both
 * sides and every real revision is above the namespace base, so order is preserved.
 */
function etcdNumber(ks: Keyspace, c: Compare): number {
  const v = c.value as number;
  if (c.target === 'version' || v <= 0) return v;
  return ks.etcdRev(v);
}

/**
 * Bytes for the etcd client without a copy: the request is encoded before the call returns to
 * the event loop's next task, and the other backends keep a txn's values by reference too.
 */
function bytes(v: Uint8Array): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** One Store compare as an etcd compare (etcd, like the contract, fails every value compare on a missing key). */
export function toCompare(ks: Keyspace, c: Compare): ICompare {
  const key = ks.physical(c.key);
  const result = RESULT[c.op];
  switch (c.target) {
    case 'value': return { key, result, target: 'Value', value: bytes(c.value as Uint8Array) };
    case 'version': return { key, result, target: 'Version', version: etcdNumber(ks, c) };
    case 'createRevision': return { key, result, target: 'Create', create_revision: etcdNumber(ks, c) };
    case 'modRevision': return { key, result, target: 'Mod', mod_revision: etcdNumber(ks, c) };
  }
}

/** One Store op as an etcd request op; writes ask for the previous records. */
export function toRequestOp(ks: Keyspace, op: Op): IRequestOp {
  switch (op.type) {
    case 'put':
      return { request_put: { key: ks.physical(op.key), value: bytes(op.value), lease: op.lease ?? 0, prev_kv: op.prevKv === true } };
    case 'delete':
      return { request_delete_range: { key: ks.physical(op.key), prev_kv: true } };
    case 'deletePrefix':
      return { request_delete_range: { ...ks.range(op.prefix), prev_kv: true } };
    case 'get':
      return { request_range: { key: ks.physical(op.key) } };
    case 'range':
      return { request_range: ks.range(op.prefix) };
  }
}

/** The etcd Txn for a Store transaction whose branches etcd accepts as they are. */
export function toEtcdTxn(ks: Keyspace, req: TxnRequest): ITxnRequest {
  return {
    compare: (req.compares ?? []).map((c) => toCompare(ks, c)),
    success: req.success.map((op) => toRequestOp(ks, op)),
    failure: (req.failure ?? []).map((op) => toRequestOp(ks, op)),
  };
}

/** The Store result of one op from its etcd response. */
export function toResult(ks: Keyspace, op: Op, res: IResponseOp): OpResult {
  switch (op.type) {
    case 'put': {
      const prev = res.response_put?.prev_kv;
      return { type: 'put', prev: prev ? ks.kv(prev, op.key) : null };
    }
    case 'delete':
    case 'deletePrefix':
      return { type: 'delete', deleted: (res.response_delete_range?.prev_kvs ?? []).map((kv) => ks.kv(kv)) };
    case 'get': {
      const kv = res.response_range?.kvs?.[0];
      return { type: 'get', kv: kv ? ks.kv(kv, op.key) : null };
    }
    case 'range':
      return { type: 'range', kvs: (res.response_range?.kvs ?? []).map((kv) => ks.kv(kv)) };
  }
}

/**
 * Whether a branch writes some key twice (two puts, or a put inside a delete range): etcd
 * rejects such a txn with "duplicate key given in txn request".
 */
export function writesOverlap(ops: Op[]): boolean {
  if (ops.length < 2) return false;
  const puts = new Set<string>();
  const deletes: ((key: string) => boolean)[] = [];
  for (const op of ops) {
    if (op.type === 'put') {
      if (puts.has(op.key)) return true;
      puts.add(op.key);
    } else if (op.type === 'delete') {
      deletes.push((k) => k === op.key);
    } else if (op.type === 'deletePrefix') {
      deletes.push((k) => k.startsWith(op.prefix));
    }
  }
  for (const key of puts) if (deletes.some((hit) => hit(key))) return true;
  return false;
}

/** Whether some op of a branch writes (puts or deletes). */
export function writesAny(ops: Op[]): boolean {
  for (const op of ops) if (op.type !== 'get' && op.type !== 'range') return true;
  return false;
}
