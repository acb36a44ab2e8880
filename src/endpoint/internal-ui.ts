// The web UI's internal reads (Consul's Internal.* RPCs behind /v1/internal/ui/*): the node dump,
// one node, the service listing with proxy and gateway links, the catalog overview, a gateway's
// services and intentions, and the services exported to a peer. All but the overview block.
import { CHECKS_TABLE, CONFIG_ENTRIES_TABLE, DEFAULT_ENT, NODES_TABLE, SERVICES_TABLE, type CatalogTables } from '../state/index.ts';
import { foldName } from '../state/catalog.ts';
import type { HealthCheck, Node, NodeService } from '../api/catalog-types.ts';
import type { Intention, IntentionsEntry } from '../connect/intentions.ts';
import { matchIntentions } from '../connect/intentions.ts';
import { filterList } from '../filter/index.ts';
import { blockingQuery, type QueryOptions, type QueryResult } from './query.ts';
import type { EndpointDeps } from './deps.ts';
import { allowed, authorize, entContext, filterAllowed } from './acl-enforce.ts';
import { instanceReadable } from './catalog-acl.ts';
import { canReadIntention } from './intentions.ts';
import { allGatewayLinks, gatewayLinks } from './gateway-services.ts';
import { resolveExports } from './exported-services.ts';
import { bareSummary, prepSummaryOutput, summarizeServices, summaryKey, type DumpRow, type ServiceSummary } from './ui-summary.ts';
import { catalogOverview, type CatalogSummary } from './ui-overview.ts';
import { serviceTopology, type ServiceTopology } from './ui-topology.ts';
import { importedNodeInfos, localNodeInfo, type NodeInfo } from './ui-nodes.ts';
import { tenantServiceListing } from './ui-tenancy.ts';
import { tenantNodeDump } from './ui-nodes-tenancy.ts';
import { tenantRead } from './catalog-tenancy.ts';
import { tenantGatewayIntentions, tenantGatewayServicesNodes } from './ui-gateway-tenancy.ts';
import { tenantExportedServices } from './ui-exports-tenancy.ts';

export type { NodeInfo } from './ui-nodes.ts';

/** A service of the UI's listing: its summary and whether proxies or gateways front it. */
export type ServiceListingSummary = ServiceSummary & { ConnectedWithProxy: boolean; ConnectedWithGateway: boolean };

/** What the UI reads need beyond the endpoint deps. */
export interface InternalUiSettings {
  domain: string;
  altDomain: string;
}

const INTENTIONS = 'service-intentions';

function watchCatalog(ws: { addTable(t: string): unknown }): void {
  ws.addTable(NODES_TABLE);
  ws.addTable(SERVICES_TABLE);
  ws.addTable(CHECKS_TABLE);
}

/**
 * Every instance in the catalog with its node and checks (Consul's ServiceDump of all kinds). A
 * node's checks are grouped by service once: asking the catalog per instance walks all of the
 * node's checks each time, quadratic on a node holding thousands of services (a sync node).
 */
function serviceDump(cat: CatalogTables): DumpRow[] {
  const rows: DumpRow[] = [];
  for (const [nodeName, services] of cat.services) {
    const node = cat.nodes.get(nodeName);
    if (!node) continue;
    const nodeLevel: HealthCheck[] = [];
    const byService = new Map<string, HealthCheck[]>();
    for (const c of cat.checks.get(nodeName)?.values() ?? []) {
      if (c.ServiceID === '') nodeLevel.push(c);
      else {
        const key = foldName(c.ServiceID);
        const list = byService.get(key);
        if (list) list.push(c);
        else byService.set(key, [c]);
      }
    }
    for (const service of services.values()) {
      const own = byService.get(foldName(service.ID));
      const checks = own ? [...nodeLevel, ...own].sort(byCheckId) : [...nodeLevel].sort(byCheckId);
      rows.push({ node, service, checks });
    }
  }
  return rows;
}

