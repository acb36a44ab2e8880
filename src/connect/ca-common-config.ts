// The settings every CA provider shares (Consul's CommonCAProviderConfig): decoded from a CA
// configuration's open `Config` map with the consul provider's defaults, then checked with
// Consul's bounds and messages. Agent start-up, PUT /v1/connect/ca/configuration, the leader's
// CA bootstrap and leaf signing all read the CA configuration through this one check.
import { formatGoDuration, goDurationError, parseGoDuration } from '../duration.ts';
import { CONSUL_PROVIDER_DEFAULTS, defaultCAConfiguration, type CAConfiguration } from './ca-config.ts';

/** A CA configuration Consul would refuse; the message is Consul's text. */
export class CAConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CAConfigError';
  }
}

/** The decoded common settings; TTLs in milliseconds. */
export interface CommonCAConfig {
  leafCertTtlMs: number;
  intermediateCertTtlMs: number;
  rootCertTtlMs: number;
  privateKeyType: string;
  privateKeyBits: number;
  /** Signing requests per second a server accepts (0: no rate limit). */
  csrMaxPerSecond: number;
  /** Signings in parallel when csrMaxPerSecond is 0 (0: no limit). */
  csrMaxConcurrent: number;
  /** Consul's undocumented test switch: every bound below is skipped. */
  skipValidate: boolean;
  /** The consul provider's undocumented test switch: it does not cross-sign the root that replaces its own. */
  disableCrossSigning: boolean;
}

const HOUR_MS = 3_600_000;
/** Consul's MinLeafCertTTL and MaxLeafCertTTL. */
export const MIN_LEAF_CERT_TTL_MS = HOUR_MS;
export const MAX_LEAF_CERT_TTL_MS = 8760 * HOUR_MS;
/** Consul's IntermediateCertRenewInterval: an intermediate must outlive three of these checks. */
const INTERMEDIATE_RENEW_INTERVAL_MS = HOUR_MS;

type Kind = 'duration' | 'string' | 'int' | 'float' | 'bool';
/** The common fields with Consul's names and the consul provider's defaults (`defaultCommonConfig`). */
const FIELDS: Record<keyof CommonCAConfig, { name: string; kind: Kind; def: number | string | boolean }> = {
  leafCertTtlMs: { name: 'LeafCertTTL', kind: 'duration', def: 72 * HOUR_MS },
  intermediateCertTtlMs: { name: 'IntermediateCertTTL', kind: 'duration', def: 8760 * HOUR_MS },
  rootCertTtlMs: { name: 'RootCertTTL', kind: 'duration', def: 87600 * HOUR_MS },
  privateKeyType: { name: 'PrivateKeyType', kind: 'string', def: CONSUL_PROVIDER_DEFAULTS.PrivateKeyType },
  privateKeyBits: { name: 'PrivateKeyBits', kind: 'int', def: CONSUL_PROVIDER_DEFAULTS.PrivateKeyBits },
  csrMaxPerSecond: { name: 'CSRMaxPerSecond', kind: 'float', def: 50 },
  csrMaxConcurrent: { name: 'CSRMaxConcurrent', kind: 'int', def: 0 },
  skipValidate: { name: 'SkipValidate', kind: 'bool', def: false },
  disableCrossSigning: { name: 'DisableCrossSigning', kind: 'bool', def: false },
};

/**
 * Decodes and checks `raw` (a CA configuration's `Config`) for `provider` as Consul's
 * `Parse*CAConfig` does; throws CAConfigError with Consul's message when Consul would refuse it.
 */
export function parseCommonCAConfig(provider: string, raw: Record<string, unknown>): CommonCAConfig {
  const out = decode(raw);
  if (provider === 'consul' && isEmpty(lookup(raw, 'PrivateKey')) && !isEmpty(lookup(raw, 'RootCert'))) {
    throw new CAConfigError('must provide a private key when providing a root cert');
  }
  validate(out);
  return out;
}

