// The data a peering carries: what this cluster exports to a peer (the exported-services entry's
// services for that peer, with their instances and health), storing what a peer exports to us,
// and the `?peer=` reads of catalog and health served from those imports.
import {
  DEFAULT_ENT, DEFAULT_TENANCY_NAME, PEER_IMPORTS_TABLE, SERVICE_HEALTH, encodeRecord, entKey, foldName, foldTenancyName, peerImportId, peerImportKey, peerImportsOf,
  peeringPartition, peeringStoreKey, tenantKey, partitionPeerImports, tenantTableName, validTenancyName, type EnterpriseMeta, type StoredPeering, type WatchSet,
} from '../state/index.ts';
import { catalogOf, catalogTableName } from '../state/catalog-tenants.ts';
import { tenantRead, withPartition, withTenancy } from './catalog-tenancy.ts';
import type { CheckServiceNode, HealthCheck, Node, ServiceNode } from '../api/catalog-types.ts';
import type { Op } from '../store/index.ts';
import type { EndpointDeps } from './deps.ts';
import { resolveExports } from './exported-services.ts';
import { commitPlanned, pinRecord } from './commit.ts';
import { peeringActive } from './peering.ts';
import { blockingQuery, type QueryOptions, type QueryResult } from './query.ts';
import { answerInstances } from './health.ts';
import { tagsMatch, nodeMetaMatches, toServiceNode, type CatalogFilters } from './catalog.ts';
import { filterList } from '../filter/index.ts';
import { allowed, entContext } from './acl-enforce.ts';
import { healthAnswer, instanceReadable } from './catalog-acl.ts';
import { TxnVirtualIPs } from './virtual-ips-txn.ts';
import { TAGGED_ADDRESS_VIRTUAL_IP, virtualIPTarget } from './virtual-ips.ts';

/** Exported services by name: each one's instances with their node and checks. */
export type PeerExports = Record<string, CheckServiceNode[]>;

/**
 * What one side exports to its peer: the default namespace's services (`Services`, the message
 * field every version knows) and those of other namespaces by namespace (`Namespaces`, which an
 * older peer ignores). The importer stores each in the namespace of that name of its peering's partition.
 */
export interface PeerExportSet {
  Services: PeerExports;
  Namespaces?: Record<string, PeerExports>;
}

/** The tenant of namespace `ns` of partition `ap` (undefined for the default tenant). */
function tenantOf(ap: string, ns: string): EnterpriseMeta | undefined {
  const a = foldTenancyName(ap);
  const n = foldTenancyName(ns);
  return a === DEFAULT_TENANCY_NAME && n === DEFAULT_TENANCY_NAME ? undefined : { partition: a, namespace: n };
}

/**
 * What this cluster exports to peering `p`'s peer now (the exported-services entry of the
 * peering's partition, each service read in its namespace), watching everything it read in `ws`.
 */
export function exportsForPeer(deps: EndpointDeps, p: Pick<StoredPeering, 'Name' | 'Partition'>, ws: WatchSet): PeerExportSet {
  const ap = peeringPartition(p);
  const out: PeerExportSet = { Services: {} };
  for (const e of resolveExports(deps, ws, ap).value) {
    if (!e.Consumers.Peers?.includes(p.Name)) continue;
    const ns = (e as { Namespace?: string }).Namespace || DEFAULT_TENANCY_NAME;
    const ent = tenantOf(ap, ns);
    const cat = catalogOf(deps.replica, ent);
    ws.addKey(catalogTableName(SERVICE_HEALTH, ent), foldName(e.Service));
    const rows = cat.instances(e.Service).map((i) => cat.checkServiceNode(i)).filter(exportable);
    if (foldTenancyName(ns) === DEFAULT_TENANCY_NAME) out.Services[e.Service] = rows;
    else ((out.Namespaces ??= {})[ns] ??= {})[e.Service] = rows;
  }
  return out;
}

/** The suffix of the proxies Consul synthesizes for an exported mesh service (its SidecarProxySuffix). */
const SYNTHETIC_PROXY_SUFFIX = '-sidecar-proxy';

/**
 * Whether an instance goes to a peer: typical services only, and none named like a synthetic proxy,
 * as Consul's exporter filters them (its filterConnectReferences), so that no proxy or gateway of
 * this cluster, nor its VIP, lands in the importer's catalog.
 */
function exportable(n: CheckServiceNode): boolean {
  const kind = (n.Service as { Kind?: string }).Kind;
  return !kind && !n.Service.Service.endsWith(SYNTHETIC_PROXY_SUFFIX);
}

