// The session endpoint (Consul's Session.Apply/Get/List/NodeSessions/Renew): validation with
// Consul's error texts, creation tied to node health, invalidation that releases or deletes
// every held lock atomically, and the TTL hooks the leader's timers follow.
import { randomUUID } from 'node:crypto';
import { InternalError } from '../errors.ts';
import { goDurationError, parseGoDuration, formatGoDuration } from '../duration.ts';
import {
  encodeRecord, isDefaultEnt, sessionInTenant, sessionEnt, sessionStoreKey, foldTenancyName, DEFAULT_TENANCY_NAME,
  type EnterpriseMeta, type Session, type SessionRecord, type ServiceCheckRef,
} from '../state/index.ts';
import { writableEnt } from './tenancy.ts';
import { inTenant } from './kv.ts';
import { consistentRead, type QueryOptions, type QueryResult } from './query.ts';
import { tableQuery } from './table-query.ts';
import { commitPlanned, commitWrite } from './commit.ts';
import type { Compare } from '../store/index.ts';
import { planInvalidate } from './locks.ts';
import type { EndpointDeps } from './deps.ts';
import type { AclIdentity } from './acl-resolver.ts';
import { allowed, authorize, entContext, filterAllowed } from './acl-enforce.ts';

/** Consul's upper bound for session TTLs. */
export const SESSION_TTL_MAX_MS = 24 * 3600 * 1000;

/** A session create request after HTTP decoding (defaults already applied). */
export interface SessionCreate {
  Name: string;
  Node: string;
  /** Nanoseconds. */
  LockDelay: number;
  Behavior: string;
  TTL: string;
  NodeChecks: string[];
  ServiceChecks: ServiceCheckRef[];
}

/** What sessions need to know about nodes and checks (the catalog, once it exists). */
export interface SessionHealth {
  /** Whether a node is registered in `partition` (absent: default). */
  nodeExists(node: string, partition?: string): boolean;
  /**
   * Status of a check on a node of `partition` (absent: default): a service check of `namespace` there,
   * a node check with none; null when it is not registered.
   */
  checkStatus(node: string, checkId: string, namespace?: string, partition?: string): string | null;
  /**
   * Compares pinning the node and checks a create was validated against, as read (absent records:
   * still absent), so a check that went critical in the Store but not yet in the replica fails the
   * txn and the create is validated again (Consul checks them in the same state store txn).
   */
  pins?(node: string, checks: readonly ServiceCheckRef[], partition?: string): Compare[];
}

/** Callbacks for the leader's TTL timers. */
export interface SessionTtlHooks {
  armed(session: SessionRecord): void;
  cleared(id: string): void;
}

/** Session operations. */
export class SessionEndpoint {
  readonly #deps: EndpointDeps;
  readonly #health: SessionHealth;
  readonly #ttl: SessionTtlHooks;

  constructor(deps: EndpointDeps, health: SessionHealth, ttl: SessionTtlHooks) {
    this.#deps = deps;
    this.#health = health;
    this.#ttl = ttl;
  }

  /** Validates a create; `partition`: the session's, when not default (its node and checks are looked up there). */
  #validate(req: SessionCreate, partition: string | undefined): SessionRecord['Behavior'] {
    const behavior = req.Behavior === '' ? 'release' : req.Behavior;
    if (behavior !== 'release' && behavior !== 'delete') throw new InternalError(`Invalid Behavior setting '${req.Behavior}'`);
    if (req.TTL !== '') {
      const ms = parseGoDuration(req.TTL);
      if (ms === null) throw new InternalError(`Session TTL '${req.TTL}' invalid: ${goDurationError(req.TTL)}`);
      const min = this.#deps.config.sessionTtlMin;
      if (ms !== 0 && (ms < min || ms > SESSION_TTL_MAX_MS)) {
        throw new InternalError(`Invalid Session TTL '${Math.round(ms * 1e6)}', must be between [${formatGoDuration(min)}=${formatGoDuration(SESSION_TTL_MAX_MS)}]`);
      }
    }
    if (!req.Node) throw new InternalError('Must provide Node');
    if (!this.#health.nodeExists(req.Node, partition)) throw new InternalError('Missing node registration');
    // A service check is looked up in its own namespace of the partition (node checks are the partition's).
    const checks = [...req.NodeChecks.map((id) => ({ ID: id, Namespace: '' })), ...req.ServiceChecks];
    for (const { ID: id, Namespace: ns } of checks) {
      const status = this.#health.checkStatus(req.Node, id, ns || undefined, partition);
      if (status === null) throw new InternalError(`Missing check '${id}' registration`);
      if (status === 'critical') throw new InternalError(`Check '${id}' is in ${status} state`);
    }
    return behavior;
  }

