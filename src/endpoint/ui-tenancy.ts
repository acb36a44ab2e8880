// The UI's service listing in a namespace (Consul Enterprise's /v1/internal/ui/services?ns=): each
// namespace's instances summarized apart (`ns=*`: every namespace of the partition, by name then
// namespace), each summary with its Namespace and Partition, followed by what the partition's peers
// export into that namespace (`?peer=`: that peer's only). Gateway links are the default
// namespace's listing's only (they are read from default-tenant tables).
import {
  CHECKS_TABLE, NODES_TABLE, SERVICES_TABLE, NAMESPACES_TABLE, DEFAULT_ENT, WILDCARD_NAMESPACE, PEER_IMPORTS_TABLE,
  catalogOf, catalogTableName, namespacesFor, partitionCatalog, partitionEnt, peerImportsOf, tenantTableName, type EnterpriseMeta,
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

/**
 * The service listing of the request's namespace (or every namespace of its partition for `*`):
 * its instances and the peers' imported ones; with `peer`, that peer's imports only.
 */
export function tenantServiceListing(deps: EndpointDeps, opts: QueryOptions, filter?: string, peer = ''): Promise<QueryResult<TenantListingSummary[]>> {
  return blockingQuery(deps, opts, (ws) => {
    const ent = opts.ent ?? DEFAULT_ENT;
    const ap = ent.partition.toLowerCase();
    const nodes = partitionCatalog(deps.replica, ap);
    // The partition's nodes and node checks, then each namespace's services and checks.
    ws.addTable(catalogTableName(NODES_TABLE, partitionEnt(ap))).addTable(catalogTableName(CHECKS_TABLE, partitionEnt(ap)));
    const ents: EnterpriseMeta[] = ent.namespace === WILDCARD_NAMESPACE ? namespacesFor(deps.replica, ap) : [ent];
    if (ent.namespace === WILDCARD_NAMESPACE) ws.addTable(NAMESPACES_TABLE);
    const peerings = deps.replica.peerings;
    ws.addTable(peerings.name);
    let index = Math.max(nodes.maxIndex, peerings.index);
    let filtered = false;
    const value: TenantListingSummary[] = [];
    for (const e of ents) {
      for (const t of [SERVICES_TABLE, CHECKS_TABLE]) ws.addTable(catalogTableName(t, e));
      const cat = catalogOf(deps.replica, e);
      index = Math.max(index, cat.maxIndex);
      const rows: DumpRow[] = [];
      if (peer === '') {
        for (const key of cat.byName.keys()) {
          for (const i of cat.instances(key)) rows.push({ node: i.node, service: i.service, checks: cat.checkServiceNode(i).Checks });
        }
      }
      // What the partition's peers export into this namespace (Consul's ImportedNodes of the ServiceDump).
      const imports = peerImportsOf(deps.replica, e);
      ws.addTable(tenantTableName(PEER_IMPORTS_TABLE, e));
      index = Math.max(index, imports.index);
      for (const p of peerings.list(ap)) {
        if (peer !== '' && p.Name !== peer) continue;
        for (const r of imports.ofPeer(p.Name)) for (const n of r.Nodes) rows.push({ node: n.Node, service: n.Service, checks: n.Checks, peer: p.Name });
      }
      const ctx = entContext(e);
      // ACLs first, then the expression (as Consul's ServiceDump).
      const kept = filterAllowed(opts.authz, rows, (r) => instanceReadable(opts.authz, r.node!.Node, r.service!.Service, ctx));
      filtered ||= kept.filtered;
      const csn = filterList(kept.items.map((r) => ({ Node: r.node!, Service: r.service!, Checks: r.checks, row: r })), filter);
      const { summaries, hasProxy } = summarizeServices(csn.map((r) => r.row));
      const tenancy = { Namespace: e.namespace.toLowerCase(), Partition: ap };
      for (const s of prepSummaryOutput(summaries, false)) {
        value.push({ ...s, ...tenancy, ConnectedWithProxy: hasProxy.has(summaryKey(s.PeerName ?? '', s.Name)), ConnectedWithGateway: false });
      }
    }
    value.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : a.Namespace < b.Namespace ? -1 : a.Namespace > b.Namespace ? 1 : 0));
    return { index, value, filtered };
  });
}
