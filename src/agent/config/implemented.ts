// Every key of keys.ts, classified: acted on (with the file that acts on it), not implemented
// (a warning names it at start), Consul Enterprise only (Consul CE's own warning), or moot by
// design (accepted silently). implemented.test.ts fails when a key of keys.ts is in none of them.
import { isObject, type ConfigTree } from './merge.ts';

/**
 * Implemented key paths → where the agent acts on them: `file#token`, a path under src/ and the
 * runtime field or raw key that file reads (the test checks it is there). `x.*` covers block x.
 */
export const consumers: Readonly<Record<string, string>> = {
  datacenter: 'leader/self-register.ts#datacenter', primary_datacenter: 'agent/ui-routes.ts#primaryDatacenter',
  node_name: 'leader/self-register.ts#nodeName', node_id: 'leader/self-register.ts#nodeId',
  node_meta: 'leader/self-register.ts#nodeMeta', partition: 'agent/client.ts#partition', data_dir: 'agent/agent.ts#dataDir', server: 'cli/agent.ts#server',
  bootstrap: 'agent/managed-etcd.ts#bootstrap', bootstrap_expect: 'agent/managed-etcd.ts#bootstrapExpect',
  bind_addr: 'agent/client.ts#bindAddr', advertise_addr: 'leader/self-register.ts#advertiseAddr',
  advertise_addr_wan: 'leader/self-register.ts#advertiseAddrWan',
  // The node's tagged addresses (config/network.ts builds them as Consul's builder does).
  tagged_addresses: 'leader/self-register.ts#taggedAddresses', advertise_addr_ipv4: 'leader/self-register.ts#taggedAddresses',
  advertise_addr_ipv6: 'leader/self-register.ts#taggedAddresses', advertise_addr_wan_ipv4: 'leader/self-register.ts#taggedAddresses',
  advertise_addr_wan_ipv6: 'leader/self-register.ts#taggedAddresses',
  client_addr: 'agent/agent.ts#httpAddrs', 'addresses.*': 'agent/agent.ts#dnsAddrs', 'ports.*': 'agent/agent.ts#ports',
  domain: 'dns/config.ts#domain', alt_domain: 'dns/config.ts#altDomain',
  enable_syslog: 'cli/agent.ts#enable_syslog', syslog_facility: 'cli/agent.ts#syslog_facility',
  log_level: 'cli/agent.ts#logLevel', log_sublevels: 'cli/agent.ts#logSublevels', log_json: 'cli/agent.ts#logJson', log_file: 'cli/agent.ts#logFile',
  log_rotate_bytes: 'cli/agent.ts#logRotate', log_rotate_duration: 'cli/agent.ts#logRotate', log_rotate_max_files: 'cli/agent.ts#logRotate', pid_file: 'agent/agent.ts#pidFile',
  'ui_config.*': 'agent/ui-routes.ts#ui', default_query_time: 'agent/agent.ts#defaultQueryTime',
  max_query_time: 'agent/agent.ts#maxQueryTime', discovery_max_stale: 'agent/server.ts#discoveryMaxStale', session_ttl_min: 'agent/server.ts#sessionTtlMin',
  'limits.kv_max_value_size': 'agent/server.ts#kvMaxValueSize', 'limits.txn_max_req_len': 'agent/server.ts#txnMaxReqLen',
  'limits.http_max_conns_per_client': 'agent/agent.ts#httpMaxConnsPerClient',
  'limits.https_handshake_timeout': 'agent/tls-configurator.ts#httpsHandshakeTimeout',
  // Server request rate limiting (http/rate-limit.ts) and client agents' RPC rate limit.
  'limits.request_limits.*': 'agent/agent.ts#requestLimits', 'limits.rpc_rate': 'http/rate-limit.ts#rpcRate',
  'limits.rpc_max_burst': 'http/rate-limit.ts#rpcMaxBurst',
  'limits.rpc_handshake_timeout': 'agent/rpc-server.ts#rpcHandshakeTimeout', 'limits.rpc_client_timeout': 'agent/forward.ts#rpcClientTimeout',
  // TLS for the HTTPS listener and internal RPC; tls.grpc is validated but not applied yet.
  'tls.defaults.*': 'agent/tls.ts#tls', 'tls.https.*': 'agent/tls.ts#https', 'tls.internal_rpc.*': 'agent/tls.ts#internalRpc',
  'http_config.*': 'agent/agent.ts#http', 'auto_encrypt.*': 'agent/agent.ts#autoEncrypt',
  'acl.enabled': 'agent/agent.ts#acl', 'acl.default_policy': 'agent/agent.ts#defaultPolicy',
  'acl.down_policy': 'agent/client-acl.ts#downPolicy', 'acl.token_ttl': 'agent/client-acl.ts#token_ttl',
  'acl.policy_ttl': 'agent/client-acl.ts#policy_ttl', 'acl.role_ttl': 'agent/client-acl.ts#role_ttl', 'acl.disabled_ttl': 'agent/client-acl.ts#disabled_ttl',
  'acl.enable_key_list_policy': 'agent/server-endpoints.ts#enable_key_list_policy',
  'acl.enable_token_replication': 'agent/acl-secondary.ts#enable_token_replication',
  'acl.enable_token_persistence': 'agent/local/load.ts#enable_token_persistence',
  'acl.tokens.initial_management': 'agent/agent.ts#initialManagement', 'acl.tokens.replication': 'agent/local/build.ts#replication',
  'acl.tokens.agent_recovery': 'agent/server-endpoints.ts#agentRecovery', 'acl.tokens.default': 'agent/agent.ts#default',
  'acl.tokens.agent': 'agent/local/build.ts#agent', 'acl.tokens.dns': 'agent/local/build.ts#dns',
  'acl.tokens.config_file_service_registration': 'agent/local/build.ts#configFileServiceRegistration',
  'connect.enabled': 'agent/server.ts#connect', 'connect.ca_provider': 'leader/ca.ts#caProvider',
  'connect.ca_config': 'leader/ca.ts#caConfig', translate_wan_addrs: 'agent/translate-wan.ts#translateWanAddrs',
  store: 'agent/agent.ts#store', 'managed_etcd.*': 'agent/managed-etcd.ts#managed',
  // Gossip pools (lan-pool.ts, wan-pool.ts; the settings are built by gossip.ts).
  serf_lan: 'agent/lan-pool.ts#bindAddr', encrypt: 'agent/lan-pool.ts#encrypt',
  encrypt_verify_incoming: 'agent/lan-pool.ts#encryptVerifyIncoming', encrypt_verify_outgoing: 'agent/lan-pool.ts#encryptVerifyOutgoing',
  disable_keyring_file: 'agent/lan-pool.ts#disableKeyringFile', reconnect_timeout: 'agent/lan-pool.ts#reconnectTimeoutMs', rejoin_after_leave: 'agent/lan-pool.ts#rejoinAfterLeave',
  retry_join: 'agent/lan-pool.ts#retryJoin', retry_interval: 'agent/lan-pool.ts#retryIntervalMs', retry_max: 'agent/lan-pool.ts#retryMax',
  leave_on_terminate: 'cli/agent.ts#leaveOnTerminate', skip_leave_on_interrupt: 'cli/agent.ts#skipLeaveOnInterrupt',
  'gossip_lan.*': 'agent/lan-pool.ts#timings', disable_coordinates: 'agent/coordinates.ts#disable_coordinates',
  'autopilot.*': 'http/v1/operator.ts#autopilot', read_replica: 'leader/duties.ts#read_replica',
  serf_lan_allowed_cidrs: 'agent/lan-pool.ts#allowedCidrs', serf_wan_allowed_cidrs: 'agent/wan-pool.ts#allowedCidrs',
  serf_wan: 'agent/wan-pool.ts#bindAddr', retry_join_wan: 'agent/wan-pool.ts#retryJoin',
  retry_interval_wan: 'agent/wan-pool.ts#retryIntervalMs', retry_max_wan: 'agent/wan-pool.ts#retryMax',
  reconnect_timeout_wan: 'agent/wan-pool.ts#reconnectTimeoutMs', 'gossip_wan.*': 'agent/wan-pool.ts#timings',
  // DNS (dns/config.ts reads the merged dns_config block).
  recursors: 'dns/config.ts#recursors', 'dns_config.*': 'dns/config.ts#dns_config',
  // Remote exec (agent/remote-exec.ts) and central service config for proxies (agent/local/build.ts).
  disable_remote_exec: 'agent/remote-exec.ts#disable_remote_exec',
  enable_central_service_config: 'agent/local/build.ts#enable_central_service_config',
  // Audit logging of HTTP API calls (agent/audit-log.ts); Consul CE has none, Proconsul does.
  'audit.*': 'agent/agent.ts#audit', 'peering.enabled': 'agent/server.ts#peering',
  // Local state: definitions, checks and anti-entropy (agent/local/load.ts).
  service: 'agent/local/load.ts#service', services: 'agent/local/load.ts#services',
  check: 'agent/local/load.ts#check', checks: 'agent/local/load.ts#checks',
  check_output_max_size: 'agent/local/load.ts#check_output_max_size',
  check_update_interval: 'agent/local/load.ts#check_update_interval', discard_check_output: 'agent/local/load.ts#discard_check_output',
  enable_script_checks: 'agent/local/load.ts#enable_script_checks',
  enable_local_script_checks: 'agent/local/load.ts#enable_local_script_checks',
  ae_interval: 'agent/local/load.ts#ae_interval', check_reap_interval: 'agent/local/load.ts#check_reap_interval',
  check_deregister_interval_min: 'agent/local/runners.ts#check_deregister_interval_min',
  sync_coordinate_interval_min: 'agent/coordinates.ts#sync_coordinate_interval_min',
  sync_coordinate_rate_target: 'agent/coordinates.ts#sync_coordinate_rate_target',
  'consul.coordinate.*': 'agent/coordinates.ts#coordinate', 'performance.rpc_hold_timeout': 'agent/agent-store.ts#rpcHoldTimeout',
  'performance.leave_drain_time': 'agent/agent.ts#leaveDrainTime',
  // HTTP, TCP, gRPC and H2PING checks with the agent's CAs and key pair.
  enable_agent_tls_for_checks: 'agent/tls-configurator.ts#enable_agent_tls_for_checks',
  'telemetry.prometheus_retention_time': 'agent/server.ts#prometheus_retention_time',
  'telemetry.statsd_address': 'telemetry/sinks.ts#statsd_address', 'telemetry.statsite_address': 'telemetry/sinks.ts#statsite_address',
  'telemetry.dogstatsd_addr': 'telemetry/sinks.ts#dogstatsd_addr', 'telemetry.dogstatsd_tags': 'telemetry/sinks.ts#dogstatsd_tags',
  'telemetry.disable_hostname': 'telemetry/sinks.ts#disable_hostname', 'telemetry.metrics_prefix': 'telemetry/sinks.ts#metrics_prefix',
  'telemetry.prefix_filter': 'telemetry/sinks.ts#prefix_filter', 'telemetry.filter_default': 'telemetry/sinks.ts#filter_default',
  'telemetry.circonus_submission_url': 'telemetry/sinks.ts#circonus_submission_url',
  'telemetry.circonus_submission_interval': 'telemetry/sinks.ts#circonus_submission_interval',
  // Watch plans with script and HTTP handlers, run against the agent's own HTTP API.
  watches: 'agent/watches.ts#watches',
  // The node's locality (anti-entropy's node registration); services registered here inherit it.
  'locality.*': 'leader/self-register.ts#locality',
  // Config files, directories and TLS key pairs watched; a change reloads (agent/config-watcher.ts).
  auto_reload_config: 'agent/auto-reload.ts#autoReloadConfig',
  disable_http_unprintable_char_filter: 'agent/agent.ts#disableUnprintableCharFilter',
  'cache.entry_fetch_rate': 'agent/cache/cache.ts#entryFetchRate', 'cache.entry_fetch_max_burst': 'agent/cache/cache.ts#entryFetchMaxBurst',
  server_rejoin_age_max: 'agent/agent.ts#serverRejoinAgeMax',
  advertise_reconnect_timeout: 'agent/member-tags.ts#advertiseReconnectTimeoutMs',
  'unix_sockets.*': 'http/server.ts#setFilePermissions', 'config_entries.bootstrap': 'leader/config-bootstrap.ts#configEntriesBootstrap',
};

