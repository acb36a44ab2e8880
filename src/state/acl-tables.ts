// The ACL tables of the replica (Consul's acl-tokens, acl-policies, acl-roles, acl-auth-methods,
// acl-binding-rules and the bootstrap record) under one `acl/` prefix, with the secondary indexes
// token resolution needs (secret → token, name → policy/role) and one combined ACL index.
import type { WatchEvent } from '../store/index.ts';
import { secretDigest, type ACLAuthMethod, type ACLBindingRule, type ACLPolicy, type ACLRole, type ACLToken } from '../acl/index.ts';
import { RecordTable, type Indexed } from './records.ts';
import type { TenantHandler } from './tenancy-tables.ts';
import { DEFAULT_TENANCY_NAME, WILDCARD_NAMESPACE, entKey, foldTenancyName, isDefaultEnt, tenantKey, type EnterpriseMeta } from './tenancy.ts';

/** Store prefix of every ACL table. */
export const ACL_PREFIX = 'acl/';
/** Store prefix and notifier table of tokens (`acl/token/<accessor>`). */
export const ACL_TOKEN_PREFIX = 'acl/token/';
export const ACL_TOKENS_TABLE = 'acl-tokens';
/** Store prefix and notifier table of policies (`acl/policy/<id>`). */
export const ACL_POLICY_PREFIX = 'acl/policy/';
export const ACL_POLICIES_TABLE = 'acl-policies';
/** Store prefix and notifier table of roles (`acl/role/<id>`). */
export const ACL_ROLE_PREFIX = 'acl/role/';
export const ACL_ROLES_TABLE = 'acl-roles';
/** Store prefix and notifier table of auth methods (`acl/auth-method/<name>`). */
export const ACL_AUTH_METHOD_PREFIX = 'acl/auth-method/';
export const ACL_AUTH_METHODS_TABLE = 'acl-auth-methods';
/** Store prefix and notifier table of binding rules (`acl/binding-rule/<id>`). */
export const ACL_BINDING_RULE_PREFIX = 'acl/binding-rule/';
export const ACL_BINDING_RULES_TABLE = 'acl-binding-rules';
/** Store key of the bootstrap record; its ModifyIndex is Consul's bootstrap reset index. */
export const ACL_BOOTSTRAP_KEY = 'acl/meta/bootstrap';

type Stored<T> = Omit<T, 'CreateIndex' | 'ModifyIndex'>;
/** A token as stored (indexes come from revisions). */
export type ACLTokenRecord = Stored<ACLToken>;
/** A policy as stored. */
export type ACLPolicyRecord = Stored<ACLPolicy>;
/** A role as stored. */
export type ACLRoleRecord = Stored<ACLRole>;
/** An auth method as stored. */
export type ACLAuthMethodRecord = Stored<ACLAuthMethod>;
/** A binding rule as stored. */
export type ACLBindingRuleRecord = Stored<ACLBindingRule>;
/** The bootstrap marker: present once `/v1/acl/bootstrap` (or an initial management token) ran. */
export interface ACLBootstrapRecord {
  AccessorID: string;
}

/** The tenancy fields the replica sets on a non-default tenant's ACL record (from its key, never stored). */
export interface AclTenancy {
  Namespace?: string;
  Partition?: string;
}

/** The tenant of an ACL record: undefined for the default tenant (no tenancy fields). */
export function aclEnt(rec: object): EnterpriseMeta | undefined {
  const r = rec as AclTenancy;
  if (r.Namespace === undefined) return undefined;
  return { partition: r.Partition ?? DEFAULT_TENANCY_NAME, namespace: r.Namespace };
}

/**
 * Whether an ACL record belongs to tenant `ent` (absent: default), or to any namespace of its
 * partition for a wildcard namespace. ACL ids are cluster-unique; the tenant is the record's attribute.
 */
export function aclInTenant(rec: object, ent: EnterpriseMeta | undefined): boolean {
  const r = rec as AclTenancy;
  const ap = r.Partition ?? DEFAULT_TENANCY_NAME;
  const ns = r.Namespace ?? DEFAULT_TENANCY_NAME;
  if (!ent) return r.Namespace === undefined;
  if (ap !== foldTenancyName(ent.partition)) return false;
  return ent.namespace === WILDCARD_NAMESPACE || ns === foldTenancyName(ent.namespace);
}

