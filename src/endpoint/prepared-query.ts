// The prepared query endpoint (Consul's PreparedQuery.Apply/Get/List/Explain/Execute/
// ExecuteRemote): writes validated with Consul's texts and guarded by `query` write rules on the
// query's name, reads filtered by `query` read rules with tokens redacted for non-management
// callers, and resolution by ID, exact name or the longest template prefix.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { InternalError, NotFoundError, PermissionDeniedError } from '../errors.ts';
import { QUERY_GUARD_KEY, QUERY_PREFIX, sessionStoreKey, encodeRecord, type PreparedQuery, type PreparedQueryRecord } from '../state/index.ts';
import type { Compare } from '../store/index.ts';
import { consistentRead, queryMeta, type QueryMeta, type QueryOptions, type QueryResult } from './query.ts';
import { commitPlanned, pinRecord } from './commit.ts';
import { tableQuery } from './table-query.ts';
import type { EndpointDeps } from './deps.ts';
import type { AclIdentity } from './acl-resolver.ts';
import { allowed, authorize } from './acl-enforce.ts';
import type { CompiledTemplate } from './prepared-query-template.ts';
import type { ExecuteResult, ExecuteSource, QueryFailover, RemoteExecuteRequest } from './prepared-query-exec.ts';

type QueryParts = typeof import('./prepared-query-validate.ts') & typeof import('./prepared-query-template.ts') & typeof import('./prepared-query-exec.ts')
  & typeof import('./prepared-query-sameness.ts');
let queryParts: QueryParts | undefined;
const require = createRequire(import.meta.url);

/**
 * Query validation, templates and execution (4 modules), loaded on the first prepared query
 * request: an agent answers its first request without them (issue #9). Loaded with require
 * (synchronous, sharing the ES module cache) because resolve() is synchronous.
 */
function parts(): QueryParts {
  return queryParts ??= {
    ...require('./prepared-query-validate.ts') as typeof import('./prepared-query-validate.ts'),
    ...require('./prepared-query-template.ts') as typeof import('./prepared-query-template.ts'),
    ...require('./prepared-query-exec.ts') as typeof import('./prepared-query-exec.ts'),
    ...require('./prepared-query-sameness.ts') as typeof import('./prepared-query-sameness.ts'),
  };
}

/** Consul's ErrQueryNotFound text (404 on the HTTP API). */
export const QUERY_NOT_FOUND = 'Query not found';

/** What the endpoint needs besides the common deps. */
export interface PreparedQueryOptions {
  /** Resolves a query's own Token for execution. */
  resolve(secret: string): AclIdentity;
  /** Cross-datacenter failover; absent without a WAN pool. */
  failover?: QueryFailover;
  /** The agent's network segment (`${agent.segment}`). */
  segment?: string;
}

/** Execution arguments besides the query's name. */
export interface ExecuteArgs extends ExecuteSource {
  limit: number;
  connect: boolean;
}

/** The ACL prefix of a query: its name when it has one or is a template (Consul's GetACLPrefix). */
function aclPrefix(q: Pick<PreparedQueryRecord, 'Name' | 'Template'>): string | null {
  return q.Name !== '' || q.Template.Type !== '' ? q.Name : null;
}

/** Prepared query operations. */
/** Compiled templates by stored record (a replaced record is a new object), as Consul keeps them beside the query. */
const compiledTemplates = new WeakMap<PreparedQueryRecord, CompiledTemplate>();

function compiled(q: PreparedQueryRecord): CompiledTemplate {
  let ct = compiledTemplates.get(q);
  if (!ct) {
    ct = parts().compileTemplate(q);
    compiledTemplates.set(q, ct);
  }
  return ct;
}

export class PreparedQueryEndpoint {
  readonly #deps: EndpointDeps;
  readonly #o: PreparedQueryOptions;
  readonly #log;

  constructor(deps: EndpointDeps, o: PreparedQueryOptions) {
    this.#deps = deps;
    this.#o = o;
    this.#log = deps.logger.child({ '@module': 'agent.prepared_query' });
  }

  /** Creates a query; returns its new ID. */
  async create(q: PreparedQueryRecord, authz?: AclIdentity): Promise<string> {
    if (q.ID !== '') throw new InternalError('ID must be empty when creating a new prepared query');
    let id = randomUUID();
    while (this.#deps.replica.preparedQueries.get(id)) id = randomUUID();
    const rec = { ...q, ID: id };
    this.#writeAllowed(rec, authz);
    parts().validateQuery(rec);
    await this.#put(rec, true);
    return id;
  }

  /** Replaces a query (the ID comes from the URL). */
  async update(id: string, q: PreparedQueryRecord, authz?: AclIdentity): Promise<void> {
    const rec = { ...q, ID: id };
    this.#writeAllowed(rec, authz);
    await this.#existing(id, authz);
    parts().validateQuery(rec);
    await this.#put(rec, false);
  }

  /** Deletes a query. */
  async delete(id: string, authz?: AclIdentity): Promise<void> {
    await this.#existing(id, authz);
    await commitPlanned(this.#deps, () => {
      const cur = this.#deps.replica.preparedQueries.get(id);
      if (!cur) return { answer: undefined };
      return {
        txn: { compares: [pinRecord(QUERY_PREFIX + id, cur)], success: [{ type: 'delete', key: QUERY_PREFIX + id }] },
        done: () => undefined,
      };
    });
  }

