// Namespaces and admin partitions in the keyspace: the EnterpriseMeta every tenant-aware read and
// write carries, and the key codec. The default tenant (default partition, default namespace)
// keeps today's keys; any other tenant's records live under `t/<ap>/<ns>/<inner key>`, where the
// inner key is exactly the key the record would have in the default tenant.

/** The namespace and admin partition a record or request belongs to (Consul's acl.EnterpriseMeta). */
export interface EnterpriseMeta {
  readonly partition: string;
  readonly namespace: string;
}

/** The builtin partition and namespace name. */
export const DEFAULT_TENANCY_NAME = 'default';

/** The default tenant: every record that existed before tenancy, and every request that names none. */
export const DEFAULT_ENT: EnterpriseMeta = Object.freeze({ partition: DEFAULT_TENANCY_NAME, namespace: DEFAULT_TENANCY_NAME });

/** Consul's wildcard namespace (`ns=*`): reads across every namespace the token may read. */
export const WILDCARD_NAMESPACE = '*';

/** The top-level store prefix of every non-default tenant's records. */
export const TENANT_PREFIX = 't/';

/** Consul's longest DNS label; namespace and partition names are DNS labels. */
const MAX_LABEL = 63;
const LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/i;

/** Whether `name` can name a namespace or partition: a DNS hostname label (letters, digits, inner hyphens, at most 63). */
export function validTenancyName(name: string): boolean {
  return name.length <= MAX_LABEL && LABEL.test(name);
}

/** The key form of a namespace or partition name: names are looked up ignoring case, like node names. */
export function foldTenancyName(name: string): string {
  return name.toLowerCase();
}

/** Whether `ent` is the default tenant; absent means default (every internal caller). */
export function isDefaultEnt(ent: EnterpriseMeta | undefined): boolean {
  return ent === undefined || ent === DEFAULT_ENT
    || (foldTenancyName(ent.partition) === DEFAULT_TENANCY_NAME && foldTenancyName(ent.namespace) === DEFAULT_TENANCY_NAME);
}

/** An EnterpriseMeta in a partition's default namespace (partition-level objects: nodes, peerings). */
export function partitionEnt(partition: string): EnterpriseMeta {
  return foldTenancyName(partition) === DEFAULT_TENANCY_NAME ? DEFAULT_ENT : { partition, namespace: DEFAULT_TENANCY_NAME };
}

/** `<ap>/<ns>` in key form: names a tenant in notifier tables, caches and share keys. */
export function entKey(ent: EnterpriseMeta): string {
  return `${foldTenancyName(ent.partition)}/${foldTenancyName(ent.namespace)}`;
}

/** A notifier table name for a tenant's instance of a table: the table itself for the default tenant, else `<table>@<ap>/<ns>`. */
export function tenantTableName(table: string, ent: EnterpriseMeta | undefined): string {
  return isDefaultEnt(ent) ? table : `${table}@${entKey(ent!)}`;
}

/**
 * The store key of `key` (a default-tenant key form such as `kv/app/cfg`) in tenant `ent`: the key
 * itself in the default tenant, else `t/<ap>/<ns>/<key>`. Names must be valid (not `*`): a name
 * holding `/` would make keys ambiguous, so it throws.
 */
export function tenantKey(ent: EnterpriseMeta | undefined, key: string): string {
  if (isDefaultEnt(ent)) return key;
  const { partition, namespace } = ent!;
  if (!validTenancyName(partition) || !validTenancyName(namespace)) {
    throw new Error(`invalid tenancy for a store key: partition ${JSON.stringify(partition)}, namespace ${JSON.stringify(namespace)}`);
  }
  return `${TENANT_PREFIX}${foldTenancyName(partition)}/${foldTenancyName(namespace)}/${key}`;
}

/** The store prefix holding every key of tenant `ent` (for purging it); never for the default tenant. */
export function tenantPrefix(ent: EnterpriseMeta): string {
  if (isDefaultEnt(ent)) throw new Error('the default tenant has no prefix of its own');
  return tenantKey(ent, '');
}

/** A tenant store key taken apart. */
export interface TenantKey {
  ent: EnterpriseMeta;
  /** The key as it would be in the default tenant (`kv/app/cfg`). */
  inner: string;
}

/**
 * Splits a `t/<ap>/<ns>/<inner>` store key; null for any key that is not one a tenantKey() call
 * writes: another prefix, names that are not lower-case DNS labels, an empty inner key, the default
 * tenant spelled out (its records never carry the prefix), or a tenant key nested in another.
 */
export function parseTenantKey(key: string): TenantKey | null {
  if (!key.startsWith(TENANT_PREFIX)) return null;
  const apEnd = key.indexOf('/', TENANT_PREFIX.length);
  if (apEnd < 0) return null;
  const nsEnd = key.indexOf('/', apEnd + 1);
  if (nsEnd < 0) return null;
  const partition = key.slice(TENANT_PREFIX.length, apEnd);
  const namespace = key.slice(apEnd + 1, nsEnd);
  const inner = key.slice(nsEnd + 1);
  if (!storedName(partition) || !storedName(namespace) || inner === '' || inner.startsWith(TENANT_PREFIX)) return null;
  if (partition === DEFAULT_TENANCY_NAME && namespace === DEFAULT_TENANCY_NAME) return null;
  return { ent: { partition, namespace }, inner };
}

/** A name as tenantKey() stores it: a valid label, folded. */
function storedName(name: string): boolean {
  return validTenancyName(name) && foldTenancyName(name) === name;
}
