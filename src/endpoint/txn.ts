// The transaction endpoint (Consul's Txn.Apply / Txn.Read): evaluates every op against a
// working copy of the replica, collects Consul's per-op errors, and commits all writes as
// one Store txn whose compares pin every key that was read.
import type { EnterpriseMeta, KVEntry } from '../state/index.ts';
import { commitPlanned, type Plan } from './commit.ts';
import { consistentRead, queryMeta, type QueryOptions, type QueryMeta } from './query.ts';
import type { CatalogTxnOp, CatalogResult } from './txn-catalog.ts';
import type { EndpointDeps } from './deps.ts';
import type { AclIdentity } from './acl-resolver.ts';
import type { evaluateTxn } from './txn-evaluate.ts';

/** One KV op as the API carries it (Value already base64-decoded). */
export interface TxnKVOp {
  Verb: string;
  Key: string;
  Value: Buffer | null;
  Flags: bigint;
  Index: number;
  Session: string;
  /** The op's tenant (its Namespace/Partition fields, else the token's scope); absent: default. */
  ent?: EnterpriseMeta;
}

/** A Session op: Consul defines only `delete` (invalidate). */
export interface TxnSessionOp {
  Verb: string;
  Session: { ID: string };
  /** The request's tenant (the token's scope); absent: default. A session of another tenant is not found. */
  ent?: EnterpriseMeta;
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

/**
 * The ops' evaluation (txn-evaluate.ts with the KV and catalog working copies and the per-op ACL
 * checks, 4 modules), imported on the first transaction: an agent answers its first request
 * without it (issue #9).
 */
const evaluation = () => import('./txn-evaluate.ts');

/** Runs transactions. */
export class TxnEndpoint {
  readonly #deps: EndpointDeps;

  constructor(deps: EndpointDeps) {
    this.#deps = deps;
  }

  /** Applies a transaction atomically; errors roll everything back. */
  async apply(ops: TxnOpInput[], opts: QueryOptions): Promise<TxnOutcome> {
    const { evaluateTxn, filterTxnResults } = await evaluation();
    if (isReadOnly(ops)) {
      if (opts.consistency === 'consistent') await consistentRead(this.#deps);
      const out = evaluateTxn(this.#deps, ops, opts.authz);
      const meta = queryMeta(this.#deps, this.#deps.replica.appliedRevision, opts.consistency);
      const results = out.errors.length ? null : filterTxnResults(opts.authz, out.results);
      return { results, errors: out.errors.length ? out.errors : null, meta };
    }
    const res = await commitPlanned<TxnOutcome>(this.#deps, () => this.#plan(evaluateTxn, ops, opts.authz));
    return res.results ? { ...res, results: filterTxnResults(opts.authz, res.results) } : res;
  }

  #plan(evaluate: typeof evaluateTxn, ops: TxnOpInput[], authz: AclIdentity | undefined): Plan<TxnOutcome> {
    const ev = evaluate(this.#deps, ops, authz);
    if (ev.errors.length) return { answer: { results: null, errors: ev.errors } };
    if (ev.writes.length === 0) return { answer: { results: ev.results, errors: null } };
    return {
      txn: { compares: ev.compares, success: ev.writes },
      done: (res) => ({ results: ev.finish(res.revision), errors: null }),
    };
  }
}
