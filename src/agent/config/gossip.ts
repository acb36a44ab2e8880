// The gossip parts of the runtime configuration: the LAN pool (Consul's serf_lan, encrypt,
// retry_join, leave and reconnect settings and the gossip_lan timings) and the servers' WAN pool
// (serf_wan, ports.serf_wan, retry_join_wan, reconnect_timeout_wan, gossip_wan), read from the merged tree.
import { isIP } from 'node:net';
import { ConfigError } from './error.ts';
import type { TreeReader } from './values.ts';

/** Gossip timings from `gossip_lan` (Consul's dev mode makes them fast). */
export interface GossipTimings {
  gossipIntervalMs: number;
  gossipNodes: number;
  retransmitMult: number;
  probeIntervalMs: number;
  probeTimeoutMs: number;
  suspicionMult: number;
}

/** How the agent takes part in the LAN pool. */
export interface GossipSettings {
  /** Address the serf LAN sockets bind (`serf_lan`, else `bind_addr`). */
  bindAddr: string;
  bindPort: number;
  /** Empty: gossip is not encrypted. */
  encrypt: string;
  encryptVerifyIncoming: boolean;
  encryptVerifyOutgoing: boolean;
  /** disable_keyring_file: the gossip keyrings are not persisted in the data dir (absent: false). */
  disableKeyringFile?: boolean;
  /** How long a failed member is kept before it is reaped (ms). */
  reconnectTimeoutMs: number;
  /** advertise_reconnect_timeout (clients): the reconnect timeout other agents apply to this one, in its `rc_tm` tag (ms; 0: theirs). */
  advertiseReconnectTimeoutMs?: number;
  rejoinAfterLeave: boolean;
  /** Addresses joined at start, retried (start_join is folded in by the loader). */
  retryJoin: string[];
  retryIntervalMs: number;
  /** 0: retry forever. */
  retryMax: number;
  /** SIGTERM leaves gracefully (default: clients yes, servers no). */
  leaveOnTerminate: boolean;
  /** SIGINT skips the graceful leave (default: servers yes, clients no). */
  skipLeaveOnInterrupt: boolean;
  timings: GossipTimings;
  /** serf_lan_allowed_cidrs: gossip only with these networks (absent or empty: any). */
  allowedCidrs?: string[];
}

/** Consul's minimum reconnect_timeout. */
const MIN_RECONNECT_MS = 8 * 3_600_000;

/** How a server takes part in the WAN pool (servers of every datacenter). */
export interface WanGossipSettings {
  /** Address the serf WAN sockets bind (`serf_wan`, else `bind_addr`). */
  bindAddr: string;
  bindPort: number;
  /** advertise_addr_wan (else the LAN advertise address). */
  advertiseAddr: string;
  reconnectTimeoutMs: number;
  /** retry_join_wan (start_join_wan folded in by the loader). */
  retryJoin: string[];
  retryIntervalMs: number;
  /** 0: retry forever. */
  retryMax: number;
  timings: GossipTimings;
  /** serf_wan_allowed_cidrs: gossip only with these networks (absent or empty: any). */
  allowedCidrs?: string[];
}

// Consul's gossip_lan / gossip_wan defaults (memberlist's DefaultLANConfig / DefaultWANConfig).
const TIMING_DEFAULTS = {
  gossip_lan: { gossip_interval: 200, gossip_nodes: 3, retransmit_mult: 4, probe_interval: 1000, probe_timeout: 500, suspicion_mult: 4 },
  gossip_wan: { gossip_interval: 500, gossip_nodes: 4, retransmit_mult: 4, probe_interval: 5000, probe_timeout: 3000, suspicion_mult: 6 },
};

function readTimings(r: TreeReader, block: 'gossip_lan' | 'gossip_wan' = 'gossip_lan'): GossipTimings {
  const d = TIMING_DEFAULTS[block];
  return {
    gossipIntervalMs: r.durationMs(`${block}.gossip_interval`, d.gossip_interval), gossipNodes: r.int(`${block}.gossip_nodes`, d.gossip_nodes),
    retransmitMult: r.int(`${block}.retransmit_mult`, d.retransmit_mult), probeIntervalMs: r.durationMs(`${block}.probe_interval`, d.probe_interval),
    probeTimeoutMs: r.durationMs(`${block}.probe_timeout`, d.probe_timeout), suspicionMult: r.int(`${block}.suspicion_mult`, d.suspicion_mult),
  };
}

