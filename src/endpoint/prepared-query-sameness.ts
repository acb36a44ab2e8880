// Prepared queries with Service.SamenessGroup (Consul Enterprise's querySameness): the group of the
// query's partition is tried member by member in failover order, each run as the local execution
// is (filters, ACLs, shuffle, distance sort, limit), the first with results answering. A partition
// member counts only for a service it exports to the query's partition; a peer member answers with
// the service as that peer exports it into the query's namespace. Failover targets never apply.
import { InternalError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { foldTenancyName, DEFAULT_TENANCY_NAME, type PreparedQueryRecord } from '../state/index.ts';
import type { AclIdentity } from './acl-resolver.ts';
import type { EndpointDeps } from './deps.ts';
import { orderLocal, queryContext, readableNodes, runLocal, type ExecuteResult, type ExecuteSource } from './prepared-query-exec.ts';
import { exportedToPartition, samenessGroup, type SamenessMember } from './sameness.ts';

/** Consul's text when the query's partition has no group of that name (a 500 on the HTTP API). */
export const SAMENESS_GROUP_NOT_FOUND = 'Sameness Group not found';

/** What one execution needs besides the query: the caller's source, limit and connect flag. */
export type SamenessArgs = ExecuteSource & { limit: number; connect: boolean };

/**
 * Runs a sameness-group query: the first member's answer with results (Failovers: how many members
 * were tried after the first), else the last member's empty one. `filtered`: ACLs removed results
 * from the answer returned.
 */
export function executeSameness(
  deps: EndpointDeps, q: PreparedQueryRecord, id: AclIdentity | undefined, args: SamenessArgs, log: Logger,
): { result: ExecuteResult; filtered: boolean } {
  const partition = foldTenancyName(q.Service.Partition || DEFAULT_TENANCY_NAME);
  const group = samenessGroup(deps.replica, partition, q.Service.SamenessGroup ?? '');
  if (!group) throw new InternalError(SAMENESS_GROUP_NOT_FOUND);
  let out: { result: ExecuteResult; filtered: boolean } | undefined;
  let tried = 0;
  for (const m of group.members) {
    const run = runMember(deps, q, m, partition, id, args);
    if (!run) continue;
    out = { result: { ...run.result, Failovers: tried++ }, filtered: run.filtered };
    if (run.result.Nodes.length > 0) {
      orderLocal(deps, q, out.result, args, log);
      if (args.limit > 0) out.result.Nodes = out.result.Nodes.slice(0, args.limit);
      return out;
    }
  }
  return out ?? { result: { ...runLocal(deps, q, args.connect), Nodes: [], Failovers: 0 }, filtered: false };
}

/** One member's healthy, readable results; undefined for a partition member that does not export the service here. */
function runMember(
  deps: EndpointDeps, q: PreparedQueryRecord, m: SamenessMember, partition: string, id: AclIdentity | undefined, args: SamenessArgs,
): { result: ExecuteResult; filtered: boolean } | undefined {
  let mq = q;
  if (m.peer === undefined) {
    const namespace = q.Service.Namespace || DEFAULT_TENANCY_NAME;
    if (m.partition !== partition && !exportedToPartition(deps.replica, m.partition, namespace, q.Service.Service, partition)) return undefined;
    mq = { ...q, Service: { ...q.Service, Partition: m.partition } };
  }
  const result = runLocal(deps, mq, args.connect, m.peer ?? '');
  const found = result.Nodes.length;
  result.Nodes = readableNodes(id, result.Nodes, queryContext(mq));
  return { result, filtered: result.Nodes.length < found };
}
