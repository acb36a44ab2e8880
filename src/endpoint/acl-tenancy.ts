// ACL objects in namespaces and partitions (Consul Enterprise): tokens, policies, roles, auth
// methods and binding rules carry the tenant of their store key. The helpers every ACL endpoint
// shares: the tenant's authorizer context, the JSON fields a tenant-aware answer gains, writes
// refused into a missing or deleting namespace (and pinned to its record), and `ns=*` filtering.
import {
  DEFAULT_TENANCY_NAME, WILDCARD_NAMESPACE, isDefaultEnt, namespacesFor, tenantKey, type AclTables, type EnterpriseMeta,
} from '../state/index.ts';
import { aclEnt, aclInTenant } from '../state/acl-tables.ts';
import type { AuthorizerMethod } from '../acl/index.ts';
import type { AclIdentity } from './acl-resolver.ts';
import { allowed, authorize, entContext, type Filtered } from './acl-enforce.ts';
import type { WritePlan } from './commit.ts';
import type { EndpointDeps } from './deps.ts';
import type { QueryOptions } from './query.ts';
import { entPins, writableEnt } from './tenancy.ts';

/** Whether a read covers every namespace of its partition (`ns=*`). */
export function wildcardEnt(ent: EnterpriseMeta | undefined): boolean {
  return ent?.namespace === WILDCARD_NAMESPACE;
}

/** A tenant as a write or single read may use it: a wildcard is never one (the HTTP layer refuses it first). */
export function concreteEnt(ent: EnterpriseMeta | undefined): EnterpriseMeta | undefined {
  return isDefaultEnt(ent) ? undefined : ent;
}

/** Requires acl:read or acl:write of `id` in the tenant `ent` (denial texts name a non-default tenant). */
export function authorizeAcl(id: AclIdentity | undefined, write: boolean, ent: EnterpriseMeta | undefined): void {
  authorize(id, write ? 'aclWrite' : 'aclRead', '', entContext(concreteEnt(ent)));
}

/**
 * A list read's ACL check: a single tenant needs acl:read there (403 otherwise); a wildcard keeps
 * the records of the namespaces where the caller has acl:read, and says whether any were dropped.
 */
export function aclListFilter<T extends object>(opts: QueryOptions, rows: T[], method: AuthorizerMethod = 'aclRead'): Filtered<T> {
  const inTenant = rows.filter((r) => aclInTenant(r, concreteEnt(opts.ent) ?? (wildcardEnt(opts.ent) ? opts.ent : undefined)));
  if (!wildcardEnt(opts.ent)) return { items: inTenant, filtered: false };
  const kept = inTenant.filter((r) => allowed(opts.authz, method, '', entContext(aclEnt(r))));
  return { items: kept, filtered: kept.length !== inTenant.length };
}

/**
 * The check before a list read: acl:read in the tenant; for a wildcard, acl:read in at least one
 * namespace of the partition (the records are then filtered per namespace), else the denial of
 * the partition's default namespace.
 */
export function authorizeAclList(opts: QueryOptions, namespaces: () => EnterpriseMeta[]): void {
  if (!wildcardEnt(opts.ent)) return authorizeAcl(opts.authz, false, opts.ent);
  if (namespaces().some((ent) => allowed(opts.authz, 'aclRead', '', entContext(concreteEnt(ent))))) return;
  authorizeAcl(opts.authz, false, { partition: opts.ent!.partition, namespace: DEFAULT_TENANCY_NAME });
}

/** The namespaces a wildcard ACL list covers (state/kvs-tenants.ts namespacesFor), for authorizeAclList. */
export function wildcardNamespaces(deps: EndpointDeps, opts: QueryOptions): () => EnterpriseMeta[] {
  return () => namespacesFor(deps.replica, opts.ent?.partition ?? DEFAULT_TENANCY_NAME);
}

/**
 * A record as a tenant-aware answer shows it: a tenant's record already carries Namespace and
 * Partition (set by the replica); a default-tenant one gains `default`/`default` when the request
 * named a tenancy (`named`), before its indexes as Consul orders them. Otherwise the record itself.
 */
export function tenantView<T extends object>(rec: T, named: boolean | undefined): T {
  if (!named || (rec as { Namespace?: string }).Namespace !== undefined) return rec;
  const out: Record<string, unknown> = {};
  let placed = false;
  for (const [k, v] of Object.entries(rec)) {
    if (!placed && (k === 'CreateIndex' || k === 'ModifyIndex')) {
      out.Namespace = DEFAULT_TENANCY_NAME;
      out.Partition = DEFAULT_TENANCY_NAME;
      placed = true;
    }
    out[k] = v;
  }
  if (!placed) Object.assign(out, { Namespace: DEFAULT_TENANCY_NAME, Partition: DEFAULT_TENANCY_NAME });
  return out as T;
}

/** Whether a read's answer shows tenancy fields on default-tenant records: it named a tenancy, or read every namespace. */
export function namedRead(opts: QueryOptions): boolean {
  return !!opts.entNamed || wildcardEnt(opts.ent);
}

/**
 * A write planned in tenant `ent`: refused (Consul's 500 texts) when the namespace or partition is
 * missing or being deleted, and pinned to their records so a write planned before a deletion mark
 * is planned again. The default tenant's plan is returned untouched.
 */
export function inAclTenant(deps: EndpointDeps, ent: EnterpriseMeta | undefined, plan: () => WritePlan | null): () => WritePlan | null {
  if (isDefaultEnt(ent)) return plan;
  return () => {
    writableEnt(deps.replica.tenants, ent);
    const p = plan();
    if (p) p.compares.push(...entPins(deps.replica.tenants, ent));
    return p;
  };
}

/** A name guard key in tenant `ent` (the default tenant's is the guard itself). */
export function tenantGuard(ent: EnterpriseMeta | undefined, guard: string): string {
  return tenantKey(concreteEnt(ent), guard);
}

/**
 * A record found by a global id, if it belongs to tenant `ent` (absent: default): ids are
 * cluster-unique, so a record of another namespace reads as missing there.
 */
export function inTenantOrUndefined<T extends object>(rec: T | undefined, ent: EnterpriseMeta | undefined): T | undefined {
  return rec && aclInTenant(rec, concreteEnt(ent)) ? rec : undefined;
}

/**
 * The link resolution scope of a token or role written in tenant `ent`: its own namespace only
 * ("Tokens may only link to policies and roles defined in the same namespace as the token itself",
 * "Roles may only link to policies defined in the same namespace as the role itself", Consul
 * Enterprise's ACL system docs). Names resolve there and ids must name a record there, so a
 * namespace's ACL admin cannot link global-management or any other default-namespace grant.
 */
export function linkScopes(ent: EnterpriseMeta | undefined): (EnterpriseMeta | undefined)[] {
  return [concreteEnt(ent)];
}

/** Whether `rec` lives in one of the link scopes. */
export function inScopes(rec: object, scopes: (EnterpriseMeta | undefined)[]): boolean {
  return scopes.some((s) => aclInTenant(rec, s));
}

/** A policy by name in the link scopes, own namespace first. */
export function policyByName(acl: AclTables, name: string, scopes: (EnterpriseMeta | undefined)[]): { ID: string } | undefined {
  for (const s of scopes) {
    const p = acl.policies.by(name, s);
    if (p) return p;
  }
  return undefined;
}

/** A role by name in the link scopes, own namespace first. */
export function roleByName(acl: AclTables, name: string, scopes: (EnterpriseMeta | undefined)[]): { ID: string } | undefined {
  for (const s of scopes) {
    const r = acl.roles.by(name, s);
    if (r) return r;
  }
  return undefined;
}
