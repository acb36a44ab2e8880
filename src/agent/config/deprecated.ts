// Legacy configuration names (Consul's agent/config/deprecated.go and the ui/ui_dir fields of
// builder.go): each is moved to its current key within the same source, with Consul's warning.
import { deletePath, getPath, setPath, type ConfigTree } from './merge.ts';

/** One legacy key and where its value now lives. */
interface Rename {
  from: string;
  to: string;
  /** Extra effects Consul applies when the legacy key is present. */
  also?: (tree: ConfigTree) => void;
  /** Lists are appended instead of set-if-unset (start_join → retry_join). */
  append?: boolean;
}

const tlsVersions: Record<string, string> = { tls10: 'TLSv1_0', tls11: 'TLSv1_1', tls12: 'TLSv1_2', tls13: 'TLSv1_3' };

/** The table of renamed keys, in Consul's order. */
export const renames: Rename[] = [
  { from: 'acl.tokens.agent_master', to: 'acl.tokens.agent_recovery' },
  { from: 'acl_agent_master_token', to: 'acl.tokens.agent_recovery' },
  { from: 'acl_agent_token', to: 'acl.tokens.agent' },
  { from: 'acl_token', to: 'acl.tokens.default' },
  { from: 'acl.tokens.master', to: 'acl.tokens.initial_management' },
  { from: 'acl_master_token', to: 'acl.tokens.initial_management' },
  { from: 'acl_replication_token', to: 'acl.tokens.replication', also: (t) => setPath(t, 'acl.enable_token_replication', true) },
  { from: 'enable_acl_replication', to: 'acl.enable_token_replication' },
  // acl_datacenter implicitly enabled ACLs.
  { from: 'acl_datacenter', to: 'primary_datacenter', also: (t) => setPath(t, 'acl.enabled', true) },
  { from: 'acl_default_policy', to: 'acl.default_policy' },
  { from: 'acl_down_policy', to: 'acl.down_policy' },
  { from: 'acl_ttl', to: 'acl.token_ttl' },
  { from: 'acl_enable_key_list_policy', to: 'acl.enable_key_list_policy' },
  { from: 'start_join', to: 'retry_join', append: true },
  { from: 'start_join_wan', to: 'retry_join_wan', append: true },
  { from: 'raft_boltdb.NoFreelistSync', to: 'raft_logstore.boltdb.no_freelist_sync' },
  { from: 'ca_file', to: 'tls.defaults.ca_file' },
  { from: 'ca_path', to: 'tls.defaults.ca_path' },
  { from: 'cert_file', to: 'tls.defaults.cert_file' },
  { from: 'key_file', to: 'tls.defaults.key_file' },
  { from: 'tls_cipher_suites', to: 'tls.defaults.tls_cipher_suites' },
  { from: 'tls_min_version', to: 'tls.defaults.tls_min_version' },
  // Before 1.12 verify_incoming never applied to the gRPC port; keep that behaviour.
  { from: 'verify_incoming', to: 'tls.defaults.verify_incoming', also: (t) => setIfUnset(t, 'tls.grpc.verify_incoming', false) },
  { from: 'verify_incoming_https', to: 'tls.https.verify_incoming' },
  { from: 'verify_incoming_rpc', to: 'tls.internal_rpc.verify_incoming' },
  { from: 'verify_outgoing', to: 'tls.defaults.verify_outgoing' },
  { from: 'verify_server_hostname', to: 'tls.internal_rpc.verify_server_hostname' },
  { from: 'ui', to: 'ui_config.enabled' },
  { from: 'ui_dir', to: 'ui_config.dir' },
  { from: 'ui_content_path', to: 'ui_config.content_path' },
  { from: 'non_voting_server', to: 'read_replica' },
];

function setIfUnset(tree: ConfigTree, path: string, value: unknown): void {
  if (getPath(tree, path) === undefined) setPath(tree, path, value);
}

/** Consul's deprecation warning text. */
export function deprecationWarning(from: string, to: string): string {
  return `The '${from}' field is deprecated. Use the '${to}' field instead.`;
}

function applyRename(tree: ConfigTree, r: Rename, warnings: string[]): void {
  let value = getPath(tree, r.from);
  if (value === undefined) return;
  deletePath(tree, r.from);
  if (r.from === 'tls_min_version' && typeof value === 'string' && tlsVersions[value]) {
    warnings.push(`'tls_min_version' value '${value}' is deprecated, please specify '${tlsVersions[value]}' instead`);
    value = tlsVersions[value];
  }
  if (r.append) {
    const cur = getPath(tree, r.to);
    setPath(tree, r.to, [...(Array.isArray(cur) ? cur : []), ...(value as unknown[])]);
  } else {
    setIfUnset(tree, r.to, value);
  }
  r.also?.(tree);
  const shownFrom = r.from === 'raft_boltdb.NoFreelistSync' ? 'raft_boltdb' : r.from;
  const shownTo = r.from === 'raft_boltdb.NoFreelistSync' ? 'raft_logstore.boltdb' : r.to;
  warnings.push(deprecationWarning(shownFrom, shownTo));
}

/** Moves legacy keys of one decoded source to their current names; returns the warnings. */
export function applyDeprecated(tree: ConfigTree): string[] {
  const warnings: string[] = [];
  for (const r of renames) applyRename(tree, r, warnings);
  if (tree.raft_boltdb !== undefined) delete tree.raft_boltdb;
  if (tree.tls_prefer_server_cipher_suites !== undefined) {
    delete tree.tls_prefer_server_cipher_suites;
    warnings.push("The 'tls_prefer_server_cipher_suites' field is deprecated and will be ignored.");
  }
  return warnings;
}
