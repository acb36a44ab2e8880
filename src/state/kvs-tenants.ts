// The KV tables of non-default tenants: one KvsTable per namespace, fed by the tenant applier
// (`t/<ap>/<ns>/kv/<key>`), each with its own notifier table (`kvs@<ap>/<ns>`), so a blocking read
// in one namespace is never woken by a write in another. The default tenant's table stays
// `replica.kvs`, untouched by anything here.
import { KvsTable, KV_PREFIX, KVS_TABLE } from './kvs.ts';
import { PerTenant, type TenantHandler, type TenantTables } from './tenancy-tables.ts';
import { DEFAULT_TENANCY_NAME, entKey, foldTenancyName, isDefaultEnt, tenantTableName, type EnterpriseMeta } from './tenancy.ts';

const byReplica = new WeakMap<TenantTables, PerTenant<KvsTable>>();

/** An empty table standing for a tenant with no KV entry yet (never written to). */
const EMPTY = new KvsTable();

/** The tenant applier of KV entries (one line in tenant-appliers.ts). */
export function kvTenantApplier(tenants: TenantTables): TenantHandler {
  // A deleted namespace's emptied table (and its tombstones) goes when another tenant's is made.
  const tables: PerTenant<KvsTable> = new PerTenant<KvsTable>((ent) => {
    tables.dropDeleted(tenants, (t) => t.size === 0);
    return new KvsTable(ent);
  });
  byReplica.set(tenants, tables);
  return {
    prefix: KV_PREFIX,
    apply: (ent, ev, out) => void out.push(tenantTableName(KVS_TABLE, ent), tables.of(ent).apply(ev)),
    reset: () => tables.clear(),
  };
}

/** What the KV helpers need of the replica. */
export interface KvsHolder {
  readonly kvs: KvsTable;
  readonly tenants: TenantTables;
}

/** The KV table of a tenant: the replica's own for the default tenant, an empty one for a tenant with no entry. */
export function kvsOf(replica: KvsHolder, ent: EnterpriseMeta | undefined): KvsTable {
  if (isDefaultEnt(ent)) return replica.kvs;
  return byReplica.get(replica.tenants)?.get(ent!) ?? EMPTY;
}

/** Every tenant's KV table that holds or held entries, the default tenant's first. */
export function allKvs(replica: KvsHolder): { ent: EnterpriseMeta | undefined; table: KvsTable }[] {
  const out: { ent: EnterpriseMeta | undefined; table: KvsTable }[] = [{ ent: undefined, table: replica.kvs }];
  for (const e of byReplica.get(replica.tenants)?.entries() ?? []) out.push(e);
  return out;
}

/**
 * The namespaces of a partition a wildcard (`ns=*`) read covers, sorted by name: `default` and
 * every namespace with a record (a namespace being deleted still reads).
 */
export function namespacesFor(replica: KvsHolder, partition: string): EnterpriseMeta[] {
  const names = new Set([DEFAULT_TENANCY_NAME, ...replica.tenants.namespaces.namespacesOf(partition).map((n) => n.name)]);
  const ap = foldTenancyName(partition);
  return [...names].sort().map((namespace) => (ap === DEFAULT_TENANCY_NAME && namespace === DEFAULT_TENANCY_NAME
    ? { partition: DEFAULT_TENANCY_NAME, namespace } : { partition: ap, namespace }));
}

/**
 * The lock-delay key of a KV key in a tenant: `\0<key>` in the default tenant, `<ap>/<ns>\0<key>` in
 * another. A KV key may hold any character, so the default one is marked too (a tenant's starts with
 * its partition name, never NUL): a default key spelling `default/team-a\0lock` is not team-a's `lock`.
 */
export function lockDelayKey(ent: EnterpriseMeta | undefined, key: string): string {
  return isDefaultEnt(ent) ? `\0${key}` : `${entKey(ent!)}\0${key}`;
}
