// The write path shared by every endpoint: plan a Store txn from what the replica shows at
// revision R (compares pin what was read), commit, retry on conflict, then wait until the
// replica has applied the commit so the caller reads its own write. An answer planned without a
// txn (a failed CAS, a no-op write, a refusal) is only given from a replica caught up with the
// Store during the call: this server may not have applied what another one committed.
import { ConflictError } from '../errors.ts';
import type { Compare, Op, TxnRequest, TxnResponse } from '../store/index.ts';
import type { EndpointDeps } from './deps.ts';
import { catchUp } from './query.ts';

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

/**
 * Plans and commits with optimistic concurrency; `plan` is re-run after every conflict. A plan that
 * commits on its first attempt (nearly every write) takes no async frame: its txn's promise and one
 * reaction; refusals, answers without a txn and conflicts continue in the loop.
 */
export function commitPlanned<T>(deps: EndpointDeps, plan: () => Plan<T>): Promise<T> {
  let p: Plan<T>;
  try {
    p = plan();
  } catch {
    // Refusals read off the replica too (e.g. a session this server has not applied yet): plan
    // again from a current replica, as the loop does.
    return currentThenLoop(deps, plan);
  }
  // No txn pins what an answer was read from: it is linearizable only from a current replica.
  if ('answer' in p) return currentThenLoop(deps, plan);
  let committed: Promise<TxnResponse>;
  try {
    committed = deps.store.txn(p.txn);
  } catch (err) {
    return Promise.reject(err);
  }
  const done = p.done;
  return committed.then((res) => {
    // As in the loop: wait for the replica to show the commit (or what beat it), then answer or re-plan.
    if (deps.replica.appliedRevision < res.revision) {
      return deps.replica.waitFor(res.revision).then(() => (res.succeeded ? done(res) : planLoop(deps, plan, 1)));
    }
    return res.succeeded ? done(res) : planLoop(deps, plan, 1);
  });
}

/** The first attempt's refusal or answer came from a replica that may lag: catch up, then plan again. */
async function currentThenLoop<T>(deps: EndpointDeps, plan: () => Plan<T>): Promise<T> {
  // Not a consistent read in Consul's sense (its writes go through Raft): not timed as one.
  await catchUp(deps);
  return planLoop(deps, plan, 1);
}

/** Attempts from `first` on, with a replica already caught up with the Store during the call. */
async function planLoop<T>(deps: EndpointDeps, plan: () => Plan<T>, first: number): Promise<T> {
  for (let attempt = first; attempt < MAX_ATTEMPTS; attempt++) {
    // The replica is current here: refusals and answers stand.
    const p = plan();
    if ('answer' in p) return p.answer;
    const res = await deps.store.txn(p.txn);
    // Wait for the replica either way: on success to read our own write, on conflict to re-plan
    // against the state that beat us (the failed txn's revision is the Store's current one).
    // (A local Store has usually published it by the time txn() resolves: no wait then.)
    if (deps.replica.appliedRevision < res.revision) await deps.replica.waitFor(res.revision);
    if (res.succeeded) return p.done(res);
  }
  throw new ConflictError('too many concurrent conflicting writes; try again');
}

/**
 * Commits the plan `plan` makes from the replica, re-made after every conflict; nothing is
 * written when it is null or has no ops. Resolves with `result` (given: no then() per write to map
 * the answer, nor its promise held while the write waits for durability).
 */
export function commitWrite(deps: EndpointDeps, plan: () => WritePlan | null): Promise<void>;
export function commitWrite<T>(deps: EndpointDeps, plan: () => WritePlan | null, result: T): Promise<T>;
export function commitWrite<T>(deps: EndpointDeps, plan: () => WritePlan | null, result?: T): Promise<T | undefined> {
  return commitPlanned<T | undefined>(deps, () => {
    const p = plan();
    if (!p || p.ops.length === 0) return { answer: result };
    return { txn: { compares: p.compares, success: p.ops }, done: () => result };
  });
}
