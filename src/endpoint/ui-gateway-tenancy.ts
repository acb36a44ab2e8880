// The UI's gateway reads in a namespace (Consul Enterprise's /v1/internal/ui/gateway-services-nodes/:gw?ns= and
// gateway-intentions/:gw?ns=, both parsed without `*`): the gateway's entries in that namespace (and partition),
// the linked services' instances there, and the intentions whose destination is a linked service there.
import { CHECKS_TABLE, NODES_TABLE, SERVICES_TABLE, catalogOf, catalogTableName, configEntriesOf, configEntriesTableName,
  foldTenancyName, partitionEnt, wildcardNamespaceOf, type EnterpriseMeta } from '../state/index.ts';
import type { Intention, IntentionsEntry } from '../connect/intentions.ts';
import { matchIntentions } from '../connect/intentions.ts';
import { blockingQuery, type QueryOptions, type QueryResult } from './query.ts';
import type { EndpointDeps } from './deps.ts';
import { allowed, authorize, entContext, filterAllowed } from './acl-enforce.ts';
import { instanceReadable } from './catalog-acl.ts';
import { canReadIntention } from './intentions.ts';
import { tenantGatewayLinks } from './gateway-services.ts';
import { prepSummaryOutput, summarizeServices, type DumpRow, type GatewayAddressing, type ServiceSummary } from './ui-summary.ts';

const INTENTIONS = 'service-intentions';

const folded = (e: EnterpriseMeta): EnterpriseMeta => ({ partition: foldTenancyName(e.partition), namespace: foldTenancyName(e.namespace) });

/** A gateway-services-nodes summary in a namespace: Consul Enterprise's ServiceSummary carries its EnterpriseMeta. */
export type TenantServiceSummary = ServiceSummary & { Namespace: string; Partition: string };

/**
 * Internal.GatewayServiceDump in a namespace: each linked service's instances in the gateway's namespace (a
 * linked service with none still listed, with the gateway's addresses), node and service read there.
 */
export function tenantGatewayServicesNodes(
  deps: EndpointDeps, gateway: string, opts: QueryOptions, requested: EnterpriseMeta, addressing: GatewayAddressing,
): Promise<QueryResult<TenantServiceSummary[]>> {
  const ent = folded(requested);
  const ctx = entContext(ent);
  authorize(opts.authz, 'serviceRead', gateway, ctx);
  return blockingQuery(deps, opts, (ws) => {
    const cat = catalogOf(deps.replica, ent);
    ws.addTable(catalogTableName(NODES_TABLE, partitionEnt(ent.partition)));
    ws.addTable(catalogTableName(SERVICES_TABLE, ent));
    ws.addTable(catalogTableName(CHECKS_TABLE, ent));
    const links = tenantGatewayLinks(deps.replica, ws, gateway, ent);
    const rows: DumpRow[] = [];
    for (const gs of links.rows) {
      const instances = cat.instances(gs.Service.Name);
      for (const i of instances) rows.push({ node: i.node, service: i.service, checks: cat.checkServiceNode(i).Checks, gateway: gs });
      if (instances.length === 0) rows.push({ checks: [], gateway: gs });
    }
    const { items, filtered } = filterAllowed(opts.authz, rows, (r) => (r.service
      ? instanceReadable(opts.authz, r.node!.Node, r.service.Service, ctx) : allowed(opts.authz, 'serviceRead', r.gateway!.Service.Name, ctx)));
    const tenancy = { Namespace: ent.namespace, Partition: ent.partition };
    const value = prepSummaryOutput(summarizeServices(items, addressing).summaries, false).map((s) => ({ ...s, ...tenancy }));
    return { index: Math.max(links.index, cat.maxIndex), value, filtered };
  });
}

/**
 * Internal.GatewayIntentions in a namespace: the intentions whose destination is a service the gateway links
 * there (entries of that namespace and of its partition's wildcard namespace), each once, intentions:read on either side.
 */
export function tenantGatewayIntentions(deps: EndpointDeps, gateway: string, opts: QueryOptions, requested: EnterpriseMeta): Promise<QueryResult<Intention[]>> {
  const ent = folded(requested);
  authorize(opts.authz, 'serviceRead', gateway, entContext(ent));
  return blockingQuery(deps, opts, (ws) => {
    const tenants = [ent, wildcardNamespaceOf(ent)];
    let index = 1;
    const entries: IntentionsEntry[] = [];
    for (const t of tenants) {
      ws.addPrefix(configEntriesTableName(t), `${INTENTIONS}/`);
      const table = configEntriesOf(deps.replica, t);
      index = Math.max(index, table.kindIndex(INTENTIONS));
      entries.push(...(table.list(INTENTIONS) as unknown as IntentionsEntry[]));
    }
    const links = tenantGatewayLinks(deps.replica, ws, gateway, ent);
    const seen = new Set<string>();
    const out: Intention[] = [];
    for (const gs of links.rows) {
      for (const ixn of matchIntentions(entries, 'destination', gs.Service.Name, ent.namespace)) {
        const key = ixn.ID ?? `${ixn.SourceNS}\0${ixn.SourceName}\0${ixn.DestinationNS}\0${ixn.DestinationName}`;
        if (!seen.has(key)) out.push(ixn);
        seen.add(key);
      }
    }
    const { items, filtered } = filterAllowed(opts.authz, out, (i) => canReadIntention(opts.authz, i));
    return { index: Math.max(index, links.index), value: items, filtered };
  });
}
