// Txn evaluation: every op run against working copies of the replica's KV and catalog tables
// (with Consul's per-op ACL checks and error texts), giving the results, the per-op errors and
// the Store ops and compares to commit. Imported by txn.ts on the first transaction (issue #9).
import type { KVEntry, KVRecord } from '../state/index.ts';
import type { Compare, Op } from '../store/index.ts';
import { KvTxnWorkspace } from './txn-kv.ts';
import { planAcquire, planInvalidate } from './locks.ts';
import { kvStoreKey } from './kv.ts';
import { entPins, writableEnt } from './tenancy.ts';
import { entKey, sessionInTenant, type EnterpriseMeta } from '../state/index.ts';
import { CatalogTxnOverlay, runNodeOp, runServiceOp, runCheckOp, type CatalogResult } from './txn-catalog.ts';
import type { EndpointDeps } from './deps.ts';
import type { AclIdentity } from './acl-resolver.ts';
import { txnOpDenied } from './txn-acl.ts';
import type { TxnError, TxnKVOp, TxnOpInput, TxnResultItem, TxnSessionOp } from './txn.ts';

export { filterTxnResults } from './txn-acl.ts';

/** What a transaction's ops came to. */
export interface TxnEvaluation {
  results: TxnResultItem[];
  errors: TxnError[];
  compares: Compare[];
  writes: Op[];
  finish: (revision: number) => TxnResultItem[];
}

/** Evaluates every op against working copies of the replica; writes and compares make the Store txn. */
export function evaluateTxn(deps: EndpointDeps, ops: TxnOpInput[], authz: AclIdentity | undefined): TxnEvaluation {
  const ws = new KvTxnWorkspace(deps.replica);
  const ov = new CatalogTxnOverlay(deps);
  const order: ['kv' | 'cat', number][] = [];
  const errors = preCheck(deps, ops, authz);
  const writes: Op[] = [];
  if (errors.length === 0) ops.forEach((op, i) => {
    const [kvBefore, catBefore, kvOps, catOps] = [ws.results.length, ov.results.length, ws.writes().length, ov.ops.length];
    const what = runOp(deps, ws, ov, op);
    if (what) errors.push({ OpIndex: i, What: what });
    for (let k = kvBefore; k < ws.results.length; k++) order.push(['kv', k]);
    for (let k = catBefore; k < ov.results.length; k++) order.push(['cat', k]);
    // Keep Store ops in op order across the KV and catalog working copies.
    writes.push(...ws.writes().slice(kvOps), ...ov.ops.slice(catOps));
  });
  const pick = (kv: { KV: KVEntry }[], cat: CatalogResult[]): TxnResultItem[] =>
    order.map(([src, k]) => (src === 'kv' ? kv[k] : cat[k]));
  const vips = ov.virtualIPs.finish((ent, name) => ov.hasInstances(ent, name));
  return {
    results: pick(ws.results, ov.results),
    errors,
    compares: [...ws.compares(), ...ov.compares(), ...tenantPins(deps, ops), ...vips.compares],
    // Guard and VIP keys are the catalog's alone: their ops go last, one per key.
    writes: [...writes, ...ov.guards.ops(), ...vips.ops],
    finish: (rev) => pick(ws.finish(rev), ov.finish(rev)),
  };
}

function runOp(deps: EndpointDeps, ws: KvTxnWorkspace, ov: CatalogTxnOverlay, op: TxnOpInput): string | null {
  const dc = deps.config.datacenter;
  if (op.KV) return runKVOp(deps, ws, op.KV);
  if (op.Session) return runSessionOp(deps, ws, op.Session);
  if (op.Node) return runNodeOp(ov, op.Node, dc);
  if (op.Service) return runServiceOp(ov, op.Service, dc);
  if (op.Check) return runCheckOp(ov, op.Check);
  return 'no operation specified';
}

/**
 * Pins the namespace and partition records of every tenant a KV write op, or a catalog set/cas
 * op, writes into (see endpoint/tenancy.ts entPins).
 */
function tenantPins(deps: EndpointDeps, ops: TxnOpInput[]): Compare[] {
  const seen = new Map<string, EnterpriseMeta>();
  for (const op of ops) {
    if (op.KV?.ent && !KV_READS.has(op.KV.Verb)) seen.set(entKey(op.KV.ent), op.KV.ent);
    const cat = op.Service ?? op.Check;
    if (cat?.ent && (cat.Verb === 'set' || cat.Verb === 'cas')) seen.set(entKey(cat.ent), cat.ent);
  }
  return [...seen.values()].flatMap((ent) => entPins(deps.replica.tenants, ent));
}

