// Enforcement helpers every endpoint shares: require a permission of the caller's identity (throwing
// Consul's permission-denied text) or filter a result list, remembering whether anything was removed.
import { callMethod, denialFor, manageAll, type AuthorizerMethod } from '../acl/index.ts';
import type { AclIdentity } from './acl-resolver.ts';

const MANAGE_ALL = manageAll();

/**
 * True when every permission check of `id` passes: no identity (internal callers), or the
 * manage-all authorizer (ACLs off, or a management token), which allows every method on every name.
 */
export function unrestricted(id: AclIdentity | undefined): boolean {
  return !id || id.authorizer === MANAGE_ALL;
}

/** Whether `id` may call `method` on `name`; no identity (internal callers) means yes. */
export function allowed(id: AclIdentity | undefined, method: AuthorizerMethod, name = ''): boolean {
  return unrestricted(id) || callMethod(id!.authorizer, method, name) === 'allow';
}

/** Throws Consul's permission-denied error unless `id` may call `method` on `name`. */
export function authorize(id: AclIdentity | undefined, method: AuthorizerMethod, name = ''): void {
  if (!allowed(id, method, name)) throw denialFor(id!.accessorID, method, name);
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