/** Accepted keys Proconsul does not act on: a user who sets one is warned at start (with why, here). */
export const notImplemented: Readonly<Record<string, string>> = {
  // Circonus check management through its API (a token instead of a submission URL) is not built.
  'telemetry.circonus_api_app': 'no Circonus API client', 'telemetry.circonus_api_token': 'no Circonus API client',
  'telemetry.circonus_api_url': 'no Circonus API client', 'telemetry.circonus_broker_id': 'no Circonus API client',
  'telemetry.circonus_broker_select_tag': 'no Circonus API client', 'telemetry.circonus_check_display_name': 'no Circonus API client',
  'telemetry.circonus_check_force_metric_activation': 'no Circonus API client', 'telemetry.circonus_check_id': 'no Circonus API client',
  'telemetry.circonus_check_instance_id': 'no Circonus API client', 'telemetry.circonus_check_search_tag': 'no Circonus API client',
  'telemetry.circonus_check_tags': 'no Circonus API client',
  'telemetry.enable_host_metrics': 'no host metrics collector',
  'telemetry.disable_per_tenancy_usage_metrics': 'no per-tenancy usage metrics',
  // The pprof endpoints.
  enable_debug: 'no /debug/pprof endpoints',
  // Agent features not built.
  'auto_config.*': 'auto-config (intro tokens, JWT authorization) is not built; auto_encrypt is',
  'cloud.*': 'no HCP link',
  disable_host_node_id: 'the node ID is never derived from the host (Consul\'s default, true)',
  server_name: 'outgoing TLS verifies the server.<datacenter>.<domain> name',
  experiments: 'no experiments', primary_gateways: 'no WAN federation through mesh gateways',
  primary_gateways_interval: 'no WAN federation through mesh gateways',
  'connect.enable_mesh_gateway_wan_federation': 'no WAN federation through mesh gateways',
  'connect.enable_serverless_plugin': 'no serverless plugin', 'connect.test_ca_leaf_root_change_spread': 'test-only knob',
  'peering.test_allow_peer_registrations': 'test-only knob',
  'ports.proxy_min_port': 'no managed proxies', 'ports.proxy_max_port': 'no managed proxies',
  'ports.expose_min_port': 'expose paths need explicit listener ports', 'ports.expose_max_port': 'expose paths need explicit listener ports',
  // Consul's clients multiplex every RPC over one connection per server; Proconsul's internal RPC
  // is HTTP/1.1, one connection per call in flight, so Consul's default of 100 would refuse a
  // client agent's 101st concurrent blocking query.
  'limits.rpc_max_conns_per_client': 'internal RPC connections are not multiplexed, so they are not limited per client',
  'performance.grpc_keepalive_interval': 'no gRPC server',
  'performance.grpc_keepalive_timeout': 'no gRPC server', 'consul.server.health_interval': 'autopilot\'s health interval is fixed',
  'xds.update_max_per_second': 'no xDS server', 'tls.grpc.*': 'no gRPC TLS listener',
  'tls.defaults.use_auto_cert': 'no gRPC TLS listener', 'tls.https.use_auto_cert': 'no gRPC TLS listener',
  'tls.internal_rpc.use_auto_cert': 'no gRPC TLS listener',
};

