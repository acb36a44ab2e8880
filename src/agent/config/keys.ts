// The table of every Consul agent configuration key (agent/config/config.go, Config and its
// nested structs, plus the legacy names of deprecated.go). A key missing here is rejected
// with Consul's `invalid config key` error; the data shapes drive JSON/HCL normalization.
import { checkSpec, serviceSpec } from './keys-service.ts';
import { block, listOf, mapOf, type BlockSpec } from './keys-types.ts';

const tlsProtocol = block({
  ca_file: 'string', ca_path: 'string', cert_file: 'string', key_file: 'string',
  tls_min_version: 'string', tls_cipher_suites: 'string', verify_incoming: 'bool',
  verify_outgoing: 'bool', verify_server_hostname: 'bool', use_auto_cert: 'bool',
});

const gossip = block({
  gossip_nodes: 'int', gossip_interval: 'duration', probe_interval: 'duration',
  probe_timeout: 'duration', suspicion_mult: 'int', retransmit_mult: 'int',
});

const acl = block({
  enabled: 'bool', enable_token_replication: 'bool', policy_ttl: 'duration',
  role_ttl: 'duration', token_ttl: 'duration', down_policy: 'string', default_policy: 'string',
  enable_key_list_policy: 'bool', enable_token_persistence: 'bool', disabled_ttl: 'duration',
  msp_disable_bootstrap: 'bool',
  tokens: block({
    initial_management: 'string', replication: 'string', agent_recovery: 'string',
    default: 'string', agent: 'string', config_file_service_registration: 'string',
    dns: 'string', master: 'string', agent_master: 'string',
    managed_service_provider: listOf(block({ accessor_id: 'string', secret_id: 'string' })),
  }),
});

const ports = block({
  dns: 'int', http: 'int', https: 'int', serf_lan: 'int', serf_wan: 'int', server: 'int',
  grpc: 'int', grpc_tls: 'int', proxy_min_port: 'int', proxy_max_port: 'int',
  sidecar_min_port: 'int', sidecar_max_port: 'int', expose_min_port: 'int',
  expose_max_port: 'int',
});

const limits = block({
  http_max_conns_per_client: 'int', https_handshake_timeout: 'duration',
  request_limits: block({ mode: 'string', read_rate: 'float', write_rate: 'float' }),
  rpc_client_timeout: 'duration', rpc_handshake_timeout: 'duration', rpc_max_burst: 'int',
  rpc_max_conns_per_client: 'int', rpc_rate: 'float', kv_max_value_size: 'int',
  txn_max_req_len: 'int',
});

const dnsConfig = block({
  allow_stale: 'bool', a_record_limit: 'int', disable_compression: 'bool',
  enable_truncate: 'bool', max_stale: 'duration', node_ttl: 'duration', only_passing: 'bool',
  recursor_strategy: 'string', recursor_timeout: 'duration', service_ttl: 'map',
  udp_answer_limit: 'int', enable_additional_node_meta_txt: 'bool',
  soa: block({ refresh: 'int', retry: 'int', expire: 'int', min_ttl: 'int' }),
  use_cache: 'bool', cache_max_age: 'duration', prefer_namespace: 'bool',
});

const telemetry = block({
  circonus_api_app: 'string', circonus_api_token: 'string', circonus_api_url: 'string',
  circonus_broker_id: 'string', circonus_broker_select_tag: 'string',
  circonus_check_display_name: 'string', circonus_check_force_metric_activation: 'string',
  circonus_check_id: 'string', circonus_check_instance_id: 'string',
  circonus_check_search_tag: 'string', circonus_check_tags: 'string',
  circonus_submission_interval: 'string', circonus_submission_url: 'string',
  disable_hostname: 'bool', dogstatsd_addr: 'string', dogstatsd_tags: 'strings',
  retry_failed_connection: 'bool', filter_default: 'bool', prefix_filter: 'strings',
  metrics_prefix: 'string', prometheus_retention_time: 'duration', statsd_address: 'string',
  statsite_address: 'string', enable_host_metrics: 'bool',
  disable_per_tenancy_usage_metrics: 'bool',
});

const autoConfig = block({
  enabled: 'bool', intro_token: 'string', intro_token_file: 'string',
  server_addresses: 'strings', dns_sans: 'strings', ip_sans: 'strings',
  authorization: block({
    enabled: 'bool',
    static: block({
      claim_assertions: 'strings', allow_reuse: 'bool', jwt_supported_algs: 'strings',
      bound_audiences: 'strings', claim_mappings: 'map', list_claim_mappings: 'map',
      oidc_discovery_url: 'string', oidc_discovery_ca_cert: 'string', jwks_url: 'string',
      jwks_ca_cert: 'string', jwt_validation_pub_keys: 'strings', bound_issuer: 'string',
      expiration_leeway: 'duration', not_before_leeway: 'duration',
      clock_skew_leeway: 'duration',
    }),
  }),
});