/** The store key of an ACL record `<prefix><id>` in tenant `ent`: itself in the default tenant, else under `t/<ap>/<ns>/`. */
export function aclStoreKey(prefix: string, id: string, ent: EnterpriseMeta | undefined): string {
  return tenantKey(ent, prefix + id);
}

/** The secondary-index key of `value` for a record of tenant `ent`: bare in the default tenant, else `<ap>/<ns>\0<value>`. */
function scopedKey(ent: EnterpriseMeta | undefined, value: string): string {
  return isDefaultEnt(ent) ? value : `${entKey(ent!)}\0${value}`;
}

/**
 * A record table with a unique secondary key (Name for policies and roles, SecretID for tokens);
 * `keyOf` maps the key before indexing and lookup (tokens use a digest, so no secret is compared).
 * With `scoped`, the key is unique per tenant (names: a policy name may be taken once per
 * namespace); else across tenants (secrets).
 */
export class UniqueIndexTable<T extends object> extends RecordTable<T> {
  readonly #field: keyof T;
  readonly #keyOf: (value: string) => string;
  readonly #scoped: boolean;
  readonly #by = new Map<string, string>();

  constructor(name: string, prefix: string, field: keyof T, keyOf: (value: string) => string = (v) => v, scoped = false) {
    super(name, prefix);
    this.#field = field;
    this.#keyOf = keyOf;
    this.#scoped = scoped;
  }

  #indexKey(rec: object): string {
    const key = this.#keyOf(String((rec as T)[this.#field]));
    return this.#scoped ? scopedKey(aclEnt(rec), key) : key;
  }

  /** Applies an event and keeps the secondary index in step. */
  override apply(ev: WatchEvent): string {
    return this.applyIn(undefined, ev);
  }

  /**
   * Applies an event of tenant `ent` (undefined: the default tenant; else the key is the inner
   * one): a tenant record gets `Namespace` and `Partition` from its key, before its indexes.
   */
  applyIn(ent: EnterpriseMeta | undefined, ev: WatchEvent): string {
    const old = this.get(ev.kv.key.slice(this.prefix.length));
    const id = super.apply(ev);
    const oldKey = old ? this.#indexKey(old) : undefined;
    if (oldKey !== undefined && this.#by.get(oldKey) === id) this.#by.delete(oldKey);
    const now = this.get(id);
    if (now && ent) stampTenancy(now, ent);
    // The key says the tenant: a default-key record naming one (never written so) is read as the default tenant's.
    else if (now && (now as AclTenancy).Namespace !== undefined) {
      delete (now as AclTenancy).Namespace;
      delete (now as AclTenancy).Partition;
    }
    if (now) this.#by.set(this.#indexKey(now), id);
    return id;
  }

  /** Empties the table and its index. */
  override reset(): void {
    super.reset();
    this.#by.clear();
  }

  /** The record whose secondary key equals `value` (in tenant `ent`, for a scoped index; absent: default). */
  by(value: string, ent?: EnterpriseMeta): Indexed<T> | undefined {
    const key = this.#keyOf(value);
    const id = this.#by.get(this.#scoped ? scopedKey(ent, key) : key);
    return id === undefined ? undefined : this.get(id);
  }

  /** Every record sorted by primary id, as Consul's memdb lists them. */
  sorted(): Indexed<T>[] {
    return this.all().sort((a, b) => (idOf(a) < idOf(b) ? -1 : 1));
  }
}

/** Sets a tenant record's Namespace and Partition (lower-case, from its key) just before its indexes, as Consul's JSON orders them. */
function stampTenancy(rec: object, ent: EnterpriseMeta): void {
  const r = rec as AclTenancy & { CreateIndex: number; ModifyIndex: number };
  const { CreateIndex, ModifyIndex } = r;
  delete (r as Partial<typeof r>).CreateIndex;
  delete (r as Partial<typeof r>).ModifyIndex;
  delete r.Namespace;
  delete r.Partition;
  r.Namespace = foldTenancyName(ent.namespace);
  r.Partition = foldTenancyName(ent.partition);
  r.CreateIndex = CreateIndex;
  r.ModifyIndex = ModifyIndex;
}

/** The key of a policy, role or auth method name in the name indexes (and their name guards): lower case. */
export function foldAclName(name: string): string {
  return name.toLowerCase();
}

function idOf(r: object): string {
  const rec = r as { ID?: string; AccessorID?: string; Name?: string };
  return rec.AccessorID ?? rec.ID ?? rec.Name ?? '';
}

