// The prepared queries table of the replica (Consul's `prepared-queries`): queries by id, with
// the lookups resolution needs (exact name, case-insensitive; the longest template name prefix)
// and the per-session view that session invalidation deletes.
import { RecordTable, type Indexed } from './records.ts';

/** Store prefix of the prepared queries table. */
export const QUERY_PREFIX = 'query/';
/** Notifier table name. */
export const PREPARED_QUERIES_TABLE = 'prepared-queries';

/**
 * The key every create and update of a prepared query rewrites, compared on its revision: names
 * must stay unique across servers committing at once (Consul's Raft log orders them; here the
 * Store's compare on this one key does).
 */
export const QUERY_GUARD_KEY = 'querylock/names';

/** A failover target: a datacenter or a cluster peer. */
export interface QueryFailoverTarget {
  Peer: string;
  Datacenter: string;
}

/** A prepared query's service part (Consul's structs.ServiceQuery). */
export interface ServiceQuery {
  Service: string;
  SamenessGroup: string;
  Failover: { NearestN: number; Datacenters: string[] | null; Targets: QueryFailoverTarget[] | null };
  OnlyPassing: boolean;
  IgnoreCheckIDs: string[] | null;
  Near: string;
  Tags: string[] | null;
  NodeMeta: Record<string, string> | null;
  ServiceMeta: Record<string, string> | null;
  Peer: string;
  Connect: boolean;
}

/** A prepared query as stored (Consul's structs.PreparedQuery minus indexes). */
export interface PreparedQueryRecord {
  ID: string;
  Name: string;
  Session: string;
  Token: string;
  Template: { Type: string; Regexp: string; RemoveEmptyTags: boolean };
  Service: ServiceQuery;
  DNS: { TTL: string };
}

/** A prepared query with its indexes, as the API returns it. */
export type PreparedQuery = Indexed<PreparedQueryRecord>;

/** The prepared queries table. */
export class PreparedQueriesTable extends RecordTable<PreparedQueryRecord> {
  constructor() {
    super(PREPARED_QUERIES_TABLE, QUERY_PREFIX);
  }

  /** Every query in id order (Consul lists by id). */
  list(): PreparedQuery[] {
    return this.all().sort((a, b) => (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0));
  }

  /** The query with this name (names are unique, compared case-insensitively). */
  byName(name: string): PreparedQuery | undefined {
    const lower = name.toLowerCase();
    return this.all().find((q) => q.Name !== '' && q.Name.toLowerCase() === lower);
  }

  /** The template whose name is the longest prefix of `name` (case-insensitive); the empty-named template matches anything. */
  longestTemplate(name: string): PreparedQuery | undefined {
    const lower = name.toLowerCase();
    let best: PreparedQuery | undefined;
    for (const q of this.all()) {
      if (q.Template.Type === '' || !lower.startsWith(q.Name.toLowerCase())) continue;
      if (!best || q.Name.length > best.Name.length) best = q;
    }
    return best;
  }

  /** Queries bound to a session. */
  bySession(session: string): PreparedQuery[] {
    return this.all().filter((q) => q.Session === session);
  }
}
