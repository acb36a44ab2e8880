// The records Proconsul servers keep in the Store to find each other and to elect a leader:
// `servers/<node>` (one per live server, attached to its lease) and `leader` (the winner's
// record, attached to the winner's lease). Neither is a replica table; the election follows them.

/** Store key of the elected leader's record. */
export const LEADER_KEY = 'leader';
/** Store prefix of the live servers' records. */
export const SERVERS_PREFIX = 'servers/';
/** Store prefix of session renewals made on followers, for the leader's TTL timers (a tenant's under its prefix). */
export { SESSION_RENEW_PREFIX } from '../state/sessions.ts';

/** A live server, as it registers itself (keyed by node name). */
export interface ServerRecord {
  /** The server's node id. */
  ID: string;
  Node: string;
  /** `ip:serverport`, what /v1/status reports. */
  Address: string;
  Version: string;
  /** Gossip-like tags (`dc`, `zone`, `upgrade_version`, …) autopilot reads. */
  Tags: Record<string, string>;
  /** Read replicas serve reads and never lead or vote. */
  ReadReplica: boolean;
  /** Store lease the server's keys live on. */
  Lease: number;
  /** Replica revision applied when the record was last written. */
  LastIndex: number;
  /** The server's last contact with the leader (ms) when the record was last written. */
  LastContactMs: number;
  /** Wall-clock ms of the last write of the record. */
  StatusAt: number;
  /** Wall-clock ms the server (re)registered. */
  Since: number;
  /** `host:port` where it serves its liveness greeting (leader/liveness.ts: its server port), absent when it has none. */
  Liveness?: string;
}

/** The leader key's value: who leads, and a heartbeat counter followers watch. */
export interface LeaderRecord {
  ID: string;
  Node: string;
  Address: string;
  Lease: number;
  /** Bumped by every leader heartbeat; followers take each bump as contact. */
  Beat: number;
  /** `host:port` of the leader's liveness greeting, which followers keep a request open to. */
  Liveness?: string;
}

/** Encodes a record as the Store's JSON bytes. */
export function encodeJson(rec: object): Uint8Array {
  return Buffer.from(JSON.stringify(rec));
}

/** Decodes a Store value, or null when it is not a JSON object. */
export function decodeJson<T>(value: Uint8Array): T | null {
  try {
    const v = JSON.parse(Buffer.from(value).toString()) as unknown;
    return v && typeof v === 'object' ? (v as T) : null;
  } catch {
    return null;
  }
}

/** The leader record that names a server. */
export function leaderRecordOf(s: ServerRecord, beat = 0): LeaderRecord {
  return { ID: s.ID, Node: s.Node, Address: s.Address, Lease: s.Lease, Beat: beat, ...(s.Liveness ? { Liveness: s.Liveness } : {}) };
}
