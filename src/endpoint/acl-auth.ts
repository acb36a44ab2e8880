// ACL auth methods and binding rules (Consul's ACL.AuthMethodSet/Read/Delete/List and
// BindingRuleSet/Read/Delete/List), stored and validated with Consul's texts; deleting a method
// removes its binding rules and the tokens it issued; login verifies a bearer token (acl-login.ts)
// or completes an OIDC code flow (acl-oidc.ts).
import { randomUUID } from 'node:crypto';
import {
  type ACLAuthMethod, type ACLBindingRule, type ACLBindType, type ACLToken, type JwtKeySourceConfig, type OidcMethodConfig, type RemoteKeySets,
  type VerifiedIdentity,
} from '../acl/index.ts';
import { identityProviders, loginToken, verifyLogin, type LoginParams } from './acl-login.ts';
import { OidcLogin, type OidcAuthURLParams, type OidcCallbackParams } from './acl-oidc.ts';
import type { TokenInput } from './acl-tokens.ts';
import { BadRequestError, InternalError } from '../errors.ts';
import { compileFilter } from '../filter/index.ts';
import {
  ACL_AUTH_METHOD_PREFIX, ACL_BINDING_RULE_PREFIX, ACL_TOKEN_PREFIX,
  type ACLAuthMethodRecord, type Indexed,
} from '../state/index.ts';
import type { Op } from '../store/index.ts';
import type { AclIdentity, AclResolver } from './acl-resolver.ts';
import { authorize } from './acl-enforce.ts';
import { aclPreCheck, isUUID, sameAclName } from './acl-links.ts';
import { putPlan, deletePlan } from './acl-write.ts';
import { commitWrite, pinRecord, type WritePlan } from './commit.ts';
import { aclNameGuard, Guards } from './name-guards.ts';
import type { QueryOptions, QueryResult } from './query.ts';
import { tableQuery } from './table-query.ts';
import type { EndpointDeps } from './deps.ts';

