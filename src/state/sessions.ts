// The sessions table of the replica (Consul's `sessions`): session records by id, with the
// per-node view that /v1/session/node and node invalidation need.
import type { WatchEvent } from '../store/index.ts';
import { RecordTable, type Indexed } from './records.ts';
import { foldName } from './catalog.ts';
import type { TenantHandler } from './tenancy-tables.ts';
import { DEFAULT_TENANCY_NAME, WILDCARD_NAMESPACE, foldTenancyName, tenantKey, type EnterpriseMeta } from './tenancy.ts';

/** Store prefix of the sessions table. */
export const SESSION_PREFIX = 'session/';
/** Notifier table name. */
export const SESSIONS_TABLE = 'sessions';
/** Store prefix of the per-session lock guards (bumped by every acquire). */
export const SESSION_LOCKS_PREFIX = 'sessionlocks/';
/** Store prefix of a follower's renew relay keys (server-local, never in snapshots). */
export const SESSION_RENEW_PREFIX = 'sessionrenew/';

/** A service check a session is tied to. */
export interface ServiceCheckRef {
  ID: string;
  Namespace: string;
}

/** A session as stored (Consul's structs.Session minus indexes). LockDelay is nanoseconds. */
export interface SessionRecord {
  ID: string;
  Name: string;
  Node: string;
  LockDelay: number;
  Behavior: 'release' | 'delete';
  TTL: string;
  NodeChecks: string[] | null;
  ServiceChecks: ServiceCheckRef[] | null;
  /**
   * The session's namespace, lower-case (`default` for every session made before tenancy). A
   * non-default tenant's session lives under its tenant prefix (`t/<ap>/<ns>/session/<id>`) and
   * the replica sets this from the key.
   */
  Namespace: string;
  /** The session's partition, lower-case; absent for the default partition (records stay as before tenancy). */
  Partition?: string;
}

/** The tenant of a session record (undefined for the default tenant). */
export function sessionEnt(s: SessionRecord): EnterpriseMeta | undefined {
  const ap = foldTenancyName(s.Partition || DEFAULT_TENANCY_NAME);
  const ns = foldTenancyName(s.Namespace || DEFAULT_TENANCY_NAME);
  return ap === DEFAULT_TENANCY_NAME && ns === DEFAULT_TENANCY_NAME ? undefined : { partition: ap, namespace: ns };
}

/**
 * A store key of a session (`prefix` = SESSION_PREFIX, SESSION_LOCKS_PREFIX or
 * SESSION_RENEW_PREFIX): `<prefix><id>` in the default tenant, under the tenant prefix in another.
 */
export function sessionStoreKey(s: SessionRecord, prefix: string = SESSION_PREFIX): string {
  return tenantKey(sessionEnt(s), prefix + s.ID);
}

/**
 * Whether a session belongs to tenant `ent` (absent: default), or to any namespace of its partition
 * for a wildcard. Sessions are cluster-unique ids kept in one table; the tenant is their attribute.
 */
export function sessionInTenant(s: SessionRecord, ent: EnterpriseMeta | undefined): boolean {
  const ap = foldTenancyName(s.Partition || DEFAULT_TENANCY_NAME);
  const ns = foldTenancyName(s.Namespace || DEFAULT_TENANCY_NAME);
  if (!ent) return ap === DEFAULT_TENANCY_NAME && ns === DEFAULT_TENANCY_NAME;
  if (ap !== foldTenancyName(ent.partition)) return false;
  return ent.namespace === WILDCARD_NAMESPACE || ns === foldTenancyName(ent.namespace);
}

/** A session with its indexes, as the API returns it. */
export type Session = Indexed<SessionRecord>;

/** The sessions table. */
export class SessionsTable extends RecordTable<SessionRecord> {
  constructor() {
    super(SESSIONS_TABLE, SESSION_PREFIX);
  }

  /** Sessions of one node (named case-insensitively, as Consul's session node index), in id order. */
  byNode(node: string): Session[] {
    const folded = foldName(node);
    return this.all().filter((s) => s.Node === node || foldName(s.Node) === folded).sort((a, b) => (a.ID < b.ID ? -1 : 1));
  }

  /**
   * Applies an event of a default-tenant session (`session/<id>`). The key says the tenant: a record
   * there naming another namespace or partition (written by the slice-2 builds, or restored from
   * their snapshots) is read as the default tenant's, so its store keys (sessionStoreKey) are the
   * ones it really has and invalidating it can commit.
   */
  override apply(ev: WatchEvent): string {
    const id = super.apply(ev);
    const s = ev.type === 'put' ? this.get(id) : undefined;
    if (s && (s.Partition !== undefined || (s.Namespace && foldTenancyName(s.Namespace) !== DEFAULT_TENANCY_NAME))) {
      s.Namespace = DEFAULT_TENANCY_NAME;
      delete s.Partition;
    }
    return id;
  }

  /**
   * Applies an event of a non-default tenant's session (key rewritten to `session/<id>`): the
   * session joins the one table (ids are cluster-unique, looked up globally) with its tenant taken
   * from the key, never from the value.
   */
  applyTenant(ent: EnterpriseMeta, ev: WatchEvent): string {
    const id = this.apply(ev);
    const s = ev.type === 'put' ? this.get(id) : undefined;
    if (s) {
      s.Namespace = foldTenancyName(ent.namespace);
      const ap = foldTenancyName(ent.partition);
      if (ap === DEFAULT_TENANCY_NAME) delete s.Partition;
      else s.Partition = ap;
    }
    return id;
  }

  /** Every session in id order (Consul lists by id). */
  list(): Session[] {
    return this.all().sort((a, b) => (a.ID < b.ID ? -1 : 1));
  }
}

/**
 * The tenant handlers of the shared session tables (`t/<ap>/<ns>/session/<id>` and
 * `t/<ap>/<ns>/sessionlocks/<id>`): they feed the replica's own tables, so lookups by id find a
 * session of any tenant. Renew relay keys have no table (the leader follows the store).
 */
export function sessionTenantAppliers(sessions: SessionsTable, locks: RecordTable<object>): TenantHandler[] {
  return [
    { prefix: SESSION_PREFIX, apply: (ent, ev, out) => void out.push(sessions.name, sessions.applyTenant(ent, ev)), reset: () => {} },
    { prefix: SESSION_LOCKS_PREFIX, apply: (_ent, ev, out) => void out.push(locks.name, locks.apply(ev)), reset: () => {} },
  ];
}
