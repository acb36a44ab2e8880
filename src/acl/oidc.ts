// The `oidc` auth method's authorization code flow (Consul Enterprise's go-sso oidcauth, open
// here) on openid-client: discovery, the provider's authorize URL with state, nonce and PKCE, the
// code exchange with the client secret, ID token checks (signature, iss, aud, exp, nonce,
// JWTSupportedAlgs, BoundAudiences) and optional userinfo claims.
import type * as OidcLib from 'openid-client';
import { IdpCache, idpFetch } from './idp-fetch.ts';
import type { JwtMethodConfig } from './jwt.ts';

/** The Config of an `oidc` auth method. */
export interface OidcMethodConfig extends JwtMethodConfig {
  OIDCDiscoveryURL: string;
  OIDCDiscoveryCACert?: string;
  OIDCClientID: string;
  OIDCClientSecret: string;
  OIDCScopes?: string[];
  OIDCACRValues?: string[];
  AllowedRedirectURIs: string[];
  VerboseOIDCLogging?: boolean;
  /** PKCE (S256) on the code flow; on unless set to false. */
  OIDCClientUsePKCE?: boolean;
}

/** What the authorize step leaves for the callback: checked once, then forgotten. */
export interface OidcFlowSecrets {
  state: string;
  nonce: string;
  redirectURI: string;
  codeVerifier?: string;
}

/** A failed flow, worded as Consul's ProviderLoginFailedError / TokenVerificationFailedError. */
export class OidcFlowError extends Error {}

const LOOPBACK = ['localhost', '127.0.0.1', '[::1]', '::1'];

/** Whether a redirect URI is allowed; loopback URIs match whatever their port (RFC 8252 §7.3). */
export function validRedirect(uri: string, allowed: string[]): boolean {
  if (!URL.canParse(uri)) return false;
  const input = new URL(uri);
  if (!LOOPBACK.includes(input.hostname)) return allowed.includes(uri);
  const portless = (u: URL) => `${u.protocol}//${u.hostname}${u.pathname}${u.search}${u.hash}`;
  return allowed.some((a) => URL.canParse(a) && portless(new URL(a)) === portless(input));
}

let oidcModule: Promise<typeof OidcLib> | undefined;

/** openid-client (with jose), imported on the first OIDC login rather than on every agent start. */
function loadOidc(): Promise<typeof OidcLib> {
  oidcModule ??= import('openid-client');
  return oidcModule;
}

// client_secret_basic unless the provider says it only takes client_secret_post (the spec's default).
function secretAuth(oidc: typeof OidcLib, secret: string): OidcLib.ClientAuth {
  const basic = oidc.ClientSecretBasic(secret);
  const post = oidc.ClientSecretPost(secret);
  return (as, client, body, headers) => {
    const methods = as.token_endpoint_auth_methods_supported;
    (methods && !methods.includes('client_secret_basic') && methods.includes('client_secret_post') ? post : basic)(as, client, body, headers);
  };
}

/** openid-client configurations per method Config, owned by the login path (no module state). */
export class OidcClients {
  readonly #cache = new IdpCache<OidcLib.Configuration>();

  /** The discovered client for a method Config; a failed discovery is not cached. */
  client(cfg: OidcMethodConfig): Promise<OidcLib.Configuration> {
    const key = JSON.stringify([cfg.OIDCDiscoveryURL, cfg.OIDCDiscoveryCACert, cfg.OIDCClientID, cfg.OIDCClientSecret]);
    return this.#cache.get(key, () => discover(cfg));
  }
}

async function discover(cfg: OidcMethodConfig): Promise<OidcLib.Configuration> {
  const oidc = await loadOidc();
  const url = new URL(cfg.OIDCDiscoveryURL);
  const execute = [oidc.enableNonRepudiationChecks, ...(url.protocol === 'http:' ? [oidc.allowInsecureRequests] : [])];
  try {
    return await oidc.discovery(url, cfg.OIDCClientID, undefined, secretAuth(oidc, cfg.OIDCClientSecret), {
      execute, [oidc.customFetch]: idpFetch(cfg.OIDCDiscoveryCACert),
    });
  } catch (err) {
    throw new Error(`error checking OIDCDiscoveryURL: ${(err as Error).message}`);
  }
}

/** Fresh state, nonce and (with PKCE) code verifier for one authorization request. */
export async function newFlowSecrets(cfg: OidcMethodConfig, redirectURI: string): Promise<OidcFlowSecrets> {
  const oidc = await loadOidc();
  return {
    state: oidc.randomState(), nonce: oidc.randomNonce(), redirectURI,
    ...(cfg.OIDCClientUsePKCE === false ? {} : { codeVerifier: oidc.randomPKCECodeVerifier() }),
  };
}

