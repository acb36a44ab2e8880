// The static authorizers (Consul's static_authorizer.go) and the chained authorizer
// (chained_authorizer.go): the default-policy fallbacks and the way they are stacked.
import type { AuthorizerContext, Decision } from './access.ts';
import { authorizerFrom, callMethod, type Authorizer, type AuthorizerMethod } from './authorizer.ts';

// Only a management authorizer may touch ACLs, snapshots, namespaces and partitions.
const MANAGEMENT_ONLY: ReadonlySet<AuthorizerMethod> = new Set<AuthorizerMethod>([
  'aclRead', 'aclWrite', 'snapshot', 'namespaceWrite', 'partitionWrite',
]);

function staticAuthorizer(defaultAllow: boolean, allowManage: boolean): Authorizer {
  return authorizerFrom((method) => {
    const allowed = MANAGEMENT_ONLY.has(method) ? allowManage : defaultAllow;
    return allowed ? 'allow' : 'deny';
  });
}

const ALLOW_ALL = staticAuthorizer(true, false);
const DENY_ALL = staticAuthorizer(false, false);
const MANAGE_ALL = staticAuthorizer(true, true);

/** Allows everything except ACL management and snapshots (default_policy = allow). */
export function allowAll(): Authorizer {
  return ALLOW_ALL;
}

/** Denies everything (default_policy = deny). */
export function denyAll(): Authorizer {
  return DENY_ALL;
}

/** Allows everything, management included. */
export function manageAll(): Authorizer {
  return MANAGE_ALL;
}

/** The static authorizer named `allow`, `deny` or `manage`; null for any other id. */
export function rootAuthorizer(id: string): Authorizer | null {
  switch (id) {
    case 'allow':
      return ALLOW_ALL;
    case 'deny':
      return DENY_ALL;
    case 'manage':
      return MANAGE_ALL;
    default:
      return null;
  }
}

/**
 * Asks each authorizer in order and returns the first non-default decision; deny if none
 * decides. Put the most specific first, e.g. `[tokenAuthorizer, allowAll()]`.
 */
export function chainedAuthorizer(chain: Authorizer[]): Authorizer {
  return authorizerFrom((method, name, ctx?: AuthorizerContext): Decision => {
    for (const authz of chain) {
      const d = callMethod(authz, method, name, ctx);
      if (d !== 'default') return d;
    }
    return 'deny';
  });
}
