// A Connect service identity for the proxy (Consul's connect/service.go): its leaf certificate
// and the CA roots kept fresh by blocking queries, the TLS settings built from them (each new
// connection uses the latest), inbound authorization and outbound mTLS dials.
import tls from 'node:tls';
import type { ConsulClient } from '../../api/index.ts';
import type { Logger } from '../../log.ts';
import { blockingWatch } from '../watch.ts';
import { authorize, leaf, roots, type CARoots, type LeafCert } from './agent-calls.ts';
import { certUris, encodeSerial, serverIdentityCheck } from './tls-peer.ts';
import { tenancyOptions } from './config.ts';

/** Where an upstream connection goes and whose certificate the server must present. */
export interface DialTarget {
  host: string;
  port: number;
  /** The SPIFFE URI the server's certificate must carry. */
  certUri: string;
  /** The TLS server name to send (a terminating gateway picks the linked service's certificate by it). */
  sni?: string;
}

/** Why an inbound connection was refused (Consul's `connect: authz …` errors). */
export class AuthzError extends Error {
  override name = 'AuthzError';
}

/** The certificate material the TLS settings are built from. */
export interface TlsMaterial {
  cert: string;
  key: string;
  ca: string[];
}

/** A Connect service: call start(), await ready(), then build TLS from tlsMaterial(). */
export class ConnectService {
  readonly name: string;
  /** The API options naming the service's namespace and partition (none for the default ones). */
  readonly tenancy: { namespace?: string; partition?: string };
  #client: ConsulClient;
  #log: Logger;
  #abort = new AbortController();
  #leaf: LeafCert | undefined;
  #roots: CARoots | undefined;
  #ready: Promise<void>;
  #markReady!: () => void;
  #listeners = new Set<(m: TlsMaterial) => void>();
  #clientContext: tls.SecureContext | undefined;

  /** `namespace`/`partition`: the service's tenant (absent: the default one, or the client's). */
  constructor(name: string, client: ConsulClient, log: Logger, tenant: { namespace?: string; partition?: string } = {}) {
    this.name = name;
    this.tenancy = tenancyOptions(tenant.namespace, tenant.partition);
    this.#client = client;
    this.#log = log;
    this.#ready = new Promise((resolve) => { this.#markReady = resolve; });
  }

  /** Starts the leaf and roots watches. */
  start(): void {
    const signal = this.#abort.signal;
    void blockingWatch('leaf', (options) => leaf(this.#client, this.name, { ...options, ...this.tenancy }), (l) => { this.#leaf = l; this.#changed(); }, this.#log, signal);
    void blockingWatch('roots', (options) => roots(this.#client, options), (r) => { this.#roots = r; this.#changed(); }, this.#log, signal);
  }

  /** Resolves once both the leaf and the roots have been read. */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** The current leaf certificate (after ready()). */
  get leafCert(): LeafCert | undefined {
    return this.#leaf;
  }

  /** The current CA roots (after ready()). */
  get caRoots(): CARoots | undefined {
    return this.#roots;
  }

  /**
   * The current certificate (the leaf followed by its intermediates), key and CA pool. The pool is
   * every listed root's certificate and nothing else, as Consul's proxies trust: during a rotation
   * both roots, and a peer's new leaf reaches the old root through the cross-signed certificate it
   * sends along. (A cross-signed certificate in the pool could be picked as the new leaf's issuer
   * before the new root is, and its own issuer is gone once the old root is pruned.)
   */
  tlsMaterial(): TlsMaterial {
    if (!this.#leaf || !this.#roots) throw new Error('connect: service is not ready');
    const ca = (this.#roots.Roots ?? []).map((r) => r.RootCert);
    return { cert: this.#leaf.CertPEM, key: this.#leaf.PrivateKeyPEM, ca };
  }

  /** Calls `fn` with new material whenever the leaf or roots change; returns the unsubscribe. */
  onTlsChange(fn: (m: TlsMaterial) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /**
   * Asks the agent whether the peer behind `socket` may connect to this service (Consul's
   * server-side verifier); throws AuthzError when it may not, or when `deadline` aborts first.
   */
  async authorize(socket: tls.TLSSocket, deadline?: AbortSignal): Promise<void> {
    const cert = socket.getPeerCertificate();
    const uri = certUris(cert)[0];
    if (!uri) throw new AuthzError('connect: client certificate has no URI SAN');
    let res;
    try {
      const signal = deadline ? AbortSignal.any([this.#abort.signal, deadline]) : this.#abort.signal;
      res = await authorize(this.#client, this.name, uri, encodeSerial(cert.serialNumber ?? ''), signal, this.tenancy);
    } catch (err) {
      throw new AuthzError(`connect: authz call failed: ${(err as Error).message}`);
    }
    if (!res.Authorized) throw new AuthzError(`connect: authz denied: ${res.Reason}`);
  }

  /** The TLS context of outbound connections (the leaf, trusting the roots), rebuilt when they change; after ready(). */
  clientContext(): tls.SecureContext {
    this.#clientContext ??= tls.createSecureContext({ ...this.tlsMaterial(), minVersion: 'TLSv1.2' });
    return this.#clientContext;
  }

  /** Opens an mTLS connection to `target` with this service's leaf; resolves once the handshake is done. */
  async dial(target: DialTarget, timeoutMs: number): Promise<tls.TLSSocket> {
    let waited: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => { waited = setTimeout(() => reject(new Error('i/o timeout')), timeoutMs); });
    await Promise.race([this.#ready, timedOut]).finally(() => clearTimeout(waited));
    const socket = tls.connect({
      host: target.host, port: target.port, secureContext: this.clientContext(),
      checkServerIdentity: serverIdentityCheck(target.certUri), ALPNProtocols: [],
      ...(target.sni ? { servername: target.sni } : {}),
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { socket.destroy(); reject(new Error('i/o timeout')); }, timeoutMs);
      socket.once('secureConnect', () => { clearTimeout(timer); socket.off('error', reject); resolve(socket); });
      socket.once('error', (err) => { clearTimeout(timer); reject(err); });
    });
  }

  /** Stops the watches. */
  close(): void {
    this.#abort.abort();
  }

  #changed(): void {
    if (!this.#leaf || !this.#roots) return;
    this.#clientContext = undefined;
    this.#markReady();
    const m = this.tlsMaterial();
    for (const fn of this.#listeners) fn(m);
  }
}
