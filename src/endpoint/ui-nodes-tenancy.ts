// The UI's node views in a namespace (Consul Enterprise's /v1/internal/ui/nodes?ns= and
// /v1/internal/ui/node/:n?ns=, parsed as parseEntMeta: `ns=*` allowed): every node of the
// partition, each with the namespace's services and checks (`*`: every namespace's), then the nodes
// behind what the partition's peers export into the namespace. Answers carry Consul Enterprise's
// Partition on each NodeInfo and Namespace/Partition on its services and checks.
import {
  CHECKS_TABLE, NODES_TABLE, SERVICES_TABLE, PEER_IMPORTS_TABLE, catalogTableName, peerImportsOf, tenantTableName,
} from '../state/index.ts';
import type { Node } from '../api/catalog-types.ts';
import { filterList } from '../filter/index.ts';
import { blockingQuery, type QueryOptions, type QueryResult } from './query.ts';
import type { EndpointDeps } from './deps.ts';
import { allowed, entContext } from './acl-enforce.ts';
import { checkWithTenancy, partitionOf, parts, withTenancy } from './catalog-tenancy.ts';
import { importedNodeInfos, info, type NodeInfo } from './ui-nodes.ts';

/** A NodeInfo with its partition after Node (structs.NodeInfo's field order). */
function withPartition(i: NodeInfo, partition: string): NodeInfo {
  const { ID, Node: name, PeerName, ...rest } = i;
  return { ID, Node: name, Partition: partition, ...(PeerName ? { PeerName } : {}), ...rest } as NodeInfo;
}

/**
 * The node dump of the request's namespace (Internal.NodeDump), or with `one` the node of that
 * name (of `one.peer`'s imports when given; Internal.NodeInfo) as a list of at most one.
 */
export function tenantNodeDump(
  deps: EndpointDeps, opts: QueryOptions, filter?: string, one?: { name: string; peer: string },
): Promise<QueryResult<NodeInfo[]>> {
  return blockingQuery(deps, opts, (ws) => {
    const ap = partitionOf(deps, opts);
    ws.addTable(catalogTableName(NODES_TABLE, ap.ent)).addTable(catalogTableName(CHECKS_TABLE, ap.ent));
    const found = parts(deps, opts, ws, SERVICES_TABLE);
    const peerings = deps.replica.peerings;
    ws.addTable(peerings.name);
    let index = Math.max(ap.cat.maxIndex, peerings.index);
    const nodeCtx = entContext(ap.ent);
    const peer = one?.peer ?? '';
    const out: NodeInfo[] = [];
    let filtered = false;
    const wanted = one ? ap.cat.node(one.name) : undefined;
    const nodes: Node[] = peer !== '' ? [] : one ? (wanted ? [wanted] : []) : [...ap.cat.nodes.values()].sort((a, b) => (a.Node < b.Node ? -1 : 1));
    for (const p of found) {
      ws.addTable(catalogTableName(CHECKS_TABLE, p.ent));
      index = Math.max(index, p.cat.maxIndex);
    }
    for (const node of nodes) {
      if (!allowed(opts.authz, 'nodeRead', node.Node, nodeCtx)) {
        filtered = true;
        continue;
      }
      let whole: NodeInfo | undefined;
      for (const p of found) {
        const r = info(node, [...(p.cat.services.get(node.Node)?.values() ?? [])], p.cat.nodeChecks(node.Node), opts.authz, '', entContext(p.ent));
        filtered ||= r.filtered;
        const services = r.info.Services.map((s) => withTenancy(s, p.ent));
        const checks = r.info.Checks.map((c) => checkWithTenancy(c, p.ent));
        if (!whole) whole = { ...r.info, Services: services, Checks: checks };
        else whole.Services.push(...services), whole.Checks.push(...checks);
      }
      if (whole) out.push(withPartition(whole, ap.ap));
    }
    // What the partition's peers export into the namespace (Consul's ImportedDump).
    if (!one || peer !== '') {
      for (const p of found) {
        const imports = peerImportsOf(deps.replica, p.ent);
        ws.addTable(tenantTableName(PEER_IMPORTS_TABLE, p.ent));
        index = Math.max(index, imports.index);
        const r = importedNodeInfos(peerings, imports, opts.authz, peer, { partition: ap.ap, ctx: entContext(p.ent), nodeCtx });
        filtered ||= r.filtered;
        for (const i of r.infos) {
          if (one && i.Node !== one.name) continue;
          out.push(withPartition({ ...i, Services: i.Services.map((s) => withTenancy(s, p.ent)), Checks: i.Checks.map((c) => checkWithTenancy(c, p.ent)) }, ap.ap));
        }
      }
    }
    return { index: Math.max(index, 1), value: one ? out.slice(0, 1) : filterList(out, filter), filtered };
  });
}
