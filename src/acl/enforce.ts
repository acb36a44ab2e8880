// Turning decisions into answers: Consul's acl.Enforce (resource + access level → method) and the
// *Allowed helpers, which throw the permission-denied error naming the token, resource and segment.
import { BadRequestError, PermissionDeniedError } from '../errors.ts';
import type { AccessLevel, AuthorizerContext, Decision, Resource } from './access.ts';
import { callMethod, type Authorizer, type AuthorizerMethod } from './authorizer.ts';
import { permissionDenied, permissionDeniedByACL } from './errors.ts';

// Which method answers each resource and access level (`write-prefix` is Consul's name for KeyWritePrefix).
const ENFORCE_TABLE: Partial<Record<Resource, Record<string, AuthorizerMethod>>> = {
  acl: { read: 'aclRead', write: 'aclWrite' },
  agent: { read: 'agentRead', write: 'agentWrite' },
  event: { read: 'eventRead', write: 'eventWrite' },
  identity: { read: 'identityRead', write: 'identityWrite' },
  intention: { read: 'intentionRead', write: 'intentionWrite' },
  key: { read: 'keyRead', list: 'keyList', write: 'keyWrite', 'write-prefix': 'keyWritePrefix' },
  keyring: { read: 'keyringRead', write: 'keyringWrite' },
  mesh: { read: 'meshRead', write: 'meshWrite' },
  namespace: { read: 'namespaceRead', write: 'namespaceWrite' },
  node: { read: 'nodeRead', write: 'nodeWrite' },
  operator: { read: 'operatorRead', write: 'operatorWrite' },
  partition: { read: 'partitionRead', write: 'partitionWrite' },
  peering: { read: 'peeringRead', write: 'peeringWrite' },
  query: { read: 'preparedQueryRead', write: 'preparedQueryWrite' },
  service: { read: 'serviceRead', write: 'serviceWrite' },
  session: { read: 'sessionRead', write: 'sessionWrite' },
};

/**
 * Decides `access` (read, list, write, write-prefix; any case) on `resource`/`segment`, as
 * /v1/acl/authorize does; unknown resources and levels throw Consul's messages.
 */
export function enforceResource(
  authz: Authorizer,
  resource: string,
  segment: string,
  access: string,
  ctx?: AuthorizerContext,
): Decision {
  const methods = ENFORCE_TABLE[resource as Resource];
  if (!methods) throw new BadRequestError(`Invalid ACL resource requested: ${JSON.stringify(resource)}`);
  const method = methods[access.toLowerCase()];
  if (!method) throw new BadRequestError(`Invalid access level for ${resource} resource: ${access}`);
  return callMethod(authz, method, segment, ctx);
}

/** How a denied method is described: resource, level and, for the *All/*Any checks, a fixed name. */
const DENIAL: Record<AuthorizerMethod, [Resource, AccessLevel, string?]> = {
  aclRead: ['acl', 'read'], aclWrite: ['acl', 'write'],
  agentRead: ['agent', 'read'], agentWrite: ['agent', 'write'],
  eventRead: ['event', 'read'], eventWrite: ['event', 'write'],
  identityRead: ['identity', 'read'], identityReadAll: ['identity', 'read', 'all identities'],
  identityWrite: ['identity', 'write'], identityWriteAny: ['identity', 'write', 'any identity'],
  intentionDefaultAllow: ['intention', 'read'],
  intentionRead: ['intention', 'read'], intentionWrite: ['intention', 'write'],
  keyList: ['key', 'list'], keyRead: ['key', 'read'], keyWrite: ['key', 'write'], keyWritePrefix: ['key', 'write'],
  keyringRead: ['keyring', 'read'], keyringWrite: ['keyring', 'write'],
  meshRead: ['mesh', 'read'], meshWrite: ['mesh', 'write'],
  namespaceRead: ['namespace', 'read'], namespaceWrite: ['namespace', 'write'],
  nodeRead: ['node', 'read'], nodeReadAll: ['node', 'read', 'all nodes'], nodeWrite: ['node', 'write'],
  operatorRead: ['operator', 'read'], operatorWrite: ['operator', 'write'],
  partitionRead: ['partition', 'read'], partitionWrite: ['partition', 'write'],
  peeringRead: ['peering', 'read'], peeringWrite: ['peering', 'write'],
  preparedQueryRead: ['query', 'read'], preparedQueryWrite: ['query', 'write'],
  serviceRead: ['service', 'read'], serviceReadAll: ['service', 'read', 'all services'],
  serviceWrite: ['service', 'write'], serviceWriteAny: ['service', 'write', 'any service'],
  sessionRead: ['session', 'read'], sessionWrite: ['session', 'write'],
  snapshot: ['acl', 'write'],
  trafficPermissionsRead: ['intention', 'read'], trafficPermissionsWrite: ['intention', 'write'],
};

/** The error Consul's `<Method>Allowed` returns when `method` is not allowed. */
export function denialFor(accessorID: string, method: AuthorizerMethod, name = '', ctx?: AuthorizerContext): PermissionDeniedError {
  // Not a rule decision but the agent's intention default, so Consul names no token.
  if (method === 'intentionDefaultAllow') return permissionDenied('Denied by intention default');
  const [resource, access, fixedName] = DENIAL[method];
  // An empty segment (unlabelled resources) leaves out the ` on "…"` part, as Consul does.
  return permissionDeniedByACL(accessorID, resource, access, fixedName ?? name, ctx);
}

/** Throws Consul's permission-denied error unless `method` answers allow (default counts as deny). */
export function requireAllowed(
  authz: Authorizer,
  accessorID: string,
  method: AuthorizerMethod,
  name = '',
  ctx?: AuthorizerContext,
): void {
  if (callMethod(authz, method, name, ctx) !== 'allow') throw denialFor(accessorID, method, name, ctx);
}