const byCheckId = (a: HealthCheck, b: HealthCheck): number => (a.CheckID < b.CheckID ? -1 : a.CheckID > b.CheckID ? 1 : 0);

/** The instances a peer exports, as dump rows marked with the peer. */
function importedDump(records: { Nodes: { Node: Node; Service: NodeService; Checks: HealthCheck[] }[] }[], peer: string): DumpRow[] {
  return records.flatMap((r) => r.Nodes.map((n): DumpRow => ({ node: n.Node, service: n.Service, checks: n.Checks, peer })));
}

/** The /v1/internal/ui/* reads. */
export class InternalUiEndpoint {
  readonly #deps: EndpointDeps;
  readonly #s: InternalUiSettings;

  constructor(deps: EndpointDeps, settings: InternalUiSettings) {
    this.#deps = deps;
    this.#s = settings;
  }

  /**
   * Every node with its services and checks, sorted by name, then the nodes behind peers'
   * exports (Internal.NodeDump and its ImportedDump); `?filter` applies to each NodeInfo.
   */
  nodes(opts: QueryOptions, filter?: string): Promise<QueryResult<NodeInfo[]>> {
    // In a namespace (or naming one): ui-nodes-tenancy.ts.
    if (tenantRead(opts)) return tenantNodeDump(this.#deps, opts, filter);
    const { catalog: cat, peerings, peerImports } = this.#deps.replica;
    return blockingQuery(this.#deps, opts, (ws) => {
      watchCatalog(ws);
      ws.addTable(peerings.name).addTable(peerImports.name);
      let filtered = false;
      const out: NodeInfo[] = [];
      for (const node of [...cat.nodes.values()].sort((a, b) => (a.Node < b.Node ? -1 : 1))) {
        if (!allowed(opts.authz, 'nodeRead', node.Node)) {
          filtered = true;
          continue;
        }
        const n = localNodeInfo(cat, node, opts.authz);
        filtered ||= n.filtered;
        out.push(n.info);
      }
      const imported = importedNodeInfos(peerings, peerImports, opts.authz);
      const index = Math.max(cat.maxIndex, peerings.index, peerImports.index);
      return { index, value: filterList([...out, ...imported.infos], filter), filtered: filtered || imported.filtered };
    });
  }

  /** One node (named case-insensitively; with `peer`, one behind that peer's exports) as NodeInfo, or null when absent or hidden (Internal.NodeInfo). */
  node(name: string, opts: QueryOptions, peer = ''): Promise<QueryResult<NodeInfo | null>> {
    if (tenantRead(opts)) {
      return tenantNodeDump(this.#deps, opts, undefined, { name, peer }).then(({ value, meta }) => ({ value: value[0] ?? null, meta }));
    }
    const { catalog: cat, peerings, peerImports } = this.#deps.replica;
    return blockingQuery(this.#deps, opts, (ws) => {
      watchCatalog(ws);
      if (peer !== '') {
        ws.addTable(peerings.name).addTable(peerImports.name);
        const { infos, filtered } = importedNodeInfos(peerings, peerImports, opts.authz, peer);
        return { index: Math.max(1, peerings.index, peerImports.index), value: infos.find((n) => n.Node === name) ?? null, filtered };
      }
      const node = cat.node(name);
      if (!node) return { index: cat.maxIndex, value: null };
      if (!allowed(opts.authz, 'nodeRead', node.Node)) return { index: cat.maxIndex, value: null, filtered: true };
      const { info, filtered } = localNodeInfo(cat, node, opts.authz);
      return { index: cat.maxIndex, value: info, filtered };
    });
  }