const METHOD_NAME = /^[A-Za-z0-9\-_]{1,128}$/;
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
  #loginToken(method: ACLAuthMethodRecord, vars: VerifiedIdentity, meta: Record<string, string> | undefined): TokenInput {
    const input = loginToken(this.#deps, method, vars, meta);
    if (!input.Local && !this.#primary) throw new InternalError('creating global tokens via auth methods is only permitted in the primary datacenter');
    return input;
  }

  /** The remote JWT key sets, made on the first jwt method write or login (with the identity-provider modules). */
  #keySets(): Promise<RemoteKeySets> {
    return this.#keys ??= identityProviders().then((m) => new m.RemoteKeySets());
  }

  #check(id: AclIdentity | undefined, write: boolean): void {
    aclPreCheck(this.#resolver);
    authorize(id, write ? 'aclWrite' : 'aclRead');
  }

  /** Creates or updates an auth method (by Name, any spelling: an update stores the name as now given, as Consul does). */
  async setMethod(input: AuthMethodInput, id: AclIdentity | undefined): Promise<ACLAuthMethod> {
    this.#check(id, true);
    const name = input.Name ?? '';
    if (name === '') throw new BadRequestError('Invalid Auth Method: no Name is set');
    if (!METHOD_NAME.test(name)) throw new BadRequestError("Invalid Auth Method: invalid Name. Only alphanumeric characters, '-' and '_' are allowed");
    if (!input.Type) throw new BadRequestError('Invalid Auth Method: no Type is set');
    if (!(AUTH_METHOD_TYPES as readonly string[]).includes(input.Type)) {
      throw new BadRequestError(`Invalid Auth Method: Type should be one of: [${AUTH_METHOD_TYPES.join(' ')}]`);
    }
    this.#checkLocality(input.TokenLocality);
    await this.#checkConfig(input.Type, input.Config ?? {});
    const methods = this.#deps.replica.acl.authMethods;
    await commitWrite(this.#deps, () => {
      const existing = methods.by(name);
      if (existing && existing.Type !== input.Type) throw new BadRequestError(`the Type field is immutable: ${existing.Type} vs ${input.Type}`);
      const rec: ACLAuthMethodRecord = {
        Name: name, Type: input.Type!, Config: input.Config ?? {},
        ...(input.DisplayName ? { DisplayName: input.DisplayName } : {}), ...(input.Description ? { Description: input.Description } : {}),
        ...(input.MaxTokenTTL ? { MaxTokenTTL: input.MaxTokenTTL } : {}), ...(input.TokenLocality ? { TokenLocality: input.TokenLocality } : {}),
      };
      return planMethodPut(this.#deps, existing, rec);
    });
    return methods.get(name)!;
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
  async deleteMethod(name: string, id: AclIdentity | undefined): Promise<void> {
    this.#check(id, true);
    const acl = this.#deps.replica.acl;
    await commitWrite(this.#deps, () => {
      const m = acl.authMethods.by(name);
      if (!m) return null;
      const ops: Op[] = [{ type: 'delete', key: ACL_AUTH_METHOD_PREFIX + m.Name }];
      for (const r of acl.bindingRules.all()) if (sameAclName(r.AuthMethod, m.Name)) ops.push({ type: 'delete', key: ACL_BINDING_RULE_PREFIX + r.ID });
      for (const t of acl.tokens.all()) if (t.AuthMethod && sameAclName(t.AuthMethod, m.Name)) ops.push({ type: 'delete', key: ACL_TOKEN_PREFIX + t.AccessorID });
      const guards = new Guards(this.#deps.replica.appliedRevision);
      guards.release(aclNameGuard('auth-method', m.Name));
      return guards.addTo({ compares: [pinRecord(ACL_AUTH_METHOD_PREFIX + m.Name, m)], ops });
    });
  }

  /** One auth method; null when missing. */
  readMethod(name: string, opts: QueryOptions): Promise<QueryResult<ACLAuthMethod | null>> {
    this.#check(opts.authz, false);
    const methods = this.#deps.replica.acl.authMethods;
    return tableQuery(this.#deps, opts, methods, () => ({ value: methods.by(name) ?? null }));
  }

  /** Every auth method as a stub (no Config). */
  listMethods(opts: QueryOptions): Promise<QueryResult<Omit<ACLAuthMethod, 'Config'>[]>> {
    this.#check(opts.authz, false);
    const methods = this.#deps.replica.acl.authMethods;
    return tableQuery(this.#deps, opts, methods, () => ({ value: methods.sorted().map(({ Config: _c, ...stub }) => stub) }));
  }

  /** Creates (no ID) or updates a binding rule. */
  async setRule(input: BindingRuleInput, id: AclIdentity | undefined): Promise<ACLBindingRule> {
    this.#check(id, true);
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
    await commitWrite(this.#deps, () => {
      if (!acl.authMethods.by(input.AuthMethod!)) throw new BadRequestError(`cannot find auth method with name ${JSON.stringify(input.AuthMethod)}`);
      const existing = input.ID ? acl.bindingRules.get(input.ID) : undefined;
      if (input.ID && (!isUUID(input.ID) || !existing)) throw new BadRequestError(`cannot find binding rule ${input.ID}`);
      if (existing && existing.AuthMethod !== input.AuthMethod) throw new BadRequestError(`the AuthMethod field is immutable: ${existing.AuthMethod} vs ${input.AuthMethod}`);
      ruleID = input.ID || randomUUID();
      const rec = {
        ID: ruleID, Description: input.Description ?? '', AuthMethod: input.AuthMethod!, Selector: input.Selector ?? '',
        BindType: input.BindType!, BindName: input.BindName!, ...(input.BindVars ? { BindVars: input.BindVars } : {}),
      };
      return putPlan(ACL_BINDING_RULE_PREFIX + ruleID, existing, rec);
    });
    return acl.bindingRules.get(ruleID)!;
  }

  /** Deletes a binding rule. */
  async deleteRule(ruleID: string, id: AclIdentity | undefined): Promise<void> {
    this.#check(id, true);
    await commitWrite(this.#deps, () => {
      const r = this.#deps.replica.acl.bindingRules.get(ruleID);
      return r ? deletePlan(ACL_BINDING_RULE_PREFIX + ruleID, r) : null;
    });
  }

  /** One binding rule; null when missing. */
  readRule(ruleID: string, opts: QueryOptions): Promise<QueryResult<ACLBindingRule | null>> {
    this.#check(opts.authz, false);
    const rules = this.#deps.replica.acl.bindingRules;
    return tableQuery(this.#deps, opts, rules, () => ({ value: rules.get(ruleID) ?? null }));
  }

  /** Binding rules, optionally of one auth method. */
  listRules(method: string, opts: QueryOptions): Promise<QueryResult<ACLBindingRule[]>> {
    this.#check(opts.authz, false);
    const rules = this.#deps.replica.acl.bindingRules;
    return tableQuery(this.#deps, opts, rules, () => ({ value: rules.sorted().filter((r) => !method || sameAclName(r.AuthMethod, method)) }));
  }

  /** `/v1/acl/login`: verifies the bearer token and has `issue` create the token its binding rules grant. */
  async login(params: LoginParams, issue: (input: TokenInput, method: string) => Promise<ACLToken>): Promise<ACLToken> {
    aclPreCheck(this.#resolver);
    const m = this.#deps.replica.acl.authMethods.by(params.AuthMethod);
    if (!m) throw new BadRequestError(`auth method ${JSON.stringify(params.AuthMethod)} not found`);
    const vars = await verifyLogin(m, params.BearerToken, this.#deps.clock.now(), await this.#keySets());
    return issue(this.#loginToken(m, vars, params.Meta), m.Name);
  }

  /** `/v1/acl/oidc/auth-url`: the provider URL that starts an OIDC login. */
  oidcAuthURL(params: OidcAuthURLParams): Promise<string> {
    aclPreCheck(this.#resolver);
    return this.#oidc.authURL(params);
  }

  /** `/v1/acl/oidc/callback`: completes an OIDC login; `issue` creates the token its binding rules grant. */
  async oidcCallback(params: OidcCallbackParams, issue: (input: TokenInput, method: string) => Promise<ACLToken>): Promise<ACLToken> {
    aclPreCheck(this.#resolver);
    const { method, vars, meta } = await this.#oidc.callback(params);
    return issue(this.#loginToken(method, vars, meta), method.Name);
  }
}

/**
 * The write of auth method `rec` over `existing` (found by name in any spelling). A new name
 * claims its guard, so that two concurrent creates in two spellings cannot both commit; a new
 * spelling of an existing method moves it to the key of that spelling, as Consul stores the name
 * as last written (the moved record gets this write's CreateIndex: no index is stored in a value,
 * DESIGN.md §4).
 */
function planMethodPut(deps: EndpointDeps, existing: Indexed<ACLAuthMethodRecord> | undefined, rec: ACLAuthMethodRecord): WritePlan {
  const key = ACL_AUTH_METHOD_PREFIX + rec.Name;
  if (!existing) {
    const guards = new Guards(deps.replica.appliedRevision);
    guards.claim(aclNameGuard('auth-method', rec.Name));
    return guards.addTo(putPlan(key, undefined, rec));
  }
  if (existing.Name === rec.Name) return putPlan(key, existing, rec);
  const from = ACL_AUTH_METHOD_PREFIX + existing.Name;
  const plan = putPlan(key, undefined, rec);
  plan.compares.push(pinRecord(from, existing));
  plan.ops.unshift({ type: 'delete', key: from });
  return plan;
}
