// ACL rules of the agent-local routes (Consul's agent/acl.go): registering or changing a service
// needs service:write on it (and on a proxy's destination), node checks need node:write on this
// node, and the local service and check lists keep only what the caller may read.
import { allowed, authorize, entContext, type AclIdentity } from '../../endpoint/index.ts';
import { DEFAULT_TENANCY_NAME, partitionEnt } from '../../state/index.ts';
import type { AuthorizerContext } from '../../acl/index.ts';
import { NotFoundError } from '../../errors.ts';
import type { LocalService } from './definition.ts';
import { localKey, serviceKeyOf, checkKeyOf, type LocalCheck, type LocalState } from './state.ts';

/**
 * The authorizer context of a local service's or check's namespace in the agent's partition (none
 * for the default tenant): a client agent in another partition meets that partition's rules.
 */
function nsContext(rec: { Namespace?: string } | undefined, partition: string): AuthorizerContext | undefined {
  return entContext({ partition, namespace: rec?.Namespace || DEFAULT_TENANCY_NAME });
}

/** The context of this agent's node rules: its partition's (none in the default partition). */
function nodeContext(state: LocalState): AuthorizerContext | undefined {
  return entContext(partitionEnt(state.partition));
}

/** Throws unless the caller may register `service` (replacing any service with the same ID). */
export function vetServiceRegister(id: AclIdentity | undefined, state: LocalState, service: LocalService): void {
  if (!id) return;
  const ctx = nsContext(service, state.partition);
  authorize(id, 'serviceWrite', service.Service, ctx);
  const existing = state.service(serviceKeyOf(service));
  if (existing) authorize(id, 'serviceWrite', existing.Service, ctx);
  // A proxy is discovered as an instance of its destination, so it needs write on that too.
  const destination = service.Proxy?.DestinationServiceName;
  if (service.Kind === 'connect-proxy' && typeof destination === 'string' && destination !== '') {
    authorize(id, 'serviceWrite', destination, ctx);
  }
}

/**
 * Throws unless the caller may change (deregister, maintain) the local service `serviceID` (its
 * local key); an unknown ID is Consul's 404 whatever the token (vetServiceUpdateWithAuthorizer).
 */
export function vetServiceUpdate(id: AclIdentity | undefined, state: LocalState, serviceID: string): void {
  const existing = state.service(serviceID);
  if (!existing) throw new NotFoundError(`Unknown service ID ${shownId(serviceID)}. Ensure that the service ID is passed, not the service name.`);
  if (id) authorize(id, 'serviceWrite', existing.Service, nsContext(existing, state.partition));
}

/** A local key as Consul prints its ServiceID/CheckID (quoted): the bare ID in CE, partition/namespace/ID in Enterprise. */
function shownId(key: string): string {
  const [id, ns] = key.split('\0');
  return JSON.stringify(ns ? `default/${ns}/${id}` : id);
}

// A service check needs write on its service; a node check needs write on this node.
function vetCheckTarget(id: AclIdentity, state: LocalState, serviceName: string, ctx: AuthorizerContext | undefined): void {
  if (serviceName) authorize(id, 'serviceWrite', serviceName, ctx);
  else authorize(id, 'nodeWrite', state.nodeName, nodeContext(state));
}

/** Throws unless the caller may register `check` (replacing any check with the same ID). */
export function vetCheckRegister(id: AclIdentity | undefined, state: LocalState, check: LocalCheck): void {
  if (!id) return;
  const ctx = nsContext(check, state.partition);
  const serviceName = check.ServiceID ? state.service(localKey(check.ServiceID, check.Namespace))?.Service ?? check.ServiceID : '';
  vetCheckTarget(id, state, serviceName, ctx);
  const existing = state.check(checkKeyOf(check));
  if (existing) vetCheckTarget(id, state, existing.ServiceName, ctx);
}

/**
 * Throws unless the caller may update or deregister the local check `checkID` (its local key); an
 * unknown ID is Consul's 404 whatever the token (vetCheckUpdateWithAuthorizer).
 */
export function vetCheckUpdate(id: AclIdentity | undefined, state: LocalState, checkID: string): void {
  const existing = state.check(checkID);
  if (!existing) throw new NotFoundError(`Unknown check ID ${shownId(checkID)}. Ensure that the check ID is passed, not the check name.`);
  if (id) vetCheckTarget(id, state, existing.ServiceName, nsContext(existing, state.partition));
}

/** Throws unless the caller may put this node into or out of maintenance. */
export function vetNodeUpdate(id: AclIdentity | undefined, state: LocalState): void {
  if (id) authorize(id, 'nodeWrite', state.nodeName, nodeContext(state));
}

/** Throws unless the caller may read the local service's details or health. */
export function vetServiceRead(id: AclIdentity | undefined, serviceName: string, namespace?: string, partition = DEFAULT_TENANCY_NAME): void {
  if (id) authorize(id, 'serviceRead', serviceName, nsContext({ Namespace: namespace }, partition));
}

/** Whether the caller may see a local service (of an agent in `partition`). */
export function serviceVisible(id: AclIdentity | undefined, service: LocalService, partition = DEFAULT_TENANCY_NAME): boolean {
  return allowed(id, 'serviceRead', service.Service, nsContext(service, partition));
}

/** Whether the caller may see a local check: service:read for service checks, node:read otherwise. */
export function checkVisible(id: AclIdentity | undefined, state: LocalState, check: LocalCheck): boolean {
  return check.ServiceName ? allowed(id, 'serviceRead', check.ServiceName, nsContext(check, state.partition))
    : allowed(id, 'nodeRead', state.nodeName, nodeContext(state));
}

/** The response header Consul sends when a token was given and results were dropped. */
export function filteredHeader(id: AclIdentity | undefined, filtered: boolean): Record<string, string> {
  return filtered && id?.tokenGiven ? { 'X-Consul-Results-Filtered-By-ACLs': 'true' } : {};
}
