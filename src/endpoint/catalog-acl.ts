// ACL rules of the catalog and health endpoints (Consul's vetRegisterWithACL,
// vetDeregisterWithACL and the filters of catalog/health answers): writes need node or service
// write; reads keep only the nodes, services and checks the caller may read.
import { foldName, catalogOf, partitionCatalog, partitionEnt, DEFAULT_TENANCY_NAME, type CatalogTables, type EnterpriseMeta } from '../state/index.ts';
import type { AuthorizerContext } from '../acl/index.ts';
import type { CheckServiceNode, HealthCheck, Node, RegisterRequest, DeregisterRequest } from '../api/catalog-types.ts';
import { filterList } from '../filter/index.ts';
import { allowed, authorize, entContext, filterAllowed, unrestricted, type Filtered } from './acl-enforce.ts';
import type { AclIdentity } from './acl-resolver.ts';
import type { EndpointDeps } from './deps.ts';

// Consul asks for node:write only when the registration would change the node itself; the node
// is found case-insensitively (Consul's ChangesNode compares names with EqualFold).
function nodeChanges(existing: Node | undefined, req: RegisterRequest): boolean {
  if (req.SkipNodeUpdate) return false;
  if (!existing) return true;
  // A field the request leaves out keeps the node's value, so only a given one can differ.
  return existing.Address !== req.Address || (!!req.ID && req.ID !== existing.ID)
    || (req.NodeMeta != null && JSON.stringify(existing.Meta ?? {}) !== JSON.stringify(req.NodeMeta))
    || (req.TaggedAddresses != null && JSON.stringify(existing.TaggedAddresses ?? {}) !== JSON.stringify(req.TaggedAddresses));
}

/**
 * Throws unless the caller may make this registration. `ent`: the namespace of the service and its
 * checks (absent: default), whose rules service writes meet; node writes meet the partition's.
 */
export function vetRegister(deps: EndpointDeps, id: AclIdentity | undefined, req: RegisterRequest, ent?: EnterpriseMeta): void {
  // With ACLs off (or a management token) every check below passes: skip the lookups.
  if (!id || unrestricted(id)) return;
  // Nodes are the partition's: its tables, its rules (none but the default's in the default partition).
  const cat = ent === undefined ? deps.replica.catalog : partitionCatalog(deps.replica, ent.partition);
  const nodeCtx = ent === undefined ? undefined : entContext(partitionEnt(ent.partition));
  const scat = ent === undefined ? cat : catalogOf(deps.replica, ent);
  const ctx = entContext(ent);
  // The node, its services and checks as the write will find them: named case-insensitively.
  const existing = cat.node(req.Node);
  const node = existing?.Node ?? req.Node;
  if (nodeChanges(existing, req)) authorize(id, 'nodeWrite', req.Node, nodeCtx);
  if (req.Service?.Service) {
    authorize(id, 'serviceWrite', req.Service.Service, ctx);
    // Re-registering an instance under another name replaces it: that name needs write too.
    const other = scat.services.get(node)?.get(scat.serviceId(node, req.Service.ID || req.Service.Service));
    if (other && other.Service !== req.Service.Service) authorize(id, 'serviceWrite', other.Service, ctx);
  }
  if (req.Check) vetCheck(scat, id, req, node, req.Check, ctx, nodeCtx);
  for (const c of req.Checks ?? []) vetCheck(scat, id, req, node, c, ctx, nodeCtx);
}

function vetCheck(
  cat: CatalogTables, id: AclIdentity, req: RegisterRequest, node: string, c: Partial<HealthCheck>, ctx: AuthorizerContext | undefined,
  nodeCtx: AuthorizerContext | undefined,
): void {
  if (!c.ServiceID) {
    authorize(id, 'nodeWrite', req.Node, nodeCtx);
    return;
  }
  const own = req.Service && foldName(req.Service.ID || req.Service.Service || '') === foldName(c.ServiceID);
  const svc = own ? req.Service!.Service : cat.services.get(node)?.get(cat.serviceId(node, c.ServiceID))?.Service;
  authorize(id, 'serviceWrite', svc ?? c.ServiceID, ctx);
}

