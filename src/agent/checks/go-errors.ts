// Node socket, DNS and TLS errors rendered as the Go error strings Consul puts in check output
// (`dial tcp 127.0.0.1:1: connect: connection refused`), so operators see familiar texts.

/** An error as Node raises it from sockets, DNS and TLS. */
export type NodeError = Error & { code?: string; hostname?: string; cert?: { subjectaltname?: string }; host?: string };

const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network is unreachable',
  EADDRNOTAVAIL: 'cannot assign requested address',
  ECONNRESET: 'connection reset by peer',
  EPIPE: 'broken pipe',
  ETIMEDOUT: 'i/o timeout',
  EACCES: 'permission denied',
};

const UNKNOWN_AUTHORITY = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT',
]);

/** Go's text for a TLS verification failure, or undefined when `err` is not one. */
export function goTlsError(err: NodeError): string | undefined {
  const prefix = 'tls: failed to verify certificate: x509: ';
  if (err.code && UNKNOWN_AUTHORITY.has(err.code)) return `${prefix}certificate signed by unknown authority`;
  if (err.code === 'CERT_HAS_EXPIRED' || err.code === 'CERT_NOT_YET_VALID') {
    return `${prefix}certificate has expired or is not yet valid`;
  }
  if (err.code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const names = (err.cert?.subjectaltname ?? '').split(', ').map((n) => n.replace(/^(DNS|IP Address):/, '')).filter(Boolean);
    return names.length
      ? `${prefix}certificate is valid for ${names.join(', ')}, not ${err.host ?? ''}`
      : `${prefix}certificate is not valid for any names, but wanted to match ${err.host ?? ''}`;
  }
  return undefined;
}

/** Go's text for a failed dial (`dial tcp <addr>: connect: connection refused`). */
export function goDialError(err: NodeError, network: 'tcp' | 'udp', addr: string): string {
  const tlsText = goTlsError(err);
  if (tlsText) return tlsText;
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_NONAME') {
    return `dial ${network}: lookup ${err.hostname ?? hostOf(addr)}: no such host`;
  }
  if (err.code === 'EAI_AGAIN') return `dial ${network}: lookup ${err.hostname ?? hostOf(addr)}: server misbehaving`;
  if (err.code === 'ETIMEDOUT') return `dial ${network} ${addr}: i/o timeout`;
  if (err.code === 'ECONNRESET') return 'EOF';
  const text = err.code ? ERRNO_TEXT[err.code] : undefined;
  if (text) return `dial ${network} ${addr}: connect: ${text}`;
  return err.message;
}

/** Go's text for a read error on an established connection. */
export function goReadError(err: NodeError, network: 'tcp' | 'udp', local: string, remote: string): string {
  const text = err.code ? ERRNO_TEXT[err.code] : undefined;
  return `read ${network} ${local}->${remote}: read: ${text ?? err.message}`;
}

/** Splits Go's `host:port` / `[v6]:port`; returns an error text like net.SplitHostPort's. */
export function splitHostPort(addr: string): { host: string; port: number } | { error: string } {
  const m = /^\[([^\]]*)\]:([^:]*)$/.exec(addr) ?? /^([^:[\]]*):([^:]*)$/.exec(addr);
  if (!m) {
    const why = addr.includes(':') && !addr.startsWith('[') ? 'too many colons in address' : 'missing port in address';
    return { error: `address ${addr}: ${why}` };
  }
  const port = Number(m[2]);
  if (!/^\d+$/.test(m[2]) || port > 65535) return { error: `address ${addr}: invalid port` };
  return { host: m[1] || '127.0.0.1', port };
}

function hostOf(addr: string): string {
  const hp = splitHostPort(addr);
  return 'host' in hp ? hp.host : addr;
}
