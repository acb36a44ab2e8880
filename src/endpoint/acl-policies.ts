// ACL policies and roles (Consul's ACL.PolicySet/PolicyRead/PolicyDelete/PolicyList and the Role
// equivalents): unique names, Rules validated by the rule parser, the built-in global-management
// policy protected, and list stubs.
import { randomUUID } from 'node:crypto';
import {
  ACL_POLICY_GLOBAL_MANAGEMENT_ID, policyCompiler, type ACLPolicy, type ACLPolicyListStub, type ACLRole,
} from '../acl/index.ts';
import { BadRequestError } from '../errors.ts';
import {
  ACL_POLICY_PREFIX, ACL_ROLE_PREFIX, type ACLPolicyRecord, type ACLRoleRecord, type EnterpriseMeta,
} from '../state/index.ts';
import { aclStoreKey } from '../state/acl-tables.ts';
import type { AclIdentity, AclResolver } from './acl-resolver.ts';
import {
  aclListFilter, authorizeAcl, authorizeAclList, wildcardNamespaces, concreteEnt, inAclTenant, inTenantOrUndefined, namedRead, tenantGuard, tenantView,
} from './acl-tenancy.ts';
import {
  aclPreCheck, checkNodeIdentities, checkServiceIdentities, checkTemplatedPolicies, contentHash, isUUID,
  resolvePolicyLinks, withLinkNames,
} from './acl-links.ts';
import { putPlan, deletePlan } from './acl-write.ts';
import { commitWrite, type WritePlan } from './commit.ts';
import { Guards, aclNameGuard } from './name-guards.ts';
import type { QueryOptions, QueryResult } from './query.ts';
import { tableQuery } from './table-query.ts';
import type { EndpointDeps } from './deps.ts';

const POLICY_NAME = /^[A-Za-z0-9\-_]{1,128}$/;
const ROLE_NAME = /^[A-Za-z0-9\-_]{1,256}$/;

/** A policy write as the API carries it. */
export type PolicyInput = Partial<Pick<ACLPolicy, 'ID' | 'Name' | 'Description' | 'Rules' | 'Datacenters'>>;
/** A role write as the API carries it. */
export type RoleInput = Partial<Omit<ACLRole, 'Hash' | 'CreateIndex' | 'ModifyIndex'>>;

/** Policy and role operations. */
export class AclPolicyEndpoint {
  readonly #deps: EndpointDeps;
  readonly #resolver: AclResolver;

  constructor(deps: EndpointDeps, resolver: AclResolver) {
    this.#deps = deps;
    this.#resolver = resolver;
  }

  #write(id: AclIdentity | undefined, ent?: EnterpriseMeta): void {
    aclPreCheck(this.#resolver);
    authorizeAcl(id, true, ent);
  }