/** Throws unless the caller may make this deregistration (`ent`: the namespace of the service or check; absent: default). */
export function vetDeregister(deps: EndpointDeps, id: AclIdentity | undefined, req: DeregisterRequest, ent?: EnterpriseMeta): void {
  if (!id || unrestricted(id)) return;
  const nodes = ent === undefined ? deps.replica.catalog : partitionCatalog(deps.replica, ent.partition);
  const nodeCtx = ent === undefined ? undefined : entContext(partitionEnt(ent.partition));
  const cat = ent === undefined || (!req.ServiceID && !req.CheckID) ? nodes : catalogOf(deps.replica, ent);
  const ctx = entContext(ent);
  const node = cat.nodeName(req.Node);
  if (req.ServiceID) {
    const svc = cat.services.get(node)?.get(cat.serviceId(node, req.ServiceID));
    authorize(id, 'serviceWrite', svc?.Service ?? req.ServiceID, ctx);
  } else if (req.CheckID) {
    const check = cat.checks.get(node)?.get(cat.checkId(node, req.CheckID));
    if (check?.ServiceID) authorize(id, 'serviceWrite', check.ServiceName, ctx);
    else authorize(id, 'nodeWrite', req.Node, nodeCtx);
  } else authorize(id, 'nodeWrite', req.Node, nodeCtx);
}

/**
 * The context node rules are read in for a resource in `ctx`: nodes are partition-level, so a
 * partition other than default's own (its default namespace); none in the default partition.
 */
export function nodeContext(ctx: AuthorizerContext | undefined): AuthorizerContext | undefined {
  const ap = ctx?.partition;
  return ap === undefined || ap === '' || ap === DEFAULT_TENANCY_NAME ? undefined : { ...ctx, namespace: DEFAULT_TENANCY_NAME };
}

/** Whether the caller may see a service instance on a node (`ctx`: the service's namespace; none: default). */
export function instanceReadable(id: AclIdentity | undefined, node: string, service: string, ctx?: AuthorizerContext): boolean {
  return allowed(id, 'nodeRead', node, nodeContext(ctx)) && allowed(id, 'serviceRead', service, ctx);
}

/**
 * The CheckServiceNodes a health read answers, in Consul's order: first those the caller may not read
 * (`readable`) go, then `?filter`, then `?passing` drops any with a non-passing check. Filtered-by-ACLs
 * thus tells of every hidden row, never of what the filter did to them (which would leak their fields).
 */
export function healthAnswer(
  id: AclIdentity | undefined, rows: CheckServiceNode[], f: { passing?: boolean; filter?: string }, readable: (r: CheckServiceNode) => boolean,
): Filtered<CheckServiceNode> {
  const { items, filtered } = filterAllowed(id, rows, readable);
  const kept = filterList(items, f.filter);
  return { items: f.passing ? kept.filter((r) => r.Checks.every((c) => c.Status === 'passing')) : kept, filtered };
}

/** Whether the caller may see a health check (node read, plus service read for service checks; `ctx`: the check's namespace). */
export function checkReadable(id: AclIdentity | undefined, c: HealthCheck, ctx?: AuthorizerContext): boolean {
  return allowed(id, 'nodeRead', c.Node, nodeContext(ctx)) && (!c.ServiceName || allowed(id, 'serviceRead', c.ServiceName, ctx));
}

/**
 * Whether a mesh (connect or ingress) query for `service` answers nothing: Consul requires
 * service:read on the service whose proxies or gateways are asked for, and otherwise returns an
 * empty list without reporting it as filtered.
 */
export function meshTargetHidden(id: AclIdentity | undefined, service: string, ctx?: AuthorizerContext): boolean {
  return !allowed(id, 'serviceRead', service, ctx);
}
