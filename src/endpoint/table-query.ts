// A blocking read of one replica table (sessions, prepared queries, each ACL table): the table
// watched is the table read, and the answer carries its index.
import { blockingQuery, type QueryOptions, type QueryResult } from './query.ts';
import type { EndpointDeps } from './deps.ts';

/** What a table read answers: the value, and whether ACL filtering dropped something from it. */
export interface TableRead<T> {
  value: T;
  filtered?: boolean;
}

/** Runs `read` as a blocking query that wakes on any change to `table` and answers at its index. */
export function tableQuery<T>(
  deps: EndpointDeps, opts: QueryOptions, table: { readonly name: string; readonly index: number }, read: () => TableRead<T>,
): Promise<QueryResult<T>> {
  return blockingQuery(deps, opts, (ws) => {
    ws.addTable(table.name);
    return { index: table.index, ...read() };
  });
}
