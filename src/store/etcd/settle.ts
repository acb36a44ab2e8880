// Which writes may be sent again after etcd left their outcome unknown (a deadline, `request
// timed out`: typically a proposal forwarded to a leader that had just died). Only a txn whose own
// compares fail once it has been applied: of the first copy and a resend, at most one can ever
// apply, so a resend that succeeds proves the first copy never did. A resend that loses its
// compares proves nothing (the first copy, or another writer) and the outcome stays unknown.
// "The key does not exist yet" holds again once another client deletes what the first copy
// created: such a txn is resent only when etcd's history shows no write of those keys since the
// first copy was sent (history.ts).
import type { Compare, Op, TxnRequest } from '../store.ts';
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

/**
 * How applying the txn makes this compare of it fail: 'always' (no later write can make it hold
 * again), 'untilDeleted' (a key it creates: deleting the key makes it hold again), or null.
 */
function fenceOf(c: Compare, written: Write | undefined): 'always' | 'untilDeleted' | null {
  if (c.op !== '=' || written === undefined || typeof c.value !== 'number') return null;
  // Revisions only grow: a key written after mod revision M never shows M again.
  if (c.target === 'modRevision') return c.value > 0 ? 'always' : null;
  // A key it deletes never gets its create revision back; one it creates exists afterwards,
  // until someone deletes it.
  if (c.target === 'createRevision') {
    if (c.value === 0) return written === 'put' ? 'untilDeleted' : null;
    return written === 'delete' ? 'always' : null;
  }
  return c.target === 'version' && c.value === 0 && written === 'put' ? 'untilDeleted' : null;
}

/** How a write whose outcome is unknown may be resent: `checkHistory`, the keys whose history must show no write since the first copy was sent (none when a compare fences it for good). */
export interface Resend {
  checkHistory: string[];
}

/**
 * Whether `req` may be resent after an unknown outcome (null: never), and on what condition:
 * one of its compares fails once it has been applied, and its failure branch writes nothing (it
 * may have run instead).
 */
export function resendPlan(req: TxnRequest): Resend | null {
  if (writesAny(req.failure ?? [])) return null;
  const written = writtenBy(req.success);
  const creates: string[] = [];
  for (const c of req.compares ?? []) {
    const fence = fenceOf(c, written(c.key));
    if (fence === 'always') return { checkHistory: [] };
    if (fence === 'untilDeleted') creates.push(c.key);
  }
  return creates.length > 0 ? { checkHistory: creates } : null;
}
