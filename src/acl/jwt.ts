// The `jwt` auth method's validator (Consul's authmethod/ssoauth over hashicorp/cap/jwt) with
// static keys: signature checked with node:crypto against JWTValidationPubKeys (RS*, PS*, ES*,
// EdDSA), then expiry, not-before, issuer and audiences; claims mapped into selector variables.
// Remote key sources (JWKSURL, OIDCDiscoveryURL) are in jwt-keys.ts.
import { constants, createPublicKey, verify, type KeyObject } from 'node:crypto';

/** The Config fields of a `jwt` auth method this validator reads. */
export interface JwtMethodConfig {
  JWTValidationPubKeys?: string[];
  JWTSupportedAlgs?: string[];
  BoundIssuer?: string;
  BoundAudiences?: string[];
  ClaimMappings?: Record<string, string>;
  ListClaimMappings?: Record<string, string>;
  /** bexpr expressions over the mapped claims, all of which must hold for a login. */
  ClaimAssertions?: string[];
  /** Seconds of allowed clock skew for exp/nbf (Consul's ClockSkewLeeway, 60s by default). */
  ClockSkewLeeway?: number | string;
}

/** What a verified token gives binding rules: `value.<name>` and `list.<name>` selector variables. */
export interface VerifiedIdentity {
  value: Record<string, string>;
  list: Record<string, string[]>;
}

const HASH: Record<string, string | null> = {
  RS256: 'sha256', RS384: 'sha384', RS512: 'sha512', PS256: 'sha256', PS384: 'sha384', PS512: 'sha512',
  ES256: 'sha256', ES384: 'sha384', ES512: 'sha512', EdDSA: null,
};

function decodePart(part: string, what: string): Record<string, unknown> {
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch { /* reported below */ }
  throw new Error(`malformed token: invalid ${what}`);
}

function verifiesWith(alg: string, key: KeyObject, data: Buffer, sig: Buffer): boolean {
  const hash = HASH[alg];
  if (hash === undefined) return false;
  if (alg.startsWith('PS')) return verify(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, sig);
  if (alg.startsWith('ES')) return verify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, sig);
  return verify(hash, data, key, sig);
}

/** Verifies a compact JWS against the method's static keys; returns the claims or throws why not. */
export function verifyJwt(token: string, cfg: JwtMethodConfig, nowMs: number): Record<string, unknown> {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('malformed token: expected three dot-separated parts');
  const header = decodePart(parts[0], 'header');
  const claims = decodePart(parts[1], 'payload');
  const alg = String(header.alg ?? '');
  const allowed = cfg.JWTSupportedAlgs?.length ? cfg.JWTSupportedAlgs : ['RS256'];
  if (!allowed.includes(alg)) throw new Error(`unsupported signing algorithm: ${alg}`);
  const data = Buffer.from(`${parts[0]}.${parts[1]}`);
  const sig = Buffer.from(parts[2], 'base64url');
  const keys = (cfg.JWTValidationPubKeys ?? []).map((pem) => createPublicKey(pem));
  if (!keys.some((k) => { try { return verifiesWith(alg, k, data, sig); } catch { return false; } })) {
    throw new Error('failed to verify id token signature');
  }
  checkClaims(claims, cfg, nowMs);
  return claims;
}

/** Checks expiry, not-before, BoundIssuer and BoundAudiences of verified claims; throws why not. */
export function checkClaims(claims: Record<string, unknown>, cfg: JwtMethodConfig, nowMs: number): void {
  checkTimes(claims, cfg, nowMs);
  checkBound(claims, cfg);
}

function leewaySeconds(cfg: JwtMethodConfig): number {
  const raw = cfg.ClockSkewLeeway;
  if (typeof raw === 'number') return raw / 1e9;
  return 60;
}

function checkTimes(claims: Record<string, unknown>, cfg: JwtMethodConfig, nowMs: number): void {
  const now = nowMs / 1000;
  const skew = leewaySeconds(cfg);
  if (typeof claims.exp === 'number' && now > claims.exp + skew) throw new Error('token is expired (exp)');
  if (typeof claims.nbf === 'number' && now < claims.nbf - skew) throw new Error('token not valid yet (nbf)');
}

function checkBound(claims: Record<string, unknown>, cfg: JwtMethodConfig): void {
  if (cfg.BoundIssuer && claims.iss !== cfg.BoundIssuer) throw new Error('invalid issuer (iss) claim');
  if (cfg.BoundAudiences?.length) {
    const aud = Array.isArray(claims.aud) ? claims.aud : claims.aud === undefined ? [] : [claims.aud];
    if (!aud.some((a) => cfg.BoundAudiences!.includes(String(a)))) {
      throw new Error('invalid audience (aud) claim: audience claim does not match any expected audience');
    }
  }
}

// A claim name, or a JSON pointer (`/groups/0`) into nested claims, as Consul's getClaim.
function claim(claims: Record<string, unknown>, name: string): unknown {
  if (!name.startsWith('/')) return claims[name];
  let cur: unknown = claims;
  for (const raw of name.slice(1).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** Maps claims into selector variables; a mapped claim of the wrong shape is an error, as in Consul. */
export function mapClaims(claims: Record<string, unknown>, cfg: JwtMethodConfig): VerifiedIdentity {
  const out: VerifiedIdentity = { value: {}, list: {} };
  // Every mapped name exists, empty when its claim is absent, so selectors can test for "".
  for (const to of Object.values(cfg.ClaimMappings ?? {})) out.value[to] = '';
  for (const to of Object.values(cfg.ListClaimMappings ?? {})) out.list[to] = [];
  for (const [from, to] of Object.entries(cfg.ClaimMappings ?? {})) {
    const v = claim(claims, from);
    if (v === undefined || v === null) continue;
    if (typeof v === 'object') throw new Error(`error converting claim '${from}' to string`);
    out.value[to] = String(v);
  }
  for (const [from, to] of Object.entries(cfg.ListClaimMappings ?? {})) {
    const v = claim(claims, from);
    if (v === undefined || v === null) continue;
    const list = Array.isArray(v) ? v : [v];
    if (list.some((x) => typeof x === 'object')) throw new Error(`error converting claim '${from}' to list`);
    out.list[to] = list.map(String);
  }
  return out;
}
