// The UI's service listing in a namespace (Consul Enterprise's /v1/internal/ui/services?ns=): each
// namespace's instances summarized apart (`ns=*`: every namespace of the partition, by name then
// namespace), each summary with its Namespace and Partition. Gateway links and peers' exports are
// the default namespace's listing's only (they are read from default-tenant tables).
import {
  CHECKS_TABLE, NODES_TABLE, SERVICES_TABLE, NAMESPACES_TABLE, DEFAULT_ENT, WILDCARD_NAMESPACE,
  catalogOf, catalogTableName, namespacesFor, partitionCatalog, partitionEnt, type EnterpriseMeta,
} from '../state/index.ts';
import { filterList } from '../filter/index.ts';
import { blockingQuery, type QueryOptions, type QueryResult } from './query.ts';
import type { EndpointDeps } from './deps.ts';
import { entContext, filterAllowed } from './acl-enforce.ts';
import { instanceReadable } from './catalog-acl.ts';
import { prepSummaryOutput, summarizeServices, summaryKey, type DumpRow, type ServiceSummary } from './ui-summary.ts';

/** A listing row in a namespace: the summary, its tenancy (Consul Enterprise's EnterpriseMeta), then the link flags. */
export type TenantListingSummary = ServiceSummary & {
  Namespace: string; Partition: string; ConnectedWithProxy: boolean; ConnectedWithGateway: boolean;
};

/** The service listing of the request's namespace (or every namespace of its partition for `*`). */
export function tenantServiceListing(deps: EndpointDeps, opts: QueryOptions, filter?: string): Promise<QueryResult<TenantListingSummary[]>> {
  return blockingQuery(deps, opts, (ws) => {
    const ent = opts.ent ?? DEFAULT_ENT;
    const ap = ent.partition.toLowerCase();
    const nodes = partitionCatalog(deps.replica, ap);
    // The partition's nodes and node checks, then each namespace's services and checks.
    ws.addTable(catalogTableName(NODES_TABLE, partitionEnt(ap))).addTable(catalogTableName(CHECKS_TABLE, partitionEnt(ap)));
    const ents: EnterpriseMeta[] = ent.namespace === WILDCARD_NAMESPACE ? namespacesFor(deps.replica, ap) : [ent];
    if (ent.namespace === WILDCARD_NAMESPACE) ws.addTable(NAMESPACES_TABLE);
    let index = nodes.maxIndex;
    let filtered = false;
    const value: TenantListingSummary[] = [];
    for (const e of ents) {
      for (const t of [SERVICES_TABLE, CHECKS_TABLE]) ws.addTable(catalogTableName(t, e));
      const cat = catalogOf(deps.replica, e);
      index = Math.max(index, cat.maxIndex);
      const rows: DumpRow[] = [];
      for (const key of cat.byName.keys()) {
        for (const i of cat.instances(key)) rows.push({ node: i.node, service: i.service, checks: cat.checkServiceNode(i).Checks });
      }
      const ctx = entContext(e);
      // ACLs first, then the expression (as Consul's ServiceDump).
      const kept = filterAllowed(opts.authz, rows, (r) => instanceReadable(opts.authz, r.node!.Node, r.service!.Service, ctx));
      filtered ||= kept.filtered;
      const csn = filterList(kept.items.map((r) => ({ Node: r.node!, Service: r.service!, Checks: r.checks, row: r })), filter);
      const { summaries, hasProxy } = summarizeServices(csn.map((r) => r.row));
      const tenancy = { Namespace: e.namespace.toLowerCase(), Partition: ap };
      for (const s of prepSummaryOutput(summaries, false)) {
        value.push({ ...s, ...tenancy, ConnectedWithProxy: hasProxy.has(summaryKey('', s.Name)), ConnectedWithGateway: false });
      }
    }
    value.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : a.Namespace < b.Namespace ? -1 : a.Namespace > b.Namespace ? 1 : 0));
    return { index, value, filtered };
  });
}