const uiConfig = block({
  enabled: 'bool', dir: 'string', content_path: 'string', metrics_provider: 'string',
  metrics_provider_files: 'strings', metrics_provider_options_json: 'string',
  metrics_proxy: block({
    base_url: 'string', add_headers: listOf(block({ name: 'string', value: 'string' })),
    path_allowlist: 'strings',
  }),
  dashboard_url_templates: 'map',
});

// Raft tuning (raft_logstore, consul.raft, performance.raft_multiplier, raft_protocol, raft_snapshot_*,
// raft_trailing_logs) is accepted silently and has no effect: the store (etcd or the embedded
// store) replaces Raft. implemented.ts lists them as moot.
const raftLogstore = block({
  backend: 'string', disable_log_cache: 'bool',
  verification: block({ enabled: 'bool', interval: 'duration' }),
  boltdb: block({ no_freelist_sync: 'bool' }),
  wal: block({ segment_size_mb: 'int' }),
});

const consulInternal = block({
  coordinate: block({ update_batch_size: 'int', update_max_batches: 'int', update_period: 'duration' }),
  raft: block({ election_timeout: 'duration', heartbeat_timeout: 'duration', leader_lease_timeout: 'duration' }),
  server: block({ health_interval: 'duration' }),
});

const audit = block({
  enabled: 'bool',
  sink: mapOf(block({
    name: 'string', type: 'string', format: 'string', path: 'string',
    delivery_guarantee: 'string', mode: 'string', rotate_bytes: 'int',
    rotate_duration: 'duration', rotate_max_files: 'int',
  })),
});

/** Blocks of the top-level table, grouped so the main table stays readable. */
const blocks: BlockSpec['$block'] = {
  acl, ports, limits, telemetry, audit,
  addresses: block({ dns: 'string', http: 'string', https: 'string', grpc: 'string', grpc_tls: 'string' }),
  autopilot: block({
    cleanup_dead_servers: 'bool', last_contact_threshold: 'duration', max_trailing_logs: 'int',
    min_quorum: 'int', server_stabilization_time: 'duration', disable_upgrade_migration: 'bool',
    redundancy_zone_tag: 'string', upgrade_version_tag: 'string',
  }),
  auto_config: autoConfig,
  auto_encrypt: block({ tls: 'bool', dns_san: 'strings', ip_san: 'strings', allow_tls: 'bool' }),
  cache: block({ entry_fetch_max_burst: 'int', entry_fetch_rate: 'float' }),
  cloud: block({
    resource_id: 'string', client_id: 'string', client_secret: 'string', hostname: 'string',
    auth_url: 'string', scada_address: 'string', management_token: 'string',
  }),
  config_entries: block({ bootstrap: listOf('any') }),
  connect: block({
    enabled: 'bool', ca_provider: 'string', ca_config: 'any',
    enable_mesh_gateway_wan_federation: 'bool', enable_serverless_plugin: 'bool',
    test_ca_leaf_root_change_spread: 'duration',
  }),
  consul: consulInternal,
  dns_config: dnsConfig,
  gossip_lan: gossip,
  gossip_wan: gossip,
  http_config: block({
    block_endpoints: 'strings', allow_write_http_from: 'strings', response_headers: 'map',
    use_cache: 'bool', max_header_bytes: 'int',
  }),
  locality: block({ region: 'string', zone: 'string' }),
  peering: block({ enabled: 'bool', test_allow_peer_registrations: 'bool' }),
  // raft_multiplier is moot (no Raft); see implemented.ts for the rest.
  performance: block({
    leave_drain_time: 'duration', raft_multiplier: 'int', rpc_hold_timeout: 'duration',
    grpc_keepalive_interval: 'duration', grpc_keepalive_timeout: 'duration',
  }),
  raft_logstore: raftLogstore,
  raft_boltdb: block({ NoFreelistSync: 'bool' }),
  reporting: block({ license: block({ enabled: 'bool' }) }),
  rpc: block({ enable_streaming: 'bool' }),
  segments: listOf(block({ advertise: 'string', bind: 'string', name: 'string', port: 'int', rpc_listener: 'bool' })),
  tls: block({ defaults: tlsProtocol, internal_rpc: tlsProtocol, https: tlsProtocol, grpc: tlsProtocol }),
  ui_config: uiConfig,
  unix_sockets: block({ group: 'string', mode: 'string', user: 'string' }),
  xds: block({ update_max_per_second: 'float' }),
  service: serviceSpec,
  services: listOf(serviceSpec),
  check: checkSpec,
  checks: listOf(checkSpec),
  watches: listOf('any'),
};

