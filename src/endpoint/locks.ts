// Session locks on KV keys (Consul's kvsLockTxn/kvsUnlockTxn and session invalidation), as
// plans composable into any Store txn: acquiring touches a per-session guard key so that a
// concurrent invalidation, which pins that guard, can never leave a lock held by a dead session.
import { QUERY_PREFIX, SESSION_LOCKS_PREFIX, allKvs, sessionInTenant, sessionStoreKey, encodeKV, encodeRecord, lockDelayKey, type EnterpriseMeta, type KVEntry, type KVRecord } from '../state/index.ts';
import type { Compare, Op } from '../store/index.ts';
import { kvStoreKey, pinKey } from './kv.ts';
import { pinRecord, type WritePlan } from './commit.ts';
import type { EndpointDeps } from './deps.ts';

export { SESSION_LOCKS_PREFIX };

/** Store writes and guards of a planned lock change. */
export interface LockPlan extends WritePlan {
  rec: KVRecord;
}

/** Outcome of planning an acquire: an error text (Consul's), `false` (held or delayed), or a plan. */
export type AcquireDecision = { error: string } | { held: true; delayed: boolean } | LockPlan;

/** Plans acquiring `key` (of tenant `ent`, absent: default) for `session` with the given value and flags. */
export function planAcquire(
  deps: EndpointDeps, key: string, existing: KVEntry | undefined, session: string, flags: bigint, value: Buffer | null, ent?: EnterpriseMeta,
): AcquireDecision {
  if (!session) return { error: 'missing session' };
  const s = deps.replica.sessions.get(session);
  // Consul looks the session up in the key's namespace: one of another namespace is not found.
  if (!s || !sessionInTenant(s, ent)) return { error: `invalid session ${JSON.stringify(session)}` };
  if (deps.replica.lockDelays.expiration(lockDelayKey(ent, key), deps.clock.now()) > 0) return { held: true, delayed: true };
  let lockIndex: number;
  if (existing?.Session === session) lockIndex = existing.LockIndex;
  else if (existing?.Session) return { held: true, delayed: false };
  else lockIndex = (existing?.LockIndex ?? 0) + 1;
  const rec: KVRecord = { Flags: flags, LockIndex: lockIndex, Session: session, Value: value };
  return {
    rec,
    compares: [
      pinKey(key, existing, ent),
      { key: sessionStoreKey(s), target: 'createRevision', op: '=', value: s.CreateIndex },
    ],
    ops: [
      { type: 'put', key: kvStoreKey(ent, key), value: encodeKV(rec) },
      { type: 'put', key: sessionStoreKey(s, SESSION_LOCKS_PREFIX), value: encodeRecord({}) },
    ],
  };
}

/** Plans invalidating a session: delete it and release (or delete) every key it holds. */
export function planInvalidate(deps: Pick<EndpointDeps, 'replica'>, id: string): WritePlan | null {
  const { sessions, sessionLocks } = deps.replica;
  const s = sessions.get(id);
  if (!s) return null;
  const guard = sessionLocks.get(id);
  // A tenant's session and guard live under its tenant prefix (the guard table is shared: ids are unique).
  const key = sessionStoreKey(s);
  const guardKey = sessionStoreKey(s, SESSION_LOCKS_PREFIX);
  const compares: Compare[] = [pinRecord(key, s), pinRecord(guardKey, guard)];
  const ops: Op[] = [{ type: 'delete', key }, { type: 'delete', key: guardKey }];
  // Consul deletes the prepared queries bound to the session with it.
  for (const q of deps.replica.preparedQueries.bySession(id)) {
    compares.push(pinRecord(QUERY_PREFIX + q.ID, q));
    ops.push({ type: 'delete', key: QUERY_PREFIX + q.ID });
  }
  // The session's locks in every namespace (a session may lock keys of any tenant).
  for (const { ent, table } of allKvs(deps.replica)) {
    for (const e of table.heldBy(id)) {
      compares.push(pinKey(e.Key, e, ent));
      if (s.Behavior === 'delete') ops.push({ type: 'delete', key: kvStoreKey(ent, e.Key) });
      else ops.push({ type: 'put', key: kvStoreKey(ent, e.Key), value: encodeKV({ ...e, Session: '' }) });
    }
  }
  return { compares, ops };
}