/** Consul Enterprise keys Proconsul does not implement: warned in Consul CE's words. */
export const enterpriseOnly: ReadonlySet<string> = new Set([
  'segment', 'segments', 'license_path', 'reporting.license.enabled',
  'acl.msp_disable_bootstrap', 'acl.tokens.managed_service_provider',
]);

/** Keys that change nothing in Proconsul by design: accepted without a word (why, here). */
export const moot: Readonly<Record<string, string>> = {
  // Raft is replaced by the store (etcd or the embedded store); these tune what is not there.
  raft_protocol: 'no raft', raft_snapshot_interval: 'no raft', raft_snapshot_threshold: 'no raft',
  raft_trailing_logs: 'no raft', 'raft_logstore.*': 'no raft', 'consul.raft.*': 'no raft',
  'performance.raft_multiplier': 'no raft',
  // Streaming is how Consul feeds blocking queries; results are the same without it.
  use_streaming_backend: 'blocking queries are served from the store\'s watches either way',
  'rpc.enable_streaming': 'blocking queries are served from the store\'s watches either way',
  // No phoning home.
  disable_update_check: 'no update check', disable_anonymous_signature: 'no update check',
  protocol: 'one gossip protocol version', snapshot_agent: 'read only by Consul Enterprise\'s snapshot agent',
  // Values only Consul's own non-user source sets.
  revision: 'build info', version: 'build info', version_prerelease: 'build info', version_metadata: 'build info',
  segment_limit: 'non-user value', segment_name_limit: 'non-user value',
  // Consul retries a sink whose first connection failed unless this is false; these sinks never
  // fail to start (statsd and dogstatsd are UDP, statsite connects again every 5 s).
  'telemetry.retry_failed_connection': 'no sink fails to start',
  // Renamed by deprecated.ts before this check; the deprecation warning has already been given.
  tls_prefer_server_cipher_suites: 'Consul ignores it too',
};

