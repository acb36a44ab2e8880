// The LAN gossip part of the runtime configuration (Consul's serf_lan, encrypt, retry_join,
// leave and reconnect settings and the gossip_lan timings), read from the merged tree.
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
  /** How long a failed member is kept before it is reaped (ms). */
  reconnectTimeoutMs: number;
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
}

/** Consul's minimum reconnect_timeout. */
const MIN_RECONNECT_MS = 8 * 3_600_000;

function readTimings(r: TreeReader): GossipTimings {
  return {
    gossipIntervalMs: r.durationMs('gossip_lan.gossip_interval', 200), gossipNodes: r.int('gossip_lan.gossip_nodes', 3),
    retransmitMult: r.int('gossip_lan.retransmit_mult', 4), probeIntervalMs: r.durationMs('gossip_lan.probe_interval', 1000),
    probeTimeoutMs: r.durationMs('gossip_lan.probe_timeout', 500), suspicionMult: r.int('gossip_lan.suspicion_mult', 4),
  };
}

/** Reads the gossip settings; `bindAddr` is the resolved bind_addr, `server` the agent's role. */
export function readGossip(r: TreeReader, bindAddr: string, bindPort: number, server: boolean): GossipSettings {
  const reconnectTimeoutMs = r.durationMs('reconnect_timeout', 72 * 3_600_000);
  if (reconnectTimeoutMs < MIN_RECONNECT_MS) throw new ConfigError('reconnect_timeout must be >= 8h0m0s');
  return {
    bindAddr: r.str('serf_lan') || bindAddr, bindPort,
    encrypt: r.str('encrypt'),
    encryptVerifyIncoming: r.bool('encrypt_verify_incoming', true), encryptVerifyOutgoing: r.bool('encrypt_verify_outgoing', true),
    reconnectTimeoutMs, rejoinAfterLeave: r.bool('rejoin_after_leave'),
    retryJoin: r.strings('retry_join'), retryIntervalMs: r.durationMs('retry_interval', 30_000), retryMax: r.int('retry_max'),
    leaveOnTerminate: r.bool('leave_on_terminate', !server), skipLeaveOnInterrupt: r.bool('skip_leave_on_interrupt', server),
    timings: readTimings(r),
  };
}
