// Which writes may be sent again after etcd left their outcome unknown (a deadline, `request
// timed out`: typically a proposal forwarded to a leader that had just died). Only a txn whose own
// compares fail once it has been applied: of the first copy and a resend, at most one can ever
// apply, so a resend that succeeds proves the first copy never did. A resend that loses its
// compares proves nothing (the first copy, or another writer) and the outcome stays unknown.
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

/** Whether applying the txn falsifies this compare of it. */
function failsOnceApplied(c: Compare, written: Write | undefined): boolean {
  if (c.op !== '=' || written === undefined || typeof c.value !== 'number') return false;
  // Revisions only grow: a key written after mod revision M never shows M again.
  if (c.target === 'modRevision') return c.value > 0;
  // A key it creates exists afterwards (until someone deletes it: the one window left, between
  // the first copy's commit and the resend); one it deletes never gets its create revision back.
  if (c.target === 'createRevision') return c.value === 0 ? written === 'put' : written === 'delete';
  return c.target === 'version' && c.value === 0 && written === 'put';
}

/**
 * Whether `req` may be resent after an unknown outcome: one of its compares fails once it has
 * been applied, and its failure branch writes nothing (it may have run instead).
 */
export function resendable(req: TxnRequest): boolean {
  if (writesAny(req.failure ?? [])) return false;
  const written = writtenBy(req.success);
  return (req.compares ?? []).some((c) => failsOnceApplied(c, written(c.key)));
}
