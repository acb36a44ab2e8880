// TLS of a managed cluster (the servers' tls.internal_rpc key pair and CA): etcd's own peer and
// client TLS flags with the PEM files it reads, and the JSON requests the managed store makes to
// other servers' bootstrap endpoints and to members' HTTP gateways, over https with the
// server's certificate offered when TLS is on, plain http otherwise.
import { nodeHttp as http, nodeHttps as https } from '../../node-http.ts';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { isIP, type Socket } from 'node:net';
import type { EtcdTls } from './etcd.ts';
import { checkServerIdentity, TLSSocket, type ConnectionOptions, type DetailedPeerCertificate, type PeerCertificate } from 'node:tls';

/** The servers' TLS material and rules; absent: the managed cluster runs in plaintext. */
export interface ManagedTls {
  /** PEM contents: the server's certificate and key (also its client certificate), the CA bundle. */
  cert: Buffer;
  key: Buffer;
  ca: Buffer[];
  /** Name every server's certificate must hold (verify_server_hostname); absent: the chain is checked only. */
  servername?: string;
  /** Members and the bootstrap endpoints require a client certificate from the CA (verify_incoming). */
  verifyIncoming: boolean;
}

/** `http://` or `https://` for a managed cluster's URLs. */
export function scheme(tls: ManagedTls | null): string {
  return tls ? 'https' : 'http';
}

/** The etcd3 client's TLS: our key pair, the CAs and the servers' name when it is checked. */
export function etcdTls(tls: ManagedTls): EtcdTls {
  return { ca: Buffer.concat(tls.ca.flatMap((p) => [p, Buffer.from('\n')])), cert: tls.cert, key: tls.key, servername: tls.servername };
}

/** Client options for https requests to servers and members: the CA, our key pair, the name rule. */
export function clientOptions(tls: ManagedTls): ConnectionOptions {
  const name = tls.servername;
  return {
    ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: true,
    // Without verify_server_hostname Consul checks the chain only; a member is dialled by address.
    checkServerIdentity: name ? (_host: string, cert: PeerCertificate) => checkServerIdentity(name, cert) : () => undefined,
    ...(name ? { servername: name } : {}),
  };
}

/**
 * Writes the PEM files etcd reads into `dir` (owner-only), each replaced whole (etcd reads the key
 * pair at every handshake, the CA bundle when it starts); returns their paths.
 */
