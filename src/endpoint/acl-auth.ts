// ACL auth methods and binding rules (Consul's ACL.AuthMethodSet/Read/Delete/List and
// BindingRuleSet/Read/Delete/List), stored and validated with Consul's texts; deleting a method
// removes its binding rules and the tokens it issued; login verifies a bearer token (acl-login.ts)
// or completes an OIDC code flow (acl-oidc.ts).
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import {
  type ACLAuthMethod, type ACLBindingRule, type ACLBindType, type ACLToken, type JwtKeySourceConfig, type OidcMethodConfig, type RemoteKeySets,
  type VerifiedIdentity,
} from '../acl/index.ts';
import type { LoginParams } from './acl-login.ts';
import { identityProviders, OidcLogin, type OidcAuthURLParams, type OidcCallbackParams } from './acl-oidc.ts';
import type { TokenInput } from './acl-tokens.ts';
import { BadRequestError, InternalError } from '../errors.ts';
import { compileFilter } from '../filter/index.ts';
import {
  ACL_AUTH_METHOD_PREFIX, ACL_BINDING_RULE_PREFIX, ACL_TOKEN_PREFIX, DEFAULT_TENANCY_NAME, validTenancyName,
  type ACLAuthMethodRecord, type EnterpriseMeta, type Indexed,
} from '../state/index.ts';
import { aclEnt, aclInTenant, aclStoreKey } from '../state/acl-tables.ts';
import type { Op } from '../store/index.ts';
import type { AclIdentity, AclResolver } from './acl-resolver.ts';
import {
  aclListFilter, authorizeAcl, authorizeAclList, wildcardNamespaces, concreteEnt, inAclTenant, inTenantOrUndefined, namedRead, tenantGuard, tenantView,
} from './acl-tenancy.ts';
import { aclPreCheck, isUUID, sameAclName } from './acl-links.ts';
import { putPlan, deletePlan } from './acl-write.ts';
import { commitWrite, pinRecord, type WritePlan } from './commit.ts';
import { aclNameGuard, Guards } from './name-guards.ts';
import type { QueryOptions, QueryResult } from './query.ts';
import { tableQuery } from './table-query.ts';
import type { EndpointDeps } from './deps.ts';

const METHOD_NAME = /^[A-Za-z0-9\-_]{1,128}$/;

const require = createRequire(import.meta.url);
let loginModule: typeof import('./acl-login.ts') | undefined;
/** Login's bearer verification and token making (acl-login.ts), loaded by the first login, not at start (issue #9). */
const logins = () => loginModule ??= require('./acl-login.ts') as typeof import('./acl-login.ts');

/** Auth method types accepted (login flows for them come later). */
export const AUTH_METHOD_TYPES = ['kubernetes', 'jwt', 'oidc', 'aws-iam'] as const;
const BIND_TYPES: readonly ACLBindType[] = ['service', 'node', 'role', 'policy', 'templated-policy'];

/** An auth method write. */
export type AuthMethodInput = Partial<Omit<ACLAuthMethod, 'CreateIndex' | 'ModifyIndex'>>;
/** A binding rule write. */
export type BindingRuleInput = Partial<Omit<ACLBindingRule, 'CreateIndex' | 'ModifyIndex'>>;

/** Auth method and binding rule operations. */
export class AclAuthEndpoint {
  readonly #deps: EndpointDeps;
  readonly #resolver: AclResolver;
  #keys: Promise<RemoteKeySets> | undefined;
  readonly #oidc: OidcLogin;
  readonly #primary: boolean;

  /** `opts.primary`: this is the primary datacenter (default), the only one that issues global tokens through auth methods. */
  constructor(deps: EndpointDeps, resolver: AclResolver, opts: { primary?: boolean } = {}) {
    this.#deps = deps;
    this.#resolver = resolver;
    this.#oidc = new OidcLogin(deps);
    this.#primary = opts.primary ?? true;
  }

  // Consul's AuthMethodSet: TokenLocality is local (or empty) or global, global only in the primary.
  #checkLocality(locality: string | undefined): void {
    if (locality === undefined || locality === '' || locality === 'local') return;
    if (locality !== 'global') throw new BadRequestError("Invalid Auth Method: TokenLocality should be one of 'local' or 'global'");
    if (!this.#primary) throw new BadRequestError("Invalid Auth Method: TokenLocality 'global' can only be used in the primary datacenter");
  }