/** Consul's CommonCAProviderConfig.Validate, in its order and with its messages. */
function validate(c: CommonCAConfig): void {
  if (c.skipValidate) return;
  const go = formatGoDuration;
  if (c.rootCertTtlMs < c.intermediateCertTtlMs) {
    throw new CAConfigError(`root cert TTL is set and is not greater than intermediate cert ttl. root cert ttl: ${go(c.rootCertTtlMs)}, intermediate cert ttl: ${go(c.intermediateCertTtlMs)}`);
  }
  if (c.leafCertTtlMs < MIN_LEAF_CERT_TTL_MS) throw new CAConfigError(`leaf cert TTL must be greater or equal than ${go(MIN_LEAF_CERT_TTL_MS)}`);
  if (c.leafCertTtlMs > MAX_LEAF_CERT_TTL_MS) throw new CAConfigError(`leaf cert TTL must be less than ${go(MAX_LEAF_CERT_TTL_MS)}`);
  if (c.intermediateCertTtlMs < 3 * INTERMEDIATE_RENEW_INTERVAL_MS) {
    throw new CAConfigError(`Intermediate Cert TTL must be greater or equal than ${3 * INTERMEDIATE_RENEW_INTERVAL_MS / HOUR_MS}h`);
  }
  // The intermediate travels with each leaf, so it must outlive several leaf renewals.
  if (c.intermediateCertTtlMs < 3 * c.leafCertTtlMs) {
    throw new CAConfigError(`Intermediate Cert TTL must be greater or equal than 3 * LeafCertTTL (>=${go(3 * c.leafCertTtlMs)}).`);
  }
  if (c.privateKeyType === 'ec') {
    if (![224, 256, 384, 521].includes(c.privateKeyBits)) throw new CAConfigError('EC key length must be one of (224, 256, 384, 521) bits');
  } else if (c.privateKeyType === 'rsa') {
    if (c.privateKeyBits !== 2048 && c.privateKeyBits !== 4096) throw new CAConfigError('RSA key length must be 2048 or 4096 bits');
  } else {
    throw new CAConfigError("private key type must be either 'ec' or 'rsa'");
  }
}

/** mapstructure's weakly typed decoding: keys matched case-insensitively, errors collected. */
function decode(raw: Record<string, unknown>): CommonCAConfig {
  const errors: string[] = [];
  const out = {} as Record<keyof CommonCAConfig, unknown>;
  for (const [key, f] of Object.entries(FIELDS) as [keyof CommonCAConfig, (typeof FIELDS)[keyof CommonCAConfig]][]) {
    const v = lookup(raw, f.name);
    if (v === undefined || v === null) {
      out[key] = f.def;
      continue;
    }
    const r = decodeValue(f.name, f.kind, v);
    if (typeof r === 'object') errors.push(r.error);
    else out[key] = r;
  }
  if (errors.length > 0) {
    throw new CAConfigError(`error decoding config: ${errors.length} error(s) decoding:\n\n${errors.map((e) => `* ${e}`).join('\n')}`);
  }
  return out as unknown as CommonCAConfig;
}

function decodeValue(name: string, kind: Kind, v: unknown): number | string | boolean | { error: string } {
  const unconvertible = { error: `'${name}' expected type '${GO_TYPES[kind]}', got unconvertible type '${goType(v)}', value: '${goValueText(v)}'` };
  if (typeof v === 'object') return unconvertible;
  switch (kind) {
    case 'duration': {
      // A number is nanoseconds (Go's time.Duration); a string is a Go duration.
      if (typeof v === 'number') return Math.trunc(v) / 1e6;
      if (typeof v === 'boolean') return v ? 1e-6 : 0;
      const ms = parseGoDuration(String(v));
      if (ms === null) return { error: `error decoding '${name}': ${goDurationError(String(v))}` };
      return ms;
    }
    case 'string':
      return typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
    case 'int':
    case 'float': {
      if (typeof v === 'boolean') return v ? 1 : 0;
      if (typeof v === 'number') return kind === 'int' ? Math.trunc(v) : v;
      const s = String(v);
      if (s === '') return 0;
      const n = kind === 'int' ? (/^[+-]?\d+$/.test(s) ? Number(s) : NaN) : (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s) ? Number(s) : NaN);
      if (Number.isNaN(n)) {
        return { error: kind === 'int'
          ? `cannot parse '${name}' as int: strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`
          : `cannot parse '${name}' as float: strconv.ParseFloat: parsing ${JSON.stringify(s)}: invalid syntax` };
      }
      return n;
    }
    case 'bool': {
      if (typeof v === 'boolean') return v;
      if (typeof v === 'number') return v !== 0;
      const s = String(v);
      if (s === '') return false;
      if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(s)) return true;
      if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(s)) return false;
      return { error: `cannot parse '${name}' as bool: strconv.ParseBool: parsing ${JSON.stringify(s)}: invalid syntax` };
    }
  }
}

