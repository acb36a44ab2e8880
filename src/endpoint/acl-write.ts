// The write plans of ACL records: one put or delete of a record pinned to what the planner read,
// for commitWrite.
import type { Op } from '../store/index.ts';
import { encodeRecord } from '../state/index.ts';
import { pinRecord, type WritePlan } from './commit.ts';

type Indexed = { CreateIndex: number; ModifyIndex: number };

/** A put of a record (indexes stripped). */
export function putOp(key: string, rec: object): Op {
  return { type: 'put', key, value: encodeRecord(rec) };
}

/** The plan that writes `rec` at `key`, pinned to the record the planner saw there (or its absence). */
export function putPlan(key: string, existing: Indexed | undefined, rec: object): WritePlan {
  return { compares: [pinRecord(key, existing)], ops: [putOp(key, rec)] };
}

/** The plan that deletes the record at `key`, pinned to the one the planner saw. */
export function deletePlan(key: string, existing: Indexed): WritePlan {
  return { compares: [pinRecord(key, existing)], ops: [{ type: 'delete', key }] };
}
