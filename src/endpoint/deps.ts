// The dependencies every endpoint receives from the composition root (createAgent).
import type { Store } from '../store/index.ts';
import type { Replica } from '../state/index.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { SharedReads } from './shared-reads.ts';

/** Who leads, as far as this server knows. Single servers always lead; etcd HA elects. */
export interface Leadership {
  isLeader(): boolean;
  knownLeader(): boolean;
  /** `ip:serverport` of the leader, or '' when unknown. */
  leaderAddr(): string;
  /** `ip:serverport` of every voting server. */
  peers(): string[];
}

/** Endpoint-relevant settings from the runtime config. */
export interface EndpointConfig {
  datacenter: string;
  nodeName: string;
  kvMaxValueSize: number;
  txnMaxReqLen: number;
  /** Milliseconds. */
  defaultQueryTime: number;
  maxQueryTime: number;
  sessionTtlMin: number;
}

/** Dependencies passed to every endpoint. */
export interface EndpointDeps {
  store: Store;
  replica: Replica;
  clock: Clock;
  logger: Logger;
  leadership: Leadership;
  config: EndpointConfig;
  /** Uniform [0,1) source; injectable for deterministic tests. */
  random: () => number;
  /** Results shared by identical reads at one revision (QueryOptions.shareKey); absent: none shared. */
  sharedReads?: SharedReads;
  /** Counts each read served by a blocking query, blocking or not (Consul's rpc.query); absent: not counted. */
  countQuery?: () => void;
  /** Times each consistent read's wait (Consul's rpc.consistentRead): ms and the performance.now() it ended at; absent: not timed. */
  timeConsistentRead?: (ms: number, at: number) => void;
}

/** A leadership for a single self-elected server. */
export function soloLeadership(addr: string): Leadership {
  return { isLeader: () => true, knownLeader: () => true, leaderAddr: () => addr, peers: () => [addr] };
}