  // Consul's tokenSetFromAuthMethod: a secondary does not create global tokens through auth methods.
  #loginToken(
    method: ACLAuthMethodRecord, vars: VerifiedIdentity, meta: Record<string, string> | undefined, methodEnt?: EnterpriseMeta, tokenEnt?: EnterpriseMeta,
  ): TokenInput {
    const input = logins().loginToken(this.#deps, method, vars, meta, methodEnt, tokenEnt);
    if (!input.Local && !this.#primary) throw new InternalError('creating global tokens via auth methods is only permitted in the primary datacenter');
    return input;
  }

  /** The remote JWT key sets, made on the first jwt method write or login (with the identity-provider modules). */
  #keySets(): Promise<RemoteKeySets> {
    return this.#keys ??= identityProviders().then((m) => new m.RemoteKeySets());
  }

  #check(id: AclIdentity | undefined, write: boolean, ent?: EnterpriseMeta): void {
    aclPreCheck(this.#resolver);
    authorizeAcl(id, write, ent);
  }

  /**
   * Creates or updates an auth method of tenant `ent` (by Name, any spelling: an update stores the
   * name as now given, as Consul does). NamespaceRules send logins to other namespaces; only a
   * method of the default namespace may have them (Consul Enterprise's rule).
   */
  async setMethod(input: AuthMethodInput, id: AclIdentity | undefined, ent?: EnterpriseMeta): Promise<ACLAuthMethod> {
    ent = concreteEnt(ent);
    this.#check(id, true, ent);
    const name = input.Name ?? '';
    if (name === '') throw new BadRequestError('Invalid Auth Method: no Name is set');
    if (!METHOD_NAME.test(name)) throw new BadRequestError("Invalid Auth Method: invalid Name. Only alphanumeric characters, '-' and '_' are allowed");
    if (!input.Type) throw new BadRequestError('Invalid Auth Method: no Type is set');
    if (!(AUTH_METHOD_TYPES as readonly string[]).includes(input.Type)) {
      throw new BadRequestError(`Invalid Auth Method: Type should be one of: [${AUTH_METHOD_TYPES.join(' ')}]`);
    }
    this.#checkLocality(input.TokenLocality);
    const nsRules = checkNamespaceRules(input.NamespaceRules, ent);
    await this.#checkConfig(input.Type, input.Config ?? {});
    const methods = this.#deps.replica.acl.authMethods;
    await commitWrite(this.#deps, inAclTenant(this.#deps, ent, () => {
      const existing = methods.by(name, ent);
      if (existing && existing.Type !== input.Type) throw new BadRequestError(`the Type field is immutable: ${existing.Type} vs ${input.Type}`);
      const rec: ACLAuthMethodRecord = {
        Name: name, Type: input.Type!, Config: input.Config ?? {},
        ...(input.DisplayName ? { DisplayName: input.DisplayName } : {}), ...(input.Description ? { Description: input.Description } : {}),
        ...(input.MaxTokenTTL ? { MaxTokenTTL: input.MaxTokenTTL } : {}), ...(input.TokenLocality ? { TokenLocality: input.TokenLocality } : {}),
        ...(nsRules ? { NamespaceRules: nsRules } : {}),
      };
      return planMethodPut(this.#deps, existing, rec, ent);
    }));
    return methods.by(name, ent)!;
  }

  // Consul builds the method's validator on write: static checks, then the provider must answer.
  async #checkConfig(type: string, cfg: Record<string, unknown>): Promise<void> {
    const why = (await identityProviders()).authMethodConfigError(type, cfg);
    if (why) throw new BadRequestError(`Invalid Auth Method: ${why}`);
    try {
      if (type === 'oidc') await this.#oidc.checkProvider(cfg as unknown as OidcMethodConfig);
      if (type === 'jwt' && cfg.JWKSURL) await (await (await this.#keySets()).source(cfg as JwtKeySourceConfig)).keys.reload();
      if (type === 'jwt' && cfg.OIDCDiscoveryURL) await (await this.#keySets()).source(cfg as JwtKeySourceConfig);
    } catch (err) {
      const msg = (err as Error).message;
      throw new BadRequestError(`Invalid Auth Method: ${type === 'jwt' && cfg.JWKSURL ? `error checking JWKSURL: ${msg}` : msg}`);
    }
  }

  /** Deletes an auth method with its binding rules and the tokens it issued. */
  async deleteMethod(name: string, id: AclIdentity | undefined, ent?: EnterpriseMeta): Promise<void> {
    ent = concreteEnt(ent);
    this.#check(id, true, ent);
    const acl = this.#deps.replica.acl;
    await commitWrite(this.#deps, () => {
      const m = acl.authMethods.by(name, ent);
      if (!m) return null;
      const ops: Op[] = [{ type: 'delete', key: aclStoreKey(ACL_AUTH_METHOD_PREFIX, m.Name, ent) }];
      // The method's binding rules live in its namespace; its tokens may have been bound into others (NamespaceRules).
      for (const r of acl.bindingRules.all()) {
        if (sameAclName(r.AuthMethod, m.Name) && aclInTenant(r, ent)) ops.push({ type: 'delete', key: aclStoreKey(ACL_BINDING_RULE_PREFIX, r.ID, ent) });
      }
      for (const t of acl.tokens.all()) {
        if (t.AuthMethod && sameAclName(t.AuthMethod, m.Name) && tokenOfMethod(t, ent)) {
          ops.push({ type: 'delete', key: aclStoreKey(ACL_TOKEN_PREFIX, t.AccessorID, aclEnt(t)) });
        }
      }
      const guards = new Guards(this.#deps.replica.appliedRevision);
      guards.release(tenantGuard(ent, aclNameGuard('auth-method', m.Name)));
      return guards.addTo({ compares: [pinRecord(aclStoreKey(ACL_AUTH_METHOD_PREFIX, m.Name, ent), m)], ops });
    });
  }

  /** One auth method of the read's tenant; null when missing. */
  readMethod(name: string, opts: QueryOptions): Promise<QueryResult<ACLAuthMethod | null>> {
    const ent = concreteEnt(opts.ent);
    this.#check(opts.authz, false, ent);
    const methods = this.#deps.replica.acl.authMethods;
    return tableQuery(this.#deps, opts, methods, () => {
      const m = methods.by(name, ent);
      return { value: m ? tenantView(m, opts.entNamed) : null };
    });
  }

  /** Every auth method of the read's tenant (every namespace for `ns=*`) as a stub (no Config). */
  listMethods(opts: QueryOptions): Promise<QueryResult<Omit<ACLAuthMethod, 'Config'>[]>> {
    aclPreCheck(this.#resolver);
    authorizeAclList(opts, wildcardNamespaces(this.#deps, opts));
    const methods = this.#deps.replica.acl.authMethods;
    const named = namedRead(opts);
    return tableQuery(this.#deps, opts, methods, () => {
      const { items, filtered } = aclListFilter(opts, methods.sorted());
      return { value: items.map(({ Config: _c, ...stub }) => tenantView(stub, named)), filtered };
    });
  }

  /** Creates (no ID) or updates a binding rule of tenant `ent` (its auth method's namespace). */
  async setRule(input: BindingRuleInput, id: AclIdentity | undefined, ent?: EnterpriseMeta): Promise<ACLBindingRule> {
    ent = concreteEnt(ent);
    this.#check(id, true, ent);
    const acl = this.#deps.replica.acl;
    if (!input.AuthMethod) throw new BadRequestError('Invalid Binding Rule: no AuthMethod is set');
    if (!input.BindType) throw new BadRequestError('Invalid Binding Rule: no BindType is set');
    if (!BIND_TYPES.includes(input.BindType)) throw new BadRequestError(`Invalid Binding Rule: unknown BindType ${JSON.stringify(input.BindType)}`);
    if (!input.BindName) throw new BadRequestError('Invalid Binding Rule: no BindName is set');
    if (input.Selector) {
      try {
        compileFilter(input.Selector);
      } catch (err) {
        throw new BadRequestError(`invalid Binding Rule: Selector is invalid: ${(err as Error).message}`);
      }
    }
    let ruleID = '';
    await commitWrite(this.#deps, inAclTenant(this.#deps, ent, () => {
      if (!acl.authMethods.by(input.AuthMethod!, ent)) throw new BadRequestError(`cannot find auth method with name ${JSON.stringify(input.AuthMethod)}`);
      const existing = input.ID ? inTenantOrUndefined(acl.bindingRules.get(input.ID), ent) : undefined;
      if (input.ID && (!isUUID(input.ID) || !existing)) throw new BadRequestError(`cannot find binding rule ${input.ID}`);
      if (existing && existing.AuthMethod !== input.AuthMethod) throw new BadRequestError(`the AuthMethod field is immutable: ${existing.AuthMethod} vs ${input.AuthMethod}`);
      ruleID = input.ID || randomUUID();
      const rec = {
        ID: ruleID, Description: input.Description ?? '', AuthMethod: input.AuthMethod!, Selector: input.Selector ?? '',
        BindType: input.BindType!, BindName: input.BindName!, ...(input.BindVars ? { BindVars: input.BindVars } : {}),
      };
      return putPlan(aclStoreKey(ACL_BINDING_RULE_PREFIX, ruleID, ent), existing, rec);
    }));
    return acl.bindingRules.get(ruleID)!;
  }

  /** Deletes a binding rule of tenant `ent`. */
  async deleteRule(ruleID: string, id: AclIdentity | undefined, ent?: EnterpriseMeta): Promise<void> {
    ent = concreteEnt(ent);
    this.#check(id, true, ent);
    await commitWrite(this.#deps, () => {
      const r = inTenantOrUndefined(this.#deps.replica.acl.bindingRules.get(ruleID), ent);
      return r ? deletePlan(aclStoreKey(ACL_BINDING_RULE_PREFIX, ruleID, ent), r) : null;
    });
  }

  /** One binding rule of the read's tenant; null when missing. */
  readRule(ruleID: string, opts: QueryOptions): Promise<QueryResult<ACLBindingRule | null>> {
    const ent = concreteEnt(opts.ent);
    this.#check(opts.authz, false, ent);
    const rules = this.#deps.replica.acl.bindingRules;
    return tableQuery(this.#deps, opts, rules, () => {
      const r = inTenantOrUndefined(rules.get(ruleID), ent);
      return { value: r ? tenantView(r, opts.entNamed) : null };
    });
  }

  /** Binding rules of the read's tenant (every namespace for `ns=*`), optionally of one auth method. */
  listRules(method: string, opts: QueryOptions): Promise<QueryResult<ACLBindingRule[]>> {
    aclPreCheck(this.#resolver);
    authorizeAclList(opts, wildcardNamespaces(this.#deps, opts));
    const rules = this.#deps.replica.acl.bindingRules;
    const named = namedRead(opts);
    return tableQuery(this.#deps, opts, rules, () => {
      const { items, filtered } = aclListFilter(opts, rules.sorted().filter((r) => !method || sameAclName(r.AuthMethod, method)));
      return { value: items.map((r) => tenantView(r, named)), filtered };
    });
  }

  /**
   * `/v1/acl/login`: verifies the bearer token with the auth method of tenant `ent` and has `issue`
   * create the token its binding rules grant, in the method's namespace or the one its first
   * matching NamespaceRule binds (the token then names the method's namespace as AuthMethodNamespace).
   */
  async login(params: LoginParams, issue: LoginIssuer, ent?: EnterpriseMeta): Promise<ACLToken> {
    aclPreCheck(this.#resolver);
    ent = concreteEnt(ent);
    const m = this.#deps.replica.acl.authMethods.by(params.AuthMethod, ent);
    if (!m) throw new BadRequestError(`auth method ${JSON.stringify(params.AuthMethod)} not found`);
    const vars = await logins().verifyLogin(m, params.BearerToken, this.#deps.clock.now(), await this.#keySets());
    const target = bindNamespace(m, vars, ent);
    return issue(this.#loginToken(m, vars, params.Meta, ent, target), m.Name, target, target === ent ? undefined : aclEnt(m)?.namespace ?? DEFAULT_TENANCY_NAME);
  }

  /** `/v1/acl/oidc/auth-url`: the provider URL that starts an OIDC login. */
  oidcAuthURL(params: OidcAuthURLParams, ent?: EnterpriseMeta): Promise<string> {
    aclPreCheck(this.#resolver);
    return this.#oidc.authURL(params, concreteEnt(ent));
  }

  /** `/v1/acl/oidc/callback`: completes an OIDC login; `issue` creates the token its binding rules grant. */
  async oidcCallback(params: OidcCallbackParams, issue: LoginIssuer, ent?: EnterpriseMeta): Promise<ACLToken> {
    aclPreCheck(this.#resolver);
    ent = concreteEnt(ent);
    const { method, vars, meta } = await this.#oidc.callback(params, ent);
    const target = bindNamespace(method, vars, ent);
    return issue(this.#loginToken(method, vars, meta, ent, target), method.Name, target, target === ent ? undefined : aclEnt(method)?.namespace ?? DEFAULT_TENANCY_NAME);
  }
}

/**
 * The write of auth method `rec` over `existing` (found by name in any spelling). A new name
 * claims its guard, so that two concurrent creates in two spellings cannot both commit; a new
 * spelling of an existing method moves it to the key of that spelling, as Consul stores the name
 * as last written (the moved record gets this write's CreateIndex: no index is stored in a value,
 * DESIGN.md §4).
 */
function planMethodPut(
  deps: EndpointDeps, existing: Indexed<ACLAuthMethodRecord> | undefined, rec: ACLAuthMethodRecord, ent?: EnterpriseMeta,
): WritePlan {
  const key = aclStoreKey(ACL_AUTH_METHOD_PREFIX, rec.Name, ent);
  if (!existing) {
    const guards = new Guards(deps.replica.appliedRevision);
    guards.claim(tenantGuard(ent, aclNameGuard('auth-method', rec.Name)));
    return guards.addTo(putPlan(key, undefined, rec));
  }
  if (existing.Name === rec.Name) return putPlan(key, existing, rec);
  const from = aclStoreKey(ACL_AUTH_METHOD_PREFIX, existing.Name, ent);
  const plan = putPlan(key, undefined, rec);
  plan.compares.push(pinRecord(from, existing));
  plan.ops.unshift({ type: 'delete', key: from });
  return plan;
}

/** What creates a login's token: its input, the method's name, the token's tenant, and the method's namespace when it is not the token's. */
export type LoginIssuer = (input: TokenInput, method: string, ent?: EnterpriseMeta, methodNs?: string) => Promise<ACLToken>;

/** Whether token `t` was issued by a method of tenant `ent`: its own namespace, or the method's it names (AuthMethodNamespace). */
function tokenOfMethod(t: { Namespace?: string; Partition?: string; AuthMethodNamespace?: string }, ent: EnterpriseMeta | undefined): boolean {
  const methodNs = (t.AuthMethodNamespace ?? t.Namespace ?? DEFAULT_TENANCY_NAME).toLowerCase();
  const ap = (t.Partition ?? DEFAULT_TENANCY_NAME).toLowerCase();
  return methodNs === (ent?.namespace ?? DEFAULT_TENANCY_NAME).toLowerCase() && ap === (ent?.partition ?? DEFAULT_TENANCY_NAME).toLowerCase();
}

/** Validates an auth method's NamespaceRules: each needs a BindNamespace and a valid Selector; only methods of the default namespace may have any. */
function checkNamespaceRules(
  rules: ACLAuthMethod['NamespaceRules'], ent: EnterpriseMeta | undefined,
): { Selector: string; BindNamespace: string }[] | undefined {
  if (!rules || rules.length === 0) return undefined;
  if (ent && ent.namespace.toLowerCase() !== DEFAULT_TENANCY_NAME) {
    throw new BadRequestError('Invalid Auth Method: NamespaceRules may only be set on auth methods in the default namespace');
  }
  return rules.map((r) => {
    if (!r || !r.BindNamespace) throw new BadRequestError('Invalid Auth Method: NamespaceRule is missing the BindNamespace field');
    if (r.Selector) {
      try {
        compileFilter(r.Selector);
      } catch (err) {
        throw new BadRequestError(`Invalid Auth Method: NamespaceRule Selector is invalid: ${(err as Error).message}`);
      }
    }
    return { Selector: r.Selector ?? '', BindNamespace: r.BindNamespace };
  });
}

/**
 * The tenant a login's token is created in: the first NamespaceRule whose selector matches binds
 * its (interpolated) namespace in the method's partition; else the method's own tenant.
 */
function bindNamespace(method: ACLAuthMethodRecord, vars: VerifiedIdentity, ent: EnterpriseMeta | undefined): EnterpriseMeta | undefined {
  for (const r of method.NamespaceRules ?? []) {
    if (r.Selector && !compileFilter(r.Selector).matches(vars)) continue;
    const ns = r.BindNamespace.replace(/\$\{\s*value\.([A-Za-z0-9_\-.]+)\s*\}/g, (_m, name: string) => {
      if (!(name in vars.value)) throw new BadRequestError(`cannot compute BindNamespace: unknown variable value.${name}`);
      return vars.value[name];
    });
    if (!validTenancyName(ns)) throw new BadRequestError(`computed BindNamespace ${JSON.stringify(ns)} is not a valid namespace name`);
    const partition = ent?.partition ?? DEFAULT_TENANCY_NAME;
    return concreteEnt({ partition, namespace: ns });
  }
  return ent;
}
