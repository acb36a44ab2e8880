// The transaction endpoint (Consul's Txn.Apply / Txn.Read): evaluates every op against a
// working copy of the replica, collects Consul's per-op errors, and commits all writes as
// one Store txn whose compares pin every key that was read.
import type { KVEntry, KVRecord } from '../state/index.ts';
import type { Compare, Op } from '../store/index.ts';
import { commitPlanned, type Plan } from './commit.ts';
import { consistentRead, queryMeta, type QueryOptions, type QueryMeta } from './query.ts';
import { KvTxnWorkspace } from './txn-kv.ts';
import { planAcquire, planInvalidate } from './locks.ts';
import { CatalogTxnOverlay, runNodeOp, runServiceOp, runCheckOp, type CatalogTxnOp, type CatalogResult } from './txn-catalog.ts';
import type { EndpointDeps } from './deps.ts';
import type { AclIdentity } from './acl-resolver.ts';
import { filterTxnResults, txnOpDenied } from './txn-acl.ts';

/** One KV op as the API carries it (Value already base64-decoded). */
export interface TxnKVOp {
  Verb: string;
  Key: string;
  Value: Buffer | null;
  Flags: bigint;
  Index: number;
  Session: string;
}

/** A Session op: Consul defines only `delete` (invalidate). */
export interface TxnSessionOp {
  Verb: string;
  Session: { ID: string };
}

/** One op of a transaction: exactly one member is set. */
export interface TxnOpInput {
  KV?: TxnKVOp;
  Node?: CatalogTxnOp;
  Service?: CatalogTxnOp;
  Check?: CatalogTxnOp;
  Session?: TxnSessionOp;
}

/** One result, matching the op that produced it. */
export type TxnResultItem = { KV?: KVEntry } & CatalogResult;

/** A per-op error, as Consul reports it in a 409. */
export interface TxnError {
  OpIndex: number;
  What: string;
}

/** The outcome: results on success, errors on rollback. */
export interface TxnOutcome {
  results: TxnResultItem[] | null;
  errors: TxnError[] | null;
  meta?: QueryMeta;
}

const WRITE_VERBS = new Set(['set', 'delete', 'delete-cas', 'delete-tree', 'cas', 'lock', 'unlock']);

/** True when no op in the list changes state (read-only txns honour consistency modes). */
export function isReadOnly(ops: TxnOpInput[]): boolean {
  return ops.every((op) => (op.KV !== undefined && !WRITE_VERBS.has(op.KV.Verb))
    || (op.Node ?? op.Service ?? op.Check)?.Verb === 'get');
}

/** Applies a Session op (invalidation) to the workspace; returns Consul's error text, or null. */
function runSessionOp(deps: EndpointDeps, ws: KvTxnWorkspace, op: TxnSessionOp): string | null {
  if (op.Verb !== 'delete') return `unknown Session verb ${JSON.stringify(op.Verb)}`;
  const plan = planInvalidate(deps, op.Session?.ID ?? '');
  if (plan) ws.extra(plan.compares, plan.ops);
  return null;
}

/** Runs transactions. */
export class TxnEndpoint {
  readonly #deps: EndpointDeps;

  constructor(deps: EndpointDeps) {
    this.#deps = deps;
  }