/** The names a set holds, as the stream status lists them (`<ns>/<name>` outside the default namespace). */
export function exportedNames(set: PeerExportSet): string[] {
  return [...Object.keys(set.Services), ...Object.entries(set.Namespaces ?? {}).flatMap(([ns, s]) => Object.keys(s).map((n) => `${ns}/${n}`))];
}

/** An instance as stored for a peer: marked with the peer's name, without the exporter's indexes. */
function imported(peer: string, n: CheckServiceNode): CheckServiceNode {
  const { CreateIndex: _a, ModifyIndex: _b, ...node } = n.Node;
  const { CreateIndex: _c, ModifyIndex: _d, ...service } = n.Service;
  const checks = (n.Checks ?? []).map((c) => {
    const { CreateIndex: _e, ModifyIndex: _f, ...check } = c;
    return { ...check, PeerName: peer };
  });
  return { Node: { ...node, PeerName: peer }, Service: { ...service, PeerName: peer }, Checks: checks } as CheckServiceNode;
}

/**
 * Replaces what peering `peering`'s peer exports to us with `set`: changed services are rewritten,
 * vanished ones deleted, all pinned to the peering so nothing lands after it is deleted. Services
 * land in the peering's partition, each in the namespace the exporter named (the default one for
 * `Services`); namespaces whose name is not a DNS label are dropped.
 */
export async function storeImports(deps: EndpointDeps, to: string | Pick<StoredPeering, 'ID' | 'Name' | 'Partition'>, set: PeerExportSet): Promise<void> {
  // By name: a peering of the default partition.
  const peering = typeof to === 'string' ? deps.replica.peerings.byName(to) : to;
  if (!peering) return;
  const peer = peering.Name;
  const ap = peeringPartition(peering);
  // Every namespace of the partition this peer's imports are in now or will be.
  const byTenant = new Map<string, { ent: EnterpriseMeta | undefined; services: PeerExports }>();
  const add = (ns: string, services: PeerExports) => {
    const ent = tenantOf(ap, ns);
    byTenant.set(ent ? `${ent.partition}/${ent.namespace}` : '', { ent, services });
  };
  add(DEFAULT_TENANCY_NAME, set.Services ?? {});
  for (const [ns, services] of Object.entries(set.Namespaces ?? {})) if (validTenancyName(ns) && foldTenancyName(ns) !== DEFAULT_TENANCY_NAME) add(ns, services);
  for (const { ent, table } of partitionTenants(deps, ap)) {
    const key = ent ? `${ent.partition}/${ent.namespace}` : '';
    if (!byTenant.has(key) && table.ofPeer(peer).length > 0) byTenant.set(key, { ent, services: {} });
  }
  await commitPlanned(deps, () => {
    const p = deps.replica.peerings.get(peering.ID);
    if (!p || !peeringActive(p)) return { answer: undefined };
    const ops: Op[] = [];
    const vips = new TxnVirtualIPs(deps);
    const kept = new Set<string>();
    for (const { ent, services } of byTenant.values()) {
      const imports = peerImportsOf(deps.replica, ent);
      const wanted = new Map(Object.entries(services).map(([name, nodes]) => [peerImportId(peer, name), { Peer: peer, Service: name, Nodes: nodes.map((n) => imported(peer, n)) }]));
      for (const rec of wanted.values()) for (const n of rec.Nodes) withVirtualIP(vips, kept, ent, peer, n);
      for (const cur of imports.ofPeer(peer)) {
        for (const n of cur.Nodes) vips.removed(ent, n.Service.Service, peer);
        if (!wanted.has(peerImportId(peer, cur.Service))) ops.push({ type: 'delete', key: tenantKey(ent, peerImportKey(peer, cur.Service)) });
      }
      for (const rec of wanted.values()) {
        const cur = imports.service(peer, rec.Service);
        if (cur && JSON.stringify({ Peer: cur.Peer, Service: cur.Service, Nodes: cur.Nodes }) === JSON.stringify(rec)) continue;
        ops.push({ type: 'put', key: tenantKey(ent, peerImportKey(peer, rec.Service)), value: encodeRecord(rec) });
      }
    }
    if (ops.length === 0) return { answer: undefined };
    const v = vips.finish((ent, name) => kept.has(`${entKey(ent)}/${name.toLowerCase()}`));
    return { txn: { compares: [pinRecord(peeringStoreKey(p.ID, p.Partition), p), ...v.compares], success: [...ops, ...v.ops] }, done: () => undefined };
  });
}

/**
 * Gives an imported mesh instance (a proxy, or a native service) the VIP of its service as imported
 * from `peer`, apart from the local one's, as its `consul-virtual` tagged address (Consul assigns
 * imported services theirs); notes its name in `kept` (`<ap>/<ns>/<folded name>`), whose VIPs stay.
 */
