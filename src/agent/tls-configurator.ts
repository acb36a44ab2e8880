// The agent's live TLS settings, as Consul's tlsutil.Configurator holds them: loaded and checked
// at start-up, replaced as a whole by a reload (a bad file keeps the previous material), and read
// afresh by every new connection: the HTTPS listener, the internal RPC listener on the server
// port (incoming) and the agent's own RPC to servers (outgoing).
import { createRequire } from 'node:module';
import { checkServerIdentity, createSecureContext, type ConnectionOptions, type TlsOptions } from 'node:tls';
import type { HttpsListenOptions } from '../http/index.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import type { TlsConfig } from './config/tls.ts';
import { loadTls, serverTlsOptions, type LoadedTls } from './tls.ts';
import type { ManagedTls } from '../store/index.ts';

const require = createRequire(import.meta.url);

/** The server name a server's certificate must hold with verify_server_hostname (Consul's ServerSNI without a node). */
export function serverHostname(datacenter: string, domain: string): string {
  return `server.${datacenter}.${domain.replace(/\.$/, '')}`;
}

/**
 * A client's auto_encrypt material (Consul's autoTLS): its signed certificate and key, the
 * Connect CA roots and the servers' manual CAs it trusts, and the servers' hostname rule.
 */
export interface AutoTls {
  certPem: string;
  keyPem: string;
  connectCaPems: string[];
  manualCaPems: string[];
  verifyServerHostname: boolean;
}

/** The agent's TLS material and rules, replaceable at runtime. */
export class TlsConfigurator {
  readonly #datacenter: string;
  #cfg: TlsConfig | null = null;
  #loaded: LoadedTls | null = null;
  #auto: AutoTls | null = null;
  /** A server's Connect CA roots, trusted for incoming RPC client certificates (auto_encrypt clients). */
  #connectCas: Buffer[] = [];
  #version = 0;
  /** Outgoing RPC options per target datacenter, built once per update (every forwarded request reads them). */
  #outgoing = new Map<string, ConnectionOptions | null>();
  #serverRpc: ConnectionOptions | null = null;
  #serverRpcVersion = -1;

  /** `datacenter`: the agent's own, the default target of outgoing RPC. */
  constructor(datacenter: string) {
    this.#datacenter = datacenter;
  }

  /**
   * Loads and checks every file and rule of `cfg` (Consul's Configurator.Update); throws
   * TlsSetupError and keeps the previous material when anything is wrong. No `tls` stanza: no TLS.
   */
  update(cfg: TlsConfig | undefined): void {
    const loaded = cfg ? loadTls(cfg) : null;
    this.#cfg = cfg ?? null;
    this.#loaded = loaded;
    this.#changed();
  }

  /** A client's auto_encrypt certificate and trust (Consul's UpdateAutoTLS); new connections use them. */
  updateAutoTls(auto: AutoTls): void {
    this.#auto = auto;
    this.#changed();
  }

  /** The client's auto_encrypt material, null before the first certificate. */
  autoTls(): AutoTls | null {
    return this.#auto;
  }

  /** The agent's TLS certificate (Consul's Cert()): tls.internal_rpc's, else the auto_encrypt one; null without either. */
  cert(): Buffer | string | null {
    return this.#loaded?.internalRpc.cert ?? this.#auto?.certPem ?? null;
  }

