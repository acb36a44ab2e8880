// The `auto_encrypt` stanza as Consul's builder reads and checks it: clients ask the servers for
// their TLS certificate (tls), servers sign such requests (allow_tls, which turns Connect on).
import { isIP } from 'node:net';
import { ConfigError } from './error.ts';
import type { TreeReader } from './values.ts';

/** auto_encrypt settings (Consul's AutoEncryptTLS, AutoEncryptAllowTLS, AutoEncryptDNSSAN, AutoEncryptIPSAN). */
export interface AutoEncryptConfig {
  tls: boolean;
  allowTls: boolean;
  /** Extra DNS SANs a client asks for. */
  dnsSan: string[];
  /** Extra IP SANs a client asks for; unparsable ones are dropped with a warning. */
  ipSan: string[];
}

/** Reads auto_encrypt; bad IP SANs become Consul's warning. */
export function readAutoEncrypt(r: TreeReader): AutoEncryptConfig {
  const ipSan: string[] = [];
  for (const ip of r.strings('auto_encrypt.ip_san')) {
    if (isIP(ip) === 0) r.warnings.push(`Cannot parse ip ${JSON.stringify(ip)} from AutoEncrypt.IPSAN`);
    else ipSan.push(ip);
  }
  return { tls: r.bool('auto_encrypt.tls'), allowTls: r.bool('auto_encrypt.allow_tls'), dnsSan: r.strings('auto_encrypt.dns_san'), ipSan };
}

/** Consul's builder.validate rules for auto_encrypt, in its order and words. */
export function validateAutoEncrypt(c: { server: boolean; autoEncrypt: AutoEncryptConfig; tls?: { internalRpc: { verifyIncoming: boolean } } }, r: TreeReader): void {
  const ae = c.autoEncrypt;
  if (c.server && ae.tls) throw new ConfigError('auto_encrypt.tls can only be used on a client.');
  if (!c.server && ae.allowTls) throw new ConfigError('auto_encrypt.allow_tls can only be used on a server.');
  if (ae.allowTls && !c.tls?.internalRpc.verifyIncoming) {
    r.warnings.push('if auto_encrypt.allow_tls is turned on, tls.internal_rpc.verify_incoming should be enabled (either explicitly or via tls.defaults.verify_incoming). It is necessary to turn it off during a migration to TLS, but it should definitely be turned on afterwards.');
  }
  if (ae.tls && r.bool('auto_config.enabled')) throw new ConfigError('both auto_encrypt.tls and auto_config.enabled cannot be set to true.');
}