const GO_TYPES: Record<Kind, string> = { duration: 'int64', string: 'string', int: 'int', float: 'float32', bool: 'bool' };

/** A decoded JSON value as Go's %v prints it (`map[a:1 b:[x y]]`, `<nil>`), for mapstructure's messages. */
export function goValueText(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goValueText).join(' ')}]`;
  if (typeof v === 'object') {
    const keys = Object.keys(v).sort();
    return `map[${keys.map((k) => `${k}:${goValueText((v as Record<string, unknown>)[k])}`).join(' ')}]`;
  }
  if (typeof v === 'number') return goFloatText(v);
  return String(v);
}

/** Go's %v of a float64 (JSON numbers decode to float64): shortest digits, %e form below 1e-4 and from 1e6 (1e+06). */
function goFloatText(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
  if (v === 0) return '0';
  const [mantissa, e] = v.toExponential().split('e');
  const exp = Number(e);
  if (exp >= -4 && exp < 6) return String(v);
  return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

function goType(v: unknown): string {
  if (Array.isArray(v)) return '[]interface {}';
  return typeof v === 'object' ? 'map[string]interface {}' : typeof v;
}

/** The value of `name` in `raw`: the exact key first, else one equal ignoring case (as mapstructure matches). */
function lookup(raw: Record<string, unknown>, name: string): unknown {
  if (name in raw) return raw[name];
  const lower = name.toLowerCase();
  const key = Object.keys(raw).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : raw[key];
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || v === '';
}

/** Consul's snake_case aliases of CA config keys in agent configuration files (`lib.TranslateKeys` in the builder). */
const AGENT_KEY_ALIASES: Record<string, string> = {
  private_key: 'PrivateKey', root_cert: 'RootCert', intermediate_cert_ttl: 'IntermediateCertTTL',
  address: 'Address', token: 'Token', root_pki_path: 'RootPKIPath', root_pki_namespace: 'RootPKINamespace',
  intermediate_pki_path: 'IntermediatePKIPath', intermediate_pki_namespace: 'IntermediatePKINamespace',
  ca_file: 'CAFile', ca_path: 'CAPath', cert_file: 'CertFile', key_file: 'KeyFile',
  tls_server_name: 'TLSServerName', tls_skip_verify: 'TLSSkipVerify',
  existing_arn: 'ExistingARN', delete_on_exit: 'DeleteOnExit',
  leaf_cert_ttl: 'LeafCertTTL', csr_max_per_second: 'CSRMaxPerSecond', csr_max_concurrent: 'CSRMaxConcurrent',
  private_key_type: 'PrivateKeyType', private_key_bits: 'PrivateKeyBits', root_cert_ttl: 'RootCertTTL',
};

/**
 * An agent file's `connect.ca_config` with its snake_case keys renamed to the API's CamelCase
 * names (matched ignoring case); a CamelCase key already present wins over its alias.
 */
export function translateCAConfigKeys(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (!(k.toLowerCase() in AGENT_KEY_ALIASES)) out[k] = v;
  for (const [k, v] of Object.entries(raw)) {
    const canon = AGENT_KEY_ALIASES[k.toLowerCase()];
    if (canon !== undefined && !(canon in out)) out[canon] = v;
  }
  return out;
}

/** A CA configuration's common settings, or Consul's reason to refuse it. */
export type CASettings = { ok: true; config: CommonCAConfig } | { ok: false; error: string };

/** parseCommonCAConfig as a result instead of an exception. */
export function caSettings(provider: string, config: Record<string, unknown>): CASettings {
  try {
    return { ok: true, config: parseCommonCAConfig(provider, config) };
  } catch (err) {
    if (err instanceof CAConfigError) return { ok: false, error: err.message };
    throw err;
  }
}

/**
 * The configuration a fresh cluster stores from the agent's `connect.ca_provider` (`consul` when
 * unset) and its translated `ca_config` (Consul's RuntimeConfig.ConnectCAConfiguration).
 */
export function agentCAConfiguration(connect: { caProvider: string; caConfig: Record<string, unknown> }): CAConfiguration {
  return { ...defaultCAConfiguration(connect.caConfig), Provider: connect.caProvider || 'consul' };
}
