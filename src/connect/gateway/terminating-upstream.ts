// The terminating gateway's side towards a linked service (Consul's cluster for a terminating
// gateway's service): a plain TCP dial, or TLS origination when the link has a CAFile, trusting
// that CA (with CertFile/KeyFile presented when given), sending the link's SNI and then requiring
// the server certificate to carry it as a SAN, as Consul has Envoy do.
import net from 'node:net';
import tls from 'node:tls';
import type { GatewayService } from '../../api/config-entries.ts';

/** One passing instance of a linked service, at the address it registered. */
export interface ExternalInstance {
  host: string;
  port: number;
}

/** How a linked service is dialled over TLS, or why its TLS settings could not be loaded. */
export type UpstreamTls =
  | { context: tls.SecureContext; servername?: string; failed?: undefined }
  | { failed: string };

/** The TLS settings of a link (undefined: plain TCP); throws when a file cannot be read or used. */
export function upstreamTls(row: Pick<GatewayService, 'CAFile' | 'CertFile' | 'KeyFile' | 'SNI'>, readFile: (path: string) => string): UpstreamTls | undefined {
  if (!row.CAFile) return undefined;
  const opts: tls.SecureContextOptions = { ca: readFile(row.CAFile), minVersion: 'TLSv1.2' };
  if (row.CertFile) opts.cert = readFile(row.CertFile);
  if (row.KeyFile) opts.key = readFile(row.KeyFile);
  return { context: tls.createSecureContext(opts), ...(row.SNI ? { servername: row.SNI } : {}) };
}

/**
 * The server-certificate check of a TLS link: with an SNI the certificate must name it (Envoy's
 * SAN matcher); without one only the chain to the CAFile counts.
 */
export function serverCheck(servername: string | undefined): (host: string, cert: tls.PeerCertificate) => Error | undefined {
  return servername ? (_host, cert) => tls.checkServerIdentity(servername, cert) : () => undefined;
}

/** Opens the connection to `target`: plain, or TLS as `settings` say; resolves once connected (and the handshake is done). */
export function dialExternal(target: ExternalInstance, settings: UpstreamTls | undefined, timeoutMs: number): Promise<net.Socket> {
  if (settings?.failed !== undefined) return Promise.reject(new Error(`TLS settings not loaded: ${settings.failed}`));
  const socket = settings
    ? tls.connect({
      host: target.host, port: target.port, secureContext: settings.context, checkServerIdentity: serverCheck(settings.servername),
      ...(settings.servername && net.isIP(settings.servername) === 0 ? { servername: settings.servername } : {}),
    })
    : net.connect({ host: target.host, port: target.port });
  const ready = settings ? 'secureConnect' : 'connect';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`dial tcp ${target.host}:${target.port}: i/o timeout`)); }, timeoutMs);
    socket.once(ready, () => { clearTimeout(timer); socket.off('error', reject); resolve(socket); });
    socket.once('error', (err) => { clearTimeout(timer); socket.destroy(); reject(new Error(`dial ${target.host}:${target.port}: ${err.message}`)); });
  });
}
