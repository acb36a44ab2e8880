// The namespace endpoint (Consul Enterprise's Namespace.Upsert/Read/List/Delete): namespace
// records under `tenancy/namespace/<ap>/<ns>` written through planned Store txns, ACL defaults
// linked by ID, deferred deletion (DeletedAt, then the leader's reaper purges the tenant).
import { BadRequestError, InternalError } from '../errors.ts';
import {
  DEFAULT_TENANCY_NAME, NAMESPACES_TABLE, encodeRecord, foldTenancyName, namespaceKey, partitionEnt, peerImportKey, peerImportsOf, tenantKey, tenantPrefix,
  validTenancyName, type Indexed, type NamespaceRecord,
} from '../state/index.ts';
import type { Op } from '../store/index.ts';
import type { ACLLink, Namespace } from '../api/namespaces.ts';
import type { EndpointDeps } from './deps.ts';
import type { AclIdentity } from './acl-resolver.ts';
import { allowed, authorize, entContext } from './acl-enforce.ts';
import { resolvePolicyLinks, resolveRoleLinks } from './acl-links.ts';
import { commitPlanned, pinRecord, type Plan } from './commit.ts';
import { entPins, writablePartition } from './tenancy.ts';
import { blockingQuery, type QueryOptions, type QueryResult } from './query.ts';
import { goTime } from '../connect/ca-root.ts';
import { denialFor } from '../acl/index.ts';

/** A namespace as a write gives it (the HTTP body, decoded). */
export interface NamespaceInput {
  Name: string;
  Description?: string;
  ACLs?: { PolicyDefaults?: ACLLink[] | null; RoleDefaults?: ACLLink[] | null } | null;
  Meta?: Record<string, string> | null;
}

/** Consul Enterprise's refusal of a name that is not a DNS label (api docs: "must be a valid DNS hostname label"). */
export function checkNamespaceName(name: string): void {
  if (!validTenancyName(name)) throw new BadRequestError(`Invalid namespace name "${name}": must be a valid DNS hostname label`);
}

/** The partition every namespace call acts in must exist and not be going away (writes only). */
export function checkPartitionWritable(deps: EndpointDeps, partition: string): void {
  writablePartition(deps.replica.tenants, partition);
}

/**
 * Every spelling an ACL rule may name a namespace or partition by: as the request gave it, as its
 * record stores it, and folded. Tenants are found ignoring case (their keys are folded), so a rule
 * naming any of these must be obeyed: a check is allowed only when allowed for each spelling (a
 * deny on `team-1` is not bypassed by asking for `TEAM-1`).
 */
export function tenancySpellings(given: string, stored?: string): string[] {
  return [...new Set([given, ...(stored ? [stored] : []), foldTenancyName(given)])];
}

/** Whether `check` allows every (partition, namespace) spelling pair of the namespace `name` of `partition`. */
function allowedEverySpelling(deps: EndpointDeps, name: string, partition: string, check: (ns: string, ap: string) => boolean): boolean {
  const { partitions, namespaces } = deps.replica.tenants;
  const aps = tenancySpellings(partition, partitions.partition(partition)?.Name);
  const nss = tenancySpellings(name, namespaces.namespace({ partition, namespace: name })?.Name);
  return aps.every((ap) => nss.every((ns) => check(ns, ap)));
}

/**
 * Requires namespace write (or read) on `name`: a namespace block's `policy`, else operator rules.
 * The denial names operator access, the permission Consul Enterprise documents for these calls.
 */
function requireNamespace(deps: EndpointDeps, id: AclIdentity | undefined, write: boolean, name: string, partition: string): void {
  const ok = allowedEverySpelling(deps, name, partition, (ns, ap) => allowed(id, write ? 'namespaceWrite' : 'namespaceRead', ns, { partition: ap, namespace: ns }));
  if (!ok) throw denialFor(id!.accessorID, write ? 'operatorWrite' : 'operatorRead', '');
}