/** Implemented key paths (the keys of `consumers`). */
export const implementedKeys: ReadonlySet<string> = new Set(Object.keys(consumers));

/** How Proconsul treats an accepted key. */
export type KeyClass = 'implemented' | 'not-implemented' | 'enterprise' | 'moot';

const has = (o: object) => ({ has: (k: string) => Object.hasOwn(o, k) });
const tables: Array<[KeyClass, { has(k: string): boolean }]> = [
  ['implemented', implementedKeys], ['not-implemented', has(notImplemented)], ['enterprise', enterpriseOnly], ['moot', has(moot)],
];

/** The table entry that decides a key path: the path itself, else the nearest `x.*` above it (the most specific wins). */
export function classify(path: string): { cls: KeyClass; entry: string } | undefined {
  const parts = path.split('.');
  const candidates = [path];
  for (let i = parts.length - 1; i > 0; i--) candidates.push(`${parts.slice(0, i).join('.')}.*`);
  for (const c of candidates) {
    for (const [cls, t] of tables) if (t.has(c)) return { cls, entry: c };
  }
  return undefined;
}

/** True when a key path is in the implemented set. */
export function isImplemented(path: string): boolean {
  return classify(path)?.cls === 'implemented';
}

/** Keys whose values are data (maps, lists of definitions): reported as a whole, not per entry. */
const opaque = new Set([
  'node_meta', 'connect.ca_config', 'services', 'checks', 'service', 'check', 'watches', 'config_entries.bootstrap',
  'tagged_addresses', 'snapshot_agent', 'log_sublevels', 'dns_config.service_ttl', 'segments',
  'http_config.response_headers', 'ui_config.dashboard_url_templates', 'audit.sink',
  'ui_config.metrics_proxy.add_headers', 'acl.tokens.managed_service_provider',
  'auto_config.authorization.static.claim_mappings', 'auto_config.authorization.static.list_claim_mappings',
]);

