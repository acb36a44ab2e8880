// The agent's runtime configuration: what the config loader produces from files and flags and
// what createAgent() consumes. Durations are milliseconds; listeners are resolved addresses.
import type { UiConfig } from './ui-config.ts';
import type { GossipSettings, WanGossipSettings } from './gossip.ts';
import type { TlsConfig } from './tls.ts';
import type { AutoEncryptConfig } from './auto-encrypt.ts';
import type { Locality } from '../../api/catalog-types.ts';

/** A resolved listener address: TCP host:port or a unix socket path. */
export type ListenAddr = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string; mode?: string; user?: string; group?: string };

/** The agent configuration after merging defaults, files and flags. */
export interface RuntimeConfig {
  dev: boolean;
  server: boolean;
  bootstrap: boolean;
  bootstrapExpect: number;
  datacenter: string;
  primaryDatacenter: string;
  nodeName: string;
  nodeId: string;
  nodeMeta: Record<string, string>;
  /** The admin partition the agent belongs to (`partition`); '' or absent when not set (the default partition). */
  partition?: string;
  /** null in -dev (memory store). */
  dataDir: string | null;
  /** Store backend: memory (dev), embedded (data_dir), etcd (external cluster) or managed (a supervised local etcd member). */
  store: {
    backend: 'memory' | 'embedded' | 'etcd' | 'managed';
    etcd?: { endpoints: string[] };
    /** The managed member: `etcd` binary and client/peer ports (default ports.server + 10 / + 11). */
    managed?: { binary: string; clientPort: number; peerPort: number };
  };
  bindAddr: string;
  advertiseAddr: string;
  advertiseAddrWan: string;
  clientAddrs: string[];
  /** The node's tagged addresses (tagged_addresses, lan/wan and their _ipv4/_ipv6 forms; the loader always sets it). */
  taggedAddresses?: Record<string, string>;
  ports: {
    http: number; https: number; dns: number; grpc: number; grpcTls: number;
    serfLan: number; serfWan: number; server: number;
  };
  /** HTTP listeners resolved from addresses.http / client_addr and ports.http (empty if disabled). */
  httpAddrs: ListenAddr[];
  /** HTTPS listeners from addresses.https / client_addr and ports.https (the loader always sets it; empty while ports.https is -1). */
  httpsAddrs?: ListenAddr[];
  /** TLS per protocol from the `tls` stanza and its legacy top-level keys (the loader always sets it). */
  tls?: TlsConfig;
  /** DNS listeners resolved likewise (empty if ports.dns is -1). */
  dnsAddrs: ListenAddr[];
  /** `recursors` with go-sockaddr templates expanded (the loader sets it; absent: read from raw). */
  recursors?: string[];
  domain: string;
  altDomain: string;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  /** log_sublevels: levels of subsystems' loggers by `@module` prefix (the loader always sets it). */
  logSublevels?: Record<string, 'trace' | 'debug' | 'info' | 'warn' | 'error'>;
  logJson: boolean;
  logFile: string;
  /** log_rotate_bytes (0: no limit), log_rotate_duration (ms; 0: 24h) and log_rotate_max_files (0: all, -1: none); the loader always sets it. */
  logRotate?: { bytes: number; durationMs: number; maxFiles: number };
  pidFile: string;
  uiEnabled: boolean;
  /** ui_config (the loader always sets it; absent: Consul's defaults with the UI off). */
  ui?: UiConfig;
  /** discovery_max_stale in ms (0: off): catalog and health reads default to stale. */
  discoveryMaxStale?: number;
  /** Milliseconds. */
  defaultQueryTime: number;
  maxQueryTime: number;
  /**
   * Milliseconds a request waits out a store without a leader before failing with `No cluster
   * leader` (performance.rpc_hold_timeout, default 7s; the loader always sets it).
   */
  rpcHoldTimeout?: number;
  /**
   * Milliseconds a leaving server keeps serving RPCs after it left the LAN pool, so clients move
   * to other servers (performance.leave_drain_time, default 5s; absent: no wait).
   */
  leaveDrainTime?: number;
  limits: {
    kvMaxValueSize: number; txnMaxReqLen: number; httpMaxConnsPerClient: number;
    /** Milliseconds a new HTTPS connection has to finish its TLS handshake (limits.https_handshake_timeout, default 5s). */
    httpsHandshakeTimeout?: number;
    /** limits.request_limits (servers): rates per second, negative for none (the loader always sets it). */
    requestLimits?: { mode: 'disabled' | 'permissive' | 'enforcing'; readRate: number; writeRate: number };
    /** limits.rpc_rate and rpc_max_burst (client agents' RPCs to servers): per second, negative for none. */
    rpcRate?: number;
    rpcMaxBurst?: number;
    /** Milliseconds a connection to the server port has to send its first byte, then to finish TLS (limits.rpc_handshake_timeout, default 5s; 0: none). */
    rpcHandshakeTimeout?: number;
    /** Milliseconds an RPC may go unanswered, blocking reads aside (limits.rpc_client_timeout, default 60s; 0: none). */
    rpcClientTimeout?: number;
  };
  /** cache.entry_fetch_rate (per second; Infinity: no limit) and entry_fetch_max_burst of the agent cache's entries (the loader always sets it). */
  cache?: { rate: number; maxBurst: number };
  http: {
    responseHeaders: Record<string, string>; allowWriteHttpFrom: string[]; blockEndpoints: string[];
    /** http_config.use_cache (default true): when false, `?cached` is ignored as if absent. */
    useCache: boolean;
    /** http_config.max_header_bytes: the request header limit; 0 or unset is Go's default, 1 MiB. */
    maxHeaderBytes?: number;
    /** disable_http_unprintable_char_filter: request paths with unprintable characters are served (default: refused with 400). */
    disableUnprintableCharFilter?: boolean;
  };
  acl: {
    enabled: boolean;
    defaultPolicy: 'allow' | 'deny';
    downPolicy: string;
    tokens: {
      initialManagement: string; agent: string; agentRecovery: string; default: string;
      replication: string; configFileServiceRegistration: string; dns: string;
    };
  };
  connect: { enabled: boolean; caProvider: string; caConfig: Record<string, unknown> };
  /** config_entries.bootstrap, validated: written by the primary datacenter's leader when absent (the loader always sets it). */
  configEntriesBootstrap?: Record<string, unknown>[];
  /** auto_encrypt: a client's certificate from the servers, a server's signing of them (absent: off). */
  autoEncrypt?: AutoEncryptConfig;
  /** translate_wan_addrs: DNS and HTTP results from another datacenter show WAN addresses (the loader always sets it). */
  translateWanAddrs?: boolean;
  /** Milliseconds a server may have been stopped and still start (server_rejoin_age_max, default 168h; the loader always sets it). */
  serverRejoinAgeMax?: number;
  /** Milliseconds; session TTL floor (Consul's session_ttl_min, default 10s). */
  sessionTtlMin: number;
  /** The LAN gossip pool; the loader always sets it. Absent: an in-process agent without a pool (its only member is itself). */
  gossip?: GossipSettings;
  /** The WAN pool of servers; absent for clients, with ports.serf_wan = -1, and in-process agents built without it. */
  gossipWan?: WanGossipSettings;
  /** The merged raw configuration with Consul's snake_case keys, for /v1/agent/self DebugConfig. */
  raw: Record<string, unknown>;
  /** Config files that were read, in merge order (for `reload`). */
  sources: string[];
  /** The -config-file / -config-dir paths as given (resolved): what auto_reload_config watches and a reload reads again. */
  configPaths?: string[];
  /** auto_reload_config: the config paths and TLS key pairs are watched and a change reloads as `consul reload` does. */
  autoReloadConfig?: boolean;
  /** locality { region zone }: the node's, inherited by services registered here that set none (absent: unset). */
  locality?: Locality;
}
