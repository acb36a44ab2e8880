// The ACL tables of the replica (Consul's acl-tokens, acl-policies, acl-roles, acl-auth-methods,
// acl-binding-rules and the bootstrap record) under one `acl/` prefix, with the secondary indexes
// token resolution needs (secret → token, name → policy/role) and one combined ACL index.
import type { WatchEvent } from '../store/index.ts';
import { secretDigest, type ACLAuthMethod, type ACLBindingRule, type ACLPolicy, type ACLRole, type ACLToken } from '../acl/index.ts';
import { RecordTable, type Indexed } from './records.ts';

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

/**
 * A record table with a unique secondary key (Name for policies and roles, SecretID for tokens);
 * `keyOf` maps the key before indexing and lookup (tokens use a digest, so no secret is compared).
 */
export class UniqueIndexTable<T extends object> extends RecordTable<T> {
  readonly #field: keyof T;
  readonly #keyOf: (value: string) => string;
  readonly #by = new Map<string, string>();

  constructor(name: string, prefix: string, field: keyof T, keyOf: (value: string) => string = (v) => v) {
    super(name, prefix);
    this.#field = field;
    this.#keyOf = keyOf;
  }

  /** Applies an event and keeps the secondary index in step. */
  override apply(ev: WatchEvent): string {
    const old = this.get(ev.kv.key.slice(this.prefix.length));
    const id = super.apply(ev);
    const oldKey = old ? this.#keyOf(String(old[this.#field])) : undefined;
    if (oldKey !== undefined && this.#by.get(oldKey) === id) this.#by.delete(oldKey);
    const now = this.get(id);
    if (now) this.#by.set(this.#keyOf(String(now[this.#field])), id);
    return id;
  }

  /** Empties the table and its index. */
  override reset(): void {
    super.reset();
    this.#by.clear();
  }

  /** The record whose secondary key equals `value`. */
  by(value: string): Indexed<T> | undefined {
    const id = this.#by.get(this.#keyOf(value));
    return id === undefined ? undefined : this.get(id);
  }

  /** Every record sorted by primary id, as Consul's memdb lists them. */
  sorted(): Indexed<T>[] {
    return this.all().sort((a, b) => (idOf(a) < idOf(b) ? -1 : 1));
  }
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
  readonly policies = new UniqueIndexTable<ACLPolicyRecord>(ACL_POLICIES_TABLE, ACL_POLICY_PREFIX, 'Name', foldAclName);
  readonly roles = new UniqueIndexTable<ACLRoleRecord>(ACL_ROLES_TABLE, ACL_ROLE_PREFIX, 'Name', foldAclName);
  /** Auth methods by Name, case-insensitively (Consul's acl-auth-methods id index is lower-cased); `by()` finds any spelling. */
  readonly authMethods = new UniqueIndexTable<ACLAuthMethodRecord>(ACL_AUTH_METHODS_TABLE, ACL_AUTH_METHOD_PREFIX, 'Name', foldAclName);
  readonly bindingRules = new UniqueIndexTable<ACLBindingRuleRecord>(ACL_BINDING_RULES_TABLE, ACL_BINDING_RULE_PREFIX, 'ID');
  readonly meta = new RecordTable<ACLBootstrapRecord>('acl-meta', 'acl/meta/');
  /** Highest revision that changed any ACL table: resolver caches compare against it. */
  index = 0;

  #tables(): RecordTable<object>[] {
    return [this.tokens, this.policies, this.roles, this.authMethods, this.bindingRules, this.meta] as RecordTable<object>[];
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
