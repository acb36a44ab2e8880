// The config entries of non-default tenants: one ConfigEntriesTable per namespace, fed by the
// tenant applier (`t/<ap>/<ns>/config/<kind>/<name>`), each with its own notifier table
// (`config-entries@<ap>/<ns>`). Partition-level kinds (proxy-defaults, mesh, exported-services,
// sameness-group, …) live in their partition's `default` namespace, as Consul Enterprise keeps them.
// The default tenant's table stays `replica.configEntries`, untouched by anything here.
//
// Entries of a partition's wildcard namespace (`*`: only service-intentions `*`, the `*/*`
// destination) have their own table per partition, stored under NS_WILDCARD_CONFIG_PREFIX: at the
// top level for the default partition, in the partition's default namespace (`t/<ap>/default/…`)
// for another. An older version ignores both (no applier takes the prefix).
import { ConfigEntriesTable, CONFIG_PREFIX, CONFIG_ENTRIES_TABLE, configEntryKey, type ConfigEntry } from './config-entries.ts';
import { PerTenant, type TenantHandler, type TenantTables } from './tenancy-tables.ts';
import type { WatchEvent } from '../store/index.ts';
import type { Changes } from './catalog.ts';
import {
  DEFAULT_TENANCY_NAME, foldTenancyName, isDefaultEnt, partitionEnt, tenantKey, tenantTableName, type EnterpriseMeta,
} from './tenancy.ts';

const byReplica = new WeakMap<TenantTables, PerTenant<ConfigEntriesTable>>();
/** The wildcard namespace's tables, one per partition (keyed `{ap, *}`). */
const wildcardByReplica = new WeakMap<TenantTables, PerTenant<ConfigEntriesTable>>();

/** Store prefix (inner, or top-level in the default partition) of a partition's wildcard-namespace entries. */
export const NS_WILDCARD_CONFIG_PREFIX = 'config-ns-wildcard/';
const WILDCARD = '*';

/** The wildcard namespace of a partition. */
function wildcardEnt(partition: string): EnterpriseMeta {
  if (!partition || partition === DEFAULT_TENANCY_NAME) return DEFAULT_WILDCARD;
  return { partition: foldTenancyName(partition), namespace: WILDCARD };
}

/** The default partition's wildcard namespace, and its notifier table (read by every default-tenant intention match). */
const DEFAULT_WILDCARD: EnterpriseMeta = Object.freeze({ partition: DEFAULT_TENANCY_NAME, namespace: WILDCARD });
const DEFAULT_WILDCARD_TABLE = tenantTableName(CONFIG_ENTRIES_TABLE, DEFAULT_WILDCARD);

/** The wildcard tables of a replica's tenancy state, made on first use. */
function wildcardTables(tenants: TenantTables): PerTenant<ConfigEntriesTable> {
  let t = wildcardByReplica.get(tenants);
  if (!t) {
    // A deleted partition's emptied wildcard table goes when another partition's is made.
    const made: PerTenant<ConfigEntriesTable> = new PerTenant<ConfigEntriesTable>((ent) => {
      made.dropDeleted(tenants, (table) => table.size === 0);
      return new ConfigEntriesTable(ent);
    });
    wildcardByReplica.set(tenants, (t = made));
  }
  return t;
}

/** One wildcard-namespace event applied to its partition's table, its key read as a `config/` key. */
function applyWildcard(tenants: TenantTables, partition: string, ev: WatchEvent, out: Changes): void {
  const ent = wildcardEnt(partition);
  const key = CONFIG_PREFIX + ev.kv.key.slice(NS_WILDCARD_CONFIG_PREFIX.length);
  const table = wildcardTables(tenants).of(ent);
  if (ent === DEFAULT_WILDCARD) defaultWildcard.set(tenants, table);
  const changed = table.apply({ type: ev.type, kv: { ...ev.kv, key } });
  out.push(configEntriesTableName(ent), changed);
  // Its intentions apply in every namespace of the partition: each namespace's readers (watching
  // only their own table) are woken as by a change there. Wildcard writes are rare; reads are not.
  const names = new Set([DEFAULT_TENANCY_NAME, ...tenants.namespaces.namespacesOf(ent.partition).map((n) => n.name)]);
  for (const namespace of names) out.push(configEntriesTableName(isDefaultEnt({ partition: ent.partition, namespace }) ? undefined : { partition: ent.partition, namespace }), changed);
}

/** The default partition's wildcard table once it exists (found without building a key, on every default-tenant intention read). */
const defaultWildcard = new WeakMap<TenantTables, ConfigEntriesTable>();

/** The tenant applier of non-default partitions' wildcard-namespace entries (one line in tenant-appliers.ts). */
export function wildcardNamespaceTenantApplier(tenants: TenantTables): TenantHandler {
  return {
    prefix: NS_WILDCARD_CONFIG_PREFIX,
    apply: (ent, ev, out) => {
      // Stored in the partition's default namespace only; anything else is not a key this version writes.
      if (ent.namespace === DEFAULT_TENANCY_NAME) applyWildcard(tenants, ent.partition, ev, out);
    },
    reset: () => {
      for (const { ent, table } of wildcardTables(tenants).entries()) if (ent.partition !== DEFAULT_TENANCY_NAME) table.reset();
    },
  };
}

/** The replica's applier of the default partition's wildcard-namespace entries (top-level keys). */
export function wildcardNamespaceApplier(tenants: TenantTables): { prefix: string; apply(ev: WatchEvent, out: Changes): void; reset(): void } {
  return {
    prefix: NS_WILDCARD_CONFIG_PREFIX,
    apply: (ev, out) => applyWildcard(tenants, DEFAULT_TENANCY_NAME, ev, out),
    reset: () => wildcardTables(tenants).get(wildcardEnt(DEFAULT_TENANCY_NAME))?.reset(),
  };
}

