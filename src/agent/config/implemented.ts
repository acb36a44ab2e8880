// The one list of configuration keys Proconsul acts on. Every other accepted key that a user
// sets is reported with a warning naming it, so nobody mistakes "accepted" for "working".
import { isObject, type ConfigTree } from './merge.ts';

/** Implemented key paths; `x.*` covers the whole block under x. */
export const implementedKeys: ReadonlySet<string> = new Set([
  'datacenter', 'primary_datacenter', 'node_name', 'node_id', 'node_meta', 'data_dir',
  'server', 'bootstrap', 'bootstrap_expect', 'bind_addr', 'advertise_addr', 'advertise_addr_wan',
  'client_addr', 'addresses.*', 'ports.*', 'domain', 'alt_domain', 'log_level', 'log_json',
  'log_file', 'pid_file', 'ui_config.*', 'default_query_time', 'max_query_time',
  'limits.kv_max_value_size', 'limits.txn_max_req_len', 'limits.http_max_conns_per_client', 'limits.https_handshake_timeout',
  // Server request rate limiting (http/rate-limit.ts).
  'limits.request_limits.*', 'limits.rpc_rate', 'limits.rpc_max_burst',
  // TLS for the HTTPS listener and internal RPC; tls.grpc is validated but not applied yet.
  'tls.defaults.*', 'tls.https.*', 'tls.internal_rpc.*',
  'http_config.*', 'acl.*', 'auto_encrypt.*', 'connect.enabled', 'connect.ca_provider', 'connect.ca_config',
  'session_ttl_min', 'translate_wan_addrs', 'disable_host_node_id', 'store', 'managed_etcd.*',
  'serf_lan', 'encrypt', 'encrypt_verify_incoming', 'encrypt_verify_outgoing', 'reconnect_timeout', 'rejoin_after_leave',
  'retry_join', 'start_join', 'retry_interval', 'retry_max', 'leave_on_terminate', 'skip_leave_on_interrupt', 'gossip_lan.*',
  'disable_coordinates', 'autopilot.*', 'read_replica', 'non_voting_server',
  'serf_wan', 'retry_join_wan', 'start_join_wan', 'retry_interval_wan', 'retry_max_wan', 'reconnect_timeout_wan', 'gossip_wan.*',
  // DNS (dns/config.ts).
  'recursors', 'dns_config.allow_stale', 'dns_config.max_stale', 'dns_config.use_cache', 'dns_config.cache_max_age',
  'dns_config.node_ttl', 'dns_config.service_ttl', 'dns_config.only_passing', 'dns_config.udp_answer_limit',
  'dns_config.a_record_limit', 'dns_config.enable_truncate', 'dns_config.enable_additional_node_meta_txt',
  'dns_config.disable_compression', 'dns_config.recursor_strategy', 'dns_config.recursor_timeout', 'dns_config.soa.*',
  'dns_config.prefer_namespace',
  // Remote exec (agent/remote-exec.ts) and central service config for proxies (agent/local/build.ts).
  'disable_remote_exec', 'enable_central_service_config',
  // Audit logging of HTTP API calls (agent/audit-log.ts).
  'audit.*',
  // Cluster peering on or off (agent/server.ts).
  'peering.enabled',
]);

/** Keys whose values are data (maps, lists of definitions): reported as a whole, not per entry. */
const opaque = new Set([
  'node_meta', 'connect.ca_config', 'services', 'checks', 'watches', 'config_entries.bootstrap',
  'tagged_addresses', 'snapshot_agent', 'log_sublevels', 'dns_config.service_ttl', 'segments',
  'http_config.response_headers', 'ui_config.dashboard_url_templates', 'audit.sink',
  'ui_config.metrics_proxy.add_headers', 'acl.tokens.managed_service_provider',
  'auto_config.authorization.static.claim_mappings', 'auto_config.authorization.static.list_claim_mappings',
]);

/** True when a key path is in the implemented set. */
export function isImplemented(path: string): boolean {
  if (implementedKeys.has(path)) return true;
  const parts = path.split('.');
  for (let i = parts.length - 1; i > 0; i--) {
    if (implementedKeys.has(`${parts.slice(0, i).join('.')}.*`)) return true;
  }
  return false;
}

// Values the legacy-key mapping writes itself (verify_incoming keeps gRPC unverified, as before
// 1.12): not the user's setting, and what Proconsul does anyway.
const implied: Record<string, unknown> = { 'tls.grpc.verify_incoming': false };

function collect(tree: ConfigTree, prefix: string, out: Set<string>): void {
  for (const [k, v] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (isObject(v) && !opaque.has(path)) collect(v, path, out);
    else if (!isImplemented(path) && !(path in implied && implied[path] === v)) out.add(path);
  }
}

/** Warnings for every user-set key that Proconsul accepts but does not act on yet. */
export function unimplementedWarnings(userTrees: ConfigTree[]): string[] {
  const keys = new Set<string>();
  for (const t of userTrees) collect(t, '', keys);
  return [...keys].map((k) => `config key "${k}" is accepted but not implemented yet`);
}
