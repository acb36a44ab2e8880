// Static validation of `jwt` and `oidc` auth method Config with Consul's texts (go-sso's
// Config.Validate): required and forbidden fields per type, exactly one key source for `jwt`,
// redirect URIs, static public keys, signing algorithms and duplicate claim-mapping targets;
// ClaimAssertions must each compile as bexpr over the mapped claims.
import { createPublicKey } from 'node:crypto';
import { claimAssertionsError } from './claim-assertions.ts';

const ALGS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'EdDSA'];

const OIDC_REQUIRED = ['OIDCDiscoveryURL', 'OIDCClientID', 'OIDCClientSecret', 'AllowedRedirectURIs'];
const OIDC_FORBIDDEN = ['JWKSURL', 'JWKSCACert', 'JWTValidationPubKeys', 'BoundIssuer', 'ExpirationLeeway', 'NotBeforeLeeway', 'ClockSkewLeeway'];
const JWT_FORBIDDEN = ['OIDCClientID', 'OIDCClientSecret', 'OIDCScopes', 'OIDCACRValues', 'AllowedRedirectURIs', 'VerboseOIDCLogging'];
const LIST_FIELDS = ['JWTValidationPubKeys', 'JWTSupportedAlgs', 'BoundAudiences', 'OIDCScopes', 'OIDCACRValues', 'AllowedRedirectURIs'];
const STRING_FIELDS = ['JWKSURL', 'JWKSCACert', 'OIDCDiscoveryURL', 'OIDCDiscoveryCACert', 'OIDCClientID', 'OIDCClientSecret', 'BoundIssuer'];

// Set means present and not the zero value, as Go's struct fields see it.
function isSet(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === false || v === 0) return false;
  return !(Array.isArray(v) && v.length === 0);
}

function checkShapes(cfg: Record<string, unknown>): string | null {
  for (const f of LIST_FIELDS) {
    const v = cfg[f];
    if (v !== undefined && v !== null && (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))) return `'${f}' must be a list of strings`;
  }
  for (const f of STRING_FIELDS) {
    if (cfg[f] !== undefined && cfg[f] !== null && typeof cfg[f] !== 'string') return `'${f}' must be a string`;
  }
  for (const f of ['ClaimMappings', 'ListClaimMappings']) {
    const v = cfg[f];
    if (v !== undefined && v !== null && (typeof v !== 'object' || Array.isArray(v))) return `'${f}' must be a map of strings`;
  }
  return null;
}

function checkOidc(cfg: Record<string, unknown>): string | null {
  for (const f of OIDC_REQUIRED) if (!isSet(cfg[f])) return `'${f}' must be set for type "oidc"`;
  for (const f of OIDC_FORBIDDEN) if (isSet(cfg[f])) return `'${f}' must not be set for type "oidc"`;
  const bad = (cfg.AllowedRedirectURIs as string[]).filter((u) => !URL.canParse(u));
  if (bad.length) return `Invalid AllowedRedirectURIs provided: [${bad.join(' ')}]`;
  return null;
}

function checkJwt(cfg: Record<string, unknown>): string | null {
  for (const f of JWT_FORBIDDEN) if (isSet(cfg[f])) return `'${f}' must not be set for type "jwt"`;
  const sources = ['OIDCDiscoveryURL', 'JWTValidationPubKeys', 'JWKSURL'].filter((f) => isSet(cfg[f]));
  if (sources.length !== 1) return `exactly one of 'JWTValidationPubKeys', 'JWKSURL', or 'OIDCDiscoveryURL' must be set for type "jwt"`;
  if (!isSet(cfg.JWKSURL) && isSet(cfg.JWKSCACert)) return "'JWKSCACert' should not be set unless 'JWKSURL' is set";
  const keys = (cfg.JWTValidationPubKeys as string[] | undefined) ?? [];
  for (const [i, pem] of keys.entries()) {
    try {
      createPublicKey(pem);
    } catch {
      return `error parsing public key JWTValidationPubKeys[${i}]: data does not contain any valid RSA, ECDSA, or ED25519 public keys`;
    }
  }
  return null;
}

function checkCommon(cfg: Record<string, unknown>): string | null {
  if (!isSet(cfg.OIDCDiscoveryURL) && isSet(cfg.OIDCDiscoveryCACert)) return "'OIDCDiscoveryCACert' should not be set unless 'OIDCDiscoveryURL' is set";
  for (const a of (cfg.JWTSupportedAlgs as string[] | undefined) ?? []) if (!ALGS.includes(a)) return `Invalid supported algorithm: ${a}`;
  for (const f of ['ClaimMappings', 'ListClaimMappings']) {
    const seen = new Set<string>();
    for (const to of Object.values((cfg[f] as Record<string, unknown> | undefined) ?? {})) {
      if (seen.has(String(to))) return `${f} contains multiple mappings for key ${JSON.stringify(String(to))}`;
      seen.add(String(to));
    }
  }
  return claimAssertionsError(cfg.ClaimAssertions);
}

/** Why a `jwt` or `oidc` method's Config is invalid (Consul's text), or null; other types pass. */
export function authMethodConfigError(type: string, cfg: Record<string, unknown>): string | null {
  if (type !== 'jwt' && type !== 'oidc') return null;
  return checkShapes(cfg) ?? (type === 'oidc' ? checkOidc(cfg) : checkJwt(cfg)) ?? checkCommon(cfg);
}