/** Reads the WAN pool settings; undefined for client agents and with ports.serf_wan = -1 (Consul's way to disable it). */
export function readGossipWan(r: TreeReader, bindAddr: string, advertiseAddrWan: string, port: number, server: boolean): WanGossipSettings | undefined {
  if (!server || port < 0) return undefined;
  const reconnectTimeoutMs = r.durationMs('reconnect_timeout_wan', 72 * 3_600_000);
  if (reconnectTimeoutMs < MIN_RECONNECT_MS) throw new ConfigError('reconnect_timeout_wan must be >= 8h0m0s');
  return {
    bindAddr: r.str('serf_wan') || bindAddr, bindPort: port, advertiseAddr: advertiseAddrWan, reconnectTimeoutMs,
    retryJoin: r.strings('retry_join_wan'), retryIntervalMs: r.durationMs('retry_interval_wan', 30_000), retryMax: r.int('retry_max_wan'),
    timings: readTimings(r, 'gossip_wan'), allowedCidrs: allowedCidrs(r, 'serf_wan_allowed_cidrs'),
  };
}

/** Reads the gossip settings; `bindAddr` is the resolved bind_addr, `server` the agent's role. */
export function readGossip(r: TreeReader, bindAddr: string, bindPort: number, server: boolean): GossipSettings {
  const reconnectTimeoutMs = r.durationMs('reconnect_timeout', 72 * 3_600_000);
  if (reconnectTimeoutMs < MIN_RECONNECT_MS) throw new ConfigError('reconnect_timeout must be >= 8h0m0s');
  const advertiseReconnectTimeoutMs = r.durationMs('advertise_reconnect_timeout');
  if (server && advertiseReconnectTimeoutMs !== 0) throw new ConfigError('advertise_reconnect_timeout can only be used on a client');
  return {
    bindAddr: r.str('serf_lan') || bindAddr, bindPort, advertiseReconnectTimeoutMs,
    encrypt: r.str('encrypt'), disableKeyringFile: r.bool('disable_keyring_file'),
    encryptVerifyIncoming: r.bool('encrypt_verify_incoming', true), encryptVerifyOutgoing: r.bool('encrypt_verify_outgoing', true),
    reconnectTimeoutMs, rejoinAfterLeave: r.bool('rejoin_after_leave'),
    retryJoin: r.strings('retry_join'), retryIntervalMs: r.durationMs('retry_interval', 30_000), retryMax: r.int('retry_max'),
    leaveOnTerminate: r.bool('leave_on_terminate', !server), skipLeaveOnInterrupt: r.bool('skip_leave_on_interrupt', server),
    timings: readTimings(r), allowedCidrs: allowedCidrs(r, 'serf_lan_allowed_cidrs'),
  };
}

/** serf_*_allowed_cidrs, each a CIDR (memberlist.ParseCIDRs); bad entries fail as Consul's builder does. */
function allowedCidrs(r: TreeReader, key: string): string[] {
  const raw = r.strings(key);
  const bad = raw.filter((p) => !isCidr(p.trim()));
  if (bad.length) {
    const n = bad.length;
    throw new ConfigError(`${key}: ${n} error${n === 1 ? '' : 's'} occurred:\n${bad.map((p) => `\t* invalid cidr: ${p}`).join('\n')}\n\n`);
  }
  return raw.map((p) => p.trim());
}

// Go's net.ParseCIDR: an address (no IPv6 zone), a slash and a prefix length that fits it.
function isCidr(v: string): boolean {
  const slash = v.lastIndexOf('/');
  const family = slash < 0 || v.includes('%') ? 0 : isIP(v.slice(0, slash));
  const bits = v.slice(slash + 1);
  return family !== 0 && /^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}
