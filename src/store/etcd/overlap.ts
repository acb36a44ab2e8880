// Transactions that write one key more than once, which etcd refuses in a single Txn: read
// every key the txn touches at one revision, run it on a scratch StoreEngine (the contract's
// reference semantics), then commit only the net writes, guarded by compares that pin
// everything read. A concurrent change fails the guard and the whole plan is retried.
import type { ICompare, IRequestOp, ITxnRequest, ITxnResponse } from 'etcd3';
import { StoreEngine } from '../engine.ts';
import type { KeyValue, TxnRequest, TxnResponse } from '../store.ts';
import type { Keyspace } from './keyspace.ts';
import { prefixEnd } from './keyspace.ts';
import { writesOverlap } from './txn.ts';

/** A committed pinned txn: the Store revision after it and the nested txn's response. */
export interface Pinned {
  revision: number;
  inner: ITxnResponse;
}

/**
 * Runs the etcd Txn `build()` makes inside the namespace's generation pin, calling `build()`
 * again after a generation change; null when `build()` returned null (plan is stale). Only
 * `idempotent` (read-only) txns are retried while etcd is unavailable.
 */
export type PinnedRunner = (build: () => ITxnRequest | null, idempotent: boolean) => Promise<Pinned | null>;

interface ReadSet {
  keys: string[];
  prefixes: string[];
}

function readSet(req: TxnRequest): ReadSet {
  const keys = new Set((req.compares ?? []).map((c) => c.key));
  const prefixes = new Set<string>();
  for (const op of [...req.success, ...(req.failure ?? [])]) {
    if (op.type === 'range') prefixes.add(op.prefix);
    else if (op.type === 'deletePrefix') prefixes.add(op.prefix);
    else keys.add(op.key);
  }
  return { keys: [...keys], prefixes: [...prefixes] };
}

/** Reads the read set at one revision: the records seen, and compares that pin them. */
async function snapshotRead(ks: Keyspace, run: PinnedRunner, rs: ReadSet) {
  const build = (): ITxnRequest => ({ success: [
    ...rs.keys.map((k) => ({ request_range: { key: ks.physical(k) } })),
    ...rs.prefixes.map((p) => ({ request_range: ks.range(p) })),
  ] });
  const { revision, inner } = (await run(build, true))!;
  const seen = new Map<string, KeyValue>();
  for (const r of inner.responses) for (const e of r.response_range?.kvs ?? []) seen.set(ks.kv(e).key, ks.kv(e));
  const guards: ICompare[] = rs.keys.filter((k) => !seen.has(k)).map((k) => (
    { key: ks.physical(k), target: 'Mod', result: 'Equal', mod_revision: 0 }
  ));
  for (const kv of seen.values()) {
    guards.push({ key: ks.physical(kv.key), target: 'Mod', result: 'Equal', mod_revision: ks.etcdRev(kv.modRevision) });
  }
  // No key may appear in (or change under) a prefix after the read revision.
  for (const p of rs.prefixes) {
    const key = ks.physical(p);
    guards.push({ key, range_end: prefixEnd(key), target: 'Mod', result: 'Less', mod_revision: ks.etcdRev(revision) + 1 });
  }
  return { revision, seen, guards };
}

function simulate(seen: Map<string, KeyValue>, req: TxnRequest, revision: number) {
  const engine = new StoreEngine({ historyLimit: 1 });
  const leases = new Set<number>();
  for (const op of [...req.success, ...(req.failure ?? [])]) if (op.type === 'put' && op.lease) leases.add(op.lease);
  // etcd checks the leases at commit; the scratch engine only needs them to exist.
  engine.load(seen.values(), [...leases].map((id) => ({ id, ttlSeconds: 1 })), revision);
  return { committed: engine.apply(req), engine };
}

function netWrites(ks: Keyspace, seen: Map<string, KeyValue>, engine: StoreEngine, touched: Set<string>): IRequestOp[] {
  const ops: IRequestOp[] = [];
  for (const key of touched) {
    const after = engine.get(key);
    if (after) ops.push({ request_put: { key: ks.physical(key), value: Buffer.from(after.value), lease: after.lease } });
    else if (seen.has(key)) ops.push({ request_delete_range: { key: ks.physical(key) } });
  }
  return ops;
}

/**
 * Commits a transaction whose branches write a key twice. The final state matches the
 * contract; one difference remains: a key that existed before and is deleted then re-put in the
 * same txn keeps its createRevision and version history, because etcd cannot express both.
 */
export async function overlappingTxn(ks: Keyspace, run: PinnedRunner, req: TxnRequest): Promise<TxnResponse> {
  const rs = readSet(req);
  for (;;) {
    const { revision, seen, guards } = await snapshotRead(ks, run, rs);
    const gen = ks.gen;
    const plan = simulate(seen, req, revision);
    const touched = new Set((plan.committed.batch?.events ?? []).map((e) => e.kv.key));
    const writes = netWrites(ks, seen, plan.engine, touched);
    // The plan names keys of one generation: after a restore, plan again from a fresh read.
    const done = await run(() => (ks.gen === gen ? { compare: guards, success: writes } : null), false);
    if (!done || !done.inner.succeeded) continue;
    const { revision: committedAt } = done;
    if (writes.length === 0) return { ...plan.committed.response, revision: committedAt };
    // Replay at the real commit revision so that results carry the revisions etcd assigned.
    const final = simulate(seen, req, committedAt - 1).committed.response;
    return { ...final, revision: committedAt };
  }
}

/** Whether a txn needs overlappingTxn (some branch writes one key twice). */
export function needsOverlapPlan(req: TxnRequest): boolean {
  return writesOverlap(req.success) || writesOverlap(req.failure ?? []);
}
