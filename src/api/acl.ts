// The ACL area of the client (Consul's api.ACL): bootstrap, token, policy, role, auth method and
// binding rule CRUD, login and logout (bearer token or OIDC), plus setting the agent's runtime
// tokens (/v1/agent/token/:type).

import type { ACLAuthMethod, ACLBindingRule, ACLPolicy, ACLPolicyListStub, ACLRole, ACLToken, ACLTokenListStub } from '../acl/types.ts';
import type { ApiResponse, CallOptions, ConsulClient, QueryOptions } from './client.ts';

/** A token as sent to create or update: everything the server fills in is optional. */
export type ACLTokenInput = Partial<ACLToken>;
/** A policy as sent to create or update. */
export type ACLPolicyInput = Partial<ACLPolicy>;
/** A role as sent to create or update. */
export type ACLRoleInput = Partial<ACLRole>;

/** An auth method as sent to create or update. */
export type ACLAuthMethodInput = Partial<ACLAuthMethod>;
/** An auth method as listed (no Config). */
export type ACLAuthMethodListEntry = Omit<ACLAuthMethod, 'Config'>;
/** A binding rule as sent to create or update. */
export type ACLBindingRuleInput = Partial<ACLBindingRule>;

/** The body of /v1/acl/oidc/auth-url. */
export interface ACLOIDCAuthURLParams {
  AuthMethod: string;
  RedirectURI: string;
  ClientNonce?: string;
  Meta?: Record<string, string>;
}

/** The body of /v1/acl/oidc/callback. */
export interface ACLOIDCCallbackParams {
  AuthMethod: string;
  State: string;
  Code: string;
  ClientNonce?: string;
}

/** The body of /v1/acl/login. */
export interface ACLLoginParams {
  AuthMethod: string;
  BearerToken: string;
  Meta?: Record<string, string>;
}

const seg = encodeURIComponent;

/** Client for `/v1/acl/*`. */
export class AclApi {
  readonly #c: ConsulClient;
  constructor(client: ConsulClient) {
    this.#c = client;
  }

  /** Bootstraps the ACL system; the answer carries the initial management token. */
  bootstrap(options?: CallOptions): Promise<ApiResponse<ACLToken>> {
    return this.#c.json({ method: 'PUT', path: '/v1/acl/bootstrap', options });
  }

  /** Creates a token. */
  tokenCreate(token: ACLTokenInput, options?: CallOptions): Promise<ApiResponse<ACLToken>> {
    return this.#c.json({ method: 'PUT', path: '/v1/acl/token', json: token, options });
  }

  /** Updates the token named by `token.AccessorID`. */
  tokenUpdate(token: ACLTokenInput, options?: CallOptions): Promise<ApiResponse<ACLToken>> {
    return this.#c.json({ method: 'PUT', path: `/v1/acl/token/${seg(token.AccessorID ?? '')}`, json: token, options });
  }

  /** Clones a token with a new description. */
  tokenClone(accessorID: string, description: string, options?: CallOptions): Promise<ApiResponse<ACLToken>> {
    return this.#c.json({ method: 'PUT', path: `/v1/acl/token/${seg(accessorID)}/clone`, json: { Description: description }, options });
  }

  /** Reads a token by accessor ID. */
  tokenRead(accessorID: string, options?: QueryOptions): Promise<ApiResponse<ACLToken>> {
    return this.#c.json({ method: 'GET', path: `/v1/acl/token/${seg(accessorID)}`, options });
  }

  /** Reads the token the request is made with. */
  tokenReadSelf(options?: QueryOptions): Promise<ApiResponse<ACLToken>> {
    return this.#c.json({ method: 'GET', path: '/v1/acl/token/self', options });
  }

  /** Deletes a token. */
  async tokenDelete(accessorID: string, options?: CallOptions): Promise<void> {
    await this.#c.request({ method: 'DELETE', path: `/v1/acl/token/${seg(accessorID)}`, options });
  }

