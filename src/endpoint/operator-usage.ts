// Operator.Usage: the catalog's service, instance, mesh and node counts for this datacenter,
// read from the replica's running counts (no scan), as a blocking query on services and nodes.
import { NODES_TABLE, SERVICES_TABLE } from '../state/index.ts';
import type { ServiceUsage } from '../api/operator-usage.ts';
import type { EndpointDeps } from './deps.ts';
import { authorize } from './acl-enforce.ts';
import { blockingQuery, type QueryOptions, type QueryResult } from './query.ts';

/** This datacenter's usage counts; needs operator:read (Consul's OperatorReadAllowed). */
export function serviceUsage(deps: EndpointDeps, opts: QueryOptions): Promise<QueryResult<ServiceUsage>> {
  authorize(opts.authz, 'operatorRead');
  const cat = deps.replica.catalog;
  return blockingQuery(deps, opts, (ws) => {
    ws.addTable(SERVICES_TABLE).addTable(NODES_TABLE);
    return { index: Math.max(cat.index.services, cat.index.nodes), value: cat.usage.report(cat.byName.size, cat.nodes.size) };
  });
}
