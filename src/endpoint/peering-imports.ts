// The data a peering carries: what this cluster exports to a peer (the exported-services entry's
// services for that peer, with their instances and health), storing what a peer exports to us,
// and the `?peer=` reads of catalog and health served from those imports.
import { PEER_IMPORTS_TABLE, SERVICE_HEALTH, encodeRecord, foldName, peerImportId, peerImportKey, peeringKey, type WatchSet } from '../state/index.ts';
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
import { allowed } from './acl-enforce.ts';

/** Exported services by name: each one's instances with their node and checks. */
export type PeerExports = Record<string, CheckServiceNode[]>;

/** What this cluster exports to the peer named `peer` now, watching everything it read in `ws`. */
export function exportsForPeer(deps: EndpointDeps, peer: string, ws: WatchSet): PeerExports {
  const cat = deps.replica.catalog;
  const out: PeerExports = {};
  for (const e of resolveExports(deps, ws).value) {
    if (!e.Consumers.Peers?.includes(peer)) continue;
    ws.addKey(SERVICE_HEALTH, foldName(e.Service));
    out[e.Service] = cat.instances(e.Service).map((i) => cat.checkServiceNode(i));
  }
  return out;
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
 * Replaces what the peer named `peer` exports to us with `services`: changed services are
 * rewritten, vanished ones deleted, all pinned to the peering so nothing lands after it is deleted.
 */
export async function storeImports(deps: EndpointDeps, peer: string, services: PeerExports): Promise<void> {
  const wanted = new Map(Object.entries(services).map(([name, nodes]) => [peerImportId(peer, name), { Peer: peer, Service: name, Nodes: nodes.map((n) => imported(peer, n)) }]));
  await commitPlanned(deps, () => {
    const { peerings, peerImports } = deps.replica;
    const p = peerings.byName(peer);
    if (!p || !peeringActive(p)) return { answer: undefined };
    const ops: Op[] = [];
    for (const cur of peerImports.ofPeer(peer)) {
      if (!wanted.has(peerImportId(peer, cur.Service))) ops.push({ type: 'delete', key: peerImportKey(peer, cur.Service) });
    }
    for (const rec of wanted.values()) {
      const cur = peerImports.service(peer, rec.Service);
      if (cur && JSON.stringify({ Peer: cur.Peer, Service: cur.Service, Nodes: cur.Nodes }) === JSON.stringify(rec)) continue;
      ops.push({ type: 'put', key: peerImportKey(peer, rec.Service), value: encodeRecord(rec) });
    }
    if (ops.length === 0) return { answer: undefined };
    return { txn: { compares: [pinRecord(peeringKey(p.ID), p)], success: ops }, done: () => undefined };
  });
}

/** The imported instances of a service with the record's indexes, watching the import. */
function importedInstances(deps: EndpointDeps, ws: WatchSet, peer: string, name: string): { index: number; rows: CheckServiceNode[] } {
  const t = deps.replica.peerImports;
  ws.addKey(PEER_IMPORTS_TABLE, peerImportId(peer, name));
  const rec = t.service(peer, name);
  if (!rec) return { index: t.index, rows: [] };
  const idx = { CreateIndex: rec.CreateIndex, ModifyIndex: rec.ModifyIndex };
  const rows = rec.Nodes.map((n) => ({
    Node: { ...n.Node, ...idx }, Service: { ...n.Service, ...idx },
    Checks: n.Checks.map((c): HealthCheck => ({ ...c, ...idx })),
  }));
  return { index: rec.ModifyIndex, rows };
}

/** True for an imported instance that is a mesh endpoint of `name`: connect-native, or a proxy for it. */
function meshEndpointOf(svc: CheckServiceNode['Service'], name: string): boolean {
  const s = svc as CheckServiceNode['Service'] & { Kind?: string; Proxy?: { DestinationServiceName?: string }; Connect?: { Native?: boolean } };
  if (s.Connect?.Native) return true;
  return s.Kind === 'connect-proxy' && s.Proxy?.DestinationServiceName?.toLowerCase() === name.toLowerCase();
}

/** `GET /v1/health/service/:name?peer=` (and `/v1/health/connect/:name?peer=`): the instances a peer exports, with their health. */
export function importedHealth(deps: EndpointDeps, peer: string, name: string, opts: QueryOptions, f: CatalogFilters & { passing?: boolean }): Promise<QueryResult<CheckServiceNode[]>> {
  return blockingQuery(deps, opts, (ws) => {
    const { index, rows } = importedInstances(deps, ws, peer, name);
    const kept = rows.filter((r) => nodeMetaMatches(r.Node, f.nodeMeta) && tagsMatch(r.Service, f.tags) && (!f.connect || meshEndpointOf(r.Service, name)));
    const { items, filtered } = answerInstances(opts.authz, kept, f);
    return { index, value: items, filtered };
  });
}

/** `GET /v1/catalog/service/:name?peer=`: the same instances flattened as ServiceNodes. */
export function importedCatalogService(deps: EndpointDeps, peer: string, name: string, opts: QueryOptions, f: CatalogFilters): Promise<QueryResult<ServiceNode[]>> {
  return blockingQuery(deps, opts, (ws) => {
    const { index, rows } = importedInstances(deps, ws, peer, name);
    const kept = rows.filter((r) => nodeMetaMatches(r.Node, f.nodeMeta) && tagsMatch(r.Service, f.tags)).map((r) => ({ ...toServiceNode(r.Node, r.Service), PeerName: peer }));
    const value = filterList(kept, f.filter).filter((s) => allowed(opts.authz, 'serviceRead', s.ServiceName) && allowed(opts.authz, 'nodeRead', s.Node));
    return { index, value, filtered: value.length < kept.length };
  });
}

/** `GET /v1/health/checks/:service?peer=`: the health checks of a peer's instances of the service. */
export function importedChecks(deps: EndpointDeps, peer: string, name: string, opts: QueryOptions, f: CatalogFilters): Promise<QueryResult<HealthCheck[]>> {
  return blockingQuery(deps, opts, (ws) => {
    const { index, rows } = importedInstances(deps, ws, peer, name);
    const checks = rows.filter((r) => nodeMetaMatches(r.Node, f.nodeMeta)).flatMap((r) => r.Checks.filter((c) => c.ServiceID !== ''));
    const kept = filterList(checks, f.filter);
    const value = kept.filter((c) => allowed(opts.authz, 'serviceRead', c.ServiceName) && allowed(opts.authz, 'nodeRead', c.Node));
    return { index, value, filtered: value.length < kept.length };
  });
}

/** `GET /v1/catalog/nodes?peer=`: the nodes behind what a peer exports, each once, by name. */
export function importedNodes(deps: EndpointDeps, peer: string, opts: QueryOptions, f: CatalogFilters): Promise<QueryResult<Node[]>> {
  const t = deps.replica.peerImports;
  return blockingQuery(deps, opts, (ws) => {
    ws.addTable(PEER_IMPORTS_TABLE);
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
  const t = deps.replica.peerImports;
  return blockingQuery(deps, opts, (ws) => {
    ws.addTable(PEER_IMPORTS_TABLE);
    const value: Record<string, string[]> = {};
    for (const r of t.ofPeer(peer)) {
      if (!allowed(opts.authz, 'serviceRead', r.Service)) continue;
      value[r.Service] = [...new Set(r.Nodes.flatMap((n) => n.Service.Tags ?? []))];
    }
    return { index: t.index, value };
  });
}
