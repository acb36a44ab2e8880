// The write path of ACL records: one put or delete of a record pinned to what the planner read,
// committed through commitPlanned, and the reply read back from the replica.
import type { Compare, Op } from '../store/index.ts';
import { encodeRecord } from '../state/index.ts';
import { commitPlanned, pinRecord } from './commit.ts';
import type { EndpointDeps } from './deps.ts';

type Indexed = { CreateIndex: number; ModifyIndex: number };

/** A put of a record (indexes stripped). */
export function putOp(key: string, rec: object): Op {
  return { type: 'put', key, value: encodeRecord(rec) };
}

/** What one ACL write commits: compares that pin what the planner read, and the ops. */
export interface AclPlan {
  compares: Compare[];
  ops: Op[];
}

/** The plan that writes `rec` at `key`, pinned to the record the planner saw there (or its absence). */
export function putPlan(key: string, existing: Indexed | undefined, rec: object): AclPlan {
  return { compares: [pinRecord(key, existing)], ops: [putOp(key, rec)] };
}

/** The plan that deletes the record at `key`, pinned to the one the planner saw. */
export function deletePlan(key: string, existing: Indexed): AclPlan {
  return { compares: [pinRecord(key, existing)], ops: [{ type: 'delete', key }] };
}

/**
 * Commits a plan built from the replica; `plan` runs again after a conflict and returns the
 * compares and ops, or null when nothing needs writing.
 */
export function commitAcl(deps: EndpointDeps, plan: () => AclPlan | null): Promise<void> {
  return commitPlanned<void>(deps, () => {
    const p = plan();
    if (!p || p.ops.length === 0) return { answer: undefined };
    return { txn: { compares: p.compares, success: p.ops }, done: () => undefined };
  });
}
