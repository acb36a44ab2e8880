// The UI's services exported to a peer in an admin partition or naming a namespace (Consul Enterprise's
// /v1/internal/ui/exported-services?peer=&ns=&partition=, parsed with `*` allowed): the peering is looked up
// in the request's partition and every namespace's exports of that partition to it are listed, each with
// its Namespace and Partition (Internal.ExportedServicesForPeer reads the partition's whole exported-services
// entry; the namespace picks none out **(verify)**).
import { DEFAULT_TENANCY_NAME, foldTenancyName, partitionEnt } from '../state/index.ts';
import { blockingQuery, type QueryOptions, type QueryResult } from './query.ts';
import type { EndpointDeps } from './deps.ts';
import { allowed, entContext, filterAllowed } from './acl-enforce.ts';
import { resolveExports } from './exported-services.ts';
import { bareSummary, type ServiceSummary } from './ui-summary.ts';

/** An exported service's bare listing row with its tenancy. */
export type TenantExportSummary = ServiceSummary & { Namespace: string; Partition: string; ConnectedWithProxy: boolean; ConnectedWithGateway: boolean };

/** The services of the request's partition exported to `peer` (a peering of that partition); none for an unknown peer. */
export function tenantExportedServices(deps: EndpointDeps, peer: string, opts: QueryOptions): Promise<QueryResult<TenantExportSummary[]>> {
  const ap = foldTenancyName(opts.ent?.partition ?? DEFAULT_TENANCY_NAME);
  const dc = deps.config.datacenter;
  return blockingQuery(deps, opts, (ws) => {
    const { peerings } = deps.replica;
    ws.addTable(peerings.name);
    if (!peerings.byName(peer, ap)) return { index: Math.max(1, peerings.index), value: [] };
    const { index, value: exports } = resolveExports(deps, ws, ap);
    const rows = exports.filter((e) => e.Consumers.Peers?.includes(peer))
      .map((e) => ({ name: e.Service, namespace: foldTenancyName(e.Namespace ?? DEFAULT_TENANCY_NAME) }));
    // A mesh:write token of the partition sees every export; others only the services they may read there.
    const { items, filtered } = allowed(opts.authz, 'meshWrite', '', entContext(partitionEnt(ap)))
      ? { items: rows, filtered: false }
      : filterAllowed(opts.authz, rows, (r) => allowed(opts.authz, 'serviceRead', r.name, entContext({ partition: ap, namespace: r.namespace })));
    const value = items.map((r): TenantExportSummary => ({
      ...bareSummary(r.name, dc), Namespace: r.namespace, Partition: ap, ConnectedWithProxy: false, ConnectedWithGateway: false,
    }));
    return { index: Math.max(1, index, peerings.index), value, filtered };
  });
}
