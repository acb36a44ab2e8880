// OIDC login (Consul Enterprise's ACL.OIDCAuthURL and ACL.OIDCCallback, open here): auth-url
// keeps the flow's state, nonce and PKCE verifier in the store under a 10-minute lease so any
// server can finish the callback, which takes the state exactly once and yields selector variables.
import {
  permissionDenied,
  type OidcClients, type OidcFlowSecrets, type OidcMethodConfig, type VerifiedIdentity,
} from '../acl/index.ts';
import { BadRequestError } from '../errors.ts';
import { entKey, isDefaultEnt, type ACLAuthMethodRecord, type EnterpriseMeta } from '../state/index.ts';
import { sameAclName } from './acl-links.ts';
import type { EndpointDeps } from './deps.ts';

/** JWT and OIDC validation (src/acl/identity-providers.ts), imported on the first auth-method write or login (issue #9). */
export const identityProviders = () => import('../acl/identity-providers.ts');

/**
 * Store prefix of pending OIDC logins; outside `acl/` so the replica never loads them (they are
 * read back once, by key, from the store itself).
 */
export const OIDC_STATE_PREFIX = 'oidc-state/';
/** How long a login may take between auth-url and callback (go-sso's oidcStateTimeout). */
export const OIDC_STATE_TTL_SECONDS = 600;

/** The body of /v1/acl/oidc/auth-url. */
export interface OidcAuthURLParams {
  AuthMethod: string;
  RedirectURI: string;
  ClientNonce?: string;
  Meta?: Record<string, string>;
}

/** The body of /v1/acl/oidc/callback. */
export interface OidcCallbackParams {
  AuthMethod: string;
  State: string;
  Code: string;
  ClientNonce?: string;
}

/** A verified OIDC login: the method, its selector variables and the Meta given at auth-url. */
export interface OidcIdentity {
  method: ACLAuthMethodRecord;
  vars: VerifiedIdentity;
  meta?: Record<string, string>;
}

interface PendingLogin extends OidcFlowSecrets {
  AuthMethod: string;
  /** `<ap>/<ns>` of a namespaced method (absent: default): the callback must name the same method. */
  Tenant?: string;
  ClientNonce?: string;
  Meta?: Record<string, string>;
  ExpiresAt: number;
}

const loginFailed = (why: string) => permissionDenied(`Provider login failed: ${why}`);

/** The two halves of the OIDC code flow. */
export class OidcLogin {
  readonly #deps: EndpointDeps;
  #clientCache: Promise<OidcClients> | undefined;

  constructor(deps: EndpointDeps) {
    this.#deps = deps;
  }

  /** The provider clients, made on first use (with the identity-provider modules). */
  #clients(): Promise<OidcClients> {
    return this.#clientCache ??= identityProviders().then((m) => new m.OidcClients());
  }

  /** Checks an `oidc` method Config against its provider (discovery), as a method write does. */
  async checkProvider(cfg: OidcMethodConfig): Promise<void> {
    await (await this.#clients()).client(cfg);
  }

  #method(name: string, ent?: EnterpriseMeta): { method: ACLAuthMethodRecord; cfg: OidcMethodConfig } {
    const method = this.#deps.replica.acl.authMethods.by(name, ent);
    if (!method) throw new BadRequestError(`auth method ${JSON.stringify(name)} not found`);
    if (method.Type !== 'oidc') throw new BadRequestError(`GetAuthCodeURL is incompatible with type ${JSON.stringify(method.Type)}`);
    return { method, cfg: method.Config as unknown as OidcMethodConfig };
  }

  /** Starts a login: remembers the flow's secrets and returns the provider's authorization URL. */
  async authURL(p: OidcAuthURLParams, ent?: EnterpriseMeta): Promise<string> {
    const { cfg } = this.#method(p.AuthMethod, ent);
    if (!p.RedirectURI) throw new BadRequestError('missing redirect_uri');
    const { authorizationURL, newFlowSecrets, validRedirect } = await identityProviders();
    if (!validRedirect(p.RedirectURI, cfg.AllowedRedirectURIs ?? [])) throw new BadRequestError(`unauthorized redirect_uri: ${p.RedirectURI}`);
    const client = await (await this.#clients()).client(cfg);
    const secrets = await newFlowSecrets(cfg, p.RedirectURI);
    const pending: PendingLogin = {
      ...secrets, AuthMethod: p.AuthMethod, ...(isDefaultEnt(ent) ? {} : { Tenant: entKey(ent!) }), ExpiresAt: this.#deps.clock.now() + OIDC_STATE_TTL_SECONDS * 1000,
      ...(p.ClientNonce ? { ClientNonce: p.ClientNonce } : {}), ...(p.Meta && Object.keys(p.Meta).length ? { Meta: p.Meta } : {}),
    };
    const url = await authorizationURL(client, cfg, secrets);
    const lease = await this.#deps.store.leaseGrant(OIDC_STATE_TTL_SECONDS);
    await this.#deps.store.txn({ success: [{ type: 'put', key: OIDC_STATE_PREFIX + secrets.state, value: Buffer.from(JSON.stringify(pending)), lease: lease.id }] });
    return url;
  }

  // Reads and deletes the pending login in one transaction, so a state works once on any server.
  async #take(state: string): Promise<PendingLogin | null> {
    if (!state || state.includes('/')) return null;
    const key = OIDC_STATE_PREFIX + state;
    const res = await this.#deps.store.txn({
      compares: [{ key, target: 'createRevision', op: '>', value: 0 }],
      success: [{ type: 'get', key }, { type: 'delete', key }],
    });
    const got = res.succeeded ? res.results[0] : undefined;
    if (!got || got.type !== 'get' || !got.kv) return null;
    return JSON.parse(Buffer.from(got.kv.value).toString('utf8')) as PendingLogin;
  }

  /** Finishes a login: exchanges the code and turns the verified claims into selector variables. */
  async callback(p: OidcCallbackParams, ent?: EnterpriseMeta): Promise<OidcIdentity> {
    const { method, cfg } = this.#method(p.AuthMethod, ent);
    if (!p.Code) throw loginFailed('OAuth code parameter not provided');
    const pending = await this.#take(p.State);
    const tenant = isDefaultEnt(ent) ? undefined : entKey(ent!);
    if (!pending || !sameAclName(pending.AuthMethod, method.Name) || pending.Tenant !== tenant || pending.ExpiresAt < this.#deps.clock.now()) {
      throw loginFailed('Expired or missing OAuth state.');
    }
    if (pending.ClientNonce && pending.ClientNonce !== p.ClientNonce) throw loginFailed('invalid client nonce');
    const { assertClaims, claimsFromAuthCode, mapClaims, OidcFlowError } = await identityProviders();
    const log = this.#deps.logger.child({ sub: 'acl.oidc', method: method.Name });
    let result;
    try {
      result = await claimsFromAuthCode(await (await this.#clients()).client(cfg), cfg, pending, p.Code);
    } catch (err) {
      if (err instanceof OidcFlowError) throw permissionDenied(err.message);
      throw err;
    }
    if (result.userinfoError) log.warn({ error: result.userinfoError }, 'error reading /userinfo endpoint');
    if (cfg.VerboseOIDCLogging) log.debug({ claims: result.claims }, 'OIDC provider response');
    try {
      const vars = mapClaims(result.claims, cfg);
      assertClaims(cfg.ClaimAssertions, vars);
      return { method, vars, ...(pending.Meta ? { meta: pending.Meta } : {}) };
    } catch (err) {
      throw permissionDenied(`Token verification failed: ${(err as Error).message}`);
    }
  }
}