// Values that are what Proconsul does anyway, so setting them is no surprise: the legacy-key mapping
// writes tls.grpc.verify_incoming itself (verify_incoming kept gRPC unverified before 1.12), the
// node ID is never host-based, and the features below are off.
const implied: Record<string, unknown> = {
  'tls.grpc.verify_incoming': false, disable_host_node_id: true,
  enable_debug: false,
  'auto_config.enabled': false, 'auto_config.authorization.enabled': false,
  'connect.enable_mesh_gateway_wan_federation': false, 'connect.enable_serverless_plugin': false,
  'telemetry.enable_host_metrics': false, 'peering.test_allow_peer_registrations': false,
};

/** Consul CE skips unset and empty enterprise values (stringVal(x) != "", len(x) > 0). */
function isEmpty(v: unknown): boolean {
  return v === '' || (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0);
}

function warningFor(path: string, value: unknown): string | null {
  const cls = classify(path)?.cls;
  if (cls === 'implemented' || cls === 'moot') return null;
  if (path in implied && implied[path] === value) return null;
  if (cls === 'enterprise') return isEmpty(value) ? null : `${JSON.stringify(path)} is a Consul Enterprise configuration and will have no effect`;
  // Not implemented, or (a key missing from every table, which implemented.test.ts prevents) unknown.
  return `${JSON.stringify(path)} is not implemented by Proconsul and will have no effect`;
}

function collect(tree: ConfigTree, prefix: string, out: Map<string, string>): void {
  for (const [k, v] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (isObject(v) && !opaque.has(path)) collect(v, path, out);
    else {
      const w = warningFor(path, v);
      if (w !== null) out.set(path, w);
    }
  }
}

/** One warning for every user-set key that Proconsul accepts but does not act on. */
export function unimplementedWarnings(userTrees: ConfigTree[]): string[] {
  const out = new Map<string, string>();
  for (const t of userTrees) collect(t, '', out);
  return [...out.values()];
}
