// /v1/agent/self and /v1/agent/version: the local agent's identity, config and stats, every
// top-level member an object (clients decode it as map[string]map[string]any).
import os from 'node:os';
import type { ListenAddr, RuntimeConfig } from '../../agent/config/runtime.ts';
import type { TlsProtocolConfig } from '../../agent/config/tls.ts';
import type { Leadership } from '../../endpoint/index.ts';
import { CONSUL_API_VERSION, gitRevision, buildDate } from '../../version.ts';
import { formatGoDuration } from '../../duration.ts';
import type { HttpResult } from '../router.ts';
import { memberTags } from '../../agent/member-tags.ts';
import { dnsConfigFrom } from '../../dns/config.ts';
import { joinHostPort } from '../../host-port.ts';
import { activeResources } from '../../telemetry/runtime.ts';
import { DEFAULT_UI_CONFIG, uiDebugConfig } from '../../agent/config/ui-config.ts';

/** What the self handler reads. */
export interface AgentSelfDeps {
  config: RuntimeConfig;
  leadership: Leadership;
  /** Live stats sections computed per request (agent, consul, runtime, …). */
  stats: () => Record<string, Record<string, string>>;
  /** This agent's gossip member as Consul's JSON (default: built from the config). */
  member?: () => Record<string, unknown>;
}

/** One protocol as Consul's sanitized DebugConfig shows it: non-empty *Key* fields read "hidden". */
function tlsProtocolJson(p: TlsProtocolConfig): Record<string, unknown> {
  return {
    VerifyIncoming: p.verifyIncoming, CAFile: p.caFile, CAPath: p.caPath, CertFile: p.certFile,
    KeyFile: p.keyFile ? 'hidden' : '', TLSMinVersion: p.tlsMinVersion, CipherSuites: p.cipherSuites,
    VerifyOutgoing: p.verifyOutgoing, VerifyServerHostname: p.verifyServerHostname, UseAutoCert: p.useAutoCert,
  };
}

/** The HTTPS listeners and the TLS settings of every protocol (tlsutil.Config), when the loader set them. */
function tlsDebug(c: RuntimeConfig): Record<string, unknown> {
  const t = c.tls;
  const addr = (a: ListenAddr) => (a.kind === 'unix' ? `unix://${a.path}` : `tcp://${joinHostPort(a.host, a.port)}`);
  return {
    HTTPSAddrs: (c.httpsAddrs ?? []).map(addr),
    HTTPSHandshakeTimeout: formatGoDuration(c.limits.httpsHandshakeTimeout ?? 5_000),
    ...(t ? {
      TLS: {
        ServerMode: t.serverMode, InternalRPC: tlsProtocolJson(t.internalRpc), GRPC: tlsProtocolJson(t.grpc),
        HTTPS: tlsProtocolJson(t.https), NodeName: t.nodeName, ServerName: t.serverName, Domain: t.domain,
        EnableAgentTLSForChecks: t.enableAgentTlsForChecks, AutoTLS: t.autoTls,
      },
    } : {}),
  };
}

function debugConfig(c: RuntimeConfig): Record<string, unknown> {
  const dns = dnsConfigFrom(c);
  return {
    ...tlsDebug(c),
    Datacenter: c.datacenter, PrimaryDatacenter: c.primaryDatacenter, NodeName: c.nodeName, NodeID: c.nodeId,
    ServerMode: c.server, DevMode: c.dev, Bootstrap: c.bootstrap, BootstrapExpect: c.bootstrapExpect,
    DataDir: c.dataDir ?? '', BindAddr: c.bindAddr, AdvertiseAddrLAN: c.advertiseAddr, AdvertiseAddrWAN: c.advertiseAddrWan,
    ClientAddrs: c.clientAddrs, HTTPPort: c.ports.http, HTTPSPort: c.ports.https, DNSPort: c.ports.dns,
    GRPCPort: c.ports.grpc, GRPCTLSPort: c.ports.grpcTls, SerfPortLAN: c.ports.serfLan, SerfPortWAN: c.ports.serfWan,
    ServerPort: c.ports.server, DNSDomain: c.domain, DNSAltDomain: c.altDomain,
    DNSAllowStale: dns.allowStale, DNSMaxStale: formatGoDuration(dns.maxStaleMs), DNSUseCache: dns.useCache,
    DNSCacheMaxAge: formatGoDuration(dns.cacheMaxAgeMs), LogLevel: c.logLevel.toUpperCase(),
    LogJSON: c.logJson, PidFile: c.pidFile, UIConfig: uiDebugConfig(c.ui ?? { ...DEFAULT_UI_CONFIG, enabled: c.uiEnabled }),
    SessionTTLMin: formatGoDuration(c.sessionTtlMin), KVMaxValueSize: c.limits.kvMaxValueSize,
    TxnMaxReqLen: c.limits.txnMaxReqLen, DefaultQueryTime: formatGoDuration(c.defaultQueryTime),
    MaxQueryTime: formatGoDuration(c.maxQueryTime), ACLsEnabled: c.acl.enabled,
    ACLResolverSettings: { ACLDefaultPolicy: c.acl.defaultPolicy, ACLDownPolicy: c.acl.downPolicy },
    ConnectEnabled: c.connect.enabled, ConnectCAProvider: c.connect.caProvider, NodeMeta: c.nodeMeta,
    AutoEncryptTLS: c.autoEncrypt?.tls ?? false, AutoEncryptDNSSAN: c.autoEncrypt?.dnsSan ?? [],
    AutoEncryptIPSAN: c.autoEncrypt?.ipSan ?? [], AutoEncryptAllowTLS: c.autoEncrypt?.allowTls ?? false,
    TranslateWANAddrs: c.translateWanAddrs === true,
    // http_config and the HTTP connection limit, under Consul's runtime names.
    HTTPBlockEndpoints: c.http.blockEndpoints, HTTPResponseHeaders: c.http.responseHeaders, HTTPUseCache: c.http.useCache,
    HTTPMaxHeaderBytes: c.http.maxHeaderBytes ?? 0, AllowWriteHTTPFrom: c.http.allowWriteHttpFrom,
    HTTPMaxConnsPerClient: c.limits.httpMaxConnsPerClient, DisableHTTPUnprintableCharFilter: c.http.disableUnprintableCharFilter === true,
    RPCHandshakeTimeout: formatGoDuration(c.limits.rpcHandshakeTimeout ?? 5_000), RPCClientTimeout: formatGoDuration(c.limits.rpcClientTimeout ?? 60_000),
    ServerRejoinAgeMax: formatGoDuration(c.serverRejoinAgeMax ?? 168 * 3_600_000),
    AdvertiseReconnectTimeout: formatGoDuration(c.gossip?.advertiseReconnectTimeoutMs ?? 0),
    // Consul's RuntimeConfig.Locality keeps the block's pointers: an unset part is null.
    Locality: c.locality ? { Region: c.locality.Region ?? null, Zone: c.locality.Zone ?? null } : null,
    AutoReloadConfig: c.autoReloadConfig === true, AutoReloadConfigCoalesceInterval: '1s',
    Version: CONSUL_API_VERSION, Revision: gitRevision(),
  };
}

