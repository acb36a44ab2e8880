// The replica's tenancy tables: partition and namespace records (`tenancy/partition/<ap>`,
// `tenancy/namespace/<ap>/<ns>`), and the registry that routes every non-default tenant's store
// event (`t/<ap>/<ns>/<inner>`) to the per-tenant handler registered for its inner prefix.
import type { WatchEvent } from '../store/index.ts';
import type { Changes } from './catalog.ts';
import { RecordTable, type Indexed } from './records.ts';
import { DEFAULT_TENANCY_NAME, entKey, foldTenancyName, parseTenantKey, type EnterpriseMeta } from './tenancy.ts';

/** Store prefix of partition records. */
export const PARTITION_PREFIX = 'tenancy/partition/';
/** Store prefix of namespace records. */
export const NAMESPACE_PREFIX = 'tenancy/namespace/';
/** Notifier table of partition records. */
export const PARTITIONS_TABLE = 'partitions';
/** Notifier table of namespace records. */
export const NAMESPACES_TABLE = 'namespaces';

/** A stored admin partition (indexes come from revisions; DeletedAt is wall-clock, set when marked for deletion). */
export interface PartitionRecord {
  Name: string;
  Description?: string;
  /** RFC 3339 time the partition was marked for deletion. */
  DeletedAt?: string;
  DisableGossip?: boolean;
}

/** A link to an ACL policy or role of the default namespace (namespace ACL defaults). */
export interface ACLLink {
  ID?: string;
  Name?: string;
}

/** A stored namespace; its partition is the one its key names. */
export interface NamespaceRecord {
  Name: string;
  Description?: string;
  ACLs?: { PolicyDefaults?: ACLLink[]; RoleDefaults?: ACLLink[] };
  Meta?: Record<string, string>;
  /** RFC 3339 time the namespace was marked for deletion. */
  DeletedAt?: string;
  /**
   * Written by namespace replication from the primary datacenter (never shown): only such a
   * namespace is deleted here when the primary no longer has it.
   */
  Replicated?: true;
}

/** Store key of a partition record. */
export function partitionKey(partition: string): string {
  return PARTITION_PREFIX + foldTenancyName(partition);
}

/** Store key of a namespace record. */
export function namespaceKey(ent: EnterpriseMeta): string {
  return NAMESPACE_PREFIX + entKey(ent);
}

/** Partition records by folded name. */
export class PartitionsTable extends RecordTable<PartitionRecord> {
  constructor() {
    super(PARTITIONS_TABLE, PARTITION_PREFIX);
  }

  /** A partition by name (any case). */
  partition(name: string): Indexed<PartitionRecord> | undefined {
    return this.get(foldTenancyName(name));
  }
}

/** Namespace records by `<ap>/<ns>` (folded). */
export class NamespacesTable extends RecordTable<NamespaceRecord> {
  constructor() {
    super(NAMESPACES_TABLE, NAMESPACE_PREFIX);
  }

  /** The namespace record of a tenant. */
  namespace(ent: EnterpriseMeta): Indexed<NamespaceRecord> | undefined {
    return this.get(entKey(ent));
  }