/** The provider's authorization URL for these secrets (scope `openid` plus OIDCScopes). */
export async function authorizationURL(client: OidcLib.Configuration, cfg: OidcMethodConfig, s: OidcFlowSecrets): Promise<string> {
  const oidc = await loadOidc();
  const scopes = [...new Set(['openid', ...(cfg.OIDCScopes ?? [])])];
  const params: Record<string, string> = { redirect_uri: s.redirectURI, scope: scopes.join(' '), state: s.state, nonce: s.nonce };
  if (cfg.OIDCACRValues?.length) params.acr_values = cfg.OIDCACRValues.join(' ');
  if (s.codeVerifier) {
    params.code_challenge = await oidc.calculatePKCECodeChallenge(s.codeVerifier);
    params.code_challenge_method = 'S256';
  }
  return oidc.buildAuthorizationUrl(client, params).href;
}

// openid-client reports claim and signature problems with these codes; anything else is the exchange.
const VERIFICATION_CODES = ['OAUTH_JWT_CLAIM_COMPARISON_FAILED', 'OAUTH_JWS_SIGNATURE_VERIFICATION_FAILED', 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED', 'OAUTH_INVALID_RESPONSE'];

// The claim an openid-client comparison failure is about, found along the error's cause chain.
function failedClaim(err: unknown): string | undefined {
  for (let e = err as { claim?: unknown; cause?: unknown } | undefined, i = 0; e && typeof e === 'object' && i < 4; e = e.cause as typeof e, i++) {
    if (typeof e.claim === 'string') return e.claim;
  }
  return undefined;
}

function flowFailure(err: unknown): OidcFlowError {
  const e = err as Error & { code?: string };
  const claim = failedClaim(err);
  if (claim === 'nonce') return new OidcFlowError('Token verification failed: Invalid ID token nonce.');
  if (claim) return new OidcFlowError(`Token verification failed: ${e.message} ("${claim}" claim)`);
  if (e.code && VERIFICATION_CODES.includes(e.code)) return new OidcFlowError(`Token verification failed: ${e.message}`);
  const body = err as { error?: string; error_description?: string };
  const detail = body.error ? `${body.error}${body.error_description ? `: ${body.error_description}` : ''}` : e.message;
  return new OidcFlowError(`Provider login failed: Error exchanging oidc code: ${detail}`);
}

/** The callback URL as the provider redirected to it (with `iss` when the provider promises it). */
function callbackURL(client: OidcLib.Configuration, s: OidcFlowSecrets, code: string): URL {
  const u = new URL(s.redirectURI);
  u.searchParams.set('code', code);
  u.searchParams.set('state', s.state);
  const meta = client.serverMetadata();
  // One provider per method, so the mix-up attack the iss parameter guards against cannot occur.
  if (meta.authorization_response_iss_parameter_supported) u.searchParams.set('iss', meta.issuer);
  return u;
}

function checkIdToken(idToken: string, claims: Record<string, unknown>, cfg: OidcMethodConfig): void {
  const alg = String((JSON.parse(Buffer.from(idToken.split('.')[0], 'base64url').toString('utf8')) as { alg?: unknown }).alg);
  const algs = cfg.JWTSupportedAlgs?.length ? cfg.JWTSupportedAlgs : ['RS256'];
  if (!algs.includes(alg)) throw new OidcFlowError(`Token verification failed: unsupported signing algorithm: ${alg}`);
  if (cfg.BoundAudiences?.length) {
    const aud = Array.isArray(claims.aud) ? claims.aud.map(String) : [String(claims.aud)];
    if (!aud.some((a) => cfg.BoundAudiences!.includes(a))) {
      throw new OidcFlowError('Token verification failed: invalid audience (aud) claim: audience claim does not match any expected audience');
    }
  }
}

/** What a completed code flow yields: the ID token's claims merged with userinfo's. */
export interface OidcClaims {
  claims: Record<string, unknown>;
  /** Why userinfo could not be read (the login still succeeds, as in Consul). */
  userinfoError?: string;
}

/** Exchanges the code, verifies the ID token against the stored secrets, and merges userinfo claims. */
export async function claimsFromAuthCode(client: OidcLib.Configuration, cfg: OidcMethodConfig, s: OidcFlowSecrets, code: string): Promise<OidcClaims> {
  const oidc = await loadOidc();
  let tokens: Awaited<ReturnType<typeof OidcLib.authorizationCodeGrant>>;
  try {
    tokens = await oidc.authorizationCodeGrant(client, callbackURL(client, s, code), {
      expectedState: s.state, expectedNonce: s.nonce, idTokenExpected: true, ...(s.codeVerifier ? { pkceCodeVerifier: s.codeVerifier } : {}),
    });
  } catch (err) {
    throw flowFailure(err);
  }
  const claims = { ...(tokens.claims() ?? {}) } as Record<string, unknown>;
  checkIdToken(tokens.id_token ?? '', claims, cfg);
  delete claims.nonce;
  if (!client.serverMetadata().userinfo_endpoint || !tokens.access_token) return { claims };
  try {
    const info = await oidc.fetchUserInfo(client, tokens.access_token, String(claims.sub));
    return { claims: { ...claims, ...info } };
  } catch (err) {
    return { claims, userinfoError: (err as Error).message };
  }
}