  #writeAllowed(q: PreparedQueryRecord, authz?: AclIdentity): void {
    const prefix = aclPrefix(q);
    if (prefix !== null && !allowed(authz, 'preparedQueryWrite', prefix)) {
      this.#log.warn({ query: q.ID }, 'Operation on prepared query denied due to ACLs');
      authorize(authz, 'preparedQueryWrite', prefix);
    }
  }

  /** The query a change names; Consul's "Cannot modify non-existent" error, and write rules on its current name. */
  async #existing(id: string, authz?: AclIdentity): Promise<PreparedQuery> {
    let cur = this.#deps.replica.preparedQueries.get(id);
    if (!cur) {
      await consistentRead(this.#deps);
      cur = this.#deps.replica.preparedQueries.get(id);
    }
    if (!cur) throw new InternalError(`Cannot modify non-existent prepared query: '${id}'`);
    this.#writeAllowed(cur, authz);
    return cur;
  }

  async #put(rec: PreparedQueryRecord, create: boolean): Promise<void> {
    const { replica } = this.#deps;
    await commitPlanned(this.#deps, () => {
      parts().checkIntegrity(rec, replica.preparedQueries, replica.sessions);
      const cur = replica.preparedQueries.get(rec.ID);
      if (!create && !cur) throw new InternalError(`Cannot modify non-existent prepared query: '${rec.ID}'`);
      const compares: Compare[] = [pinRecord(QUERY_PREFIX + rec.ID, cur)];
      const s = rec.Session ? replica.sessions.get(rec.Session) : undefined;
      if (s) compares.push(pinRecord(sessionStoreKey(s), s));
      const guard = replica.queryGuard.get(QUERY_GUARD_KEY.slice(replica.queryGuard.prefix.length));
      compares.push(pinRecord(QUERY_GUARD_KEY, guard));
      return {
        txn: { compares, success: [{ type: 'put', key: QUERY_PREFIX + rec.ID, value: encodeRecord(rec) }, { type: 'put', key: QUERY_GUARD_KEY, value: encodeRecord({}) }] },
        done: () => undefined,
      };
    });
  }

  /** One query by ID (404 when missing; 403 when its name's read rule denies it). */
  get(id: string, opts: QueryOptions): Promise<QueryResult<PreparedQuery[]>> {
    const t = this.#deps.replica.preparedQueries;
    return tableQuery(this.#deps, opts, t, () => {
      const q = t.get(id);
      if (!q) throw new NotFoundError(QUERY_NOT_FOUND);
      // A query no prefix rule covers is visible to whoever has its ID; only its token is hidden.
      if (aclPrefix(q) === null) return { value: [redact(opts.authz, q)] };
      const value = readable(opts.authz, [q]);
      if (value.length === 0) {
        this.#log.warn({ query: id }, 'Request to get prepared query denied due to ACLs');
        throw new PermissionDeniedError('Permission denied');
      }
      return { value };
    });
  }

  /** Every query the caller may read. */
  list(opts: QueryOptions): Promise<QueryResult<PreparedQuery[]>> {
    const t = this.#deps.replica.preparedQueries;
    return tableQuery(this.#deps, opts, t, () => {
      const all = t.list();
      const value = readable(opts.authz, all);
      const named = all.filter((q) => aclPrefix(q) !== null).length;
      return { value, filtered: value.length < named };
    });
  }

  /** Finds a query by ID, exact name, or longest template prefix, rendering templates (Consul's PreparedQueryResolve). */
  resolve(idOrName: string): PreparedQueryRecord {
    const t = this.#deps.replica.preparedQueries;
    if (idOrName === '') throw new InternalError('Query ID must be provided');
    const { isTemplate, isUUID, renderTemplate } = parts();
    if (isUUID(idOrName)) {
      const q = t.get(idOrName.toLowerCase()) ?? t.get(idOrName);
      if (q) {
        if (isTemplate(q)) throw new InternalError('prepared query templates can only be resolved up by name, not by ID');
        return q;
      }
    }
    const q = t.byName(idOrName) ?? t.longestTemplate(idOrName);
    if (!q) throw new NotFoundError(QUERY_NOT_FOUND);
    if (!isTemplate(q)) return q;
    try {
      return { ...renderTemplate(compiled(q), idOrName, { segment: this.#o.segment ?? '' }), CreateIndex: q.CreateIndex, ModifyIndex: q.ModifyIndex } as PreparedQueryRecord;
    } catch (err) {
      throw new InternalError((err as Error).message);
    }
  }

  /** The query a name resolves to, rendered (403 unless the caller may read it). */
  async explain(idOrName: string, opts: QueryOptions): Promise<{ Query: PreparedQueryRecord; meta: QueryMeta }> {
    if (opts.consistency === 'consistent') await consistentRead(this.#deps);
    const q = this.resolve(idOrName);
    const out = readable(opts.authz, [q as PreparedQuery]);
    if (out.length === 0) {
      this.#log.warn({ query: q.ID }, 'Explain on prepared query denied due to ACLs');
      throw new PermissionDeniedError('Permission denied');
    }
    // Like execute, not a blocking query: Consul leaves its Index unset.
    return { Query: out[0], meta: queryMeta(this.#deps, 0, opts.consistency) };
  }

  /** Runs a query here, failing over to other datacenters when nothing healthy is found (cancelled when `opts.signal` aborts). */
  async execute(idOrName: string, opts: QueryOptions, args: ExecuteArgs): Promise<ExecuteResult & { meta: QueryMeta }> {
    if (opts.consistency === 'consistent') await consistentRead(this.#deps);
    const q = this.resolve(idOrName);
    const { failover, orderLocal, readableNodes, runLocal } = parts();
    const id = q.Token ? this.#o.resolve(q.Token) : opts.authz;
    if (q.Service.SamenessGroup) {
      // The group's members are the query's failover (Consul's querySameness): no Failover targets.
      const { result, filtered } = parts().executeSameness(this.#deps, q, id, args, this.#log);
      const meta = queryMeta(this.#deps, 0, opts.consistency);
      return { ...result, meta: filtered && id?.tokenGiven ? { ...meta, filteredByACLs: true } : meta };
    }
    let res = runLocal(this.#deps, q, args.connect);
    const found = res.Nodes.length;
    res.Nodes = readableNodes(id, res.Nodes, parts().queryContext(q));
    // Consul reports the filtering (X-Consul-Results-Filtered-By-ACLs) to callers that presented a token.
    let filtered = res.Nodes.length < found && id?.tokenGiven === true;
    orderLocal(this.#deps, q, res, args, this.#log);
    if (args.limit > 0) res.Nodes = res.Nodes.slice(0, args.limit);
    if (res.Nodes.length === 0) {
      // A peer target runs here, on what the peer exports (Consul's ExecuteRemote in the local datacenter).
      const runPeer = (peer: string) => {
        const { result, filtered: f } = parts().executeHere(this.#deps, { Query: q, Limit: args.limit, Connect: args.connect }, id, peer);
        return { ...result, filtered: f && id?.tokenGiven === true };
      };
      const { remoteFiltered, ...remote } = await failover(q, this.#o.failover, { Limit: args.limit, Connect: args.connect }, opts.token, res, this.#log, opts.signal, runPeer);
      res = remote;
      filtered = remoteFiltered ?? filtered;
    }
    return { ...res, meta: { ...queryMeta(this.#deps, 0, opts.consistency), ...(filtered ? { filteredByACLs: true } : {}) } };
  }

  /** Runs a query another datacenter sent (Consul's ExecuteRemote): no failover, no distance sort. */
  async executeRemote(req: RemoteExecuteRequest, opts: QueryOptions): Promise<ExecuteResult & { meta: QueryMeta }> {
    if (opts.consistency === 'consistent') await consistentRead(this.#deps);
    const id = req.Query.Token ? this.#o.resolve(req.Query.Token) : opts.authz;
    const { result, filtered } = parts().executeHere(this.#deps, req, id);
    const meta = queryMeta(this.#deps, 0, opts.consistency);
    return { ...result, meta: filtered && id?.tokenGiven ? { ...meta, filteredByACLs: true } : meta };
  }
}

/** Consul's prepared query ACL filter: management sees all; others see named queries their read rules allow, tokens hidden. */
function readable(id: AclIdentity | undefined, queries: PreparedQuery[]): PreparedQuery[] {
  if (!id || allowed(id, 'aclWrite')) return queries;
  return queries.filter((q) => {
    const prefix = aclPrefix(q);
    return prefix !== null && allowed(id, 'preparedQueryRead', prefix);
  }).map((q) => redact(id, q));
}

function redact(id: AclIdentity | undefined, q: PreparedQuery): PreparedQuery {
  if (!id || allowed(id, 'aclWrite') || q.Token === '') return q;
  return { ...q, Token: parts().REDACTED_TOKEN };
}
