// The policies a token's authorizer is built from, each labelled with where it came from: linked
// directly, through a role, from a service or node identity, or from a templated policy. The
// resolver merges them; /v1/acl/explain evaluates them one by one.
import {
  ACL_POLICY_GLOBAL_MANAGEMENT_ID, nodeIdentityPolicy, policyCompiler, serviceIdentityPolicy, templatedPolicySynthetic,
  type ACLNodeIdentity, type ACLServiceIdentity, type ACLTemplatedPolicy, type ExplainOrigin, type ExplainSource,
  type SyntheticPolicy,
} from '../acl/index.ts';
import { partitionEnt, type ACLTokenRecord, type AclTables, type EnterpriseMeta, type TenantTables } from '../state/index.ts';
import { aclEnt, aclInTenant } from '../state/acl-tables.ts';

/** A token's labelled policies, and whether global-management is among them. */
export interface TokenSources {
  management: boolean;
  sources: ExplainSource[];
}

interface Grants {
  links: { id: string; role?: { ID: string; Name: string } }[];
  identities: { origin: ExplainOrigin; policy: SyntheticPolicy }[];
}

function identityGrants(
  out: Grants, holder: { ServiceIdentities?: ACLServiceIdentity[]; NodeIdentities?: ACLNodeIdentity[]; TemplatedPolicies?: ACLTemplatedPolicy[] },
  role?: { ID: string; Name: string },
): void {
  for (const s of holder.ServiceIdentities ?? []) {
    out.identities.push({ origin: { Source: 'service-identity', Identity: `service:${s.ServiceName}`, Role: role }, policy: serviceIdentityPolicy(s) });
  }
  for (const n of holder.NodeIdentities ?? []) {
    out.identities.push({ origin: { Source: 'node-identity', Identity: `node:${n.NodeName}`, Role: role }, policy: nodeIdentityPolicy(n) });
  }
  for (const t of holder.TemplatedPolicies ?? []) {
    out.identities.push({ origin: { Source: 'templated-policy', Identity: t.TemplateName ?? '', Role: role }, policy: templatedPolicySynthetic(t) });
  }
}

// What the token grants, directly and through its roles (unknown roles are skipped, as Consul does;
// so are a namespaced token's roles of another namespace, see tokenSources).
function grantsOf(acl: AclTables, token: ACLTokenRecord, home: EnterpriseMeta | undefined): Grants {
  const out: Grants = { links: (token.Policies ?? []).map((l) => ({ id: l.ID })), identities: [] };
  identityGrants(out, token);
  for (const link of token.Roles ?? []) {
    const r = acl.roles.get(link.ID);
    if (!r || (home && !aclInTenant(r, home))) continue;
    const role = { ID: r.ID, Name: r.Name };
    out.links.push(...(r.Policies ?? []).map((l) => ({ id: l.ID, role })));
    identityGrants(out, r, role);
  }
  return out;
}

/**
 * The token's labelled policies valid in `datacenter` (a policy linked twice counts once). A
 * namespaced token's links count only where they name a policy or role of its own namespace, the
 * only ones it may link (acl-tenancy.ts linkScopes): one stored otherwise (written before that was
 * enforced, or replicated from a primary that did not enforce it) grants nothing, global-management
 * least of all. Default-namespace tokens (and a namespace's ACL defaults, which have no tenancy
 * fields) resolve their links as before.
 */
export function tokenSources(acl: AclTables, token: ACLTokenRecord, datacenter: string): TokenSources {
  const here = (dcs: string[] | undefined) => !dcs || dcs.length === 0 || dcs.includes(datacenter);
  const home = aclEnt(token);
  const grants = grantsOf(acl, token, home);
  const out: TokenSources = { management: false, sources: [] };
  const seen = new Set<string>();
  for (const { id, role } of grants.links) {
    const p = acl.policies.get(id);
    if (!p || seen.has(id) || !here(p.Datacenters) || (home && !aclInTenant(p, home))) continue;
    seen.add(id);
    if (id === ACL_POLICY_GLOBAL_MANAGEMENT_ID) out.management = true;
    const origin: ExplainOrigin = { Source: role ? 'role' : 'policy', Policy: { ID: p.ID, Name: p.Name }, Role: role };
    out.sources.push({ origin, policy: policyCompiler().parseRules(p.Rules) });
  }
  for (const { origin, policy } of grants.identities) {
    if (here(policy.Datacenters)) out.sources.push({ origin, policy: policyCompiler().parseRules(policy.Rules) });
  }
  return out;
}

/** The rules of this agent's recovery token: agent write on the node and node read everywhere. */
export function agentRecoveryRules(nodeName: string): string {
  return `agent "${nodeName}" { policy = "write" }\nnode_prefix "" { policy = "read" }`;
}

/**
 * The labelled policies of a namespace's ACL defaults (its record's PolicyDefaults and RoleDefaults,
 * links to the default namespace's policies and roles, by ID or else by name); undefined when the
 * namespace has none, so tokens of namespaces without defaults build their authorizer as before.
 */
export function namespaceDefaultSources(
  replica: { acl: AclTables; tenants: Pick<TenantTables, 'namespaces'> }, ent: EnterpriseMeta, datacenter: string,
): TokenSources | undefined {
  const acls = replica.tenants.namespaces.namespace(ent)?.ACLs;
  if (!acls || (!acls.PolicyDefaults?.length && !acls.RoleDefaults?.length)) return undefined;
  const acl = replica.acl;
  // The defaults link records of the default namespace of the namespace's partition.
  const home = partitionEnt(ent.partition);
  const id = (l: { ID?: string; Name?: string }, by: (n: string) => { ID: string } | undefined) => l.ID || by(l.Name ?? '')?.ID || '';
  const pseudo = {
    Policies: (acls.PolicyDefaults ?? []).map((l) => ({ ID: id(l, (n) => acl.policies.by(n, home)) })).filter((l) => l.ID),
    Roles: (acls.RoleDefaults ?? []).map((l) => ({ ID: id(l, (n) => acl.roles.by(n, home)) })).filter((l) => l.ID),
  } as unknown as ACLTokenRecord;
  return tokenSources(acl, pseudo, datacenter);
}