function withVirtualIP(vips: TxnVirtualIPs, kept: Set<string>, ent: EnterpriseMeta | undefined, peer: string, n: CheckServiceNode): void {
  kept.add(`${entKey(ent ?? DEFAULT_ENT)}/${n.Service.Service.toLowerCase()}`);
  const target = virtualIPTarget(n.Service);
  if (!target) return;
  const address = vips.address(ent, target, false, peer);
  n.Service.TaggedAddresses = { ...n.Service.TaggedAddresses, [TAGGED_ADDRESS_VIRTUAL_IP]: { Address: address, Port: n.Service.Port } };
}

/** The import tables of a partition's tenants. */
function partitionTenants(deps: EndpointDeps, ap: string) {
  return partitionPeerImports(deps.replica, ap);
}

/** The tenant a `?peer=` read looks in: the request's namespace of its partition. */
function readTenant(opts: QueryOptions): EnterpriseMeta | undefined {
  const ent = opts.ent;
  return ent ? tenantOf(ent.partition || DEFAULT_TENANCY_NAME, ent.namespace || DEFAULT_TENANCY_NAME) : undefined;
}

/**
 * The imported instances of a service in the request's tenant with the record's indexes, watching
 * the import. A read naming a tenant, or in a non-default one, shows Consul Enterprise's fields: the
 * local partition on nodes, the local namespace and partition on services and service checks.
 */
function importedInstances(deps: EndpointDeps, ws: WatchSet, peer: string, name: string, opts: QueryOptions): { index: number; rows: CheckServiceNode[] } {
  const ent = readTenant(opts);
  const t = peerImportsOf(deps.replica, ent);
  ws.addKey(tenantTableName(PEER_IMPORTS_TABLE, ent), peerImportId(peer, name));
  const rec = t.service(peer, name);
  if (!rec) return { index: t.index, rows: [] };
  const idx = { CreateIndex: rec.CreateIndex, ModifyIndex: rec.ModifyIndex };
  const rows = rec.Nodes.map((n) => ({
    Node: { ...n.Node, ...idx }, Service: { ...n.Service, ...idx },
    Checks: n.Checks.map((c): HealthCheck => ({ ...c, ...idx })),
  }));
  if (!tenantRead(opts)) return { index: rec.ModifyIndex, rows };
  const here = ent ?? { partition: DEFAULT_TENANCY_NAME, namespace: DEFAULT_TENANCY_NAME };
  const nodeEnt = { partition: here.partition, namespace: DEFAULT_TENANCY_NAME };
  return {
    index: rec.ModifyIndex,
    rows: rows.map((r) => ({
      Node: withPartition(r.Node, here.partition), Service: withTenancy(r.Service, here),
      Checks: r.Checks.map((c) => withTenancy(c, c.ServiceID ? here : nodeEnt)),
    })),
  };
}

/** True for an imported instance that is a mesh endpoint of `name`: connect-native, or a proxy for it. */
function meshEndpointOf(svc: CheckServiceNode['Service'], name: string): boolean {
  const s = svc as CheckServiceNode['Service'] & { Kind?: string; Proxy?: { DestinationServiceName?: string }; Connect?: { Native?: boolean } };
  if (s.Connect?.Native) return true;
  return s.Kind === 'connect-proxy' && s.Proxy?.DestinationServiceName?.toLowerCase() === name.toLowerCase();
}

/** `GET /v1/health/service/:name?peer=` (and `/v1/health/connect/:name?peer=`): the instances a peer exports, with their health. */
export function importedHealth(deps: EndpointDeps, peer: string, name: string, opts: QueryOptions, f: CatalogFilters & { passing?: boolean }): Promise<QueryResult<CheckServiceNode[]>> {
  return blockingQuery(deps, opts, (ws) => importedHealthRows(deps, ws, peer, name, opts, f));
}

/** One run of importedHealth: the peer's instances kept by `?tag`, `?node-meta`, connect, `?passing`, `?filter` and ACLs. */
export function importedHealthRows(
  deps: EndpointDeps, ws: WatchSet, peer: string, name: string, opts: QueryOptions, f: CatalogFilters & { passing?: boolean },
): { index: number; value: CheckServiceNode[]; filtered: boolean } {
  const { index, rows } = importedInstances(deps, ws, peer, name, opts);
  const kept = rows.filter((r) => nodeMetaMatches(r.Node, f.nodeMeta) && tagsMatch(r.Service, f.tags) && (!f.connect || meshEndpointOf(r.Service, name)));
  const ctx = entContext(readTenant(opts));
  if (!ctx) {
    const { items, filtered } = answerInstances(opts.authz, kept, f);
    return { index, value: items, filtered };
  }
  // In a tenant: service read is asked in its namespace.
  const { items, filtered } = healthAnswer(opts.authz, kept, f, (r) => instanceReadable(opts.authz, r.Node.Node, r.Service.Service, ctx));
  return { index, value: items, filtered };
}

