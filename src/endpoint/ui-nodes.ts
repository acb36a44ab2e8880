// The UI's node views (Consul's Internal.NodeDump and NodeInfo): each node with its services and
// checks under the caller's ACLs, the local catalog's and, as Consul's ImportedDump, the nodes
// behind what cluster peers export, marked with their peer.
import type { AuthorizerContext } from '../acl/index.ts';
import type { CatalogTables, PeerImportsTable, PeeringsTable } from '../state/index.ts';
import type { CheckServiceNode, HealthCheck, Node, NodeService } from '../api/catalog-types.ts';
import { allowed, filterAllowed } from './acl-enforce.ts';
import type { AclIdentity } from './acl-resolver.ts';
import { checkReadable } from './catalog-acl.ts';

/** Consul's NodeInfo: a node with its services and checks (PeerName only for imported nodes). */
export interface NodeInfo {
  ID: string;
  Node: string;
  PeerName?: string;
  Address: string;
  TaggedAddresses: Record<string, string> | null;
  Meta: Record<string, string> | null;
  Services: NodeService[];
  Checks: HealthCheck[];
}

const byId = <T extends { ID?: string; CheckID?: string }>(a: T, b: T): number => {
  const x = a.ID ?? a.CheckID ?? '';
  const y = b.ID ?? b.CheckID ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
};

/**
 * A NodeInfo built from a node and its services and checks, keeping what the caller may read
 * (`ctx`: the namespace the services and checks are read in; absent: the default one).
 */
export function info(
  node: Node, services: NodeService[], checks: HealthCheck[], id: AclIdentity | undefined, peer = '', ctx?: AuthorizerContext,
): { info: NodeInfo; filtered: boolean } {
  const s = filterAllowed(id, [...services].sort(byId), (svc) => allowed(id, 'serviceRead', svc.Service, ctx));
  const c = filterAllowed(id, [...checks].sort(byId), (chk) => checkReadable(id, chk, ctx));
  return {
    info: {
      ID: node.ID, Node: node.Node, ...(peer ? { PeerName: peer } : {}), Address: node.Address, TaggedAddresses: node.TaggedAddresses,
      Meta: node.Meta, Services: s.items, Checks: c.items,
    },
    filtered: s.filtered || c.filtered,
  };
}

/** One local node's NodeInfo under the caller's ACLs (services by service:read, checks as health reads). */
export function localNodeInfo(cat: CatalogTables, node: Node, id: AclIdentity | undefined): { info: NodeInfo; filtered: boolean } {
  return info(node, [...(cat.services.get(node.Node)?.values() ?? [])], cat.nodeChecks(node.Node), id);
}

/** The nodes behind one peer's exports, each once, with the services and checks exported from it. */
function importedNodes(records: { Nodes: CheckServiceNode[] }[]): Map<string, { node: Node; services: Map<string, NodeService>; checks: Map<string, HealthCheck> }> {
  const out = new Map<string, { node: Node; services: Map<string, NodeService>; checks: Map<string, HealthCheck> }>();
  for (const r of records) {
    for (const n of r.Nodes) {
      let e = out.get(n.Node.Node);
      if (!e) out.set(n.Node.Node, (e = { node: n.Node, services: new Map(), checks: new Map() }));
      e.services.set(n.Service.ID, n.Service);
      for (const c of n.Checks) e.checks.set(c.CheckID, c);
    }
  }
  return out;
}

/**
 * The imported NodeInfos of every peer (or of `peer` only), sorted by peer then node, under the
 * caller's ACLs; `tenant`: the peerings of its partition and ACLs in its namespace (absent: default).
 */
export function importedNodeInfos(
  peerings: PeeringsTable, imports: PeerImportsTable, id: AclIdentity | undefined, peer = '',
  tenant?: { partition: string; ctx?: AuthorizerContext; nodeCtx?: AuthorizerContext },
): { infos: NodeInfo[]; filtered: boolean } {
  const infos: NodeInfo[] = [];
  let filtered = false;
  for (const p of peerings.list(tenant?.partition)) {
    if (peer !== '' && p.Name !== peer) continue;
    const nodes = [...importedNodes(imports.ofPeer(p.Name)).values()].sort((a, b) => (a.node.Node < b.node.Node ? -1 : 1));
    for (const n of nodes) {
      if (!allowed(id, 'nodeRead', n.node.Node, tenant?.nodeCtx)) {
        filtered = true;
        continue;
      }
      const one = info(n.node, [...n.services.values()], [...n.checks.values()], id, p.Name, tenant?.ctx);
      filtered ||= one.filtered;
      infos.push(one.info);
    }
  }
  return { infos, filtered };
}