/** Whether `id` may see namespace `name` of `partition`: namespace read (operator:read or a namespace block). */
function mayRead(deps: EndpointDeps, id: AclIdentity | undefined, name: string, partition: string): boolean {
  return allowedEverySpelling(deps, name, partition, (ns, ap) => allowed(id, 'namespaceRead', ns, { partition: ap, namespace: ns }));
}

/** Namespace operations. */
export class NamespaceEndpoint {
  readonly #deps: EndpointDeps;

  constructor(deps: EndpointDeps) {
    this.#deps = deps;
  }

  /**
   * Creates or updates (Consul's upsert: PUT of an existing name moves its ModifyIndex) namespace
   * `input.Name` in `partition`; answers the stored namespace. Needs namespace write (operator:write).
   */
  async upsert(input: NamespaceInput, partition: string, authz?: AclIdentity): Promise<Namespace> {
    checkNamespaceName(input.Name);
    requireNamespace(this.#deps, authz, true, input.Name, partition);
    const full = (l: ACLLink) => ({ ID: l.ID ?? '', Name: l.Name ?? '' });
    const policies = (input.ACLs?.PolicyDefaults ?? []).map(full);
    const roles = (input.ACLs?.RoleDefaults ?? []).map(full);
    // The defaults link policies and roles of the default namespace of the namespace's own partition
    // (another partition's, global-management above all, would reach beyond it). Linking one hands its
    // grants to every token of the namespace: acl:write is needed where they live.
    const linkHome = partitionEnt(partition);
    if (policies.length + roles.length > 0) authorize(authz, 'aclWrite', '', entContext(linkHome));
    const ent = { partition, namespace: input.Name };
    const key = namespaceKey(ent);
    return commitPlanned(this.#deps, () => {
      checkPartitionWritable(this.#deps, partition);
      const { acl, tenants } = this.#deps.replica;
      const existing = tenants.namespaces.namespace(ent);
      if (existing?.DeletedAt) throw new InternalError(`Namespace "${existing.Name}" is being deleted`);
      const p = resolvePolicyLinks(acl, policies, linkHome);
      const r = resolveRoleLinks(acl, roles, linkHome);
      const rec: NamespaceRecord = {
        // A name differing only in case updates the namespace as first spelled.
        Name: existing?.Name ?? input.Name,
        ...(input.Description ? { Description: input.Description } : {}),
        ...(p || r ? { ACLs: { PolicyDefaults: p ?? [], RoleDefaults: r ?? [] } } : {}),
        ...(input.Meta && Object.keys(input.Meta).length ? { Meta: input.Meta } : {}),
      };
      const success: Op[] = [{ type: 'put', key, value: encodeRecord(rec) }];
      // Pinned on the partition too: a partition marked (or purged) meanwhile must not get a new namespace.
      const compares = [pinRecord(key, existing), ...entPins(tenants, partitionEnt(partition))];
      // A new namespace starts empty: a write planned before an earlier namespace of this name was
      // purged may have landed after the purge, and must not reappear in the new one.
      if (!existing && foldTenancyName(input.Name) !== DEFAULT_TENANCY_NAME) {
        success.unshift({ type: 'deletePrefix', prefix: tenantPrefix(ent) });
        // Except what peers export into a namespace of this name, which lands whether or not it exists
        // here and is the peers' current state (resent only when it changes): kept, pinned as read.
        for (const r of peerImportsOf(this.#deps.replica, ent).all()) {
          const k = tenantKey(ent, peerImportKey(r.Peer, r.Service));
          compares.push(pinRecord(k, r));
          success.push({ type: 'put', key: k, value: encodeRecord({ Peer: r.Peer, Service: r.Service, Nodes: r.Nodes }) });
        }
      }
      return {
        txn: { compares, success },
        done: () => this.toAPI(tenants.namespaces.namespace(ent)!, partition),
      };
    });
  }

  /** One namespace; a null value when it does not exist (404 with an empty body). */
  async read(name: string, partition: string, opts: QueryOptions): Promise<QueryResult<Namespace | null>> {
    checkNamespaceName(name);
    // Consul Enterprise: namespace read, or any access inside the namespace.
    if (!this.#anyAccessIn(opts.authz, partition, name)) requireNamespace(this.#deps, opts.authz, false, name, partition);
    const t = this.#deps.replica.tenants.namespaces;
    const ent = { partition, namespace: name };
    return blockingQuery(this.#deps, opts, (ws) => {
      ws.addTable(NAMESPACES_TABLE);
      const ns = t.namespace(ent);
      return { index: Math.max(t.index, 1), value: ns ? this.toAPI(ns, partition) : null };
    });
  }

  /** The namespaces of `partition` the caller may read, sorted by name. */
  list(partition: string, opts: QueryOptions): Promise<QueryResult<Namespace[]>> {
    const t = this.#deps.replica.tenants.namespaces;
    return blockingQuery(this.#deps, opts, (ws) => {
      ws.addTable(NAMESPACES_TABLE);
      const all = t.namespacesOf(partition);
      const shown = all.filter(({ record }) => mayRead(this.#deps, opts.authz, record.Name, partition) || this.#anyAccessIn(opts.authz, partition, record.Name));
      return {
        index: Math.max(t.index, 1), value: shown.map(({ record }) => this.toAPI(record, partition)), filtered: shown.length !== all.length,
      };
    });
  }

  /**
   * Marks a namespace for deletion (DeletedAt); the leader's reaper then deletes everything in it
   * and last the record. Deleting a missing or already marked namespace is a no-op.
   */
  async delete(name: string, partition: string, authz?: AclIdentity): Promise<void> {
    checkNamespaceName(name);
    requireNamespace(this.#deps, authz, true, name, partition);
    if (foldTenancyName(name) === DEFAULT_TENANCY_NAME) throw new BadRequestError('Cannot delete the default namespace');
    const ent = { partition, namespace: name };
    const key = namespaceKey(ent);
    await commitPlanned(this.#deps, () => {
      return markDeleted(this.#deps, key, this.#deps.replica.tenants.namespaces.namespace(ent));
    });
  }

  /**
   * Writes a namespace of the default partition as the primary datacenter answered it (namespace
   * replication): no ACL check, no validation, links kept by ID (the policies and roles are
   * replicated with the same IDs), its deletion mark kept so this datacenter's reaper purges it.
   * A new namespace does not purge its prefix first: replicated ACL objects and config entries of
   * the namespace may have arrived before it.
   */
  async putReplicated(ns: Namespace): Promise<void> {
    const ent = { partition: DEFAULT_TENANCY_NAME, namespace: ns.Name };
    checkNamespaceName(ns.Name);
    const key = namespaceKey(ent);
    const ids = (links?: ACLLink[]): ACLLink[] => (links ?? []).filter((l) => l.ID).map((l) => ({ ID: l.ID }));
    const policies = ids(ns.ACLs?.PolicyDefaults);
    const roles = ids(ns.ACLs?.RoleDefaults);
    await commitPlanned<void>(this.#deps, (): Plan<void> => {
      const existing = this.#deps.replica.tenants.namespaces.namespace(ent);
      const rec: NamespaceRecord = {
        Name: ns.Name,
        ...(ns.Description ? { Description: ns.Description } : {}),
        ...(ns.ACLs ? { ACLs: { PolicyDefaults: policies, RoleDefaults: roles } } : {}),
        ...(ns.Meta && Object.keys(ns.Meta).length ? { Meta: ns.Meta } : {}),
        ...(ns.DeletedAt ? { DeletedAt: ns.DeletedAt } : {}),
        Replicated: true,
      };
      // A full sync (a new leader's first round) leaves namespaces already as the primary has them alone
      // (one made here before is marked as replicated once; the builtin default, never deleted, needs no mark).
      if (existing) {
        const { CreateIndex: _c, ModifyIndex: _m, Replicated: marked, ...stored } = existing;
        const { Replicated: _r, ...wanted } = rec;
        const same = JSON.stringify(stored) === JSON.stringify(wanted);
        if (same && (marked || foldTenancyName(ns.Name) === DEFAULT_TENANCY_NAME)) return { answer: undefined };
      }
      return { txn: { compares: [pinRecord(key, existing)], success: [{ type: 'put', key, value: encodeRecord(rec) }] }, done: () => undefined };
    });
  }

  /** Marks a namespace of the default partition the primary datacenter no longer has (namespace replication). */
  async deleteReplicated(name: string): Promise<void> {
    if (foldTenancyName(name) === DEFAULT_TENANCY_NAME) return;
    const ent = { partition: DEFAULT_TENANCY_NAME, namespace: name };
    const key = namespaceKey(ent);
    await commitPlanned(this.#deps, () => markDeleted(this.#deps, key, this.#deps.replica.tenants.namespaces.namespace(ent)));
  }

  /** A stored namespace as the API answers it: ACL links with their current names, the partition named. */
  toAPI(ns: Indexed<NamespaceRecord>, partition: string): Namespace {
    const { acl } = this.#deps.replica;
    const link = (l: ACLLink, name: (id: string) => string | undefined): ACLLink => ({ ID: l.ID, Name: (l.ID && name(l.ID)) || l.Name || '' });
    const acls = ns.ACLs && {
      PolicyDefaults: (ns.ACLs.PolicyDefaults ?? []).map((l) => link(l, (id) => acl.policies.get(id)?.Name)),
      RoleDefaults: (ns.ACLs.RoleDefaults ?? []).map((l) => link(l, (id) => acl.roles.get(id)?.Name)),
    };
    return {
      Name: ns.Name, ...(ns.Description ? { Description: ns.Description } : {}), ...(acls ? { ACLs: acls } : {}),
      ...(ns.Meta && Object.keys(ns.Meta).length ? { Meta: ns.Meta } : {}), ...(ns.DeletedAt ? { DeletedAt: ns.DeletedAt } : {}),
      Partition: this.#deps.replica.tenants.partitions.partition(partition)?.Name ?? foldTenancyName(partition),
      CreateIndex: ns.CreateIndex, ModifyIndex: ns.ModifyIndex,
    };
  }

  /**
   * Consul Enterprise lets a token see a namespace it has any access in (read, list or write);
   * approximated by the resource reads a namespace block grants (services, nodes, keys, sessions,
   * intentions, ACLs) asked in that namespace.
   */
  #anyAccessIn(id: AclIdentity | undefined, partition: string, namespace: string): boolean {
    if (!id) return true;
    return allowedEverySpelling(this.#deps, namespace, partition, (ns, ap) => {
      const ctx = { partition: ap, namespace: ns };
      return allowed(id, 'serviceRead', '', ctx) || allowed(id, 'keyList', '', ctx) || allowed(id, 'keyRead', '', ctx)
        || allowed(id, 'sessionRead', '', ctx) || allowed(id, 'intentionRead', '', ctx) || allowed(id, 'aclRead', '', ctx);
    });
  }
}

/**
 * The plan that marks a namespace or partition record deleted (DeletedAt now; the store sets its
 * indexes), pinned on the record as read; nothing to do when it is missing or already marked.
 */
export function markDeleted<R extends { DeletedAt?: string; CreateIndex: number; ModifyIndex: number }>(
  deps: EndpointDeps, key: string, existing: R | undefined,
): Plan<void> {
  if (!existing || existing.DeletedAt) return { answer: undefined };
  const { CreateIndex: _c, ModifyIndex: _m, ...kept } = existing;
  const rec = { ...kept, DeletedAt: goTime(new Date(deps.clock.now())) };
  return { txn: { compares: [pinRecord(key, existing)], success: [{ type: 'put', key, value: encodeRecord(rec) }] }, done: () => undefined };
}