/** Applies a Session op (invalidation) to the workspace; returns Consul's error text, or null. */
function runSessionOp(deps: EndpointDeps, ws: KvTxnWorkspace, op: TxnSessionOp): string | null {
  if (op.Verb !== 'delete') return `unknown Session verb ${JSON.stringify(op.Verb)}`;
  // Only a session of the request's tenant: another tenant's session is unknown here (as /v1/session/destroy).
  const s = deps.replica.sessions.get(op.Session?.ID ?? '');
  if (!s || !sessionInTenant(s, op.ent)) return null;
  const plan = planInvalidate(deps, s.ID);
  if (plan) ws.extra(plan.compares, plan.ops);
  return null;
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

/** KV verbs that only read (allowed in a namespace being deleted, or one that does not exist). */
const KV_READS = new Set(['get', 'get-or-empty', 'get-tree', 'check-index', 'check-session', 'check-not-exists']);

/** Applies one KV verb to the workspace (in the op's tenant); returns Consul's error text, or null. */
function runKVOp(deps: EndpointDeps, ws: KvTxnWorkspace, op: TxnKVOp): string | null {
  const ent = op.ent;
  if (ent && !KV_READS.has(op.Verb)) {
    try {
      writableEnt(deps.replica.tenants, ent);
    } catch (err) {
      return (err as Error).message;
    }
  }
  const cur = ws.get(op.Key, ent);
  const rec = (session: string, lockIndex: number): KVRecord =>
    ({ Flags: op.Flags, LockIndex: lockIndex, Session: session, Value: op.Value });
  switch (op.Verb) {
    case 'set':
      ws.set(op.Key, rec(cur?.Session ?? '', 0), ent);
      return null;
    case 'cas':
      if ((op.Index === 0 && cur) || (op.Index !== 0 && (!cur || cur.ModifyIndex !== op.Index))) {
        return `failed to set key ${JSON.stringify(op.Key)}, index is stale`;
      }
      ws.set(op.Key, rec(cur?.Session ?? '', 0), ent);
      return null;
    case 'lock': {
      const d = planAcquire(deps, op.Key, cur, op.Session, op.Flags, op.Value, ent);
      if ('error' in d) return d.error;
      if ('held' in d) {
        return d.delayed
          ? `failed to lock key ${JSON.stringify(op.Key)} due to lock delay`
          : `failed to lock key ${JSON.stringify(op.Key)}, lock is already held`;
      }
      // The key itself is pinned by the workspace; keep only the session guard and its bump.
      ws.set(op.Key, d.rec, ent);
      const own = kvStoreKey(ent, op.Key);
      ws.extra(d.compares.filter((c) => c.key !== own), d.ops.filter((o) => o.type === 'put' && o.key !== own));
      return null;
    }
    case 'unlock':
      if (!op.Session) return 'missing session';
      if (!cur || cur.Session !== op.Session) {
        return `failed to unlock key ${JSON.stringify(op.Key)}, lock isn't held, or is held by another session`;
      }
      ws.set(op.Key, rec('', cur.LockIndex), ent);
      return null;
    case 'get':
      if (!cur) return `key ${JSON.stringify(op.Key)} doesn't exist`;
      ws.result(cur, true);
      return null;
    case 'get-or-empty':
      ws.result(cur ?? {
        Key: op.Key, Flags: op.Flags, LockIndex: 0, Session: op.Session, Value: null, CreateIndex: 0, ModifyIndex: op.Index,
        ...(ent ? { Namespace: ent.namespace, Partition: ent.partition } : {}),
      }, true);
      return null;
    case 'get-tree':
      for (const e of ws.list(op.Key, ent)) ws.result(e, true);
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
      ws.delete(op.Key, ent);
      return null;
    case 'delete-cas':
      if (cur && cur.ModifyIndex !== op.Index) return `failed to delete key ${JSON.stringify(op.Key)}, index is stale`;
      ws.delete(op.Key, ent);
      return null;
    case 'delete-tree':
      ws.deleteTree(op.Key, ent);
      return null;
    default:
      return `unknown KV verb ${JSON.stringify(op.Verb)}`;
  }
}

