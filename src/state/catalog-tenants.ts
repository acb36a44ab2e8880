// The catalog tables of non-default tenants. Services and service checks are namespaced: each
// namespace has its own CatalogTables (`t/<ap>/<ns>/catalog/{service,check}/…`), sharing its
// partition's node map; nodes and node checks are partition-level (the default partition's are
// `replica.catalog`, another partition's live in its `default` namespace's tables). Notifier tables
// are the catalog's with `@<ap>/<ns>` (tenantTableName), so a health watch in one namespace never
// wakes on another's writes; a node-level change touches every namespace's services on the node.
import { CatalogTables, CATALOG_PREFIX, type Changes } from './catalog.ts';
import { PerTenant, type TenantHandler, type TenantTables } from './tenancy-tables.ts';
import {
  DEFAULT_TENANCY_NAME, foldTenancyName, isDefaultEnt, partitionEnt, tenantTableName, type EnterpriseMeta,
} from './tenancy.ts';

/** The tenant catalog tables of one replica. */
class CatalogTenants {
  readonly tables: PerTenant<CatalogTables>;
  readonly #catalog: CatalogTables;
  readonly #tenants: TenantTables;

  constructor(catalog: CatalogTables, tenants: TenantTables) {
    this.#catalog = catalog;
    this.#tenants = tenants;
    this.tables = new PerTenant((ent) => this.#make(ent));
  }

  /** The tables holding a partition's nodes: the replica's own for the default partition. */
  partition(ap: string): CatalogTables {
    return foldTenancyName(ap) === DEFAULT_TENANCY_NAME ? this.#catalog : this.tables.of(partitionEnt(ap));
  }

  #make(ent: EnterpriseMeta): CatalogTables {
    this.#dropDeleted();
    if (foldTenancyName(ent.namespace) === DEFAULT_TENANCY_NAME) {
      const t = new CatalogTables();
      t.nodeListener = this.#listener(ent.partition);
      return t;
    }
    const partition = this.partition(ent.partition);
    // The default partition tells its namespaces of node changes only once one exists.
    partition.nodeListener ??= this.#listener(ent.partition);
    return new CatalogTables(partition);
  }

  /**
   * Drops the empty tables of namespaces (and partitions) whose record is gone: the reaper purges a
   * deleted namespace's records and then its record, but its tables (and their per-name indexes)
   * stayed, one more set per namespace ever made. Run when a tenant's tables are made, so they are
   * at most the live tenants' and one purged set. A partition's tables go only with its last
   * namespace's, as those share its node map.
   */
  #dropDeleted(): void {
    const { namespaces, partitions } = this.#tenants;
    const empty = (t: CatalogTables): boolean => t.services.size === 0 && t.checks.size === 0;
    const kept = new Set<string>();
    const partitionTables: { ent: EnterpriseMeta; table: CatalogTables }[] = [];
    for (const e of this.tables.entries()) {
      if (e.ent.namespace === DEFAULT_TENANCY_NAME) partitionTables.push(e);
      else if (namespaces.namespace(e.ent) === undefined && empty(e.table)) this.tables.delete(e.ent);
      else kept.add(e.ent.partition);
    }
    for (const { ent, table } of partitionTables) {
      if (!kept.has(ent.partition) && partitions.partition(ent.partition) === undefined && empty(table) && table.nodes.size === 0) this.tables.delete(ent);
    }
  }

  /** Touches the services of every namespace of `ap` on a node whose record or node checks changed. */
  #listener(ap: string): (node: string, rev: number, out: Changes) => void {
    const folded = foldTenancyName(ap);
    return (node, rev, out) => {
      for (const { ent, table } of this.tables.entries()) {
        if (ent.partition !== folded || ent.namespace === DEFAULT_TENANCY_NAME || !table.services.has(node)) continue;
        const start = out.length;
        table.touchNode(node, rev, out);
        renameTables(out, start, ent);
      }
    };
  }

  reset(): void {
    this.tables.clear();
    this.#catalog.nodeListener = undefined;
  }
}

/**
 * Renames the notifier tables of the (table, key) pairs from `start` on to the tenant's. Pairs
 * already named for a tenant are left: a partition's node change carries its namespaces' pairs,
 * which the node listener named for their own namespace.
 */
function renameTables(out: Changes, start: number, ent: EnterpriseMeta): void {
  for (let i = start; i < out.length; i += 2) if (!out[i].includes('@')) out[i] = tenantTableName(out[i], ent);
}

const byReplica = new WeakMap<TenantTables, CatalogTenants>();

/** The tenant applier of catalog records; registered by the Replica (it needs the default partition's tables). */
export function catalogTenantApplier(tenants: TenantTables, catalog: CatalogTables): TenantHandler {
  const state = new CatalogTenants(catalog, tenants);
  byReplica.set(tenants, state);
  return {
    prefix: CATALOG_PREFIX,
    apply: (ent, ev, out) => {
      const start = out.length;
      state.tables.of(ent).applyInto(ev, out);
      renameTables(out, start, ent);
    },
    reset: () => state.reset(),
  };
}

/** What the catalog helpers need of the replica. */
export interface CatalogHolder {
  readonly catalog: CatalogTables;
  readonly tenants: TenantTables;
}

/**
 * The catalog tables of a tenant: the replica's own for the default tenant; for a tenant with no
 * record, empty tables (not kept) over its partition's nodes.
 */
export function catalogOf(replica: CatalogHolder, ent: EnterpriseMeta | undefined): CatalogTables {
  if (isDefaultEnt(ent)) return replica.catalog;
  const state = byReplica.get(replica.tenants);
  const t = state?.tables.get(ent!);
  if (t) return t;
  if (foldTenancyName(ent!.namespace) === DEFAULT_TENANCY_NAME) return new CatalogTables();
  // A read never makes tables: a partition with none yet has no nodes.
  return new CatalogTables(partitionCatalog(replica, ent!.partition));
}

/** The catalog tables of a partition's nodes (`replica.catalog` for the default partition). */
export function partitionCatalog(replica: CatalogHolder, partition: string): CatalogTables {
  if (foldTenancyName(partition) === DEFAULT_TENANCY_NAME) return replica.catalog;
  return byReplica.get(replica.tenants)?.tables.get(partitionEnt(partition)) ?? new CatalogTables();
}

/** The tables of every non-default namespace of a partition that holds or held catalog records. */
export function namespaceCatalogs(replica: CatalogHolder, partition: string): { ent: EnterpriseMeta; table: CatalogTables }[] {
  const ap = foldTenancyName(partition);
  const out: { ent: EnterpriseMeta; table: CatalogTables }[] = [];
  for (const e of byReplica.get(replica.tenants)?.tables.entries() ?? []) {
    if (e.ent.partition === ap && e.ent.namespace !== DEFAULT_TENANCY_NAME) out.push(e);
  }
  return out;
}

/** A catalog notifier table in a tenant (`service-health`, `service-health@default/team-1`, …). */
export function catalogTableName(table: string, ent: EnterpriseMeta | undefined): string {
  return ent === undefined ? table : tenantTableName(table, ent);
}
