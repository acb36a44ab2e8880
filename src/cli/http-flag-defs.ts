// The HTTP API flags every command that talks to an agent accepts (command/flags/http.go), as
// definitions only: help rendering (usage.ts) needs their names for every command, `agent`
// included, without loading the API client that http-flags.ts builds from them.

import type { FlagDef } from './flags.ts';

/** Client flags: where the agent is and how to authenticate. */
export const HTTP_CLIENT_FLAGS: FlagDef[] = [
  { name: 'http-addr', kind: 'string', placeholder: 'address', usage: 'The `address` and port of the Consul HTTP agent. The value can be an IP address or DNS address, but it must also include the port. This can also be specified via the CONSUL_HTTP_ADDR environment variable. The default value is http://127.0.0.1:8500. The scheme can also be set to HTTPS by setting the environment variable CONSUL_HTTP_SSL=true.' },
  { name: 'token', kind: 'string', placeholder: 'value', usage: 'ACL token to use in the request. This can also be specified via the CONSUL_HTTP_TOKEN environment variable. If unspecified, the query will default to the token of the Consul agent at the HTTP address.' },
  { name: 'token-file', kind: 'string', placeholder: 'value', usage: 'File containing the ACL token to use in the request instead of one specified via the -token argument or CONSUL_HTTP_TOKEN environment variable. This can also be specified via the CONSUL_HTTP_TOKEN_FILE environment variable.' },
  { name: 'ca-file', kind: 'string', placeholder: 'value', usage: 'Path to a CA file to use for TLS when communicating with Consul. This can also be specified via the CONSUL_CACERT environment variable.' },
  { name: 'ca-path', kind: 'string', placeholder: 'value', usage: 'Path to a directory of CA certificates to use for TLS when communicating with Consul. This can also be specified via the CONSUL_CAPATH environment variable.' },
  { name: 'client-cert', kind: 'string', placeholder: 'value', usage: "Path to a client cert file to use for TLS when 'verify_incoming' is enabled. This can also be specified via the CONSUL_CLIENT_CERT environment variable." },
  { name: 'client-key', kind: 'string', placeholder: 'value', usage: "Path to a client key file to use for TLS when 'verify_incoming' is enabled. This can also be specified via the CONSUL_CLIENT_KEY environment variable." },
  { name: 'tls-server-name', kind: 'string', placeholder: 'value', usage: 'The server name to use as the SNI host when connecting via TLS. This can also be specified via the CONSUL_TLS_SERVER_NAME environment variable.' },
];

/** Server flags: which datacenter answers and whether a follower may. */
export const HTTP_SERVER_FLAGS: FlagDef[] = [
  { name: 'datacenter', kind: 'string', placeholder: 'value', usage: 'Name of the datacenter to query. If unspecified, this will default to the datacenter of the queried agent.' },
  { name: 'stale', kind: 'bool', usage: 'Permit any Consul server (non-leader) to respond to this request. This allows for lower latency and higher throughput, but can result in stale data. This option has no effect on non-read operations. The default value is false.' },
];

/** All HTTP flags, for commands that merge both sets as Consul's kv commands do. */
export const HTTP_FLAGS: FlagDef[] = [...HTTP_CLIENT_FLAGS, ...HTTP_SERVER_FLAGS];

/** Namespace and admin partition flags (Consul's MultiTenancyFlags), listed with a command's own options. */
export const MULTI_TENANCY_FLAGS: FlagDef[] = [
  { name: 'namespace', kind: 'string', usage: "Specifies the namespace to query. If not provided, the namespace will be inferred from the request's ACL token, or will default to the `default` namespace. Namespaces are a Consul Enterprise feature." },
  { name: 'partition', kind: 'string', usage: "Specifies the admin partition to query. If not provided, the admin partition will be inferred from the request's ACL token, or will default to the `default` admin partition. Admin Partitions are a Consul Enterprise feature." },
];

/** The admin partition flag alone (Consul's PartitionFlag), for partition-level commands. */
export const PARTITION_FLAGS: FlagDef[] = MULTI_TENANCY_FLAGS.filter((f) => f.name === 'partition');

/** Names of the HTTP flags, which help lists under "HTTP API Options". */
export const HTTP_FLAG_NAMES: ReadonlySet<string> = new Set(HTTP_FLAGS.map((f) => f.name));
