// Calls a managed server makes to one etcd member by its client URL (its status, the member
// list, moving Raft leadership), over gRPC with the servers' TLS when they have it. Not through
// etcd's HTTP gateway: in etcd 3.4 the gateway cannot pass --client-cert-allowed-hostname.
import { Etcd3, type IOptions } from 'etcd3';
import { grpcTls, type EtcdTls } from './etcd.ts';

/** A member's view of the cluster's Raft state. */
export interface MemberStatus {
  /** This member's ID. */
  id: string;
  /** The leader's ID ('0': none known). */
  leader: string;
  isLearner: boolean;
}

/** An etcd member as the member list shows it (name empty until it has started). */
export interface ListedMember { ID: string; name: string; peerURLs: string[]; clientURLs: string[]; isLearner: boolean }

/** Membership calls run once: autopilot and joiners retry on their own schedule. */
export const noRetry = {
  execute: async <T>(fn: (ctx: { signal: AbortSignal }) => PromiseLike<T> | T) => fn({ signal: new AbortController().signal }),
} as unknown as NonNullable<NonNullable<IOptions['faultHandling']>['global']>;

/** One gRPC client per member URL, kept until close(). */
export class MemberCalls {
  readonly #tls: EtcdTls | null;
  readonly #timeoutMs: number;
  readonly #clients = new Map<string, Etcd3>();

  constructor(tls: EtcdTls | null, timeoutMs = 2000) {
    this.#tls = tls;
    this.#timeoutMs = timeoutMs;
  }

  #client(url: string): Etcd3 {
    let c = this.#clients.get(url);
    if (!c) {
      const tls = this.#tls ? grpcTls(this.#tls) : {};
      c = new Etcd3({
        hosts: [url], faultHandling: { host: () => noRetry, global: noRetry }, ...tls,
        defaultCallOptions: () => ({ deadline: Date.now() + this.#timeoutMs }),
        // A member being started is polled every 100 ms: reconnect as often (gRPC's default backs off to 2 min).
        grpcOptions: { ...tls.grpcOptions, 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 1000 },
      });
      this.#clients.set(url, c);
    }
    return c;
  }

  /** The member's status (a learner answers this too). */
  async status(url: string): Promise<MemberStatus> {
    const s = await this.#client(url).maintenance.status();
    return { id: s.header.member_id, leader: s.leader, isLearner: s.isLearner === true };
  }

  /** The members as this member knows them (serializable; a learner refuses). */
  async list(url: string): Promise<ListedMember[]> {
    const res = await this.#client(url).cluster.memberList({});
    return res.members.map((m) => ({
      ID: m.ID, name: m.name, peerURLs: m.peerURLs ?? [], clientURLs: m.clientURLs ?? [], isLearner: m.isLearner === true,
    }));
  }

  /** Asks the leader at `url` to hand its leadership to member `targetID`. */
  async moveLeader(url: string, targetID: string): Promise<void> {
    await this.#client(url).maintenance.moveLeader({ targetID });
  }

  close(): void {
    for (const c of this.#clients.values()) c.close();
    this.#clients.clear();
  }
}