  /** Applies a transaction atomically; errors roll everything back. */
  async apply(ops: TxnOpInput[], opts: QueryOptions): Promise<TxnOutcome> {
    if (isReadOnly(ops)) {
      if (opts.consistency === 'consistent') await consistentRead(this.#deps);
      const out = this.#evaluate(ops, opts.authz);
      const meta = queryMeta(this.#deps, this.#deps.replica.appliedRevision, opts.consistency);
      const results = out.errors.length ? null : filterTxnResults(opts.authz, out.results);
      return { results, errors: out.errors.length ? out.errors : null, meta };
    }
    const res = await commitPlanned<TxnOutcome>(this.#deps, () => this.#plan(ops, opts.authz));
    return res.results ? { ...res, results: filterTxnResults(opts.authz, res.results) } : res;
  }

  #plan(ops: TxnOpInput[], authz: AclIdentity | undefined): Plan<TxnOutcome> {
    const ev = this.#evaluate(ops, authz);
    if (ev.errors.length) return { answer: { results: null, errors: ev.errors } };
    if (ev.writes.length === 0) return { answer: { results: ev.results, errors: null } };
    return {
      txn: { compares: ev.compares, success: ev.writes },
      done: (res) => ({ results: ev.finish(res.revision), errors: null }),
    };
  }

  #evaluate(ops: TxnOpInput[], authz: AclIdentity | undefined): {
    results: TxnResultItem[];
    errors: TxnError[];
    compares: Compare[];
    writes: Op[];
    finish: (revision: number) => TxnResultItem[];
  } {
    const ws = new KvTxnWorkspace(this.#deps.replica.kvs);
    const ov = new CatalogTxnOverlay(this.#deps);
    const order: ['kv' | 'cat', number][] = [];
    const errors = preCheck(this.#deps, ops, authz);
    const writes: Op[] = [];
    if (errors.length === 0) ops.forEach((op, i) => {
      const [kvBefore, catBefore, kvOps, catOps] = [ws.results.length, ov.results.length, ws.writes().length, ov.ops.length];
      const what = this.#runOp(ws, ov, op);
      if (what) errors.push({ OpIndex: i, What: what });
      for (let k = kvBefore; k < ws.results.length; k++) order.push(['kv', k]);
      for (let k = catBefore; k < ov.results.length; k++) order.push(['cat', k]);
      // Keep Store ops in op order across the KV and catalog working copies.
      writes.push(...ws.writes().slice(kvOps), ...ov.ops.slice(catOps));
    });
    const pick = (kv: { KV: KVEntry }[], cat: CatalogResult[]): TxnResultItem[] =>
      order.map(([src, k]) => (src === 'kv' ? kv[k] : cat[k]));
    return {
      results: pick(ws.results, ov.results),
      errors,
      compares: [...ws.compares(), ...ov.compares()],
      // Guard keys are the catalog's alone: their ops go last, one per key.
      writes: [...writes, ...ov.guards.ops()],
      finish: (rev) => pick(ws.finish(rev), ov.finish(rev)),
    };
  }

  #runOp(ws: KvTxnWorkspace, ov: CatalogTxnOverlay, op: TxnOpInput): string | null {
    const dc = this.#deps.config.datacenter;
    if (op.KV) return runKVOp(this.#deps, ws, op.KV);
    if (op.Session) return runSessionOp(this.#deps, ws, op.Session);
    if (op.Node) return runNodeOp(ov, op.Node, dc);
    if (op.Service) return runServiceOp(ov, op.Service, dc);
    if (op.Check) return runCheckOp(ov, op.Check);
    return 'no operation specified';
  }
}

/**
 * Consul's Txn.preCheck (kvsPreApply per KV op), run over every op before any is evaluated:
 * when it reports errors, those are the only errors returned.
 */
function preCheck(deps: EndpointDeps, ops: TxnOpInput[], authz: AclIdentity | undefined): TxnError[] {
  const errors: TxnError[] = [];
  ops.forEach((op, i) => {
    if (op.KV && op.KV.Key === '' && op.KV.Verb !== 'delete-tree') errors.push({ OpIndex: i, What: 'Must provide key' });
    else {
      const denied = txnOpDenied(deps, authz, op);
      if (denied) errors.push({ OpIndex: i, What: denied });
    }
  });
  return errors;
}

/** Applies one KV verb to the workspace; returns Consul's error text, or null. */
function runKVOp(deps: EndpointDeps, ws: KvTxnWorkspace, op: TxnKVOp): string | null {
  const cur = ws.get(op.Key);
  const rec = (session: string, lockIndex: number): KVRecord =>
    ({ Flags: op.Flags, LockIndex: lockIndex, Session: session, Value: op.Value });
  switch (op.Verb) {
    case 'set':
      ws.set(op.Key, rec(cur?.Session ?? '', 0));
      return null;
    case 'cas':
      if ((op.Index === 0 && cur) || (op.Index !== 0 && (!cur || cur.ModifyIndex !== op.Index))) {
        return `failed to set key ${JSON.stringify(op.Key)}, index is stale`;
      }
      ws.set(op.Key, rec(cur?.Session ?? '', 0));
      return null;
    case 'lock': {
      const d = planAcquire(deps, op.Key, cur, op.Session, op.Flags, op.Value);
      if ('error' in d) return d.error;
      if ('held' in d) {
        return d.delayed
          ? `failed to lock key ${JSON.stringify(op.Key)} due to lock delay`
          : `failed to lock key ${JSON.stringify(op.Key)}, lock is already held`;
      }
      // The key itself is pinned by the workspace; keep only the session guard and its bump.
      ws.set(op.Key, d.rec);
      ws.extra(d.compares.filter((c) => !c.key.startsWith('kv/')), d.ops.filter((o) => o.type === 'put' && !o.key.startsWith('kv/')));
      return null;
    }
    case 'unlock':
      if (!op.Session) return 'missing session';
      if (!cur || cur.Session !== op.Session) {
        return `failed to unlock key ${JSON.stringify(op.Key)}, lock isn't held, or is held by another session`;
      }
      ws.set(op.Key, rec('', cur.LockIndex));
      return null;
    case 'get':
      if (!cur) return `key ${JSON.stringify(op.Key)} doesn't exist`;
      ws.result(cur, true);
      return null;
    case 'get-or-empty':
      ws.result(cur ?? { Key: op.Key, Flags: op.Flags, LockIndex: 0, Session: op.Session, Value: null, CreateIndex: 0, ModifyIndex: op.Index }, true);
      return null;
    case 'get-tree':
      for (const e of ws.list(op.Key)) ws.result(e, true);
      return null;
    case 'check-index':
      if (!cur) return `failed to check index, key ${JSON.stringify(op.Key)} doesn't exist`;
      if (cur.ModifyIndex !== op.Index) {
        return `failed index check for key ${JSON.stringify(op.Key)}, current modify index ${cur.ModifyIndex} != ${op.Index}`;
      }
      ws.result(cur, false);
      return null;
    case 'check-session':
      if (!cur) return `failed to check session, key ${JSON.stringify(op.Key)} doesn't exist`;
      if (cur.Session !== op.Session) {
        return `failed session check for key ${JSON.stringify(op.Key)}, current session ${JSON.stringify(cur.Session)} != ${JSON.stringify(op.Session)}`;
      }
      ws.result(cur, false);
      return null;
    case 'check-not-exists':
      return cur ? `key ${JSON.stringify(op.Key)} exists` : null;
    case 'delete':
      ws.delete(op.Key);
      return null;
    case 'delete-cas':
      if (cur && cur.ModifyIndex !== op.Index) return `failed to delete key ${JSON.stringify(op.Key)}, index is stale`;
      ws.delete(op.Key);
      return null;
    case 'delete-tree':
      ws.deleteTree(op.Key);
      return null;
    default:
      return `unknown KV verb ${JSON.stringify(op.Verb)}`;
  }
}

