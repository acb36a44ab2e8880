// Remote key sources of the `jwt` auth method: a JWKS URL (JWKSURL + JWKSCACert) or an OIDC
// discovery document (OIDCDiscoveryURL + OIDCDiscoveryCACert, whose issuer then binds `iss`);
// keys come from jose's createRemoteJWKSet (cached, refetched on an unknown `kid`).
import type * as Jose from 'jose';
import { IdpCache, idpFetch, type IdpFetch } from './idp-fetch.ts';
import { checkClaims, type JwtMethodConfig } from './jwt.ts';

/** A `jwt` method's Config with the key-source fields. */
export interface JwtKeySourceConfig extends JwtMethodConfig {
  JWKSURL?: string;
  JWKSCACert?: string;
  OIDCDiscoveryURL?: string;
  OIDCDiscoveryCACert?: string;
}

/** A resolved remote key source: the key set, and the issuer when it came from discovery. */
export interface RemoteKeySource {
  keys: ReturnType<typeof Jose.createRemoteJWKSet>;
  issuer?: string;
}

/** The fields of an OIDC discovery document this agent reads. */
export interface DiscoveryDocument {
  issuer: string;
  jwks_uri: string;
  authorization_endpoint?: string;
  token_endpoint?: string;
  userinfo_endpoint?: string;
}

const trimSlash = (s: string) => s.replace(/\/+$/, '');

/** Fetches `<base>/.well-known/openid-configuration` and checks its issuer is `base`, as go-oidc does. */
export async function fetchDiscovery(base: string, fetchFn: IdpFetch): Promise<DiscoveryDocument> {
  const url = `${trimSlash(base)}/.well-known/openid-configuration`;
  const res = await fetchFn(url, { method: 'GET', headers: { accept: 'application/json' } });
  if (res.status !== 200) throw new Error(`${res.status} ${res.statusText}: ${(await res.text()).slice(0, 200)}`);
  const doc = await res.json() as Partial<DiscoveryDocument>;
  if (typeof doc.issuer !== 'string' || typeof doc.jwks_uri !== 'string') throw new Error('discovery document lacks issuer or jwks_uri');
  if (trimSlash(doc.issuer) !== trimSlash(base)) {
    throw new Error(`oidc: issuer did not match the issuer returned by provider, expected "${base}" got "${doc.issuer}"`);
  }
  return doc as DiscoveryDocument;
}

/** Remote key sources per method config, kept by whoever owns the login path (no module state). */
export class RemoteKeySets {
  readonly #cache = new IdpCache<RemoteKeySource>();

  /** The key source a config names; a failed discovery is not cached. */
  source(cfg: JwtKeySourceConfig): Promise<RemoteKeySource> {
    const key = JSON.stringify([cfg.JWKSURL, cfg.JWKSCACert, cfg.OIDCDiscoveryURL, cfg.OIDCDiscoveryCACert]);
    return this.#cache.get(key, () => resolveSource(cfg));
  }
}

let joseModule: Promise<typeof Jose> | undefined;

/** jose, imported when a remote key source is first used rather than on every agent start. */
function loadJose(): Promise<typeof Jose> {
  joseModule ??= import('jose');
  return joseModule;
}

async function resolveSource(cfg: JwtKeySourceConfig): Promise<RemoteKeySource> {
  const { createRemoteJWKSet, customFetch } = await loadJose();
  if (cfg.JWKSURL) {
    return { keys: createRemoteJWKSet(new URL(cfg.JWKSURL), { [customFetch]: idpFetch(cfg.JWKSCACert) }) };
  }
  if (!cfg.OIDCDiscoveryURL) throw new Error('no JWKSURL or OIDCDiscoveryURL configured');
  const fetchFn = idpFetch(cfg.OIDCDiscoveryCACert);
  let doc: DiscoveryDocument;
  try {
    doc = await fetchDiscovery(cfg.OIDCDiscoveryURL, fetchFn);
  } catch (err) {
    throw new Error(`error checking OIDCDiscoveryURL: ${(err as Error).message}`);
  }
  return { keys: createRemoteJWKSet(new URL(doc.jwks_uri), { [customFetch]: fetchFn }), issuer: doc.issuer };
}

/** Why jose refused a token, in the words the static-key path uses. */
export function joseFailure(errors: typeof Jose.errors, err: unknown): string {
  if (err instanceof errors.JOSEAlgNotAllowed) return 'unsupported signing algorithm';
  if (err instanceof errors.JWSSignatureVerificationFailed || err instanceof errors.JWKSNoMatchingKey) return 'failed to verify id token signature';
  if (err instanceof errors.JWSInvalid) return `malformed token: ${err.message}`;
  return `error fetching keys: ${(err as Error).message}`;
}

/** Verifies a compact JWS with a remote key source, then the same claim checks as static keys. */
export async function verifyRemoteJwt(token: string, cfg: JwtKeySourceConfig, source: RemoteKeySource, nowMs: number): Promise<Record<string, unknown>> {
  const algorithms = cfg.JWTSupportedAlgs?.length ? cfg.JWTSupportedAlgs : ['RS256'];
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('malformed token: expected three dot-separated parts');
  let alg = '';
  try {
    alg = String((JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as { alg?: unknown }).alg ?? '');
  } catch {
    throw new Error('malformed token: invalid header');
  }
  if (!algorithms.includes(alg)) throw new Error(`unsupported signing algorithm: ${alg}`);
  const { compactVerify, errors } = await loadJose();
  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(token, source.keys, { algorithms }));
  } catch (err) {
    throw new Error(joseFailure(errors, err));
  }
  const claims = JSON.parse(Buffer.from(payload).toString('utf8')) as Record<string, unknown>;
  if (!claims || typeof claims !== 'object' || Array.isArray(claims)) throw new Error('malformed token: invalid payload');
  if (source.issuer && claims.iss !== source.issuer) throw new Error('invalid issuer (iss) claim');
  checkClaims(claims, cfg, nowMs);
  return claims;
}
