// The agent's live TLS settings, as Consul's tlsutil.Configurator holds them: loaded and checked
// at start-up, replaced as a whole by a reload (a bad file keeps the previous material), and read
// afresh by every new connection: the HTTPS listener, the internal RPC listener on the server
// port (incoming) and the agent's own RPC to servers (outgoing).
import { checkServerIdentity, createSecureContext, type ConnectionOptions, type TlsOptions } from 'node:tls';
import type { HttpsListenOptions } from '../http/index.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import type { TlsConfig } from './config/tls.ts';
import { loadTls, serverTlsOptions, type LoadedTls } from './tls.ts';
import { managedClientOptions as clientOptions, type ManagedTls } from '../store/index.ts';

/** The server name a server's certificate must hold with verify_server_hostname (Consul's ServerSNI without a node). */
export function serverHostname(datacenter: string, domain: string): string {
  return `server.${datacenter}.${domain.replace(/\.$/, '')}`;
}

/** The agent's TLS material and rules, replaceable at runtime. */
export class TlsConfigurator {
  readonly #datacenter: string;
  #cfg: TlsConfig | null = null;
  #loaded: LoadedTls | null = null;
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
    this.#outgoing.clear();
    this.#version++;
  }

  /** Bumped by every update, so holders of derived state can tell it is stale. */
  get version(): number {
    return this.#version;
  }

  /** The HTTPS listener's server options; null before update() or without a `tls` stanza. */
  httpsOptions(): TlsOptions | null {
    return this.#loaded ? serverTlsOptions(this.#loaded.https) : null;
  }

  /** The internal RPC listener's server options: null unless tls.internal_rpc has a key pair. */
  incomingRpc(): TlsOptions | null {
    const p = this.#loaded?.internalRpc;
    return p?.cert ? serverTlsOptions(p) : null;
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

  #buildOutgoing(datacenter: string): ConnectionOptions | null {
    const p = this.#loaded?.internalRpc;
    const cfg = this.#cfg;
    if (!p || !cfg || !p.config.verifyOutgoing) return null;
    const server = serverTlsOptions(p);
    const hostname = p.config.verifyServerHostname ? serverHostname(datacenter, cfg.domain) : undefined;
    const material = {
      ...(p.ca ? { ca: p.ca } : {}),
      ...(p.cert ? { cert: p.cert, key: p.key } : {}),
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