/** Every ACL table, applied from store events under `acl/`. */
export class AclTables {
  readonly tokens = new UniqueIndexTable<ACLTokenRecord>(ACL_TOKENS_TABLE, ACL_TOKEN_PREFIX, 'SecretID', secretDigest);
  /** Policies and roles by Name, case-insensitively (Consul's name indexes are Lowercase). */
  readonly policies = new UniqueIndexTable<ACLPolicyRecord>(ACL_POLICIES_TABLE, ACL_POLICY_PREFIX, 'Name', foldAclName, true);
  readonly roles = new UniqueIndexTable<ACLRoleRecord>(ACL_ROLES_TABLE, ACL_ROLE_PREFIX, 'Name', foldAclName, true);
  /**
   * Auth methods by Name, case-insensitively (Consul's acl-auth-methods id index is lower-cased); `by()` finds any spelling.
   * A tenant's methods are kept under the id `<ap>/<ns>/<name>` (names hold no `/`), so every tenant may use any name.
   */
  readonly authMethods = new UniqueIndexTable<ACLAuthMethodRecord>(ACL_AUTH_METHODS_TABLE, ACL_AUTH_METHOD_PREFIX, 'Name', foldAclName, true);
  readonly bindingRules = new UniqueIndexTable<ACLBindingRuleRecord>(ACL_BINDING_RULES_TABLE, ACL_BINDING_RULE_PREFIX, 'ID');
  readonly meta = new RecordTable<ACLBootstrapRecord>('acl-meta', 'acl/meta/');
  /** Highest revision that changed any ACL table: resolver caches compare against it. */
  index = 0;

  #tables(): RecordTable<object>[] {
    return [this.tokens, this.policies, this.roles, this.authMethods, this.bindingRules, this.meta] as RecordTable<object>[];
  }

  #tenantTables(): UniqueIndexTable<object>[] {
    return [this.tokens, this.policies, this.roles, this.authMethods, this.bindingRules] as UniqueIndexTable<object>[];
  }

  /**
   * Applies one event of a non-default tenant's ACL record (key rewritten to `acl/…`): records join
   * the shared tables (ids are cluster-unique and looked up globally) with their tenant from the key.
   */
  applyTenant(ent: EnterpriseMeta, ev: WatchEvent): [string, string][] {
    for (const t of this.#tenantTables()) {
      if (!ev.kv.key.startsWith(t.prefix)) continue;
      // Auth methods are keyed by name: a tenant's live under `<ap>/<ns>/<name>`.
      const e = t === (this.authMethods as unknown) ? { type: ev.type, kv: { ...ev.kv, key: `${t.prefix}${entKey(ent)}/${ev.kv.key.slice(t.prefix.length)}` } } : ev;
      const id = t.applyIn(ent, e);
      this.index = Math.max(this.index, ev.kv.modRevision);
      return [[t.name, id]];
    }
    return [];
  }

  /** An auth method by name in tenant `ent` (absent: default). */
  authMethod(name: string, ent?: EnterpriseMeta): Indexed<ACLAuthMethodRecord> | undefined {
    return this.authMethods.by(name, ent);
  }

  /** Applies one event under `acl/`; returns the (notifier table, key) pairs it changed. */
  apply(ev: WatchEvent): [string, string][] {
    for (const t of this.#tables()) {
      if (!ev.kv.key.startsWith(t.prefix)) continue;
      const id = t.apply(ev);
      this.index = Math.max(this.index, ev.kv.modRevision);
      return [[t.name, id]];
    }
    return [];
  }

  /** Empties every table (before a re-list). */
  reset(): void {
    for (const t of this.#tables()) t.reset();
    this.index = 0;
  }

  /** The bootstrap record with its indexes, if bootstrap already happened. */
  bootstrap(): Indexed<ACLBootstrapRecord> | undefined {
    return this.meta.get('bootstrap');
  }
}

/**
 * The tenant handler of ACL records (`t/<ap>/<ns>/acl/…`): they feed the replica's own ACL tables
 * (registered by the Replica constructor, like sessions). The bootstrap record is never a tenant's.
 */
export function aclTenantApplier(acl: AclTables): TenantHandler {
  return { prefix: ACL_PREFIX, apply: (ent, ev, out) => { for (const [t, k] of acl.applyTenant(ent, ev)) out.push(t, k); }, reset: () => {} };
}