  /** Lists tokens. */
  tokenList(options?: QueryOptions): Promise<ApiResponse<ACLTokenListStub[]>> {
    return this.#c.json({ method: 'GET', path: '/v1/acl/tokens', options });
  }

  /** Creates a policy. */
  policyCreate(policy: ACLPolicyInput, options?: CallOptions): Promise<ApiResponse<ACLPolicy>> {
    return this.#c.json({ method: 'PUT', path: '/v1/acl/policy', json: policy, options });
  }

  /** Updates the policy named by `policy.ID`. */
  policyUpdate(policy: ACLPolicyInput, options?: CallOptions): Promise<ApiResponse<ACLPolicy>> {
    return this.#c.json({ method: 'PUT', path: `/v1/acl/policy/${seg(policy.ID ?? '')}`, json: policy, options });
  }

  /** Reads a policy by ID. */
  policyRead(id: string, options?: QueryOptions): Promise<ApiResponse<ACLPolicy>> {
    return this.#c.json({ method: 'GET', path: `/v1/acl/policy/${seg(id)}`, options });
  }

  /** Reads a policy by name. */
  policyReadByName(name: string, options?: QueryOptions): Promise<ApiResponse<ACLPolicy>> {
    return this.#c.json({ method: 'GET', path: `/v1/acl/policy/name/${seg(name)}`, options });
  }

  /** Deletes a policy. */
  async policyDelete(id: string, options?: CallOptions): Promise<void> {
    await this.#c.request({ method: 'DELETE', path: `/v1/acl/policy/${seg(id)}`, options });
  }

  /** Lists policies. */
  policyList(options?: QueryOptions): Promise<ApiResponse<ACLPolicyListStub[]>> {
    return this.#c.json({ method: 'GET', path: '/v1/acl/policies', options });
  }

  /** Creates a role. */
  roleCreate(role: ACLRoleInput, options?: CallOptions): Promise<ApiResponse<ACLRole>> {
    return this.#c.json({ method: 'PUT', path: '/v1/acl/role', json: role, options });
  }

  /** Updates the role named by `role.ID`. */
  roleUpdate(role: ACLRoleInput, options?: CallOptions): Promise<ApiResponse<ACLRole>> {
    return this.#c.json({ method: 'PUT', path: `/v1/acl/role/${seg(role.ID ?? '')}`, json: role, options });
  }

  /** Reads a role by ID. */
  roleRead(id: string, options?: QueryOptions): Promise<ApiResponse<ACLRole>> {
    return this.#c.json({ method: 'GET', path: `/v1/acl/role/${seg(id)}`, options });
  }

  /** Reads a role by name. */
  roleReadByName(name: string, options?: QueryOptions): Promise<ApiResponse<ACLRole>> {
    return this.#c.json({ method: 'GET', path: `/v1/acl/role/name/${seg(name)}`, options });
  }

  /** Deletes a role. */
  async roleDelete(id: string, options?: CallOptions): Promise<void> {
    await this.#c.request({ method: 'DELETE', path: `/v1/acl/role/${seg(id)}`, options });
  }

  /** Lists roles. */
  roleList(options?: QueryOptions): Promise<ApiResponse<ACLRole[]>> {
    return this.#c.json({ method: 'GET', path: '/v1/acl/roles', options });
  }

  /** Creates an auth method. */
  authMethodCreate(method: ACLAuthMethodInput, options?: CallOptions): Promise<ApiResponse<ACLAuthMethod>> {
    return this.#c.json({ method: 'PUT', path: '/v1/acl/auth-method', json: method, options });
  }

  /** Updates the auth method named by `method.Name`. */
  authMethodUpdate(method: ACLAuthMethodInput, options?: CallOptions): Promise<ApiResponse<ACLAuthMethod>> {
    return this.#c.json({ method: 'PUT', path: `/v1/acl/auth-method/${seg(method.Name ?? '')}`, json: method, options });
  }

