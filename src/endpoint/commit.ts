// The write path shared by every endpoint: plan a Store txn from what the replica shows at
// revision R (compares pin what was read), commit, retry on conflict, then wait until the
// replica has applied the commit so the caller reads its own write. An answer planned without a
// txn (a failed CAS, a no-op write, a refusal) is only given from a replica caught up with the
// Store during the call: this server may not have applied what another one committed.
import { ConflictError } from '../errors.ts';
import type { Compare, Op, TxnRequest, TxnResponse } from '../store/index.ts';
import type { EndpointDeps } from './deps.ts';
import { consistentRead } from './query.ts';

/** A planned write: a txn to commit, or an answer that needs no write. */
export type Plan<T> =
  | { txn: TxnRequest; done: (res: TxnResponse) => T }
  | { answer: T };

/** Compares that pin what a planner read from the replica, and the ops to commit if they hold. */
export interface WritePlan {
  compares: Compare[];
  ops: Op[];
}

/** Pins a store key to the record the planner saw (or to its absence). */
export function pinRecord(key: string, existing: { ModifyIndex: number } | undefined): Compare {
  return existing
    ? { key, target: 'modRevision', op: '=', value: existing.ModifyIndex }
    : { key, target: 'createRevision', op: '=', value: 0 };
}

const MAX_ATTEMPTS = 50;

/** Plans and commits with optimistic concurrency; `plan` is re-run after every conflict. */
export async function commitPlanned<T>(deps: EndpointDeps, plan: () => Plan<T>): Promise<T> {
  // Whether the replica has caught up with the Store since this call began.
  let current = false;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    let p: Plan<T>;
    try {
      p = plan();
    } catch (err) {
      // Refusals read off the replica too (e.g. a session this server has not applied yet).
      if (current) throw err;
      await consistentRead(deps);
      current = true;
      continue;
    }
    if ('answer' in p) {
      // No txn pins what the answer was read from: it is linearizable only from a current replica.
      if (current) return p.answer;
      await consistentRead(deps);
      current = true;
      continue;
    }
    const res = await deps.store.txn(p.txn);
    // Wait for the replica either way: on success to read our own write, on conflict to re-plan
    // against the state that beat us (the failed txn's revision is the Store's current one).
    // (A local Store has usually published it by the time txn() resolves: no wait then.)
    if (deps.replica.appliedRevision < res.revision) await deps.replica.waitFor(res.revision);
    current = true;
    if (res.succeeded) return p.done(res);
  }
  throw new ConflictError('too many concurrent conflicting writes; try again');
}

/**
 * Commits the plan `plan` makes from the replica, re-made after every conflict; nothing is
 * written when it is null or has no ops.
 */
export function commitWrite(deps: EndpointDeps, plan: () => WritePlan | null): Promise<void> {
  return commitPlanned<void>(deps, () => {
    const p = plan();
    if (!p || p.ops.length === 0) return { answer: undefined };
    return { txn: { compares: p.compares, success: p.ops }, done: () => undefined };
  });
}