/** An empty table standing for a tenant with no entry yet (never written to). */
const EMPTY = new ConfigEntriesTable();

/**
 * Kinds that belong to a partition, not a namespace: Consul Enterprise stores them in the
 * partition's default namespace whatever namespace the request names.
 */
export const PARTITION_LEVEL_KINDS: ReadonlySet<string> = new Set([
  'proxy-defaults', 'mesh', 'exported-services', 'sameness-group', 'jwt-provider', 'control-plane-request-limit',
]);

/** The tenant applier of config entries (one line in tenant-appliers.ts). */
export function configEntriesTenantApplier(tenants: TenantTables): TenantHandler {
  // A deleted namespace's emptied table goes when another tenant's is made.
  const tables: PerTenant<ConfigEntriesTable> = new PerTenant<ConfigEntriesTable>((ent) => {
    tables.dropDeleted(tenants, (t) => t.size === 0);
    return new ConfigEntriesTable(ent);
  });
  byReplica.set(tenants, tables);
  return {
    prefix: CONFIG_PREFIX,
    apply: (ent, ev, out) => void out.push(tenantTableName(CONFIG_ENTRIES_TABLE, ent), tables.of(ent).apply(ev)),
    reset: () => tables.clear(),
  };
}

/** What the config entry helpers need of the replica. */
export interface ConfigEntriesHolder {
  readonly configEntries: ConfigEntriesTable;
  readonly tenants: TenantTables;
}

/** The config entries of a tenant: the replica's own for the default tenant, an empty table for a tenant with none. */
export function configEntriesOf(replica: ConfigEntriesHolder, ent: EnterpriseMeta | undefined): ConfigEntriesTable {
  if (ent === DEFAULT_WILDCARD) return defaultWildcard.get(replica.tenants) ?? EMPTY;
  if (isDefaultEnt(ent)) return replica.configEntries;
  if (ent!.namespace === WILDCARD) return wildcardByReplica.get(replica.tenants)?.get(wildcardEnt(ent!.partition)) ?? EMPTY;
  return byReplica.get(replica.tenants)?.get(ent!) ?? EMPTY;
}

/** The wildcard namespace (`*`) of the partition of `ent`: its service-intentions apply in every namespace. */
export function wildcardNamespaceOf(ent: EnterpriseMeta | undefined): EnterpriseMeta {
  return wildcardEnt(ent?.partition ?? DEFAULT_TENANCY_NAME);
}

/** The tenant an entry of `kind` lives in when a request names `ent`: partition-level kinds go to the partition's default namespace. */
export function configEntryEnt(kind: string, ent: EnterpriseMeta | undefined): EnterpriseMeta | undefined {
  if (ent === undefined || isDefaultEnt(ent)) return undefined;
  if (PARTITION_LEVEL_KINDS.has(kind) && ent.namespace !== DEFAULT_TENANCY_NAME) {
    return isDefaultEnt(partitionEnt(ent.partition)) ? undefined : partitionEnt(ent.partition);
  }
  return ent;
}

/** The store key of an entry in a tenant (`config/<kind>/<name>` in the default tenant). */
export function configEntryStoreKey(ent: EnterpriseMeta | undefined, kind: string, name: string): string {
  if (isDefaultEnt(ent)) return configEntryKey(kind, name);
  if (ent!.namespace === WILDCARD) {
    const key = NS_WILDCARD_CONFIG_PREFIX + configEntryKey(kind, name).slice(CONFIG_PREFIX.length);
    return isDefaultEnt(partitionEnt(ent!.partition)) ? key : tenantKey(partitionEnt(ent!.partition), key);
  }
  return tenantKey(ent, configEntryKey(kind, name));
}

/**
 * Every config entry of a partition's namespaces, as replication compares them: the default
 * namespace's first (the default partition's are the replica's own, without tenancy fields), then
 * each namespace's by name; each entry of a non-default tenant carries its Namespace and Partition.
 */
export function partitionConfigEntries(replica: ConfigEntriesHolder, partition: string): ConfigEntry[] {
  const ap = foldTenancyName(partition);
  const out: ConfigEntry[] = ap === DEFAULT_TENANCY_NAME ? replica.configEntries.list('') : [];
  const tenants = [...(byReplica.get(replica.tenants)?.entries() ?? []), ...(wildcardByReplica.get(replica.tenants)?.entries() ?? [])]
    .filter((t) => t.ent.partition === ap)
    .sort((a, b) => (a.ent.namespace < b.ent.namespace ? -1 : a.ent.namespace > b.ent.namespace ? 1 : 0));
  for (const t of tenants) out.push(...t.table.list(''));
  return out;
}

/** Every tenant's config entry table that holds or held entries, the default tenant's first (ent undefined). */
export function allConfigEntryTables(replica: ConfigEntriesHolder): { ent: EnterpriseMeta | undefined; table: ConfigEntriesTable }[] {
  return [
    { ent: undefined, table: replica.configEntries }, ...(byReplica.get(replica.tenants)?.entries() ?? []),
    ...(wildcardByReplica.get(replica.tenants)?.entries() ?? []),
  ];
}

/** The notifier table of a tenant's config entries. */
export function configEntriesTableName(ent: EnterpriseMeta | undefined): string {
  if (ent === undefined) return CONFIG_ENTRIES_TABLE;
  if (ent === DEFAULT_WILDCARD) return DEFAULT_WILDCARD_TABLE;
  return tenantTableName(CONFIG_ENTRIES_TABLE, ent);
}
