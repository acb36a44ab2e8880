// The sessions table of the replica (Consul's `sessions`): session records by id, with the
// per-node view that /v1/session/node and node invalidation need.
import { RecordTable, type Indexed } from './records.ts';
import { foldName } from './catalog.ts';
import { DEFAULT_TENANCY_NAME, WILDCARD_NAMESPACE, foldTenancyName, type EnterpriseMeta } from './tenancy.ts';

/** Store prefix of the sessions table. */
export const SESSION_PREFIX = 'session/';
/** Notifier table name. */
export const SESSIONS_TABLE = 'sessions';

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
  /** The session's namespace (`default` for every session made before tenancy). */
  Namespace: string;
  /** The session's partition; absent for the default partition (records stay as before tenancy). */
  Partition?: string;
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
   * Store keys of the sessions of a namespace (or, with no namespace, of every namespace of a
   * partition) and their lock guards: a tenant's purge deletes them with its `t/` prefix, as sessions
   * live at `session/<id>` with their tenant as an attribute.
   */
  tenantKeys(partition: string, namespace?: string): string[] {
    const ent = { partition, namespace: namespace ?? WILDCARD_NAMESPACE };
    return this.all().filter((s) => sessionInTenant(s, ent)).flatMap((s) => [SESSION_PREFIX + s.ID, `sessionlocks/${s.ID}`]);
  }

  /** Every session in id order (Consul lists by id). */
  list(): Session[] {
    return this.all().sort((a, b) => (a.ID < b.ID ? -1 : 1));
  }
}
