// Gossip configuration with memberlist's LAN defaults and Serf's reap/reconnect timings
// (Consul's reconnect_timeout of 72h), plus the timing formulas that scale with cluster size.

/** Gossip settings; everything but the name and bind address has a default. */
export interface GossipConfig {
  /** Unique node name. */
  name: string;
  bindAddr: string;
  /** 0 picks a free port (tests). Default 8301. */
  bindPort?: number;
  /** Address and port advertised to peers (default: the bound ones). */
  advertiseAddr?: string;
  advertisePort?: number;
  tags?: Record<string, string>;
  probeIntervalMs?: number;
  probeTimeoutMs?: number;
  /** Peers asked to probe indirectly (k). */
  indirectChecks?: number;
  suspicionMult?: number;
  suspicionMaxTimeoutMult?: number;
  retransmitMult?: number;
  gossipIntervalMs?: number;
  gossipNodes?: number;
  gossipToTheDeadMs?: number;
  pushPullIntervalMs?: number;
  awarenessMaxMultiplier?: number;
  reconnectIntervalMs?: number;
  /** How long a failed member is kept (and retried) before it is reaped. */
  reconnectTimeoutMs?: number;
  /** How long a left member is kept before it is reaped. */
  tombstoneTimeoutMs?: number;
  reapIntervalMs?: number;
  leavePropagateDelayMs?: number;
  /** Longest wait for our leave broadcast to go out. */
  broadcastTimeoutMs?: number;
  /** Largest UDP payload before encryption overhead. */
  udpBufferSize?: number;
  tcpTimeoutMs?: number;
  userEventSizeLimit?: number;
  /** Lamport slots of remembered user events (deduplication window). */
  eventBufferSize?: number;
  /** Coalesce user events fired with `coalesce`: emit the newest per name after a quiet spell. */
  coalesce?: { periodMs: number; quiescentMs: number };
  /** Base64 AES keys, primary first; enables encryption. */
  encryptKeys?: string[];
  encryptVerifyIncoming?: boolean;
  encryptVerifyOutgoing?: boolean;
  /** Where the peer snapshot and keyring are persisted (`<dataDir>/local.snapshot`, `local.keyring`). */
  dataDir?: string;
  /**
   * Serf's merge delegate: vets members before they are added (joins, push-pull state, alive
   * gossip); a returned message rejects them (the join fails with it, gossip is dropped).
   */
  mergeCheck?: (members: Array<{ name: string; tags: Record<string, string> }>) => string | null;
  /** Consul's disable_keyring_file: the keyring lives in memory only (no keyring file read or written). */
  disableKeyringFile?: boolean;
  /** Name of those two files before the extension: `local` (LAN, default) or `remote` (Consul's WAN pool). */
  fileStem?: string;
  /** Rejoin previous peers even after a graceful leave. */
  rejoinAfterLeave?: boolean;
  /** Port used for join addresses that omit one. */
  defaultPort?: number;
  /** Serf's DisableCoordinates: no coordinate on acks, no Vivaldi updates. */
  disableCoordinates?: boolean;
  /**
   * memberlist's CIDRsAllowed (serf_lan/wan_allowed_cidrs): packets and streams from other
   * addresses are dropped and members at other addresses are not added. Absent or empty: any.
   */
  allowedCidrs?: string[];
  /**
   * Serf's ReconnectTimeoutOverride: a failed member's own reconnect timeout, from `timeoutMs`
   * (reconnectTimeoutMs) and the member (Consul reads its `rc_tm` tag).
   */
  reconnectTimeoutOverride?: (member: { name: string; tags: Record<string, string> }, timeoutMs: number) => number;
}

type OptionalKeys = 'advertiseAddr' | 'advertisePort' | 'coalesce' | 'encryptKeys' | 'dataDir' | 'mergeCheck' | 'allowedCidrs' | 'reconnectTimeoutOverride';

/** A config with every default applied. */
export type ResolvedConfig = Required<Omit<GossipConfig, OptionalKeys>> & Pick<GossipConfig, OptionalKeys>;

const HOUR = 3_600_000;

/** memberlist DefaultLANConfig and Serf/Consul defaults. */
export const LAN_DEFAULTS = {
  bindPort: 8301,
  tags: {} as Record<string, string>,
  probeIntervalMs: 1000,
  probeTimeoutMs: 500,
  indirectChecks: 3,
  suspicionMult: 4,
  suspicionMaxTimeoutMult: 6,
  retransmitMult: 4,
  gossipIntervalMs: 200,
  gossipNodes: 3,
  gossipToTheDeadMs: 30_000,
  pushPullIntervalMs: 30_000,
  awarenessMaxMultiplier: 8,
  reconnectIntervalMs: 30_000,
  reconnectTimeoutMs: 72 * HOUR,
  tombstoneTimeoutMs: 24 * HOUR,
  reapIntervalMs: 15_000,
  leavePropagateDelayMs: 1000,
  broadcastTimeoutMs: 5000,
  udpBufferSize: 1400,
  tcpTimeoutMs: 10_000,
  userEventSizeLimit: 512,
  eventBufferSize: 512,
  encryptVerifyIncoming: true,
  encryptVerifyOutgoing: true,
  rejoinAfterLeave: false,
  defaultPort: 8301,
  disableCoordinates: false,
  disableKeyringFile: false,
  fileStem: 'local',
};

/** memberlist DefaultWANConfig: the LAN defaults with WAN-sized timeouts and intervals. */
export const WAN_DEFAULTS = {
  ...LAN_DEFAULTS,
  bindPort: 8302,
  defaultPort: 8302,
  tcpTimeoutMs: 30_000,
  suspicionMult: 6,
  pushPullIntervalMs: 60_000,
  probeTimeoutMs: 3000,
  probeIntervalMs: 5000,
  gossipNodes: 4,
  gossipIntervalMs: 500,
  gossipToTheDeadMs: 60_000,
  fileStem: 'remote',
};

/** Applies defaults to a config. */
export function resolveConfig(c: GossipConfig): ResolvedConfig {
  const defined = Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined));
  return { ...LAN_DEFAULTS, ...defined, tags: { ...(c.tags ?? {}) } } as ResolvedConfig;
}

/** Minimum suspicion timeout: mult × max(1, log10(n)) × probe interval (memberlist). */
export function suspicionTimeout(mult: number, n: number, intervalMs: number): number {
  const scale = Math.max(1, Math.log10(Math.max(1, n)));
  return Math.floor(mult * scale * intervalMs);
}

/** How many times one broadcast is retransmitted: mult × ceil(log10(n+1)). */
export function retransmitLimit(mult: number, n: number): number {
  return mult * Math.ceil(Math.log10(n + 1));
}

/** Push-pull interval, stretched once the cluster passes 32 members. */
export function pushPullScale(intervalMs: number, n: number): number {
  if (n <= 32) return intervalMs;
  return (Math.ceil(Math.log2(n) - Math.log2(32)) + 1) * intervalMs;
}
