// Catalog writes in an admin partition other than default (Consul Enterprise): the node, its
// node checks and its default-namespace services under `t/<ap>/default/catalog/…`, a namespace's
// services and checks under `t/<ap>/<ns>/catalog/…`, node names unique per partition (guard
// `t/<ap>/default/guard/node-name/…`). The default partition keeps catalog-write.ts's planner.
// Node IDs are unique per partition too (guard `t/<ap>/default/guard/node-id/…`). A check going
// critical or removed, or the node removed, invalidates the partition's sessions tied to it. Not yet
// here: node re-spelling, renaming a node by its ID. A node's coordinates (coordinates-tenants.ts) go with it.
import { InternalError } from '../errors.ts';
import {
  checkKey, coordinatesOf, foldTenancyName, partitionCoordinateNodePrefix, nodeKey, partitionCatalog, partitionEnt, sameId, serviceKey, tenantKey, namespaceCatalogs,
  DEFAULT_TENANCY_NAME, type EnterpriseMeta,
} from '../state/index.ts';
import type { DeregisterRequest, NodeService, RegisterRequest } from '../api/catalog-types.ts';
import { pinRecord, type WritePlan } from './commit.ts';
import {
  invalidateSessions, normalizeService, nodeRecord, nsScope, planCheck, put, sameRecord, write, type NodeAt, type NsScope, type Planned,
} from './catalog-write.ts';
import { planFreeVirtualIPs, tagVirtualIP } from './virtual-ips.ts';
import { Guards, nodeIdGuard, nodeNameGuard } from './name-guards.ts';
import { checkNodeId, replicaNodes } from './catalog-node-id.ts';
import type { EndpointDeps } from './deps.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The node-level scope of a partition: its default namespace's tables and tenant keys. */
function partitionScope(deps: EndpointDeps, ap: string): NsScope {
  const ent = partitionEnt(ap);
  return {
    ent, cat: partitionCatalog(deps.replica, ap),
    serviceKey: (node, id) => tenantKey(ent, serviceKey(node, id)),
    checkKey: (node, id) => tenantKey(ent, checkKey(node, id)),
  };
}

/** The scope of a registration's service: the partition's own for its default namespace. */
function serviceScope(deps: EndpointDeps, ent: EnterpriseMeta, node: NsScope): NsScope {
  return foldTenancyName(ent.namespace) === DEFAULT_TENANCY_NAME ? node : nsScope(deps, ent);
}

/** Plans a registration in partition `ent.partition` (its service and service checks in `ent.namespace`). */
export function planRegisterInPartition(deps: EndpointDeps, req: RegisterRequest, ent: EnterpriseMeta): WritePlan {
  if (!req.Node) throw new InternalError('Must provide node');
  if (!req.Address && !req.SkipNodeUpdate) throw new InternalError('Must provide address if SkipNodeUpdate is not set');
  if (req.ID && !UUID.test(req.ID)) throw new InternalError('Bad node ID: uuid string is wrong length');
  const ap = foldTenancyName(ent.partition);
  const nodes = partitionScope(deps, ap);
  const plan: WritePlan = { compares: [], ops: [] };
  const guards = new Guards(deps.replica.appliedRevision);
  const existing = nodes.cat.node(req.Node);
  const stored = existing?.Node ?? req.Node;
  const at: NodeAt = { stored, name: stored, moved: undefined };
  if (!req.SkipNodeUpdate) {
    if (!existing) guards.claim(tenantKey(nodes.ent, nodeNameGuard(stored)));
    if (req.ID && req.ID.toLowerCase() !== (existing?.ID ?? '').toLowerCase()) claimNodeId(nodes, guards, req, existing?.ID, ap);
    const node = nodeRecord(req, req.ID ?? existing?.ID ?? '', stored, req.Datacenter || deps.config.datacenter);
    if (!sameRecord(existing, node)) put(plan, tenantKey(nodes.ent, nodeKey(stored)), existing, node);
  } else if (!existing) throw new InternalError('Missing node registration');
  const ns = serviceScope(deps, ent, nodes);
  let service: Planned<NodeService> | undefined;
  if (req.Service) {
    service = normalizeService(req.Service, req.Datacenter || deps.config.datacenter);
    const storedId = ns.cat.serviceId(stored, service.ID);
    const existingService = ns.cat.services.get(stored)?.get(storedId);
    tagVirtualIP(deps, plan, ns.ent, service, existingService === undefined);
    write(plan, at, ns.serviceKey, storedId, service.ID, existingService, service);
  }
  if (req.Check) planCheck(deps, plan, at, req.Check, service, ns, nodes);
  for (const c of req.Checks ?? []) planCheck(deps, plan, at, c, service, ns, nodes);
  return guards.addTo(plan);
}