  /**
   * The service listing (Internal.ServiceDump summarized): the local catalog with its gateway
   * links and what every peer exports, or with `peer` only that peer's; ACLs apply, then
   * `?filter` to each CheckServiceNode.
   */
  services(opts: QueryOptions, filter?: string, peer = ''): Promise<QueryResult<ServiceListingSummary[]>> {
    // A namespace's listing, with what peers export into it (ui-tenancy.ts).
    if (tenantRead(opts)) return tenantServiceListing(this.#deps, opts, filter, peer);
    const { catalog: cat, peerings, peerImports } = this.#deps.replica;
    return blockingQuery(this.#deps, opts, (ws) => {
      watchCatalog(ws);
      ws.addTable(peerings.name).addTable(peerImports.name);
      const links = peer === '' ? allGatewayLinks(this.#deps.replica, ws) : { index: 0, rows: [] };
      const rows = peer === '' ? serviceDump(cat) : [];
      for (const p of peerings.list()) if (peer === '' || p.Name === peer) rows.push(...importedDump(peerImports.ofPeer(p.Name), p.Name));
      // ACLs first, then the expression (as Consul's ServiceDump): the filtered flag must not tell
      // whether hidden instances match the expression.
      const kept = filterAllowed(opts.authz, rows, (r) => instanceReadable(opts.authz, r.node!.Node, r.service!.Service));
      const csn = filterList(kept.items.map((r) => ({ Node: r.node!, Service: r.service!, Checks: r.checks, row: r })), filter);
      const gws = filterAllowed(opts.authz, links.rows, (g) => allowed(opts.authz, 'serviceRead', g.Service.Name));
      const gatewaysOf = new Map<string, string[]>();
      const linked = new Map<string, number>();
      for (const g of gws.items) {
        gatewaysOf.set(g.Service.Name, [...(gatewaysOf.get(g.Service.Name) ?? []), g.Gateway.Name]);
        linked.set(g.Gateway.Name, (linked.get(g.Gateway.Name) ?? 0) + 1);
      }
      const { summaries, hasProxy } = summarizeServices(csn.map((r) => r.row));
      const value = prepSummaryOutput(summaries, false).map((s): ServiceListingSummary => {
        const local = !s.PeerName;
        const gateways = local ? gatewaysOf.get(s.Name) ?? [] : [];
        const count = local ? linked.get(s.Name) : undefined;
        return {
          ...s, GatewayConfig: count ? { AssociatedServiceCount: count, ...s.GatewayConfig } : s.GatewayConfig,
          ConnectedWithProxy: hasProxy.has(summaryKey(s.PeerName ?? '', s.Name)),
          ConnectedWithGateway: s.InstanceCount > 0 && gateways.some((g) => summaries.has(summaryKey('', g))),
        };
      });
      const index = Math.max(cat.maxIndex, links.index, peerings.index, peerImports.index);
      return { index, value, filtered: kept.filtered || gws.filtered };
    });
  }

  /** Health totals of nodes, services and checks (Internal.CatalogOverview); needs operator:read. */
  catalogOverview(opts: QueryOptions): CatalogSummary {
    authorize(opts.authz, 'operatorRead');
    return catalogOverview(this.#deps.replica.catalog);
  }

  /** Summaries of the services a gateway links, with their addresses (Internal.GatewayServiceDump). */
  gatewayServicesNodes(gateway: string, opts: QueryOptions): Promise<QueryResult<ServiceSummary[]>> {
    if (tenantRead(opts)) {
      const addressing = { datacenter: this.#deps.config.datacenter, domain: this.#s.domain, altDomain: this.#s.altDomain };
      return tenantGatewayServicesNodes(this.#deps, gateway, opts, opts.ent ?? DEFAULT_ENT, addressing);
    }
    authorize(opts.authz, 'serviceRead', gateway);
    const { catalog: cat } = this.#deps.replica;
    return blockingQuery(this.#deps, opts, (ws) => {
      watchCatalog(ws);
      const links = gatewayLinks(this.#deps.replica, ws, gateway);
      const rows: DumpRow[] = [];
      for (const gs of links.rows) {
        const instances = cat.instances(gs.Service.Name);
        for (const i of instances) rows.push({ node: i.node, service: i.service, checks: cat.instanceChecks(i.node.Node, i.service.ID), gateway: gs });
        if (instances.length === 0) rows.push({ checks: [], gateway: gs });
      }
      const { items, filtered } = filterAllowed(opts.authz, rows, (r) => (r.service
        ? instanceReadable(opts.authz, r.node!.Node, r.service.Service) : allowed(opts.authz, 'serviceRead', r.gateway!.Service.Name)));
      const addressing = { datacenter: this.#deps.config.datacenter, domain: this.#s.domain, altDomain: this.#s.altDomain };
      const value = prepSummaryOutput(summarizeServices(items, addressing).summaries, false);
      return { index: Math.max(links.index, cat.maxIndex), value, filtered };
    });
  }

  /** The intentions whose destination is a service the gateway links, each once (Internal.GatewayIntentions). */
  gatewayIntentions(gateway: string, opts: QueryOptions): Promise<QueryResult<Intention[]>> {
    if (tenantRead(opts)) return tenantGatewayIntentions(this.#deps, gateway, opts, opts.ent ?? DEFAULT_ENT);
    authorize(opts.authz, 'serviceRead', gateway);
    const t = this.#deps.replica.configEntries;
    return blockingQuery(this.#deps, opts, (ws) => {
      ws.addPrefix(CONFIG_ENTRIES_TABLE, `${INTENTIONS}/`);
      const links = gatewayLinks(this.#deps.replica, ws, gateway);
      const entries = t.list(INTENTIONS) as unknown as IntentionsEntry[];
      const seen = new Set<string>();
      const out: Intention[] = [];
      for (const gs of links.rows) {
        for (const ixn of matchIntentions(entries, 'destination', gs.Service.Name)) {
          const key = ixn.ID ?? `${ixn.SourceName}\0${ixn.DestinationName}`;
          if (!seen.has(key)) out.push(ixn);
          seen.add(key);
        }
      }
      const { items, filtered } = filterAllowed(opts.authz, out, (i) => canReadIntention(opts.authz, i));
      return { index: Math.max(1, links.index, t.kindIndex(INTENTIONS)), value: items, filtered };
    });
  }

  /** A service's upstreams and downstreams (Internal.ServiceTopology). */
  serviceTopology(service: string, kind: string, opts: QueryOptions): Promise<QueryResult<ServiceTopology>> {
    // In a namespace (or naming one): that namespace's topology, its service read asked there.
    const ent = tenantRead(opts) ? opts.ent ?? DEFAULT_ENT : undefined;
    authorize(opts.authz, 'serviceRead', service, entContext(ent));
    return blockingQuery(this.#deps, opts, (ws) => serviceTopology(this.#deps.replica, ws, service, kind, opts.authz, this.#deps.config.datacenter, ent));
  }

  /** The services exported to `peer` as bare summaries (Internal.ExportedServicesForPeer); none for an unknown peer. */
  exportedServices(peer: string, opts: QueryOptions): Promise<QueryResult<ServiceListingSummary[]>> {
    if (tenantRead(opts)) return tenantExportedServices(this.#deps, peer, opts);
    const dc = this.#deps.config.datacenter;
    return blockingQuery(this.#deps, opts, (ws) => {
      const { peerings } = this.#deps.replica;
      ws.addTable(peerings.name);
      if (!peerings.byName(peer)) return { index: Math.max(1, peerings.index), value: [] };
      const { index, value: exports } = resolveExports(this.#deps, ws);
      const names = exports.filter((e) => e.Consumers.Peers?.includes(peer)).map((e) => e.Service);
      // A mesh:write token (an operator) sees every export; others only what they may read.
      const { items, filtered } = allowed(opts.authz, 'meshWrite')
        ? { items: names, filtered: false } : filterAllowed(opts.authz, names, (n) => allowed(opts.authz, 'serviceRead', n));
      const value = items.map((n): ServiceListingSummary => ({ ...bareSummary(n, dc), ConnectedWithProxy: false, ConnectedWithGateway: false }));
      return { index: Math.max(1, index, peerings.index), value, filtered };
    });
  }
}
