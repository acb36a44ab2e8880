// ACL auth methods and binding rules (Consul's ACL.AuthMethodSet/Read/Delete/List and
// BindingRuleSet/Read/Delete/List), stored and validated with Consul's texts; deleting a method
// removes its binding rules and the tokens it issued; login verifies a bearer token (acl-login.ts)
// or completes an OIDC code flow (acl-oidc.ts).
import { randomUUID } from 'node:crypto';
import {
  type ACLAuthMethod, type ACLBindingRule, type ACLBindType, type ACLToken, type JwtKeySourceConfig, type OidcMethodConfig, type RemoteKeySets,
} from '../acl/index.ts';
import { identityProviders, loginToken, verifyLogin, type LoginParams } from './acl-login.ts';
import { OidcLogin, type OidcAuthURLParams, type OidcCallbackParams } from './acl-oidc.ts';
import type { TokenInput } from './acl-tokens.ts';
import { BadRequestError } from '../errors.ts';
import { compileFilter } from '../filter/index.ts';
import {
  ACL_AUTH_METHOD_PREFIX, ACL_BINDING_RULE_PREFIX, ACL_TOKEN_PREFIX,
  type ACLAuthMethodRecord,
} from '../state/index.ts';
import type { Op } from '../store/index.ts';
import type { AclIdentity, AclResolver } from './acl-resolver.ts';
import { authorize } from './acl-enforce.ts';
import { aclPreCheck, isUUID } from './acl-links.ts';
import { putPlan, deletePlan } from './acl-write.ts';
import { commitWrite, pinRecord } from './commit.ts';
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

  constructor(deps: EndpointDeps, resolver: AclResolver) {
    this.#deps = deps;
    this.#resolver = resolver;
    this.#oidc = new OidcLogin(deps);
  }

  /** The remote JWT key sets, made on the first jwt method write or login (with the identity-provider modules). */
  #keySets(): Promise<RemoteKeySets> {
    return this.#keys ??= identityProviders().then((m) => new m.RemoteKeySets());
  }

  #check(id: AclIdentity | undefined, write: boolean): void {
    aclPreCheck(this.#resolver);
    authorize(id, write ? 'aclWrite' : 'aclRead');
  }

  /** Creates or updates an auth method (by Name). */
  async setMethod(input: AuthMethodInput, id: AclIdentity | undefined): Promise<ACLAuthMethod> {
    this.#check(id, true);
    const name = input.Name ?? '';
    if (name === '') throw new BadRequestError('Invalid Auth Method: no Name is set');
    if (!METHOD_NAME.test(name)) throw new BadRequestError("Invalid Auth Method: invalid Name. Only alphanumeric characters, '-' and '_' are allowed");
    if (!input.Type) throw new BadRequestError('Invalid Auth Method: no Type is set');
    if (!(AUTH_METHOD_TYPES as readonly string[]).includes(input.Type)) {
      throw new BadRequestError(`Invalid Auth Method: Type should be one of: [${AUTH_METHOD_TYPES.join(' ')}]`);
    }
    await this.#checkConfig(input.Type, input.Config ?? {});
    const methods = this.#deps.replica.acl.authMethods;
    await commitWrite(this.#deps, () => {
      const existing = methods.get(name);
      if (existing && existing.Type !== input.Type) throw new BadRequestError(`the Type field is immutable: ${existing.Type} vs ${input.Type}`);
      const rec: ACLAuthMethodRecord = {
        Name: name, Type: input.Type!, Config: input.Config ?? {},
        ...(input.DisplayName ? { DisplayName: input.DisplayName } : {}), ...(input.Description ? { Description: input.Description } : {}),
        ...(input.MaxTokenTTL ? { MaxTokenTTL: input.MaxTokenTTL } : {}), ...(input.TokenLocality ? { TokenLocality: input.TokenLocality } : {}),
      };
      return putPlan(ACL_AUTH_METHOD_PREFIX + name, existing, rec);
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
      const m = acl.authMethods.get(name);
      if (!m) return null;
      const ops: Op[] = [{ type: 'delete', key: ACL_AUTH_METHOD_PREFIX + name }];
      for (const r of acl.bindingRules.all()) if (r.AuthMethod === name) ops.push({ type: 'delete', key: ACL_BINDING_RULE_PREFIX + r.ID });
      for (const t of acl.tokens.all()) if (t.AuthMethod === name) ops.push({ type: 'delete', key: ACL_TOKEN_PREFIX + t.AccessorID });
      return { compares: [pinRecord(ACL_AUTH_METHOD_PREFIX + name, m)], ops };
    });
  }

  /** One auth method; null when missing. */
  readMethod(name: string, opts: QueryOptions): Promise<QueryResult<ACLAuthMethod | null>> {
    this.#check(opts.authz, false);
    const methods = this.#deps.replica.acl.authMethods;
    return tableQuery(this.#deps, opts, methods, () => ({ value: methods.get(name) ?? null }));
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
      if (!acl.authMethods.get(input.AuthMethod!)) throw new BadRequestError(`cannot find auth method with name ${JSON.stringify(input.AuthMethod)}`);
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
    return tableQuery(this.#deps, opts, rules, () => ({ value: rules.sorted().filter((r) => !method || r.AuthMethod === method) }));
  }

  /** `/v1/acl/login`: verifies the bearer token and has `issue` create the token its binding rules grant. */
  async login(params: LoginParams, issue: (input: TokenInput, method: string) => Promise<ACLToken>): Promise<ACLToken> {
    aclPreCheck(this.#resolver);
    const m = this.#deps.replica.acl.authMethods.get(params.AuthMethod);
    if (!m) throw new BadRequestError(`auth method ${JSON.stringify(params.AuthMethod)} not found`);
    const vars = await verifyLogin(m, params.BearerToken, this.#deps.clock.now(), await this.#keySets());
    return issue(loginToken(this.#deps, m, vars, params.Meta), m.Name);
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
    return issue(loginToken(this.#deps, method, vars, meta), method.Name);
  }
}
