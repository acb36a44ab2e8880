// The `agent` command-line flags (Consul's agent/config/flags.go plus Proconsul's -store) and
// their translation into configuration fragments: list flags are merged before the files,
// the other flags after them, as Consul's builder does.
import { formatGoDuration, parseFlags, type FlagDef, type FlagKind } from '../../cli/flags.ts';
import { ConfigError } from './error.ts';
import { setPath, type ConfigTree } from './merge.ts';

/** One agent flag: its definition and the config key it sets (none for loader options). */
interface AgentFlag {
  name: string;
  kind: FlagKind;
  key?: string;
  usage: string;
}

const f = (name: string, kind: FlagKind, key: string | undefined, usage: string): AgentFlag => ({ name, kind, key, usage });

/** Consul's agent flags, ordered by name as flags.go lists them. */
const agentFlags: AgentFlag[] = [
  f('advertise', 'string', 'advertise_addr', 'Sets the advertise address to use.'),
  f('advertise-wan', 'string', 'advertise_addr_wan', 'Sets address to advertise on WAN instead of -advertise address.'),
  f('allow-write-http-from', 'list', 'http_config.allow_write_http_from', 'Only allow write endpoint calls from given network. CIDR format, can be specified multiple times.'),
  f('alt-domain', 'string', 'alt_domain', 'Alternate domain to use for DNS interface.'),
  f('auto-reload-config', 'bool', 'auto_reload_config', 'Watches config files for changes and auto reloads the files when modified.'),
  f('bind', 'string', 'bind_addr', 'Sets the bind address for cluster communication.'),
  f('bootstrap', 'bool', 'bootstrap', 'Sets server to bootstrap mode.'),
  f('bootstrap-expect', 'int', 'bootstrap_expect', 'Sets server to expect bootstrap mode.'),
  f('check_output_max_size', 'int', 'check_output_max_size', 'Sets the maximum output size for checks on this agent'),
  f('client', 'string', 'client_addr', 'Sets the address to bind for client access. This includes RPC, DNS, HTTP, HTTPS and gRPC (if configured).'),
  f('config-dir', 'list', undefined, "Path to a directory to read configuration files from. This will read every file ending in '.json' as configuration in this directory in alphabetical order. Can be specified multiple times."),
  f('config-file', 'list', undefined, 'Path to a file in JSON or HCL format with a matching file extension. Can be specified multiple times.'),
  f('config-format', 'string', undefined, "Config files are in this format irrespective of their extension. Must be 'hcl' or 'json'"),
  f('data-dir', 'string', 'data_dir', 'Path to a data directory to store agent state.'),
  f('datacenter', 'string', 'datacenter', 'Datacenter of the agent.'),
  f('default-query-time', 'duration', 'default_query_time', "the amount of time a blocking query will wait before Consul will force a response. This value can be overridden by the 'wait' query parameter."),
  f('dev', 'bool', undefined, 'Starts the agent in development mode.'),
  f('disable-host-node-id', 'bool', 'disable_host_node_id', 'Setting this to true will prevent Consul from using information from the host to generate a node ID, and will cause Consul to generate a random node ID instead.'),
  f('disable-keyring-file', 'bool', 'disable_keyring_file', 'Disables the backing up of the keyring to a file.'),
  f('dns-port', 'int', 'ports.dns', 'DNS port to use.'),
  f('domain', 'string', 'domain', 'Domain to use for DNS interface.'),
  f('enable-local-script-checks', 'bool', 'enable_local_script_checks', 'Enables health check scripts from configuration file.'),
  f('enable-script-checks', 'bool', 'enable_script_checks', 'Enables health check scripts.'),
  f('encrypt', 'string', 'encrypt', 'Provides the gossip encryption key.'),
  f('grpc-port', 'int', 'ports.grpc', 'Sets the gRPC API port to listen on.'),
  f('grpc-tls-port', 'int', 'ports.grpc_tls', 'Sets the gRPC-TLS API port to listen on.'),
  f('hcl', 'list', undefined, 'hcl config fragment. Can be specified multiple times.'),
  f('http-port', 'int', 'ports.http', 'Sets the HTTP API port to listen on.'),
  f('https-port', 'int', 'ports.https', 'Sets the HTTPS API port to listen on.'),
  f('join', 'list', 'start_join', 'Address of an agent to join at start time. Can be specified multiple times.'),
  f('join-wan', 'list', 'start_join_wan', 'Address of an agent to join -wan at start time. Can be specified multiple times.'),
  f('log-file', 'string', 'log_file', 'Path to the file the logs get written to'),
  f('log-json', 'bool', 'log_json', 'Output logs in JSON format.'),
  f('log-level', 'string', 'log_level', 'Log level of the agent.'),
  f('log-rotate-bytes', 'int', 'log_rotate_bytes', 'Maximum number of bytes that should be written to a log file'),
  f('log-rotate-duration', 'duration', 'log_rotate_duration', 'Time after which log rotation needs to be performed'),
  f('log-rotate-max-files', 'int', 'log_rotate_max_files', 'Maximum number of log file archives to keep'),
  f('max-query-time', 'duration', 'max_query_time', 'the maximum amount of time a blocking query can wait before Consul will force a response. Consul applies jitter to the wait time. The jittered time will be capped to MaxQueryTime.'),
  f('node', 'string', 'node_name', 'Name of this node. Must be unique in the cluster.'),
  f('node-id', 'string', 'node_id', 'A unique ID for this node across space and time. Defaults to a randomly-generated ID that persists in the data-dir.'),
  f('node-meta', 'list', 'node_meta', 'An arbitrary metadata key/value pair for this node, of the format `key:value`. Can be specified multiple times.'),
  f('non-voting-server', 'bool', 'read_replica', '(Enterprise-only) DEPRECATED: -read-replica should be used instead'),
  f('pid-file', 'string', 'pid_file', 'Path to file to store agent PID.'),
  f('primary-gateway', 'list', 'primary_gateways', 'Address of a mesh gateway in the primary datacenter to use to bootstrap WAN federation at start time with retries enabled. Can be specified multiple times.'),
  f('protocol', 'int', 'protocol', 'Sets the protocol version. Defaults to latest.'),
  f('raft-protocol', 'int', 'raft_protocol', 'Sets the Raft protocol version. Defaults to latest.'),
  f('read-replica', 'bool', 'read_replica', '(Enterprise-only) This flag is used to make the server not participate in the Raft quorum, and have it only receive the data replication stream.'),
  f('recursor', 'list', 'recursors', 'Address of an upstream DNS server. Can be specified multiple times.'),
  f('rejoin', 'bool', 'rejoin_after_leave', 'Ignores a previous leave and attempts to rejoin the cluster.'),
  f('retry-interval', 'duration', 'retry_interval', 'Time to wait between join attempts.'),
  f('retry-interval-wan', 'duration', 'retry_interval_wan', 'Time to wait between join -wan attempts.'),
  f('retry-join', 'list', 'retry_join', 'Address of an agent to join at start time with retries enabled. Can be specified multiple times.'),
  f('retry-join-wan', 'list', 'retry_join_wan', 'Address of an agent to join -wan at start time with retries enabled. Can be specified multiple times.'),
  f('retry-max', 'int', 'retry_max', 'Maximum number of join attempts. Defaults to 0, which will retry indefinitely.'),
  f('retry-max-wan', 'int', 'retry_max_wan', 'Maximum number of join -wan attempts. Defaults to 0, which will retry indefinitely.'),
  f('segment', 'string', 'segment', '(Enterprise-only) Sets the network segment to join.'),
  f('serf-lan-allowed-cidrs', 'list', 'serf_lan_allowed_cidrs', 'Networks (eg: 192.168.1.0/24) allowed for Serf LAN. Can be specified multiple times.'),
  f('serf-lan-bind', 'string', 'serf_lan', 'Address to bind Serf LAN listeners to.'),
  f('serf-lan-port', 'int', 'ports.serf_lan', 'Sets the Serf LAN port to listen on.'),
  f('serf-wan-allowed-cidrs', 'list', 'serf_wan_allowed_cidrs', 'Networks (eg: 192.168.1.0/24) allowed for Serf WAN (other datacenters). Can be specified multiple times.'),
  f('serf-wan-bind', 'string', 'serf_wan', 'Address to bind Serf WAN listeners to.'),
  f('serf-wan-port', 'int', 'ports.serf_wan', 'Sets the Serf WAN port to listen on.'),
  f('server', 'bool', 'server', 'Switches agent to server mode.'),
  f('server-port', 'int', 'ports.server', 'Sets the server port to listen on.'),
  f('store', 'string', 'store', 'Proconsul only: the state store backend: memory, embedded (in data-dir), managed (a supervised local etcd member; default with -bootstrap-expect > 1) or etcd://host:port,… .'),
  f('syslog', 'bool', 'enable_syslog', 'Enables logging to syslog.'),
  f('ui', 'bool', 'ui_config.enabled', 'Enables the built-in static web UI server.'),
  f('ui-content-path', 'string', 'ui_config.content_path', 'Sets the external UI path to a string. Defaults to: /ui/ '),
  f('ui-dir', 'string', 'ui_config.dir', 'Path to directory containing the web UI resources.'),
];

