// ACL rules of the catalog and health endpoints (Consul's vetRegisterWithACL,
// vetDeregisterWithACL and the filters of catalog/health answers): writes need node or service
// write; reads keep only the nodes, services and checks the caller may read.
import type { HealthCheck, Node, RegisterRequest, DeregisterRequest } from '../api/catalog-types.ts';
import { allowed, authorize, unrestricted } from './acl-enforce.ts';
import type { AclIdentity } from './acl-resolver.ts';
import type { EndpointDeps } from './deps.ts';

// Consul asks for node:write only when the registration would change the node itself.
function nodeChanges(existing: Node | undefined, req: RegisterRequest): boolean {
  if (req.SkipNodeUpdate) return false;
  if (!existing) return true;
  // A field the request leaves out keeps the node's value, so only a given one can differ.
  return existing.Address !== req.Address
    || (req.NodeMeta != null && JSON.stringify(existing.Meta ?? {}) !== JSON.stringify(req.NodeMeta))
    || (req.TaggedAddresses != null && JSON.stringify(existing.TaggedAddresses ?? {}) !== JSON.stringify(req.TaggedAddresses));
}

/** Throws unless the caller may make this registration. */
export function vetRegister(deps: EndpointDeps, id: AclIdentity | undefined, req: RegisterRequest): void {
  // With ACLs off (or a management token) every check below passes: skip the lookups.
  if (!id || unrestricted(id)) return;
  const cat = deps.replica.catalog;
  if (nodeChanges(cat.nodes.get(req.Node), req)) authorize(id, 'nodeWrite', req.Node);
  if (req.Service?.Service) authorize(id, 'serviceWrite', req.Service.Service);
  if (req.Check) vetCheck(deps, id, req, req.Check);
  for (const c of req.Checks ?? []) vetCheck(deps, id, req, c);
}

function vetCheck(deps: EndpointDeps, id: AclIdentity, req: RegisterRequest, c: Partial<HealthCheck>): void {
  if (!c.ServiceID) {
    authorize(id, 'nodeWrite', req.Node);
    return;
  }
  const svc = req.Service && (req.Service.ID || req.Service.Service) === c.ServiceID
    ? req.Service.Service : deps.replica.catalog.services.get(req.Node)?.get(c.ServiceID)?.Service;
  authorize(id, 'serviceWrite', svc ?? c.ServiceID);
}

/** Throws unless the caller may make this deregistration. */
export function vetDeregister(deps: EndpointDeps, id: AclIdentity | undefined, req: DeregisterRequest): void {
  if (!id || unrestricted(id)) return;
  const cat = deps.replica.catalog;
  if (req.ServiceID) {
    const svc = cat.services.get(req.Node)?.get(req.ServiceID);
    authorize(id, 'serviceWrite', svc?.Service ?? req.ServiceID);
  } else if (req.CheckID) {
    const check = cat.checks.get(req.Node)?.get(req.CheckID);
    if (check?.ServiceID) authorize(id, 'serviceWrite', check.ServiceName);
    else authorize(id, 'nodeWrite', req.Node);
  } else authorize(id, 'nodeWrite', req.Node);
}

/** Whether the caller may see a service instance on a node. */
export function instanceReadable(id: AclIdentity | undefined, node: string, service: string): boolean {
  return allowed(id, 'nodeRead', node) && allowed(id, 'serviceRead', service);
}

/** Whether the caller may see a health check (node read, plus service read for service checks). */
export function checkReadable(id: AclIdentity | undefined, c: HealthCheck): boolean {
  return allowed(id, 'nodeRead', c.Node) && (!c.ServiceName || allowed(id, 'serviceRead', c.ServiceName));
}

/**
 * Whether a mesh (connect or ingress) query for `service` answers nothing: Consul requires
 * service:read on the service whose proxies or gateways are asked for, and otherwise returns an
 * empty list without reporting it as filtered.
 */
export function meshTargetHidden(id: AclIdentity | undefined, service: string): boolean {
  return !allowed(id, 'serviceRead', service);
}
