// Built-in configuration sources, from Consul's agent/config/default.go: the defaults merged
// first, the -dev additions merged after them, and the non-user values merged last.
import type { ConfigTree } from './merge.ts';

/** Consul's DefaultSource, in canonical (current-name) form. */
export function defaultTree(): ConfigTree {
  return {
    acl: { token_ttl: '30s', policy_ttl: '30s', default_policy: 'allow', down_policy: 'extend-cache' },
    bind_addr: '0.0.0.0', bootstrap: false, bootstrap_expect: 0, check_output_max_size: 4096,
    check_update_interval: '5m', client_addr: '127.0.0.1', datacenter: 'dc1',
    default_query_time: '300s', disable_coordinates: false, disable_host_node_id: true,
    disable_remote_exec: true, domain: 'consul.', enable_central_service_config: true,
    encrypt_verify_incoming: true, encrypt_verify_outgoing: true, log_level: 'INFO',
    max_query_time: '600s', primary_gateways_interval: '30s', protocol: 2,
    retry_interval: '30s', retry_interval_wan: '30s', segment_limit: 64, server: false,
    server_rejoin_age_max: '168h', syslog_facility: 'LOCAL0',
    tls: { defaults: { tls_min_version: 'TLSv1_2' } },
    autopilot: { cleanup_dead_servers: true, last_contact_threshold: '200ms', max_trailing_logs: 250, server_stabilization_time: '10s' },
    gossip_lan: { gossip_interval: '200ms', gossip_nodes: 3, retransmit_mult: 4, probe_interval: '1s', probe_timeout: '500ms', suspicion_mult: 4 },
    gossip_wan: { gossip_interval: '500ms', gossip_nodes: 4, retransmit_mult: 4, probe_interval: '5s', probe_timeout: '3s', suspicion_mult: 6 },
    dns_config: { allow_stale: true, a_record_limit: 0, udp_answer_limit: 3, max_stale: '87600h', recursor_timeout: '2s' },
    limits: {
      http_max_conns_per_client: 200, https_handshake_timeout: '5s',
      request_limits: { mode: 'disabled', read_rate: -1, write_rate: -1 },
      rpc_handshake_timeout: '5s', rpc_client_timeout: '60s', rpc_rate: -1, rpc_max_burst: 1000,
      rpc_max_conns_per_client: 100, kv_max_value_size: 524288, txn_max_req_len: 524288,
    },
    performance: { leave_drain_time: '5s', raft_multiplier: 5, rpc_hold_timeout: '7s' },
    ports: {
      dns: 8600, http: 8500, https: -1, grpc: -1, serf_lan: 8301, serf_wan: 8302, server: 8300,
      proxy_min_port: 20000, proxy_max_port: 20255, sidecar_min_port: 21000, sidecar_max_port: 21255,
      expose_min_port: 21500, expose_max_port: 21755,
    },
    raft_protocol: 3,
    telemetry: { metrics_prefix: 'consul', filter_default: true, prefix_filter: [], retry_failed_connection: true },
    raft_snapshot_threshold: 16384, raft_snapshot_interval: '30s', raft_trailing_logs: 10240,
    raft_logstore: { backend: 'boltdb', wal: { segment_size_mb: 64 } },
    xds: { update_max_per_second: 250 },
    connect: { enabled: true },
    peering: { enabled: true },
  };
}

/** Consul's DevSource plus Proconsul's in-memory store for -dev. */
export function devTree(): ConfigTree {
  const fast = { gossip_interval: '100ms', probe_interval: '100ms', probe_timeout: '100ms', suspicion_mult: 3 };
  return {
    bind_addr: '127.0.0.1', disable_anonymous_signature: true, disable_keyring_file: true,
    enable_debug: true, ui_config: { enabled: true }, log_level: 'DEBUG', server: true,
    gossip_lan: fast, gossip_wan: { ...fast }, connect: { enabled: true }, peering: { enabled: true },
    performance: { raft_multiplier: 1 }, ports: { grpc: 8502 }, store: 'memory',
  };
}

/** NonUserSource and DefaultConsulSource: values users cannot set, merged after the flags. */
export function nonUserTree(dev: boolean): ConfigTree {
  return {
    check_deregister_interval_min: '1m', check_reap_interval: '30s', ae_interval: '1m',
    sync_coordinate_rate_target: 64, sync_coordinate_interval_min: '15s', segment_name_limit: 64,
    connect: { test_ca_leaf_root_change_spread: '0s' },
    peering: { test_allow_peer_registrations: false },
    consul: dev
      ? {
        coordinate: { update_batch_size: 128, update_max_batches: 5, update_period: '100ms' },
        raft: { election_timeout: '52ms', heartbeat_timeout: '35ms', leader_lease_timeout: '20ms' },
        server: { health_interval: '10ms' },
      }
      : {
        coordinate: { update_batch_size: 128, update_max_batches: 5, update_period: '5s' },
        raft: { election_timeout: '1000ms', heartbeat_timeout: '1000ms', leader_lease_timeout: '500ms' },
        server: { health_interval: '2s' },
      },
  };
}