/** The `proconsul agent` flag definitions for parseFlags and help output. */
export const agentFlagDefs: FlagDef[] = agentFlags.map(({ name, kind, usage }) => ({ name, kind, usage, ...(kind === 'list' ? { default: [] } : {}) }));

/** What the agent flags ask of the loader. */
export interface AgentFlagValues {
  dev: boolean;
  /** -config-file and -config-dir paths in command-line order. */
  configPaths: string[];
  configFormat?: 'json' | 'hcl';
  hcl: string[];
  /** List-valued flags, merged before the config files (Consul's "flags.slices"). */
  slices: ConfigTree;
  /** Other flags, merged after the config files (Consul's "flags.values"). */
  values: ConfigTree;
  warnings: string[];
}

/** `key:value` as Consul's -node-meta parses it; a missing value is empty. */
function parseMetaPair(s: string): [string, string] {
  const i = s.indexOf(':');
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)];
}

/** Paths of -config-file / -config-dir in the order they appear (both feed one list in Consul). */
function configPathsInOrder(argv: string[], consumed: number): string[] {
  const byName = new Map(agentFlags.map((a) => [a.name, a]));
  const out: string[] = [];
  for (let i = 0; i < consumed; i++) {
    const body = argv[i].replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const kind = byName.get(name)?.kind;
    const value = eq >= 0 ? body.slice(eq + 1) : kind === 'bool' ? undefined : argv[++i];
    if ((name === 'config-file' || name === 'config-dir') && value !== undefined) out.push(value);
  }
  return out;
}