/** Claims a node ID new to the node (Consul's ensureNodeTxn ID checks, within the partition); renaming by ID is refused. */
function claimNodeId(nodes: NsScope, guards: Guards, req: RegisterRequest, had: string | undefined, ap: string): void {
  const found = checkNodeId(replicaNodes(nodes.cat), { ID: req.ID!, Node: req.Node, Address: req.Address });
  if (found.error) throw new InternalError(`failed inserting node: ${found.error}`);
  if (found.renames) {
    throw new InternalError(`failed inserting node: node ID ${JSON.stringify(req.ID)} belongs to node ${JSON.stringify(found.renames.Node)}: ` +
      `renaming a node by its ID is not supported in partition ${JSON.stringify(ap)} yet`);
  }
  if (had) guards.release(tenantKey(nodes.ent, nodeIdGuard(had)));
  guards.claim(tenantKey(nodes.ent, nodeIdGuard(req.ID!)));
}

/**
 * Plans a deregistration in partition `ent.partition`: a check, a service with its checks (in
 * `ent.namespace`; a node check named there is the partition's), or the node with every
 * namespace's records on it.
 */
export function planDeregisterInPartition(deps: EndpointDeps, req: DeregisterRequest, ent: EnterpriseMeta): WritePlan {
  if (!req.Node) throw new InternalError('Must provide node');
  const ap = foldTenancyName(ent.partition);
  const nodes = partitionScope(deps, ap);
  const guards = new Guards(deps.replica.appliedRevision);
  const plan: WritePlan = { compares: [], ops: [] };
  const node = nodes.cat.nodeName(req.Node);
  const del = (key: string, existing: { ModifyIndex: number } | undefined): void => {
    if (!existing) return;
    plan.compares.push(pinRecord(key, existing));
    plan.ops.push({ type: 'delete', key });
  };
  if (req.CheckID || req.ServiceID) {
    const ns = serviceScope(deps, ent, nodes);
    if (req.CheckID) {
      const own = ns.cat.checks.get(node)?.get(ns.cat.checkId(node, req.CheckID));
      const nodeCheck = own ? undefined : nodes.cat.checks.get(node)?.get(nodes.cat.checkId(node, req.CheckID));
      if (own) {
        del(ns.checkKey(node, own.CheckID), own);
        invalidateSessions(deps, plan, node, own.CheckID, ns.ent);
      } else if (nodeCheck?.ServiceID === '') {
        del(nodes.checkKey(node, nodeCheck.CheckID), nodeCheck);
        invalidateSessions(deps, plan, node, nodeCheck.CheckID, nodes.ent);
      }
      return guards.addTo(plan);
    }
    const serviceId = ns.cat.serviceId(node, req.ServiceID!);
    const service = ns.cat.services.get(node)?.get(serviceId);
    del(ns.serviceKey(node, serviceId), service);
    if (service) planFreeVirtualIPs(deps, plan, ns.ent, [service]);
    for (const c of ns.cat.nodeChecks(node)) {
      if (c.ServiceID === '' || !sameId(c.ServiceID, serviceId)) continue;
      del(ns.checkKey(node, c.CheckID), c);
      invalidateSessions(deps, plan, node, c.CheckID, ns.ent);
    }
    return guards.addTo(plan);
  }
  const existing = nodes.cat.nodes.get(node);
  del(tenantKey(nodes.ent, nodeKey(node)), existing);
  if (existing) guards.release(tenantKey(nodes.ent, nodeNameGuard(existing.Node)));
  if (existing?.ID) guards.release(tenantKey(nodes.ent, nodeIdGuard(existing.ID)));
  // A node's coordinates go with it (Consul's deleteNodeTxn).
  if (existing && coordinatesOf(deps.replica, ap).node(node).length > 0) plan.ops.push({ type: 'deletePrefix', prefix: partitionCoordinateNodePrefix(ap, node) });
  const services = [...nodes.cat.services.get(node)?.values() ?? []];
  for (const s of services) del(nodes.serviceKey(node, s.ID), s);
  planFreeVirtualIPs(deps, plan, nodes.ent, services);
  for (const c of nodes.cat.checks.get(node)?.values() ?? []) del(nodes.checkKey(node, c.CheckID), c);
  for (const { ent: e, table } of namespaceCatalogs(deps.replica, ap)) {
    const inNs = [...table.services.get(node)?.values() ?? []];
    for (const s of inNs) del(tenantKey(e, serviceKey(node, s.ID)), s);
    planFreeVirtualIPs(deps, plan, e, inNs);
    for (const c of table.checks.get(node)?.values() ?? []) del(tenantKey(e, checkKey(node, c.CheckID)), c);
  }
  // Every session of the partition on the node goes with it (Consul's deleteNodeTxn).
  if (existing) invalidateSessions(deps, plan, node, undefined, nodes.ent);
  return guards.addTo(plan);
}
