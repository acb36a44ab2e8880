// The admin partition endpoint (Consul Enterprise's Partition.Write/Read/List/Delete): partition
// records under `tenancy/partition/<ap>`, deferred deletion (DeletedAt, then the leader's reaper
// purges every namespace of the partition and last the record).
import { BadRequestError, InternalError } from '../errors.ts';
import {
  DEFAULT_TENANCY_NAME, PARTITIONS_TABLE, TENANT_PREFIX, encodeRecord, foldTenancyName, namespaceKey, partitionKey, validTenancyName,
  type Indexed, type NamespaceRecord, type PartitionRecord,
} from '../state/index.ts';
import type { Op } from '../store/index.ts';
import type { Partition } from '../api/partitions.ts';
import type { EndpointDeps } from './deps.ts';
import type { AclIdentity } from './acl-resolver.ts';
import { allowed } from './acl-enforce.ts';
import { commitPlanned, pinRecord } from './commit.ts';
import { blockingQuery, type QueryOptions, type QueryResult } from './query.ts';
import { markDeleted, tenancySpellings } from './namespaces.ts';
import { ANONYMOUS_TOKEN_ID, denialFor } from '../acl/index.ts';

/** A partition as a write gives it (the HTTP body, decoded). */
export interface PartitionInput {
  Name: string;
  Description?: string;
  DisableGossip?: boolean;
}

/** The default namespace a new partition gets (Consul Enterprise's builtin namespace record). */
const PARTITION_DEFAULT_NAMESPACE: NamespaceRecord = { Name: DEFAULT_TENANCY_NAME, Description: 'Builtin Default Namespace' };

/** Refuses a partition name that is not a DNS hostname label (Consul Enterprise's API docs). */
export function checkPartitionName(name: string): void {
  if (!validTenancyName(name)) throw new BadRequestError(`Invalid partition name "${name}": must be a valid DNS hostname label`);
}

/**
 * Whether `id` may read partition `name`: partition read (operator:read or a partition block), and
 * Consul Enterprise lets any non-anonymous token read its own partition.
 */
function mayRead(deps: EndpointDeps, id: AclIdentity | undefined, name: string): boolean {
  if (spellings(deps, name).every((n) => allowed(id, 'partitionRead', n))) return true;
  const own = foldTenancyName(id?.ent?.partition ?? DEFAULT_TENANCY_NAME) === foldTenancyName(name);
  return own && !!id?.accessorID && id.accessorID !== ANONYMOUS_TOKEN_ID;
}

/** The spellings a partition's ACL rules may use (namespaces.ts tenancySpellings): as given, as stored, folded. */
function spellings(deps: EndpointDeps, name: string): string[] {
  return tenancySpellings(name, deps.replica.tenants.partitions.partition(name)?.Name);
}

/**
 * Requires partition write on `name` under every spelling (a partition block's `policy`, else
 * operator:write); the denial names operator:write as Consul Enterprise documents.
 */
function requireWrite(deps: EndpointDeps, id: AclIdentity | undefined, name: string): void {
  if (!spellings(deps, name).every((n) => allowed(id, 'partitionWrite', n))) throw denialFor(id!.accessorID, 'operatorWrite', '');
}

/** Admin partition operations. */
export class PartitionEndpoint {
  readonly #deps: EndpointDeps;

  constructor(deps: EndpointDeps) {
    this.#deps = deps;
  }

  /** Creates or updates partition `input.Name` (an upsert); answers the stored partition. Needs partition write (operator:write). */
  async upsert(input: PartitionInput, authz?: AclIdentity): Promise<Partition> {
    checkPartitionName(input.Name);
    requireWrite(this.#deps, authz, input.Name);
    const key = partitionKey(input.Name);
    const t = this.#deps.replica.tenants.partitions;
    return commitPlanned(this.#deps, () => {
      const existing = t.partition(input.Name);
      if (existing?.DeletedAt) throw new InternalError(`Partition "${existing.Name}" is being deleted`);
      const rec: PartitionRecord = {
        Name: existing?.Name ?? input.Name,
        ...(input.Description ? { Description: input.Description } : {}),
        ...(input.DisableGossip ? { DisableGossip: true } : {}),
      };
      const compares = [pinRecord(key, existing)];
      const success: Op[] = [{ type: 'put', key, value: encodeRecord(rec) }];
      // A new partition starts empty (see the namespace create): nothing left by a write that landed after an earlier purge.
      if (!existing && foldTenancyName(input.Name) !== DEFAULT_TENANCY_NAME) success.unshift({ type: 'deletePrefix', prefix: `${TENANT_PREFIX}${foldTenancyName(input.Name)}/` });
      // Every partition has its own builtin default namespace, made with it.
      const nsKey = namespaceKey({ partition: input.Name, namespace: DEFAULT_TENANCY_NAME });
      if (!this.#deps.replica.tenants.namespaces.namespace({ partition: input.Name, namespace: DEFAULT_TENANCY_NAME })) {
        compares.push(pinRecord(nsKey, undefined));
        success.push({ type: 'put', key: nsKey, value: encodeRecord(PARTITION_DEFAULT_NAMESPACE) });
      }
      return {
        txn: { compares, success },
        done: () => toAPI(t.partition(input.Name)!),
      };
    });
  }

  /** One partition; a null value when it does not exist (404). Consul answers it without blocking. */
  async read(name: string, opts: QueryOptions): Promise<QueryResult<Partition | null>> {
    checkPartitionName(name);
    if (!mayRead(this.#deps, opts.authz, name)) throw denialFor(opts.authz!.accessorID, 'operatorRead', '');
    const t = this.#deps.replica.tenants.partitions;
    opts.minIndex = 0;
    return blockingQuery(this.#deps, opts, (ws) => {
      ws.addTable(PARTITIONS_TABLE);
      const p = t.partition(name);
      return { index: Math.max(t.index, 1), value: p ? toAPI(p) : null };
    });
  }

  /** The partitions the caller may read, sorted by name. Consul answers it without blocking. */
  list(opts: QueryOptions): Promise<QueryResult<Partition[]>> {
    const t = this.#deps.replica.tenants.partitions;
    opts.minIndex = 0;
    return blockingQuery(this.#deps, opts, (ws) => {
      ws.addTable(PARTITIONS_TABLE);
      const all = t.entries().sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, p]) => p);
      const shown = all.filter((p) => mayRead(this.#deps, opts.authz, p.Name));
      return { index: Math.max(t.index, 1), value: shown.map(toAPI), filtered: shown.length !== all.length };
    });
  }

  /** Marks a partition for deletion (DeletedAt); the reaper then purges it. A missing or marked partition is a no-op. */
  async delete(name: string, authz?: AclIdentity): Promise<void> {
    checkPartitionName(name);
    requireWrite(this.#deps, authz, name);
    if (foldTenancyName(name) === DEFAULT_TENANCY_NAME) throw new BadRequestError('Cannot delete the default partition');
    const key = partitionKey(name);
    await commitPlanned(this.#deps, () => {
      return markDeleted(this.#deps, key, this.#deps.replica.tenants.partitions.partition(name));
    });
  }
}

/** A stored partition as the API answers it (api.Partition field order). */
export function toAPI(p: Indexed<PartitionRecord>): Partition {
  return {
    Name: p.Name, ...(p.Description ? { Description: p.Description } : {}), ...(p.DeletedAt ? { DeletedAt: p.DeletedAt } : {}),
    CreateIndex: p.CreateIndex, ModifyIndex: p.ModifyIndex, ...(p.DisableGossip ? { DisableGossip: true } : {}),
  };
}
