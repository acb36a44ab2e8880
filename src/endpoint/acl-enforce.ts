// Enforcement helpers every endpoint shares: require a permission of the caller's identity (throwing
// Consul's permission-denied text) or filter a result list, remembering whether anything was removed.
import { callMethod, denialFor, manageAll, type AuthorizerContext, type AuthorizerMethod } from '../acl/index.ts';
import { foldTenancyName, isDefaultEnt, type EnterpriseMeta } from '../state/index.ts';
import type { AclIdentity } from './acl-resolver.ts';

const MANAGE_ALL = manageAll();

/**
 * True when every permission check of `id` passes: no identity (internal callers), or the
 * manage-all authorizer (ACLs off, or a management token), which allows every method on every name.
 */
export function unrestricted(id: AclIdentity | undefined): boolean {
  return !id || id.authorizer === MANAGE_ALL;
}

/** Whether `id` may call `method` on `name` (in the tenant `ctx` names; none: default); no identity (internal callers) means yes. */
export function allowed(id: AclIdentity | undefined, method: AuthorizerMethod, name = '', ctx?: AuthorizerContext): boolean {
  return unrestricted(id) || callMethod(id!.authorizer, method, name, ctx) === 'allow';
}

/** Throws Consul's permission-denied error (naming a non-default tenant) unless `id` may call `method` on `name`. */
export function authorize(id: AclIdentity | undefined, method: AuthorizerMethod, name = '', ctx?: AuthorizerContext): void {
  if (!allowed(id, method, name, ctx)) throw denialFor(id!.accessorID, method, name, ctx);
}

/**
 * The authorizer context of a tenant: undefined for the default tenant, so default-tenant checks
 * stay as they were. Names are folded, as the tenant's keys are: `?ns=TEAM-1` reaches team-1's
 * data, so it must meet the rules written for team-1 (a deny there is not bypassed by case).
 */
export function entContext(ent: EnterpriseMeta | undefined): AuthorizerContext | undefined {
  return isDefaultEnt(ent) ? undefined : { partition: foldTenancyName(ent!.partition), namespace: foldTenancyName(ent!.namespace) };
}

/** A list after ACL filtering, and whether any element was dropped. */
export interface Filtered<T> {
  items: T[];
  filtered: boolean;
}

/** Keeps the elements `keep` accepts; `filtered` says whether any was dropped. */
export function filterAllowed<T>(id: AclIdentity | undefined, items: T[], keep: (item: T) => boolean): Filtered<T> {
  if (!id) return { items, filtered: false };
  const kept = items.filter(keep);
  return { items: kept, filtered: kept.length !== items.length };
}