function flagValue(a: AgentFlag, v: string | boolean | number | bigint | string[]): unknown {
  if (a.kind === 'duration') return formatGoDuration(v as number);
  if (a.name === 'node-meta') return Object.fromEntries((v as string[]).map(parseMetaPair));
  return v;
}

/** Parses agent flags; a FlagError carries Go's flag-package message. */
export function readAgentFlags(argv: string[]): AgentFlagValues {
  const parsed = parseFlags(agentFlagDefs, argv);
  if (parsed.args.length > 0) throw new ConfigError(`unexpected argument: ${parsed.args[0]}`);
  const format = parsed.values['config-format'] as string | undefined;
  if (format !== undefined && format !== '' && format !== 'json' && format !== 'hcl') {
    throw new ConfigError("config: -config-format must be either 'hcl' or 'json'");
  }
  const out: AgentFlagValues = {
    dev: parsed.values.dev === true, configPaths: configPathsInOrder(argv, argv.length - parsed.args.length),
    configFormat: format ? (format as 'json' | 'hcl') : undefined,
    hcl: (parsed.values.hcl as string[]) ?? [], slices: {}, values: {}, warnings: [],
  };
  for (const a of agentFlags) {
    if (!a.key || !parsed.given.has(a.name)) continue;
    const isSlice = a.kind === 'list' && a.name !== 'node-meta';
    setPath(isSlice ? out.slices : out.values, a.key, flagValue(a, parsed.values[a.name]));
    if (a.name === 'join' || a.name === 'join-wan') out.warnings.push(`The '-${a.name}' flag is deprecated. Use the '-retry-${a.name}' flag instead.`);
    if (a.name === 'non-voting-server') out.warnings.push("The '-non-voting-server' flag is deprecated. Use the '-read-replica' flag instead.");
  }
  return out;
}