  /** Creates a session (in tenant `ent`, absent: default); returns its ID. */
  async create(req: SessionCreate, authz?: AclIdentity, ent?: EnterpriseMeta): Promise<string> {
    const tenant = isDefaultEnt(ent) ? undefined : ent;
    authorize(authz, 'sessionWrite', req.Node, entContext(tenant));
    writableEnt(this.#deps.replica.tenants, tenant);
    const ap = tenant && foldTenancyName(tenant.partition);
    const partition = ap === DEFAULT_TENANCY_NAME ? undefined : ap;
    const rec: SessionRecord = {
      ID: randomUUID(), Name: req.Name, Node: req.Node, LockDelay: req.LockDelay, Behavior: this.#validate(req, partition), TTL: req.TTL,
      NodeChecks: req.NodeChecks.length ? req.NodeChecks : null,
      ServiceChecks: req.ServiceChecks.length ? req.ServiceChecks : null,
      // Lower-case, as KV's tenant names; a tenant's session lives under its prefix (the key says the tenant).
      Namespace: tenant ? foldTenancyName(tenant.namespace) : DEFAULT_TENANCY_NAME,
    };
    if (partition) rec.Partition = partition;
    const key = sessionStoreKey(rec);
    const checks = [...req.NodeChecks.map((id) => ({ ID: id, Namespace: '' })), ...req.ServiceChecks];
    let first = true;
    await commitPlanned(this.#deps, inTenant(this.#deps.replica.tenants, tenant, () => {
      // A re-plan (a pinned node or check changed) validates against the current replica again.
      if (!first) this.#validate(req, partition);
      first = false;
      return {
        txn: {
          compares: [{ key, target: 'createRevision', op: '=', value: 0 }, ...(this.#health.pins?.(req.Node, checks, partition) ?? [])],
          success: [{ type: 'put', key, value: encodeRecord(rec) }],
        },
        done: () => true,
      };
    }));
    if (rec.TTL) this.#ttl.armed(rec);
    return rec.ID;
  }

  /**
   * Invalidates a session (idempotent): releases or deletes its locks, starts lock-delays. A request's
   * tenant (`ent`) leaves a session of another tenant alone; internal callers (TTL expiry) give none.
   */
  async destroy(id: string, authz?: AclIdentity, ent?: EnterpriseMeta): Promise<void> {
    const existing = await this.#find(id);
    if (existing && ent !== undefined && !sessionInTenant(existing, tenantOf(ent))) return;
    if (existing) authorize(authz, 'sessionWrite', existing.Node, entContext(ent));
    await commitWrite(this.#deps, () => planInvalidate(this.#deps, id));
    this.#ttl.cleared(id);
  }

  /** Renews a TTL session; null when it does not exist. */
  async renew(id: string, authz?: AclIdentity, ent?: EnterpriseMeta): Promise<Session[] | null> {
    const s = await this.#find(id);
    if (!s || (ent !== undefined && !sessionInTenant(s, tenantOf(ent)))) return null;
    authorize(authz, 'sessionWrite', s.Node, entContext(ent));
    if (s.TTL) this.#ttl.armed(s);
    return [s];
  }

  /**
   * A session for a write (renew, destroy): this server's replica may not have applied a session
   * another server just created (Consul answers these on the leader), so a miss is only believed
   * once the replica has caught up with the Store.
   */
  async #find(id: string): Promise<Session | undefined> {
    const s = this.#deps.replica.sessions.get(id);
    if (s) return s;
    await consistentRead(this.#deps);
    return this.#deps.replica.sessions.get(id);
  }

  /** One session (`[]` when missing), blocking on the sessions table. */
  info(id: string, opts: QueryOptions): Promise<QueryResult<Session[]>> {
    const t = this.#deps.replica.sessions;
    return tableQuery(this.#deps, opts, t, () => {
      const s = t.get(id);
      return readable(opts.authz, s ? [s] : [], opts.ent);
    });
  }

  /** Sessions of a node. */
  node(node: string, opts: QueryOptions): Promise<QueryResult<Session[]>> {
    const t = this.#deps.replica.sessions;
    return tableQuery(this.#deps, opts, t, () => readable(opts.authz, t.byNode(node), opts.ent));
  }

  /** Every session. */
  list(opts: QueryOptions): Promise<QueryResult<Session[]>> {
    const t = this.#deps.replica.sessions;
    return tableQuery(this.#deps, opts, t, () => readable(opts.authz, t.list(), opts.ent));
  }
}

/** A request's tenant: undefined for the default tenant. */
function tenantOf(ent: EnterpriseMeta | undefined): EnterpriseMeta | undefined {
  return isDefaultEnt(ent) ? undefined : ent;
}

/**
 * Sessions of the read's tenant (every namespace of its partition for `ns=*`) the caller may read
 * (session:read on the session's node, in the session's tenant).
 */
function readable(id: AclIdentity | undefined, sessions: Session[], ent: EnterpriseMeta | undefined): { value: Session[]; filtered: boolean } {
  const tenant = tenantOf(ent);
  const mine = sessions.filter((s) => sessionInTenant(s, tenant));
  const { items, filtered } = filterAllowed(id, mine, (s) => allowed(id, 'sessionRead', s.Node, entContext(sessionEnt(s))));
  return { value: items, filtered };
}