  /** The namespaces of one partition, sorted by folded name. */
  namespacesOf(partition: string): { name: string; record: Indexed<NamespaceRecord> }[] {
    const prefix = `${foldTenancyName(partition)}/`;
    const out: { name: string; record: Indexed<NamespaceRecord> }[] = [];
    for (const [id, record] of this.entries()) {
      if (id.startsWith(prefix)) out.push({ name: id.slice(prefix.length), record });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

/**
 * A per-tenant table's applier, registered for one inner prefix (`kv/`, `config/`, …). It gets
 * each event of a non-default tenant with the key rewritten to the inner key, and the tenant;
 * it appends the (table, key) notifier pairs it changed to `out`.
 */
export interface TenantHandler {
  prefix: string;
  apply(ent: EnterpriseMeta, ev: WatchEvent, out: Changes): void;
  /** Empties every tenant's data (before a re-list). */
  reset(): void;
}

/**
 * Tenancy state of the replica: the partition and namespace records, the per-tenant handlers,
 * and lazily made per-tenant table instances. The default tenant's tables stay the replica's own
 * (`replica.kvs`, …): nothing here is on the default tenant's paths.
 */
export class TenantTables {
  readonly partitions = new PartitionsTable();
  readonly namespaces = new NamespacesTable();
  #handlers: TenantHandler[] = [];
  /** Tenant events no handler took (an inner prefix this version does not route yet). */
  ignored = 0;

  /** Registers the handler of an inner prefix; prefixes must not overlap. */
  register(handler: TenantHandler): this {
    for (const h of this.#handlers) {
      if (h.prefix.startsWith(handler.prefix) || handler.prefix.startsWith(h.prefix)) {
        throw new Error(`tenant handler prefix ${JSON.stringify(handler.prefix)} overlaps ${JSON.stringify(h.prefix)}`);
      }
    }
    this.#handlers.push(handler);
    return this;
  }

  /** Routes one `t/` event to its handler; malformed keys and unrouted inner prefixes are ignored. */
  apply(ev: WatchEvent, out: Changes): void {
    const parsed = parseTenantKey(ev.kv.key);
    const handler = parsed && this.#handlers.find((h) => parsed.inner.startsWith(h.prefix));
    if (!parsed || !handler) {
      this.ignored++;
      return;
    }
    handler.apply(parsed.ent, { type: ev.type, kv: { ...ev.kv, key: parsed.inner } }, out);
  }

  /** Empties the tenants' data (the records are reset by their own appliers). */
  reset(): void {
    for (const h of this.#handlers) h.reset();
    this.ignored = 0;
  }
}

/**
 * Whether a tenant's record is gone: a namespace's own record, or for a partition's `default` (or
 * wildcard `*`) namespace its partition's. The default partition's are never gone.
 */
export function tenantGone(tenants: TenantTables, ent: EnterpriseMeta): boolean {
  const ns = foldTenancyName(ent.namespace);
  if (ns === DEFAULT_TENANCY_NAME || ns === '*') {
    return foldTenancyName(ent.partition || DEFAULT_TENANCY_NAME) !== DEFAULT_TENANCY_NAME && tenants.partitions.partition(ent.partition) === undefined;
  }
  return tenants.namespaces.namespace(ent) === undefined;
}

/** Table instances of one kind, one per tenant, made on first use (a tenant's KV table, config entries, …). */
export class PerTenant<T> {
  readonly #make: (ent: EnterpriseMeta) => T;
  #byTenant = new Map<string, { ent: EnterpriseMeta; table: T }>();

  constructor(make: (ent: EnterpriseMeta) => T) {
    this.#make = make;
  }

  /** The tenant's instance, if it has one. */
  get(ent: EnterpriseMeta): T | undefined {
    return this.#byTenant.get(entKey(ent))?.table;
  }

  /** The tenant's instance, made now if it has none. */
  of(ent: EnterpriseMeta): T {
    const key = entKey(ent);
    let e = this.#byTenant.get(key);
    if (!e) {
      e = { ent, table: this.#make(ent) };
      this.#byTenant.set(key, e);
    }
    return e.table;
  }

  /** Drops a tenant's instance (its tenant is gone). */
  delete(ent: EnterpriseMeta): void {
    this.#byTenant.delete(entKey(ent));
  }

  /**
   * Drops the empty instances of tenants whose record is gone (tenantGone): the reaper purges a
   * deleted namespace's records and then its record, but its instance stayed, one more per
   * namespace ever made. Appliers run it when they make an instance, so at most the live tenants'
   * and one purged tenant's are kept.
   */
  dropDeleted(tenants: TenantTables, empty: (table: T) => boolean): void {
    for (const [key, e] of this.#byTenant) if (empty(e.table) && tenantGone(tenants, e.ent)) this.#byTenant.delete(key);
  }

  /** Every tenant's instance. */
  entries(): { ent: EnterpriseMeta; table: T }[] {
    return [...this.#byTenant.values()];
  }

  /** Drops every instance (a re-list rebuilds them). */
  clear(): void {
    this.#byTenant.clear();
  }
}