/** Top-level scalar and list keys, current and legacy (deprecated.go) names. */
const scalars: BlockSpec['$block'] = {
  advertise_addr: 'string', advertise_addr_ipv4: 'string', advertise_addr_ipv6: 'string',
  advertise_addr_wan: 'string', advertise_addr_wan_ipv4: 'string', advertise_addr_wan_ipv6: 'string',
  advertise_reconnect_timeout: 'duration', alt_domain: 'string', auto_reload_config: 'bool',
  bind_addr: 'string', bootstrap: 'bool', bootstrap_expect: 'int', check_output_max_size: 'int',
  check_update_interval: 'duration', client_addr: 'string', data_dir: 'string',
  datacenter: 'string', default_query_time: 'duration', disable_anonymous_signature: 'bool',
  disable_coordinates: 'bool', disable_host_node_id: 'bool',
  disable_http_unprintable_char_filter: 'bool', disable_keyring_file: 'bool',
  disable_remote_exec: 'bool', disable_update_check: 'bool', discard_check_output: 'bool',
  discovery_max_stale: 'duration', domain: 'string', enable_agent_tls_for_checks: 'bool',
  enable_central_service_config: 'bool', enable_debug: 'bool', enable_local_script_checks: 'bool',
  enable_script_checks: 'bool', enable_syslog: 'bool', encrypt: 'string',
  encrypt_verify_incoming: 'bool', encrypt_verify_outgoing: 'bool', experiments: 'strings',
  leave_on_terminate: 'bool', license_path: 'string', log_file: 'string', log_json: 'bool',
  log_level: 'string', log_rotate_bytes: 'int', log_rotate_duration: 'duration',
  log_rotate_max_files: 'int', log_sublevels: 'map', max_query_time: 'duration',
  node_id: 'string', node_meta: 'map', node_name: 'string', partition: 'string',
  pid_file: 'string', primary_datacenter: 'string', primary_gateways: 'strings',
  primary_gateways_interval: 'duration', protocol: 'int', raft_protocol: 'int',
  raft_snapshot_interval: 'duration', raft_snapshot_threshold: 'int', raft_trailing_logs: 'int',
  read_replica: 'bool', reconnect_timeout: 'duration', reconnect_timeout_wan: 'duration',
  recursors: 'strings', rejoin_after_leave: 'bool', retry_interval: 'duration',
  retry_interval_wan: 'duration', retry_join: 'strings', retry_join_wan: 'strings',
  retry_max: 'int', retry_max_wan: 'int', segment: 'string', serf_lan: 'string',
  serf_lan_allowed_cidrs: 'strings', serf_wan: 'string', serf_wan_allowed_cidrs: 'strings',
  server: 'bool', server_name: 'string', server_rejoin_age_max: 'duration',
  session_ttl_min: 'duration', skip_leave_on_interrupt: 'bool', snapshot_agent: 'any',
  syslog_facility: 'string', tagged_addresses: 'map', translate_wan_addrs: 'bool',
  use_streaming_backend: 'bool', ui: 'bool', ui_content_path: 'string', ui_dir: 'string',
  // Non-user values (NonUserSource / version source); accepted like Consul accepts them.
  ae_interval: 'duration', check_deregister_interval_min: 'duration',
  check_reap_interval: 'duration', revision: 'string', segment_limit: 'int',
  segment_name_limit: 'int', sync_coordinate_interval_min: 'duration',
  sync_coordinate_rate_target: 'float', version: 'string', version_prerelease: 'string',
  version_metadata: 'string',
  // Legacy names mapped by deprecated.ts.
  acl_agent_master_token: 'string', acl_agent_token: 'string', acl_token: 'string',
  acl_enable_key_list_policy: 'bool', acl_master_token: 'string', acl_replication_token: 'string',
  enable_acl_replication: 'bool', acl_datacenter: 'string', acl_default_policy: 'string',
  acl_down_policy: 'string', acl_ttl: 'duration', ca_file: 'string', ca_path: 'string',
  cert_file: 'string', key_file: 'string', tls_cipher_suites: 'string', tls_min_version: 'string',
  verify_incoming: 'bool', verify_incoming_https: 'bool', verify_incoming_rpc: 'bool',
  verify_outgoing: 'bool', verify_server_hostname: 'bool', tls_prefer_server_cipher_suites: 'bool',
  start_join: 'strings', start_join_wan: 'strings', non_voting_server: 'bool',
  // Proconsul's own key: the store backend (memory | embedded | managed | etcd://host:port,…).
  store: 'string',
  // Proconsul's own block: the supervised etcd member of `store = "managed"`.
  managed_etcd: block({ binary: 'string', client_port: 'int', peer_port: 'int' }),
};

/** The whole agent configuration file schema. */
export const configSpec: BlockSpec = block({ ...scalars, ...blocks });
