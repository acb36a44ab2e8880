// ACL policies and roles (Consul's ACL.PolicySet/PolicyRead/PolicyDelete/PolicyList and the Role
// equivalents): unique names, Rules validated by the rule parser, the built-in global-management
// policy protected, and list stubs.
import { randomUUID } from 'node:crypto';
import {
  ACL_POLICY_GLOBAL_MANAGEMENT_ID, policyCompiler, type ACLPolicy, type ACLPolicyListStub, type ACLRole,
} from '../acl/index.ts';
import { BadRequestError } from '../errors.ts';
import {
  ACL_POLICY_PREFIX, ACL_ROLE_PREFIX, type ACLPolicyRecord, type ACLRoleRecord,
} from '../state/index.ts';
import type { AclIdentity, AclResolver } from './acl-resolver.ts';
import { authorize } from './acl-enforce.ts';
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

  #write(id: AclIdentity | undefined): void {
    aclPreCheck(this.#resolver);
    authorize(id, 'aclWrite');
  }

  /** Creates (no ID) or updates a policy. */
  async setPolicy(input: PolicyInput, id: AclIdentity | undefined): Promise<ACLPolicy> {
    this.#write(id);
    const name = input.Name ?? '';
    if (name === '') throw new BadRequestError('Invalid Policy: no Name is set');
    if (!POLICY_NAME.test(name)) throw new BadRequestError("Invalid Policy: invalid Name. Only alphanumeric characters, '-' and '_' are allowed");
    const policies = this.#deps.replica.acl.policies;
    let policyID = '';
    await commitWrite(this.#deps, () => {
      const existing = input.ID ? policies.get(input.ID) : undefined;
      const byName = policies.by(name);
      if (!input.ID) {
        if (byName) throw new BadRequestError(`Invalid Policy: A Policy with Name ${JSON.stringify(name)} already exists`);
      } else {
        if (!isUUID(input.ID)) throw new BadRequestError('Policy ID invalid UUID');
        if (!existing) throw new BadRequestError(`cannot find policy ${input.ID}`);
        if (existing.Name !== name && byName) throw new BadRequestError(`Invalid Policy: A policy with name ${JSON.stringify(name)} already exists`);
        checkBuiltin(input, existing);
      }
      policyCompiler().parseRules(input.Rules ?? '');
      policyID = input.ID || randomUUID();
      const rec = finishPolicy({ ID: policyID, Name: name, Description: input.Description ?? '', Rules: input.Rules ?? '', Datacenters: input.Datacenters, Hash: '' });
      return guardName(this.#deps, 'policy', existing?.Name, name, putPlan(ACL_POLICY_PREFIX + policyID, existing, rec));
    });
    return policies.get(policyID)!;
  }

  /** Deletes a policy (not the built-in global-management one); returns its name. */
  async deletePolicy(policyID: string, id: AclIdentity | undefined): Promise<void> {
    this.#write(id);
    if (policyID === ACL_POLICY_GLOBAL_MANAGEMENT_ID) throw new BadRequestError('Delete operation not permitted on the builtin global-management policy');
    await commitWrite(this.#deps, () => {
      const p = this.#deps.replica.acl.policies.get(policyID);
      return p ? guardName(this.#deps, 'policy', p.Name, undefined, deletePlan(ACL_POLICY_PREFIX + policyID, p)) : null;
    });
  }

  /** One policy by ID or (`byName`) name; null when missing. */
  readPolicy(key: string, byName: boolean, opts: QueryOptions): Promise<QueryResult<ACLPolicy | null>> {
    aclPreCheck(this.#resolver);
    authorize(opts.authz, 'aclRead');
    const policies = this.#deps.replica.acl.policies;
    return tableQuery(this.#deps, opts, policies, () => ({ value: (byName ? policies.by(key) : policies.get(key)) ?? null }));
  }

  /** Every policy as a list stub. */
  listPolicies(opts: QueryOptions): Promise<QueryResult<ACLPolicyListStub[]>> {
    aclPreCheck(this.#resolver);
    authorize(opts.authz, 'aclRead');
    const policies = this.#deps.replica.acl.policies;
    return tableQuery(this.#deps, opts, policies, () => ({
      value: policies.sorted().map(({ Rules: _r, Datacenters, ...rest }) => ({ ...rest, Datacenters: Datacenters ?? null })),
    }));
  }

  /** Creates (no ID) or updates a role. */
  async setRole(input: RoleInput, id: AclIdentity | undefined): Promise<ACLRole> {
    this.#write(id);
    const name = input.Name ?? '';
    if (name === '') throw new BadRequestError('Invalid Role: no Name is set');
    if (!ROLE_NAME.test(name)) throw new BadRequestError("Invalid Role: invalid Name. Only alphanumeric characters, '-' and '_' are allowed");
    const acl = this.#deps.replica.acl;
    let roleID = '';
    await commitWrite(this.#deps, () => {
      const existing = input.ID ? acl.roles.get(input.ID) : undefined;
      const byName = acl.roles.by(name);
      if (!input.ID && byName) throw new BadRequestError(`Invalid Role: A Role with Name ${JSON.stringify(name)} already exists`);
      if (input.ID) {
        if (!isUUID(input.ID)) throw new BadRequestError('Role ID invalid UUID');
        if (!existing) throw new BadRequestError(`cannot find role ${input.ID}`);
        if (existing.Name !== name && byName) throw new BadRequestError(`Invalid Role: A role with name ${JSON.stringify(name)} already exists`);
      }
      roleID = input.ID || randomUUID();
      const rec = finishRole({
        ID: roleID, Name: name, Description: input.Description ?? '', Hash: '',
        Policies: resolvePolicyLinks(acl, input.Policies),
        ServiceIdentities: checkServiceIdentities(input.ServiceIdentities, 'role'),
        NodeIdentities: checkNodeIdentities(input.NodeIdentities, 'role'),
        TemplatedPolicies: checkTemplatedPolicies(input.TemplatedPolicies),
      });
      return guardName(this.#deps, 'role', existing?.Name, name, putPlan(ACL_ROLE_PREFIX + roleID, existing, rec));
    });
    return withLinkNames(acl, acl.roles.get(roleID)!) as ACLRole;
  }

  /** Deletes a role. */
  async deleteRole(roleID: string, id: AclIdentity | undefined): Promise<void> {
    this.#write(id);
    await commitWrite(this.#deps, () => {
      const r = this.#deps.replica.acl.roles.get(roleID);
      return r ? guardName(this.#deps, 'role', r.Name, undefined, deletePlan(ACL_ROLE_PREFIX + roleID, r)) : null;
    });
  }

  /** One role by ID or (`byName`) name; null when missing. */
  readRole(key: string, byName: boolean, opts: QueryOptions): Promise<QueryResult<ACLRole | null>> {
    aclPreCheck(this.#resolver);
    authorize(opts.authz, 'aclRead');
    const acl = this.#deps.replica.acl;
    return tableQuery(this.#deps, opts, acl.roles, () => {
      const r = byName ? acl.roles.by(key) : acl.roles.get(key);
      return { value: r ? (withLinkNames(acl, r) as ACLRole) : null };
    });
  }

  /** Every role, optionally only those linking `policy`. */
  listRoles(policy: string, opts: QueryOptions): Promise<QueryResult<ACLRole[]>> {
    aclPreCheck(this.#resolver);
    authorize(opts.authz, 'aclRead');
    const acl = this.#deps.replica.acl;
    return tableQuery(this.#deps, opts, acl.roles, () => {
      const rows = acl.roles.sorted().filter((r) => !policy || (r.Policies ?? []).some((l) => l.ID === policy));
      return { value: rows.map((r) => withLinkNames(acl, r) as ACLRole) };
    });
  }
}

/**
 * Adds the name guards of a policy or role write that takes name `next` (any spelling) from
 * `prev` (undefined for a create or delete), so that two concurrent writes cannot both take one
 * name: the unique name index is the replica's, and only the record's own key is pinned.
 */
function guardName(deps: EndpointDeps, kind: 'policy' | 'role', prev: string | undefined, next: string | undefined, plan: WritePlan): WritePlan {
  const guards = new Guards(deps.replica.appliedRevision);
  const fold = (n: string | undefined) => (n === undefined ? undefined : aclNameGuard(kind, n));
  if (fold(prev) !== fold(next)) {
    if (prev !== undefined) guards.release(aclNameGuard(kind, prev));
    if (next !== undefined) guards.claim(aclNameGuard(kind, next));
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