/** This agent's serf member as agent/self and agent/members show it. */
export function localMember(c: RuntimeConfig): Record<string, unknown> {
  return {
    Name: c.nodeName, Addr: c.advertiseAddr, Port: c.ports.serfLan, Tags: memberTags(c), Status: 1,
    ProtocolMin: 1, ProtocolMax: 5, ProtocolCur: 2, DelegateMin: 2, DelegateMax: 5, DelegateCur: 4,
  };
}

/** Handlers for the agent identity routes. */
export function agentSelfHandlers(deps: AgentSelfDeps) {
  const c = deps.config;
  return {
    async self(): Promise<HttpResult> {
      return {
        body: {
          Config: {
            Datacenter: c.datacenter, PrimaryDatacenter: c.primaryDatacenter, NodeName: c.nodeName, NodeID: c.nodeId,
            // Consul Enterprise shows the partition only when the agent's config sets one.
            ...(c.partition ? { Partition: c.partition } : {}),
            Revision: gitRevision(), Server: c.server, Version: CONSUL_API_VERSION, BuildDate: buildDate(),
            // Two fields of the whole config Consul 0.x sent here, still read by its clients: AdvertiseAddr
            // (armon/consul-api) and SessionTTLMin, a Go time.Duration in nanoseconds (Patroni's adjust_ttl
            // divides it by 1e9 when Consul refuses its session TTL).
            AdvertiseAddr: c.advertiseAddr, SessionTTLMin: c.sessionTtlMin * 1_000_000,
          },
          DebugConfig: debugConfig(c),
          Coord: { Vec: [0, 0, 0, 0, 0, 0, 0, 0], Error: 1.5, Adjustment: 0, Height: 1e-5 },
          Member: deps.member ? deps.member() : localMember(c),
          Stats: deps.stats(),
          Meta: c.nodeMeta,
          xDS: { SupportedProxies: { envoy: [] }, Port: c.ports.grpcTls > 0 ? c.ports.grpcTls : c.ports.grpc, Ports: { Plaintext: c.ports.grpc, TLS: c.ports.grpcTls } },
        },
      };
    },
    async version(): Promise<HttpResult> {
      return { body: { SHA: gitRevision(), BuildDate: buildDate(), HumanVersion: CONSUL_API_VERSION, FIPS: '' } };
    },
  };
}

/** The Stats sections of agent/self. */
export function agentStats(
  c: RuntimeConfig, leadership: Leadership, local: { services: number; checks: number; ttlChecks: number },
  serfLan: Record<string, string> = { members: '1', failed: '0', left: '0', health_score: '0', encrypted: 'false' },
  wan?: { serfWan: Record<string, string>; knownDatacenters: number },
): Record<string, Record<string, string>> {
  return {
    agent: {
      check_monitors: String(local.checks - local.ttlChecks), check_ttls: String(local.ttlChecks),
      checks: String(local.checks), services: String(local.services),
    },
    build: { prerelease: '', revision: gitRevision().slice(0, 8), version: CONSUL_API_VERSION, version_metadata: '' },
    consul: {
      acl: c.acl.enabled ? 'enabled' : 'disabled', bootstrap: String(c.bootstrap), known_datacenters: String(wan?.knownDatacenters ?? 1),
      leader: String(leadership.isLeader()), leader_addr: leadership.leaderAddr(), server: String(c.server),
    },
    raft: { state: leadership.isLeader() ? 'Leader' : 'Follower', num_peers: String(Math.max(0, leadership.peers().length - 1)) },
    runtime: {
      arch: os.arch(), os: os.platform(), version: process.version, cpu_count: String(os.cpus().length),
      max_procs: String(os.availableParallelism()), goroutines: String(activeResources()),
    },
    serf_lan: serfLan,
    serf_wan: wan?.serfWan ?? { members: c.server ? '1' : '0', failed: '0', left: '0', health_score: '0', encrypted: 'false' },
  };
}