export function writeTlsFiles(dir: string, tls: ManagedTls): { cert: string; key: string; ca: string } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = (name: string, pem: Buffer | Buffer[]) => {
    const path = join(dir, name);
    writeFileSync(`${path}.tmp`, Array.isArray(pem) ? Buffer.concat(pem.flatMap((p) => [p, Buffer.from('\n')])) : pem, { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
    return path;
  };
  return { cert: file('cert.pem', tls.cert), key: file('key.pem', tls.key), ca: file('ca.pem', tls.ca) };
}

/**
 * Writes the PEM files etcd reads into `dir` and returns etcd's TLS flags: peer and client
 * listeners on https with the server's key pair, client certificates from the CA required with
 * verify_incoming. A peer's certificate is checked by its chain only, as Consul checks incoming
 * certificates (etcd would otherwise also match its SANs against the peer's address).
 */
export function etcdTlsArgs(dir: string, tls: ManagedTls): string[] {
  const { cert, key, ca } = writeTlsFiles(dir, tls);
  const auth = String(tls.verifyIncoming);
  // Consul authorizes Raft connections by a server certificate under these two settings: etcd is
  // our Raft. (etcd's HTTP gateway then stops working, its self-dial being refused: unused here.)
  const onlyServers = tls.verifyIncoming && tls.servername
    ? ['--client-cert-allowed-hostname', tls.servername, '--peer-cert-allowed-hostname', tls.servername] : [];
  return [
    '--cert-file', cert, '--key-file', key, '--trusted-ca-file', ca, `--client-cert-auth=${auth}`,
    '--peer-cert-file', cert, '--peer-key-file', key, '--peer-trusted-ca-file', ca, `--peer-client-cert-auth=${auth}`,
    '--experimental-peer-skip-client-san-verification', ...onlyServers,
  ];
}

/**
 * Whether a request to the bootstrap endpoints comes from a server: with verify_incoming and
 * verify_server_hostname its certificate must hold the servers' name and chain to the manual CA
 * bundle (Consul's AuthorizeServerConn for Raft checks against the manual CA pool only: the
 * front door also trusts the Connect roots, which sign any DNS SAN an auto_encrypt client asks
 * for); under other settings any connection the front door let in.
 */
export function fromServer(tls: ManagedTls | null, socket: Socket): boolean {
  if (!tls?.verifyIncoming || !tls.servername) return true;
  if (!(socket instanceof TLSSocket) || !socket.authorized) return false;
  const cert = socket.getPeerCertificate(true);
  return Boolean(cert?.raw) && checkServerIdentity(tls.servername, cert) === undefined && chainsTo(cert, manualCas(tls));
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const parsedCas = new WeakMap<ManagedTls, X509Certificate[]>();

function manualCas(tls: ManagedTls): X509Certificate[] {
  let cas = parsedCas.get(tls);
  if (!cas) {
    cas = tls.ca.flatMap((b) => b.toString('latin1').match(PEM_CERT) ?? []).flatMap((pem) => {
      try {
        return [new X509Certificate(pem)];
      } catch {
        return [];
      }
    });
    parsedCas.set(tls, cas);
  }
  return cas;
}

/** Whether `leaf` reaches one of `cas` through its presented chain, every link's signature checked. */
function chainsTo(leaf: DetailedPeerCertificate, cas: X509Certificate[]): boolean {
  let cert = leaf;
  for (let depth = 0; depth < 8; depth++) {
    const x = new X509Certificate(cert.raw);
    if (cas.some((ca) => x.checkIssued(ca) && x.verify(ca.publicKey))) return true;
    const up = cert.issuerCertificate;
    if (!up?.raw || up.raw.equals(cert.raw)) return false;
    const parent = new X509Certificate(up.raw);
    if (!x.checkIssued(parent) || !x.verify(parent.publicKey)) return false;
    cert = up;
  }
  return false;
}

/**
 * Whether the server's certificate names `host` (its advertise address): etcd members check a
 * peer's certificate against the address they dial, so without it the other members refuse ours.
 */
export function certificateNames(tls: ManagedTls, host: string): boolean {
  try {
    const cert = new X509Certificate(tls.cert);
    return (isIP(host) ? cert.checkIP(host) : cert.checkHost(host)) !== undefined;
  } catch {
    return false;
  }
}

/** Options of requestJson. */
export interface JsonRequest {
  method?: 'GET' | 'POST';
  /** Sent as the JSON body. */
  body?: unknown;
  timeoutMs: number;
  /** Required for https URLs. */
  tls: ManagedTls | null;
}

/** A JSON request to a server or member; rejects on a non-2xx status with `<status> <body>`. */
export function requestJson<T>(url: string, o: JsonRequest): Promise<T> {
  const u = new URL(url);
  const body = o.body === undefined ? undefined : JSON.stringify(o.body);
  const secure = u.protocol === 'https:';
  if (secure && !o.tls) return Promise.reject(new Error(`${url}: TLS is not configured`));
  const options = {
    method: o.method ?? 'GET', timeout: o.timeoutMs, agent: false as const,
    headers: body === undefined ? {} : { 'content-type': 'application/json' }, ...(secure ? clientOptions(o.tls!) : {}),
  };
  return new Promise<T>((resolve, reject) => {
    const req = (secure ? https : http).request(u, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) return reject(new Error(`${status} ${text.trim()}`));
        try {
          resolve(JSON.parse(text) as T);
        } catch (err) {
          reject(err as Error);
        }
      });
    });
    // `timeout` only bounds idle time: the whole exchange gets the same bound.
    const timer = setTimeout(() => req.destroy(new Error(`${url}: timed out after ${o.timeoutMs} ms`)), o.timeoutMs);
    req.once('close', () => clearTimeout(timer));
    req.on('timeout', () => req.destroy(new Error(`${url}: timed out after ${o.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
