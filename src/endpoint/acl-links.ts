// Shared by token and role writes: policy/role links resolved from names to IDs (Consul's
// texts for missing ones), identity and templated-policy validation, link names filled in on
// read, content hashes, auth method name matching, and the pre-check every ACL endpoint makes.
import { createHash } from 'node:crypto';
import {
  isValidNodeIdentityName, isValidServiceIdentityName, validateTemplatedPolicy,
  type ACLLink, type ACLNodeIdentity, type ACLServiceIdentity, type ACLTemplatedPolicy,
} from '../acl/index.ts';
import { BadRequestError, UnauthorizedError } from '../errors.ts';
import { foldAclName, type AclTables, type EnterpriseMeta } from '../state/index.ts';
import { inScopes, linkScopes, policyByName, roleByName } from './acl-tenancy.ts';
import type { AclResolver } from './acl-resolver.ts';

/** Consul's aclPreCheck: ACL endpoints answer 401 `ACL support disabled` while ACLs are off. */
export function aclPreCheck(resolver: AclResolver): void {
  if (!resolver.enabled) throw new UnauthorizedError();
}

/** Whether two auth method names name one method (Consul's auth method indexes of methods, binding rules and tokens are lower-cased). */
export function sameAclName(a: string, b: string): boolean {
  return a === b || foldAclName(a) === foldAclName(b);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `s` parses as a UUID (Consul's uuid.ParseUUID). */
export function isUUID(s: string): boolean {
  return UUID.test(s);
}

/**
 * Resolves policy links to IDs (by name when ID is empty), deduplicated, names dropped. A record
 * written in tenant `ent` links policies of its own namespace only (acl-tenancy.ts linkScopes).
 */
export function resolvePolicyLinks(acl: AclTables, links: ACLLink[] | undefined, ent?: EnterpriseMeta): ACLLink[] | undefined {
  const scopes = linkScopes(ent);
  return resolveLinks(links, 'policy', (name) => policyByName(acl, name, scopes)?.ID, (id) => {
    const p = acl.policies.get(id);
    return p !== undefined && inScopes(p, scopes);
  });
}

/** Resolves role links to IDs (by name when ID is empty), deduplicated, names dropped; scoped as resolvePolicyLinks. */
export function resolveRoleLinks(acl: AclTables, links: ACLLink[] | undefined, ent?: EnterpriseMeta): ACLLink[] | undefined {
  const scopes = linkScopes(ent);
  return resolveLinks(links, 'role', (name) => roleByName(acl, name, scopes)?.ID, (id) => {
    const r = acl.roles.get(id);
    return r !== undefined && inScopes(r, scopes);
  });
}

function resolveLinks(
  links: ACLLink[] | undefined, kind: string, byName: (n: string) => string | undefined, exists: (id: string) => boolean,
): ACLLink[] | undefined {
  const out: ACLLink[] = [];
  for (const link of links ?? []) {
    let id = link.ID ?? '';
    if (id === '') {
      id = byName(link.Name ?? '') ?? '';
      if (id === '') throw new BadRequestError(`No such ACL ${kind} with name ${JSON.stringify(link.Name ?? '')}`);
    } else if (!exists(id)) throw new BadRequestError(`No such ACL ${kind} with ID ${JSON.stringify(id)}`);
    // Names are not stored: the target may be renamed later.
    if (!out.some((l) => l.ID === id)) out.push({ ID: id });
  }
  return out.length ? out : undefined;
}

/** Validates and deduplicates service identities (`what` is "token" or "role"). */
export function checkServiceIdentities(ids: ACLServiceIdentity[] | undefined, what: string, local = false): ACLServiceIdentity[] | undefined {
  const out = new Map<string, ACLServiceIdentity>();
  for (const s of ids ?? []) {
    if (!s.ServiceName) throw new BadRequestError(`Service identity is missing the service name field on this ${what}`);
    if (local && (s.Datacenters ?? []).length > 0) {
      throw new BadRequestError(`Service identity ${JSON.stringify(s.ServiceName)} cannot specify a list of datacenters on a local token`);
    }
    if (!isValidServiceIdentityName(s.ServiceName)) {
      throw new BadRequestError(`Service identity ${JSON.stringify(s.ServiceName)} has an invalid name. Only lowercase alphanumeric characters, '-' and '_' are allowed`);
    }
    const prev = out.get(s.ServiceName);
    const dcs = prev ? [...new Set([...(prev.Datacenters ?? []), ...(s.Datacenters ?? [])])] : s.Datacenters;
    out.set(s.ServiceName, { ServiceName: s.ServiceName, ...(dcs && dcs.length ? { Datacenters: dcs } : {}) });
  }
  return out.size ? [...out.values()] : undefined;
}

/** Validates and deduplicates node identities. */
export function checkNodeIdentities(ids: ACLNodeIdentity[] | undefined, what: string): ACLNodeIdentity[] | undefined {
  const out = new Map<string, ACLNodeIdentity>();
  for (const n of ids ?? []) {
    if (!n.NodeName) throw new BadRequestError(`Node identity is missing the node name field on this ${what}`);
    if (!n.Datacenter) throw new BadRequestError(`Node identity is missing the datacenter field on this ${what}`);
    if (!isValidNodeIdentityName(n.NodeName)) {
      throw new BadRequestError("Node identity has an invalid name. Only lowercase alphanumeric characters, '-' and '_' are allowed");
    }
    out.set(`${n.NodeName}\u0000${n.Datacenter}`, { NodeName: n.NodeName, Datacenter: n.Datacenter });
  }
  return out.size ? [...out.values()] : undefined;
}

/** Validates templated policies against their schemas. */
export function checkTemplatedPolicies(tps: ACLTemplatedPolicy[] | undefined): ACLTemplatedPolicy[] | undefined {
  for (const tp of tps ?? []) {
    const errs = validateTemplatedPolicy(tp);
    if (errs.length) throw new BadRequestError(`validation error for templated policy ${JSON.stringify(tp.TemplateName ?? '')}: ${errs.join('; ')}`);
  }
  return tps && tps.length ? tps : undefined;
}

/** Fills in link names from the current policies and roles, dropping links to deleted records. */
export function withLinkNames<T extends { Policies?: ACLLink[]; Roles?: ACLLink[] }>(acl: AclTables, rec: T): T {
  const out = { ...rec };
  if (rec.Policies) out.Policies = rec.Policies.flatMap((l) => { const p = acl.policies.get(l.ID); return p ? [{ ID: l.ID, Name: p.Name }] : []; });
  if (rec.Roles) out.Roles = rec.Roles.flatMap((l) => { const r = acl.roles.get(l.ID); return r ? [{ ID: l.ID, Name: r.Name }] : []; });
  return out;
}

/** A base64 content hash over the fields that grant permissions (Consul's SetHash). */
export function contentHash(fields: unknown): string {
  return createHash('sha256').update(JSON.stringify(fields)).digest('base64');
}
