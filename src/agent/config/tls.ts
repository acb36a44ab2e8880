// The `tls` stanza as Consul's builder.buildTLSConfig reads it: tls.defaults fills in each of
// internal_rpc, https and grpc, with the stanza rules, version and cipher-suite checks it applies.
import { ConfigError } from './error.ts';
import type { TreeReader } from './values.ts';

/** One protocol's TLS settings (Consul's tlsutil.ProtocolConfig). */
export interface TlsProtocolConfig {
  verifyIncoming: boolean;
  caFile: string;
  caPath: string;
  certFile: string;
  keyFile: string;
  /** `TLS_AUTO`, `TLSv1_0` … `TLSv1_3`. */
  tlsMinVersion: string;
  /** IANA names; null when unset (Consul's nil), [] when set empty. */
  cipherSuites: string[] | null;
  verifyOutgoing: boolean;
  verifyServerHostname: boolean;
  useAutoCert: boolean;
}

/** TLS for every protocol (Consul's tlsutil.Config). */
export interface TlsConfig {
  internalRpc: TlsProtocolConfig;
  https: TlsProtocolConfig;
  grpc: TlsProtocolConfig;
  serverMode: boolean;
  serverName: string;
  nodeName: string;
  domain: string;
  enableAgentTlsForChecks: boolean;
  autoTls: boolean;
}

const VERSIONS = ['TLS_AUTO', 'TLSv1_0', 'TLSv1_1', 'TLSv1_2', 'TLSv1_3'];

/** The TLS 1.2-style suites the Consul agent accepts (types.consulAgentTLSCipherSuites). */
export const AGENT_CIPHER_SUITES: ReadonlySet<string> = new Set([
  'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA',
  'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA',
  'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
]);

function tlsVersion(r: TreeReader, name: string, v: unknown): string {
  if (typeof v !== 'string' || v === '') return 'TLS_AUTO';
  if (VERSIONS.includes(v)) return v;
  r.errors.push(`${name}: invalid TLS version: no matching TLS version found for ${v}, please specify one of [${[...VERSIONS].sort().join(', ')}]`);
  return 'TLS_INVALID';
}

function cipherSuites(r: TreeReader, name: string, v: unknown, minVersion: string): string[] | null {
  if (typeof v !== 'string') return null;
  if (minVersion === 'TLSv1_3') {
    r.errors.push(`${name}: TLS 1.3 cipher suites are not configurable`);
    return null;
  }
  const trimmed = v.trim();
  if (trimmed === '') return [];
  const suites = trimmed.split(',');
  const unmatched = suites.filter((s) => !AGENT_CIPHER_SUITES.has(s));
  if (unmatched.length > 0) {
    r.errors.push(`${name}: invalid TLS cipher suites: no matching Consul Agent TLS cipher suite found for ${unmatched.join(',')}`);
    return [];
  }
  return suites;
}

function rejectMisplaced(r: TreeReader): void {
  // Consul makes no outgoing connections on the public gRPC port, and only internal RPC checks
  // server hostnames: a setting that would do nothing is an error rather than a surprise.
  if (r.get('tls.grpc.verify_outgoing') !== undefined) throw new ConfigError('verify_outgoing is not valid in the tls.grpc stanza');
  if (['defaults', 'grpc', 'https'].some((s) => r.get(`tls.${s}.verify_server_hostname`) !== undefined)) {
    throw new ConfigError('verify_server_hostname is only valid in the tls.internal_rpc stanza');
  }
  if (['defaults', 'https', 'internal_rpc'].some((s) => r.get(`tls.${s}.use_auto_cert`) !== undefined)) {
    throw new ConfigError('use_auto_cert is only valid in the tls.grpc stanza');
  }
}

function protocol(r: TreeReader, name: 'internal_rpc' | 'https' | 'grpc', defaults: { version: string; suites: string[] | null }): TlsProtocolConfig {
  const own = (k: string) => r.get(`tls.${name}.${k}`);
  const str = (k: string) => (typeof own(k) === 'string' ? own(k) as string : r.str(`tls.defaults.${k}`));
  const bool = (k: string) => (typeof own(k) === 'boolean' ? own(k) as boolean : r.bool(`tls.defaults.${k}`));
  const minVersion = own('tls_min_version') === undefined ? defaults.version : tlsVersion(r, `tls.${name}.tls_min_version`, own('tls_min_version'));
  let suites: string[] | null = null;
  if (own('tls_cipher_suites') !== undefined) suites = cipherSuites(r, `tls.${name}.tls_cipher_suites`, own('tls_cipher_suites'), minVersion);
  // Inherited suites that the protocol's own TLS 1.3 minimum cannot use are dropped, not an error.
  else if (minVersion !== 'TLSv1_3') suites = defaults.suites;
  return {
    verifyIncoming: bool('verify_incoming'), caFile: str('ca_file'), caPath: str('ca_path'), certFile: str('cert_file'),
    keyFile: str('key_file'), tlsMinVersion: minVersion, cipherSuites: suites,
    // tls.grpc never inherits verify_outgoing (it is rejected above when set there).
    verifyOutgoing: name === 'grpc' ? false : bool('verify_outgoing'),
    verifyServerHostname: name === 'internal_rpc' ? r.bool('tls.internal_rpc.verify_server_hostname') : false,
    useAutoCert: name === 'grpc' ? r.bool('tls.grpc.use_auto_cert') : false,
  };
}

/** Builds the TLS settings of every protocol; throws Consul's stanza errors, queues value errors on `r`. */
export function readTls(r: TreeReader, who: { server: boolean; nodeName: string; domain: string }): TlsConfig {
  rejectMisplaced(r);
  const version = tlsVersion(r, 'tls.defaults.tls_min_version', r.get('tls.defaults.tls_min_version'));
  const defaults = { version, suites: cipherSuites(r, 'tls.defaults.tls_cipher_suites', r.get('tls.defaults.tls_cipher_suites'), version) };
  const internalRpc = protocol(r, 'internal_rpc', defaults);
  // verify_server_hostname implies verify_outgoing (CVE-2018-19653).
  internalRpc.verifyOutgoing ||= internalRpc.verifyServerHostname;
  return {
    internalRpc, https: protocol(r, 'https', defaults), grpc: protocol(r, 'grpc', defaults),
    serverMode: who.server, serverName: r.str('server_name'), nodeName: who.nodeName, domain: who.domain,
    enableAgentTlsForChecks: r.bool('enable_agent_tls_for_checks'),
    autoTls: r.bool('auto_encrypt.tls') || r.bool('auto_config.enabled'),
  };
}
