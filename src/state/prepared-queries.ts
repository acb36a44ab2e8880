// The prepared queries table of the replica (Consul's `prepared-queries`): queries by id, with
// the lookups resolution needs (exact name, case-insensitive; the longest template name prefix)
// and the per-session view that session invalidation deletes.
import { RecordTable, type Indexed } from './records.ts';
import type { PreparedQueryRecord } from '../api/prepared-query-types.ts';

export type { PreparedQueryRecord, ServiceQuery, QueryFailoverTarget } from '../api/prepared-query-types.ts';

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