/** `GET /v1/catalog/service/:name?peer=`: the same instances flattened as ServiceNodes. */
export function importedCatalogService(deps: EndpointDeps, peer: string, name: string, opts: QueryOptions, f: CatalogFilters): Promise<QueryResult<ServiceNode[]>> {
  return blockingQuery(deps, opts, (ws) => {
    const { index, rows } = importedInstances(deps, ws, peer, name, opts);
    const ent = tenantRead(opts) ? readTenant(opts) ?? { partition: DEFAULT_TENANCY_NAME, namespace: DEFAULT_TENANCY_NAME } : undefined;
    const kept = rows.filter((r) => nodeMetaMatches(r.Node, f.nodeMeta) && tagsMatch(r.Service, f.tags)).map((r) => {
      const row = { ...toServiceNode(r.Node, r.Service), PeerName: peer };
      return ent ? withTenancy(row, ent) : row;
    });
    const ctx = entContext(readTenant(opts));
    const value = filterList(kept, f.filter).filter((s) => allowed(opts.authz, 'serviceRead', s.ServiceName, ctx) && allowed(opts.authz, 'nodeRead', s.Node));
    return { index, value, filtered: value.length < kept.length };
  });
}

/** `GET /v1/health/checks/:service?peer=`: the health checks of a peer's instances of the service. */
export function importedChecks(deps: EndpointDeps, peer: string, name: string, opts: QueryOptions, f: CatalogFilters): Promise<QueryResult<HealthCheck[]>> {
  return blockingQuery(deps, opts, (ws) => {
    const { index, rows } = importedInstances(deps, ws, peer, name, opts);
    const checks = rows.filter((r) => nodeMetaMatches(r.Node, f.nodeMeta)).flatMap((r) => r.Checks.filter((c) => c.ServiceID !== ''));
    const kept = filterList(checks, f.filter);
    const ctx = entContext(readTenant(opts));
    const value = kept.filter((c) => allowed(opts.authz, 'serviceRead', c.ServiceName, ctx) && allowed(opts.authz, 'nodeRead', c.Node));
    return { index, value, filtered: value.length < kept.length };
  });
}

/** `GET /v1/catalog/nodes?peer=`: the nodes behind what a peer exports, each once, by name. */
export function importedNodes(deps: EndpointDeps, peer: string, opts: QueryOptions, f: CatalogFilters): Promise<QueryResult<Node[]>> {
  const ent = readTenant(opts);
  const t = peerImportsOf(deps.replica, ent);
  return blockingQuery(deps, opts, (ws) => {
    ws.addTable(tenantTableName(PEER_IMPORTS_TABLE, ent));
    const byName = new Map<string, Node>();
    for (const r of t.ofPeer(peer)) {
      for (const n of r.Nodes) if (!byName.has(n.Node.Node)) byName.set(n.Node.Node, { ...n.Node, CreateIndex: r.CreateIndex, ModifyIndex: r.ModifyIndex });
    }
    const nodes = [...byName.values()].filter((n) => nodeMetaMatches(n, f.nodeMeta)).sort((a, b) => (a.Node < b.Node ? -1 : 1));
    const kept = filterList(nodes, f.filter);
    const value = kept.filter((n) => allowed(opts.authz, 'nodeRead', n.Node));
    return { index: t.index, value, filtered: value.length < kept.length };
  });
}

/** `GET /v1/catalog/services?peer=`: imported service names with their tags. */
export function importedServices(deps: EndpointDeps, peer: string, opts: QueryOptions): Promise<QueryResult<Record<string, string[]>>> {
  const ent = readTenant(opts);
  const t = peerImportsOf(deps.replica, ent);
  return blockingQuery(deps, opts, (ws) => {
    ws.addTable(tenantTableName(PEER_IMPORTS_TABLE, ent));
    const value: Record<string, string[]> = {};
    for (const r of t.ofPeer(peer)) {
      if (!allowed(opts.authz, 'serviceRead', r.Service, entContext(ent))) continue;
      value[r.Service] = [...new Set(r.Nodes.flatMap((n) => n.Service.Tags ?? []))];
    }
    return { index: t.index, value };
  });
}