  /** Reads an auth method by name. */
  authMethodRead(name: string, options?: QueryOptions): Promise<ApiResponse<ACLAuthMethod>> {
    return this.#c.json({ method: 'GET', path: `/v1/acl/auth-method/${seg(name)}`, options });
  }

  /** Deletes an auth method (with its binding rules and tokens). */
  async authMethodDelete(name: string, options?: CallOptions): Promise<void> {
    await this.#c.request({ method: 'DELETE', path: `/v1/acl/auth-method/${seg(name)}`, options });
  }

  /** Lists auth methods. */
  authMethodList(options?: QueryOptions): Promise<ApiResponse<ACLAuthMethodListEntry[]>> {
    return this.#c.json({ method: 'GET', path: '/v1/acl/auth-methods', options });
  }

  /** Creates a binding rule. */
  bindingRuleCreate(rule: ACLBindingRuleInput, options?: CallOptions): Promise<ApiResponse<ACLBindingRule>> {
    return this.#c.json({ method: 'PUT', path: '/v1/acl/binding-rule', json: rule, options });
  }

  /** Updates the binding rule named by `rule.ID`. */
  bindingRuleUpdate(rule: ACLBindingRuleInput, options?: CallOptions): Promise<ApiResponse<ACLBindingRule>> {
    return this.#c.json({ method: 'PUT', path: `/v1/acl/binding-rule/${seg(rule.ID ?? '')}`, json: rule, options });
  }

  /** Reads a binding rule by ID. */
  bindingRuleRead(id: string, options?: QueryOptions): Promise<ApiResponse<ACLBindingRule>> {
    return this.#c.json({ method: 'GET', path: `/v1/acl/binding-rule/${seg(id)}`, options });
  }

  /** Deletes a binding rule. */
  async bindingRuleDelete(id: string, options?: CallOptions): Promise<void> {
    await this.#c.request({ method: 'DELETE', path: `/v1/acl/binding-rule/${seg(id)}`, options });
  }

  /** Lists binding rules, only those of `authMethod` when given. */
  bindingRuleList(authMethod = '', options?: QueryOptions): Promise<ApiResponse<ACLBindingRule[]>> {
    return this.#c.json({ method: 'GET', path: '/v1/acl/binding-rules', query: { authmethod: authMethod || undefined }, options });
  }

  /** Starts an OIDC login: the provider URL to send the user's browser to. */
  async oidcAuthURL(params: ACLOIDCAuthURLParams, options?: CallOptions): Promise<string> {
    const r = await this.#c.json<{ AuthURL: string }>({ method: 'POST', path: '/v1/acl/oidc/auth-url', json: params, options });
    return r.data.AuthURL;
  }

  /** Completes an OIDC login with the provider's code and state; answers the new token. */
  oidcCallback(params: ACLOIDCCallbackParams, options?: CallOptions): Promise<ApiResponse<ACLToken>> {
    return this.#c.json({ method: 'POST', path: '/v1/acl/oidc/callback', json: params, options });
  }

  /** Exchanges an auth method's bearer token for a Consul token. */
  login(params: ACLLoginParams, options?: CallOptions): Promise<ApiResponse<ACLToken>> {
    return this.#c.json({ method: 'POST', path: '/v1/acl/login', json: params, options });
  }

  /** Deletes the login token the request is made with. */
  async logout(options?: CallOptions): Promise<void> {
    await this.#c.request({ method: 'POST', path: '/v1/acl/logout', options });
  }

  /** Sets one of the agent's runtime tokens (Consul's Agent().Update*ACLToken). */
  async setAgentToken(kind: string, token: string, options?: CallOptions): Promise<void> {
    await this.#c.request({ method: 'PUT', path: `/v1/agent/token/${seg(kind)}`, json: { Token: token }, options });
  }
}
