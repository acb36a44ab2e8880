// Settles a write whose outcome etcd left unknown (a deadline, `request timed out`: typically a
// proposal forwarded to a leader that had just died). Such a write may or may not have been
// applied, so it is never resent blindly: once etcd answers again, the keys it writes are read;
// if they hold exactly what it wrote, at one revision newer than anything it was planned on, it
// was applied there. Otherwise it is resent, which is safe only for a txn whose own compares
// fail once it has been applied (a pinned mod revision of a key it writes, the absence of a key
// it creates): of the first copy and the resend, at most one can ever apply.
import type { Compare, KeyValue, Op, TxnRequest, TxnResponse } from '../store.ts';
import { writesAny } from './txn.ts';

type Write = 'put' | 'delete';

/** What each key of the success branch gets written with (a delete prefix covers its keys). */
function writtenBy(ops: Op[]): (key: string) => Write | undefined {
  const keys = new Map<string, Write>();
  const prefixes: string[] = [];
  for (const op of ops) {
    if (op.type === 'put') keys.set(op.key, 'put');
    else if (op.type === 'delete') keys.set(op.key, 'delete');
    else if (op.type === 'deletePrefix') prefixes.push(op.prefix);
  }
  return (key) => keys.get(key) ?? (prefixes.some((p) => key.startsWith(p)) ? 'delete' : undefined);
}

/** Whether applying the txn falsifies one of its compares for good (no later state makes it hold again). */
function failsOnceApplied(c: Compare, written: Write | undefined): boolean {
  if (c.op !== '=' || written === undefined || typeof c.value !== 'number') return false;
  // Revisions only grow: a key written after mod revision M never shows M again.
  if (c.target === 'modRevision') return c.value > 0;
  // A key it creates exists afterwards; one it deletes never gets the same create revision back.
  if (c.target === 'createRevision') return c.value === 0 ? written === 'put' : written === 'delete';
  return c.target === 'version' && c.value === 0 && written === 'put';
}

/**
 * Whether an unknown outcome of `req` can be settled: its success branch writes (at least one
 * put, no reads, no previous records asked for), its failure branch does not, and one of its
 * compares fails once it has been applied.
 */
export function settleable(req: TxnRequest): boolean {
  const ops = req.success;
  if (!ops.some((op) => op.type === 'put')) return false;
  if (ops.some((op) => op.type === 'get' || op.type === 'range' || (op.type === 'put' && op.prevKv === true))) return false;
  if (writesAny(req.failure ?? [])) return false;
  const written = writtenBy(ops);
  return (req.compares ?? []).some((c) => failsOnceApplied(c, written(c.key)));
}

/**
 * The revision the txn cannot have been applied at or below: the newest one this store had seen
 * when it sent it, or any revision its compares name.
 */
export function appliedAfter(req: TxnRequest, seen: number): number {
  let floor = seen;
  for (const c of req.compares ?? []) {
    if ((c.target === 'modRevision' || c.target === 'createRevision') && typeof c.value === 'number') floor = Math.max(floor, c.value);
  }
  return floor;
}

/** The reads appliedAt needs: each key the success branch puts or deletes, in op order. */
export function writtenKeys(req: TxnRequest): string[] {
  return req.success.flatMap((op) => (op.type === 'put' || op.type === 'delete' ? [op.key] : []));
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);

/**
 * The revision a settleable txn was applied at, judged from `current` (the records of
 * writtenKeys(req), read after the failure): every put key holds its value and lease, all written
 * at one revision above `floor`, and every deleted key is gone. Null: not applied (or changed since).
 */
export function appliedAt(req: TxnRequest, current: (KeyValue | null)[], floor: number): number | null {
  let at = 0;
  let i = 0;
  for (const op of req.success) {
    if (op.type !== 'put' && op.type !== 'delete') continue;
    const kv = current[i++];
    if (op.type === 'delete') {
      if (kv) return null;
      continue;
    }
    if (!kv || !same(kv.value, op.value) || kv.lease !== (op.lease ?? 0)) return null;
    if (at !== 0 && kv.modRevision !== at) return null;
    at = kv.modRevision;
  }
  return at > floor ? at : null;
}

/**
 * The answer for a txn found applied at `revision`. Only what settleable() allows can be
 * answered: puts without previous records; deletes report no records (this store's callers read
 * their own deletes from the replica, never from the answer).
 */
export function settledResponse(req: TxnRequest, revision: number): TxnResponse {
  return {
    succeeded: true,
    revision,
    results: req.success.map((op) => (op.type === 'put' ? { type: 'put', prev: null } : { type: 'delete', deleted: [] })),
  };
}
