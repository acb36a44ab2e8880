// The election contract the agent, the leader loops and the operator endpoints share, and the
// trivial election of a single server on a private store (memory, embedded): it always leads.
import type { Clock } from '../clock.ts';
import { InternalError } from '../errors.ts';
import type { Leadership } from '../endpoint/index.ts';
import type { WatchBatch } from '../store/index.ts';
import type { LeaderRecord, ServerRecord } from './servers.ts';
import { leaderRecordOf } from './servers.ts';

/** What a server says about itself when it registers. */
export type ServerIdentity = Pick<ServerRecord, 'ID' | 'Node' | 'Address' | 'Version' | 'Tags' | 'ReadReplica'>;

/** Leadership plus what the agent and operator endpoints need from an election. */
export interface LeaderElection extends Leadership {
  /** Joins the election (registers, follows, campaigns). */
  start(): Promise<void>;
  /** Leaves it; a leader resigns so another server takes over at once. */
  stop(): Promise<void>;
  /** Live servers, sorted by node name. */
  servers(): ServerRecord[];
  /** The current leader's record, or null. */
  leader(): LeaderRecord | null;
  /** This server's own record. */
  self(): ServerRecord;
  /** Revision of the last change to the server set or the leader (Raft configuration index). */
  index(): number;
  /** Milliseconds since the last leader heartbeat seen (0 on the leader). */
  lastContactMs(): number;
  /** Interval of leader heartbeats and lease keepalives, ms (0: none, a single server). */
  heartbeatMs(): number;
  /** Revision at which the current leader took office (Raft's term, monotonic). */
  term(): number;
  /** Calls `fn(true)` when this server gains leadership, `fn(false)` when it loses it. */
  onLeadership(fn: (leader: boolean) => void): void;
  /** Calls `fn` with every Store batch the election's watch sees (shared store only). */
  onBatch(fn: (b: WatchBatch) => void): void;
  /** Moves leadership to the voter with this server ID (any other voter when absent). */
  transfer(targetId?: string): Promise<void>;
  /** Removes a server from the configuration by ID or address. */
  removePeer(by: { id?: string; address?: string }): Promise<void>;
}

/** The election of a server alone on its store: leader from start() to stop(). */
export class SoloElection implements LeaderElection {
  #self: ServerRecord;
  #leading = false;
  readonly #clock: Clock;
  readonly #fns: ((leader: boolean) => void)[] = [];

  constructor(self: ServerIdentity, clock: Clock) {
    this.#clock = clock;
    this.#self = { ...self, Lease: 0, LastIndex: 0, LastContactMs: 0, StatusAt: 0, Since: 0 };
  }

  async start(): Promise<void> {
    this.#self = { ...this.#self, Since: this.#clock.now(), StatusAt: this.#clock.now() };
    this.#set(true);
  }

  async stop(): Promise<void> { this.#set(false); }
  // A single server is its own leader even before start(), as Consul's -dev is.
  isLeader(): boolean { return true; }
  knownLeader(): boolean { return true; }
  leaderAddr(): string { return this.#self.Address; }
  peers(): string[] { return [this.#self.Address]; }
  servers(): ServerRecord[] { return [this.#self]; }
  leader(): LeaderRecord { return leaderRecordOf(this.#self); }
  self(): ServerRecord { return this.#self; }
  index(): number { return 1; }
  lastContactMs(): number { return 0; }
  heartbeatMs(): number { return 0; }
  term(): number { return 1; }
  onLeadership(fn: (leader: boolean) => void): void { this.#fns.push(fn); }
  onBatch(): void { /* the replica is the only follower of a private store */ }

  async transfer(): Promise<void> {
    throw new InternalError('cannot find peer');
  }

  async removePeer(by: { id?: string; address?: string }): Promise<void> {
    throw new InternalError(by.id ? `id "${by.id}" was not found in the Raft configuration` : `address "${by.address}" was not found in the Raft configuration`);
  }

  #set(leading: boolean): void {
    if (leading === this.#leading) return;
    this.#leading = leading;
    for (const fn of this.#fns) fn(leading);
  }
}