  /** A server's Connect CA roots (Consul's UpdateAutoTLSCA): incoming RPC accepts client certificates they signed. */
  updateConnectCas(pems: string[]): void {
    const next = pems.map((p) => Buffer.from(p));
    if (next.length === this.#connectCas.length && next.every((b, i) => b.equals(this.#connectCas[i]))) return;
    this.#connectCas = next;
    this.#changed();
  }

  /** The internal RPC CA bundle from the configuration files, one PEM per file (Consul's ManualCAPems). */
  manualCaPems(): string[] {
    return (this.#loaded?.internalRpc.ca ?? []).map((b) => b.toString('utf8'));
  }

  /** tls.internal_rpc.verify_server_hostname, or what the servers told an auto_encrypt client. */
  verifyServerHostname(): boolean {
    return (this.#loaded?.internalRpc.config.verifyServerHostname ?? false) || (this.#auto?.verifyServerHostname ?? false);
  }

  /**
   * Client options for AutoEncrypt.Sign before the agent has a certificate (Consul's insecure
   * RPC TLS): the servers' chain checked against the configured CAs, with their hostname when
   * verify_server_hostname is set; no client certificate. Null without CAs.
   */
  insecureRpc(): ConnectionOptions | null {
    const p = this.#loaded?.internalRpc;
    if (!p?.ca || !this.#cfg) return null;
    const hostname = p.config.verifyServerHostname ? serverHostname(this.#datacenter, this.#cfg.domain) : undefined;
    return {
      ca: p.ca, minVersion: serverTlsOptions(p).minVersion, rejectUnauthorized: true,
      ...(hostname ? { servername: hostname } : {}),
      checkServerIdentity: hostname ? (_host, cert) => checkServerIdentity(hostname, cert) : () => undefined,
    };
  }

  #changed(): void {
    this.#outgoing.clear();
    this.#version++;
  }

  /** Bumped by every update, so holders of derived state can tell it is stale. */
  get version(): number {
    return this.#version;
  }

  /** The HTTPS listener's server options; null before update() or without a `tls` stanza. */
  httpsOptions(): TlsOptions | null {
    if (!this.#loaded) return null;
    const options = serverTlsOptions(this.#loaded.https);
    // Without a key pair of its own, HTTPS serves the auto_encrypt certificate (Consul's Cert()).
    const auto = this.#auto;
    return options.cert || !auto ? options : { ...options, cert: auto.certPem, key: auto.keyPem };
  }

  /** The internal RPC listener's server options: null unless tls.internal_rpc has a key pair. */
  incomingRpc(): TlsOptions | null {
    const p = this.#loaded?.internalRpc;
    if (!p?.cert) return null;
    const options = serverTlsOptions(p);
    return this.#connectCas.length ? { ...options, ca: [...(p.ca ?? []), ...this.#connectCas] } : options;
  }

  /** tls.internal_rpc.verify_incoming: plaintext RPC is refused and client certificates are required. */
  verifyIncomingRpc(): boolean {
    return this.#loaded?.internalRpc.config.verifyIncoming ?? false;
  }

  /**
   * The servers' TLS of a managed store (etcd peers and clients, the bootstrap requests between
   * servers): tls.internal_rpc's key pair and CAs, required as a whole; null without any of them.
   */
  managedTls(): ManagedTls | null {
    const p = this.#loaded?.internalRpc;
    if (!p?.cert || !p.key || !p.ca || !this.#cfg) return null;
    return {
      cert: p.cert, key: p.key, ca: p.ca, verifyIncoming: p.config.verifyIncoming,
      ...(p.config.verifyServerHostname ? { servername: serverHostname(this.#datacenter, this.#cfg.domain) } : {}),
    };
  }

  /**
   * Client options for a server's RPC to another server of its datacenter (liveness probes):
   * outgoingRpc(), or with a managed store's TLS (`managed`) its mutual TLS even without
   * verify_outgoing, as those servers' ports refuse plaintext with verify_incoming.
   */
  serverRpc(managed: boolean): ConnectionOptions | null {
    const out = this.outgoingRpc();
    if (out || !managed) return out;
    if (!this.#serverRpc || this.#serverRpcVersion !== this.#version) {
      const m = this.managedTls();
      this.#serverRpcVersion = this.#version;
      // The managed store's TLS helpers, loaded only with a managed store's TLS (issue #9).
      const { clientOptions } = require('../store/etcd/managed-tls.ts') as typeof import('../store/etcd/managed-tls.ts');
      this.#serverRpc = m && { ...clientOptions(m), secureContext: createSecureContext({ ca: m.ca, cert: m.cert, key: m.key }) };
    }
    return this.#serverRpc;
  }

  /**
   * Client options for RPC to a server of `datacenter` (Consul's OutgoingRPCWrapper): null (plain
   * TCP) without verify_outgoing; else TLS with the server's chain checked against the CAs, its
   * certificate valid for `server.<dc>.<domain>` with verify_server_hostname (any name otherwise,
   * as Consul checks the chain only), and the agent's own key pair offered as client certificate.
   */
  outgoingRpc(datacenter = this.#datacenter): ConnectionOptions | null {
    let options = this.#outgoing.get(datacenter);
    if (options === undefined) {
      options = this.#buildOutgoing(datacenter);
      this.#outgoing.set(datacenter, options);
    }
    return options;
  }

  /**
   * TLS for HTTP, TCP, gRPC and H2PING checks with enable_agent_tls_for_checks (Consul's
   * OutgoingTLSConfigForCheck): tls.internal_rpc's CAs (only those) and the agent's key pair (its
   * own or auto_encrypt's), its minimum version and ciphers, and `serverName` as the default SNI name.
   */
  checkTls(serverName: string): ConnectionOptions {
    const p = this.#loaded?.internalRpc;
    const auto = this.#auto;
    const ca = [...(p?.ca ?? []), ...(auto ? [...auto.connectCaPems, ...auto.manualCaPems].map((pem) => Buffer.from(pem)) : [])];
    const server = p ? serverTlsOptions(p) : undefined;
    return {
      ...(ca.length ? { ca } : {}),
      ...(p?.cert ? { cert: p.cert, key: p.key } : auto ? { cert: Buffer.from(auto.certPem), key: Buffer.from(auto.keyPem) } : {}),
      ...(server?.minVersion ? { minVersion: server.minVersion } : {}),
      ...(server?.ciphers ? { ciphers: server.ciphers } : {}),
      servername: serverName,
    };
  }

  #buildOutgoing(datacenter: string): ConnectionOptions | null {
    const p = this.#loaded?.internalRpc;
    const cfg = this.#cfg;
    const auto = this.#auto;
    const ca = [...(p?.ca ?? []), ...(auto ? [...auto.connectCaPems, ...auto.manualCaPems].map((pem) => Buffer.from(pem)) : [])];
    // With auto_encrypt and a CA, outgoing RPC is verified TLS (Consul's verifyOutgoing).
    if (!p || !cfg || !(p.config.verifyOutgoing || (cfg.autoTls && ca.length > 0))) return null;
    const server = serverTlsOptions(p);
    const hostname = this.verifyServerHostname() ? serverHostname(datacenter, cfg.domain) : undefined;
    const material = {
      ...(ca.length ? { ca } : {}),
      ...(p.cert ? { cert: p.cert, key: p.key } : auto ? { cert: Buffer.from(auto.certPem), key: Buffer.from(auto.keyPem) } : {}),
      minVersion: server.minVersion,
      ...(server.ciphers ? { ciphers: server.ciphers } : {}),
    };
    // One secure context for every connection until the next update (tls.connect uses it instead
    // of building one from the material); the material stays in the options for the agent's pool key.
    return {
      ...material,
      secureContext: createSecureContext(material),
      rejectUnauthorized: true,
      ...(hostname ? { servername: hostname } : {}),
      checkServerIdentity: hostname ? (_host, cert) => checkServerIdentity(hostname, cert) : () => undefined,
    };
  }
}

/**
 * Loads the TLS material at start-up, as Consul's agent does before binding anything (bad files
 * or rules stop the agent), and returns the HTTPS listener settings when HTTPS listeners exist.
 */
export function startTls(tls: TlsConfigurator, config: RuntimeConfig): HttpsListenOptions | null {
  tls.update(config.tls);
  const options = tls.httpsOptions();
  if (!options || !config.httpsAddrs?.length) return null;
  return { tls: options, handshakeTimeout: config.limits.httpsHandshakeTimeout ?? 5_000 };
}

/**
 * A reload's TLS part (Consul's reloadConfigInternal): the files are read again and, when all are
 * good, new HTTPS and internal RPC connections use them; else the agent keeps its material and
 * the reload fails with `Failed reloading tls configuration: <why>`.
 */
export function reloadTls(tls: TlsConfigurator, next: RuntimeConfig, https: { updateTls(options: TlsOptions): void }): void {
  try {
    tls.update(next.tls);
  } catch (err) {
    throw new Error(`Failed reloading tls configuration: ${(err as Error).message}`, { cause: err });
  }
  const options = tls.httpsOptions();
  if (options) https.updateTls(options);
}

/**
 * enable_agent_tls_for_checks: the agent's TLS material for its checks, the default server name
 * being server_name, else the node name (Consul's serverNameOrNodeName); undefined when off.
 */
export function agentTlsForChecks(config: RuntimeConfig, tls: Pick<TlsConfigurator, 'checkTls'>): (() => ConnectionOptions | undefined) | undefined {
  if (config.raw.enable_agent_tls_for_checks !== true) return undefined;
  const name = typeof config.raw.server_name === 'string' && config.raw.server_name ? config.raw.server_name : config.nodeName;
  return () => tls.checkTls(name);
}