  /** Creates (no ID) or updates a policy, in tenant `ent` (absent: default); names are unique per namespace. */
  async setPolicy(input: PolicyInput, id: AclIdentity | undefined, ent?: EnterpriseMeta): Promise<ACLPolicy> {
    ent = concreteEnt(ent);
    this.#write(id, ent);
    const name = input.Name ?? '';
    if (name === '') throw new BadRequestError('Invalid Policy: no Name is set');
    if (!POLICY_NAME.test(name)) throw new BadRequestError("Invalid Policy: invalid Name. Only alphanumeric characters, '-' and '_' are allowed");
    const policies = this.#deps.replica.acl.policies;
    let policyID = '';
    await commitWrite(this.#deps, inAclTenant(this.#deps, ent, () => {
      const existing = input.ID ? inTenantOrUndefined(policies.get(input.ID), ent) : undefined;
      const byName = policies.by(name, ent);
      if (!input.ID) {
        if (byName) throw new BadRequestError(`Invalid Policy: A Policy with Name ${JSON.stringify(name)} already exists`);
      } else {
        if (!isUUID(input.ID)) throw new BadRequestError('Policy ID invalid UUID');
        if (!existing) throw new BadRequestError(`cannot find policy ${input.ID}`);
        if (existing.Name !== name && byName) throw new BadRequestError(`Invalid Policy: A policy with name ${JSON.stringify(name)} already exists`);
        checkBuiltin(input, existing);
      }
      const compiler = policyCompiler();
      const parsed = compiler.parseRules(input.Rules ?? '');
      if (ent) compiler.validatePolicyHome(parsed, ent);
      policyID = input.ID || randomUUID();
      const rec = finishPolicy({ ID: policyID, Name: name, Description: input.Description ?? '', Rules: input.Rules ?? '', Datacenters: input.Datacenters, Hash: '' });
      return guardName(this.#deps, 'policy', existing?.Name, name, putPlan(aclStoreKey(ACL_POLICY_PREFIX, policyID, ent), existing, rec), ent);
    }));
    return policies.get(policyID)!;
  }

  /** Deletes a policy of tenant `ent` (not the built-in global-management one). */
  async deletePolicy(policyID: string, id: AclIdentity | undefined, ent?: EnterpriseMeta): Promise<void> {
    ent = concreteEnt(ent);
    this.#write(id, ent);
    if (policyID === ACL_POLICY_GLOBAL_MANAGEMENT_ID) throw new BadRequestError('Delete operation not permitted on the builtin global-management policy');
    await commitWrite(this.#deps, () => {
      const p = inTenantOrUndefined(this.#deps.replica.acl.policies.get(policyID), ent);
      return p ? guardName(this.#deps, 'policy', p.Name, undefined, deletePlan(aclStoreKey(ACL_POLICY_PREFIX, policyID, ent), p), ent) : null;
    });
  }

  /** One policy of the read's tenant by ID or (`byName`) name; null when missing. */
  readPolicy(key: string, byName: boolean, opts: QueryOptions): Promise<QueryResult<ACLPolicy | null>> {
    aclPreCheck(this.#resolver);
    const ent = concreteEnt(opts.ent);
    authorizeAcl(opts.authz, false, ent);
    const policies = this.#deps.replica.acl.policies;
    return tableQuery(this.#deps, opts, policies, () => {
      const p = byName ? policies.by(key, ent) : inTenantOrUndefined(policies.get(key), ent);
      return { value: p ? tenantView(p, opts.entNamed) : null };
    });
  }

  /** Every policy of the read's tenant (or, with `ns=*`, of every namespace the caller may read) as a list stub. */
  listPolicies(opts: QueryOptions): Promise<QueryResult<ACLPolicyListStub[]>> {
    aclPreCheck(this.#resolver);
    authorizeAclList(opts, wildcardNamespaces(this.#deps, opts));
    const policies = this.#deps.replica.acl.policies;
    const named = namedRead(opts);
    return tableQuery(this.#deps, opts, policies, () => {
      const { items, filtered } = aclListFilter(opts, policies.sorted());
      return {
        value: items.map(({ Rules: _r, Datacenters, ...rest }) => tenantView({ ...rest, Datacenters: Datacenters ?? null }, named) as ACLPolicyListStub),
        filtered,
      };
    });
  }

  /** Creates (no ID) or updates a role, in tenant `ent`; linked policies resolve in its namespace only. */
  async setRole(input: RoleInput, id: AclIdentity | undefined, ent?: EnterpriseMeta): Promise<ACLRole> {
    ent = concreteEnt(ent);
    this.#write(id, ent);
    const name = input.Name ?? '';
    if (name === '') throw new BadRequestError('Invalid Role: no Name is set');
    if (!ROLE_NAME.test(name)) throw new BadRequestError("Invalid Role: invalid Name. Only alphanumeric characters, '-' and '_' are allowed");
    const acl = this.#deps.replica.acl;
    let roleID = '';
    await commitWrite(this.#deps, inAclTenant(this.#deps, ent, () => {
      const existing = input.ID ? inTenantOrUndefined(acl.roles.get(input.ID), ent) : undefined;
      const byName = acl.roles.by(name, ent);
      if (!input.ID && byName) throw new BadRequestError(`Invalid Role: A Role with Name ${JSON.stringify(name)} already exists`);
      if (input.ID) {
        if (!isUUID(input.ID)) throw new BadRequestError('Role ID invalid UUID');
        if (!existing) throw new BadRequestError(`cannot find role ${input.ID}`);
        if (existing.Name !== name && byName) throw new BadRequestError(`Invalid Role: A role with name ${JSON.stringify(name)} already exists`);
      }
      roleID = input.ID || randomUUID();
      const rec = finishRole({
        ID: roleID, Name: name, Description: input.Description ?? '', Hash: '',
        Policies: resolvePolicyLinks(acl, input.Policies, ent),
        ServiceIdentities: checkServiceIdentities(input.ServiceIdentities, 'role'),
        NodeIdentities: checkNodeIdentities(input.NodeIdentities, 'role'),
        TemplatedPolicies: checkTemplatedPolicies(input.TemplatedPolicies),
      });
      return guardName(this.#deps, 'role', existing?.Name, name, putPlan(aclStoreKey(ACL_ROLE_PREFIX, roleID, ent), existing, rec), ent);
    }));
    return withLinkNames(acl, acl.roles.get(roleID)!) as ACLRole;
  }

  /** Deletes a role of tenant `ent`. */
  async deleteRole(roleID: string, id: AclIdentity | undefined, ent?: EnterpriseMeta): Promise<void> {
    ent = concreteEnt(ent);
    this.#write(id, ent);
    await commitWrite(this.#deps, () => {
      const r = inTenantOrUndefined(this.#deps.replica.acl.roles.get(roleID), ent);
      return r ? guardName(this.#deps, 'role', r.Name, undefined, deletePlan(aclStoreKey(ACL_ROLE_PREFIX, roleID, ent), r), ent) : null;
    });
  }

  /** One role of the read's tenant by ID or (`byName`) name; null when missing. */
  readRole(key: string, byName: boolean, opts: QueryOptions): Promise<QueryResult<ACLRole | null>> {
    aclPreCheck(this.#resolver);
    const ent = concreteEnt(opts.ent);
    authorizeAcl(opts.authz, false, ent);
    const acl = this.#deps.replica.acl;
    return tableQuery(this.#deps, opts, acl.roles, () => {
      const r = byName ? acl.roles.by(key, ent) : inTenantOrUndefined(acl.roles.get(key), ent);
      return { value: r ? tenantView(withLinkNames(acl, r) as ACLRole, opts.entNamed) : null };
    });
  }

  /** Every role of the read's tenant (or every namespace for `ns=*`), optionally only those linking `policy`. */
  listRoles(policy: string, opts: QueryOptions): Promise<QueryResult<ACLRole[]>> {
    aclPreCheck(this.#resolver);
    authorizeAclList(opts, wildcardNamespaces(this.#deps, opts));
    const acl = this.#deps.replica.acl;
    const named = namedRead(opts);
    return tableQuery(this.#deps, opts, acl.roles, () => {
      const rows = acl.roles.sorted().filter((r) => !policy || (r.Policies ?? []).some((l) => l.ID === policy));
      const { items, filtered } = aclListFilter(opts, rows);
      return { value: items.map((r) => tenantView(withLinkNames(acl, r) as ACLRole, named)), filtered };
    });
  }
}

/**
 * Adds the name guards of a policy or role write that takes name `next` (any spelling) from
 * `prev` (undefined for a create or delete), so that two concurrent writes cannot both take one
 * name: the unique name index is the replica's, and only the record's own key is pinned.
 */
function guardName(
  deps: EndpointDeps, kind: 'policy' | 'role', prev: string | undefined, next: string | undefined, plan: WritePlan, ent?: EnterpriseMeta,
): WritePlan {
  const guards = new Guards(deps.replica.appliedRevision);
  const fold = (n: string | undefined) => (n === undefined ? undefined : aclNameGuard(kind, n));
  if (fold(prev) !== fold(next)) {
    if (prev !== undefined) guards.release(tenantGuard(ent, aclNameGuard(kind, prev)));
    if (next !== undefined) guards.claim(tenantGuard(ent, aclNameGuard(kind, next)));
  }
  return guards.addTo(plan);
}

function checkBuiltin(input: PolicyInput, existing: ACLPolicyRecord): void {
  if (existing.ID !== ACL_POLICY_GLOBAL_MANAGEMENT_ID) return;
  if (input.Datacenters && input.Datacenters.length > 0) {
    throw new BadRequestError('Changing the Datacenters of the builtin global-management policy is not permitted');
  }
  if ((input.Rules ?? '') !== existing.Rules) throw new BadRequestError('Changing the Rules for the builtin global-management policy is not permitted');
}

/** Stamps a policy's hash and drops an empty Datacenters list. */
export function finishPolicy(rec: ACLPolicyRecord): ACLPolicyRecord {
  const out = { ...rec };
  if (!out.Datacenters || out.Datacenters.length === 0) delete out.Datacenters;
  out.Hash = contentHash([out.Name, out.Description, out.Rules, out.Datacenters]);
  return out;
}

function finishRole(rec: ACLRoleRecord): ACLRoleRecord {
  const out = { ...rec } as Record<string, unknown>;
  for (const k of ['Policies', 'ServiceIdentities', 'NodeIdentities', 'TemplatedPolicies']) if (out[k] === undefined) delete out[k];
  const r = out as unknown as ACLRoleRecord;
  r.Hash = contentHash([r.Name, r.Description, r.Policies, r.ServiceIdentities, r.NodeIdentities, r.TemplatedPolicies]);
  return r;
}
