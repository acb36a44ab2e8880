// Hooks for memberlist's metrics: what a gossip node counts and times as it works. One object per
// node, shared by its transport, member state machine and prober, with no-op methods until
// instrument() fills them in (the agent maps them to consul.memberlist.* with a network label).

/** Events a gossip node reports; each method is called on the path that does the work. */
export interface GossipStatsHooks {
  /** An alive message was applied (memberlist's msg.alive: a member added, revived, updated or an alive about us refuted). */
  msgAlive(): void;
  /** A suspicion was applied to a member held alive (msg.suspect). */
  msgSuspect(): void;
  /** A death or leave was applied to a member not yet gone (msg.dead). */
  msgDead(): void;
  /** One gossip round took `ms`, ending at `at` (performance.now()). */
  gossip(ms: number, at: number): void;
  /** One probe of a member, from its ping to its ack or its failure, took `ms`, ending at `at`. */
  probeNode(ms: number, at: number): void;
  /** A stream connection was accepted. */
  tcpAccept(): void;
  /** A stream connection was opened to a peer (push-pull, join, keyring operation). */
  tcpConnect(): void;
  /** `bytes` were written on a stream. */
  tcpSent(bytes: number): void;
  /** A datagram of `bytes` was sent. */
  udpSent(bytes: number): void;
  /** A datagram of `bytes` arrived. */
  udpReceived(bytes: number): void;
  /** A probe ran with a health-stretched interval (degraded.probe). */
  degradedProbe(): void;
  /** A suspicion ran out with fewer confirmations than expected (degraded.timeout). */
  degradedTimeout(): void;
  /** One push-pull exchange (a join's or a periodic one) took `ms`, ending at `at`, failed or not. */
  pushPullNode(ms: number, at: number): void;
  /** The encoded size of the state this node sent in a push-pull (size.local). */
  sizeLocal(bytes: number): void;
  /** The encoded size of the state a peer sent in a push-pull (size.remote). */
  sizeRemote(bytes: number): void;
  /** The broadcasts queued, checked every queue check interval (queue.broadcasts). */
  queueBroadcasts(n: number): void;
}

const noop = (): void => undefined;

/** The node's hooks: no-ops until set. */
export class GossipStats implements GossipStatsHooks {
  msgAlive: () => void = noop;
  msgSuspect: () => void = noop;
  msgDead: () => void = noop;
  gossip: (ms: number, at: number) => void = noop;
  probeNode: (ms: number, at: number) => void = noop;
  tcpAccept: () => void = noop;
  tcpConnect: () => void = noop;
  tcpSent: (bytes: number) => void = noop;
  udpSent: (bytes: number) => void = noop;
  udpReceived: (bytes: number) => void = noop;
  degradedProbe: () => void = noop;
  degradedTimeout: () => void = noop;
  pushPullNode: (ms: number, at: number) => void = noop;
  sizeLocal: (bytes: number) => void = noop;
  sizeRemote: (bytes: number) => void = noop;
  queueBroadcasts: (n: number) => void = noop;

  /** Replaces the hooks given. */
  set(hooks: Partial<GossipStatsHooks>): void {
    Object.assign(this, hooks);
  }
}
