// memberlist's metrics with Consul's names and its `network` label (lan, wan), as Consul's serf
// setup labels each pool: consul.memberlist.msg.alive|suspect|dead, tcp.accept|connect|sent,
// udp.sent|received (bytes), degraded.probe|timeout, the gossip, probeNode and pushPullNode
// timers, the size.remote and queue.broadcasts samples, and the gauges health.score (the pool's
// Lifeguard awareness), node.instances (members by node_state) and size.local, read at scrape time. Counters and timers sit on the gossip hot
// paths: each pool's increments are bound once (no key built per packet) and timer samples go
// through preallocated batches.
import type { Clock } from '../clock.ts';
import type { Gossip } from '../gossip/index.ts';
import type { Member } from '../gossip/member.ts';
import type { Telemetry } from '../telemetry/metrics.ts';

/** The pools whose health each agent's health.score gauge reports. */
const pools = new WeakMap<Telemetry, Pool[]>();

interface Pool {
  network: string;
  gossip: Pick<Gossip, 'healthScore' | 'members' | 'config'>;
  /** The gossip node's clock (members' stateChange is in its time). */
  clock: Pick<Clock, 'now'>;
  /** The size of the last state this pool sent in a push-pull (NaN: none yet). */
  sizeLocal: number;
}

const NODE_STATES: readonly Member['state'][] = ['alive', 'suspect', 'dead', 'left'];

/** Counts and times `gossip`'s work as memberlist's metrics labelled `network`. */
export function memberlistMetrics(
  t: Telemetry, network: 'lan' | 'wan', gossip: Pick<Gossip, 'instrument' | 'healthScore' | 'members' | 'config'>, clock: Pick<Clock, 'now'>,
): void {
  const labels = { network };
  const counter = (name: string, help: string) => t.counterFamily(`memberlist.${name}`, help, ['network'])(labels);
  const timer = (name: string, help: string) => t.batchedTimerFamily(`memberlist.${name}`, help, 'network')(network);
  const gossipTimer = timer('gossip', 'This metric gives the number of gossips (messages) broadcasted to a set of randomly selected nodes.');
  const probeTimer = timer('probeNode', 'This metric measures the time taken to perform a single round of failure detection on a select agent.');
  const pushPullTimer = timer('pushPullNode', 'This metric measures the number of agents that have exchanged state with this agent.');
  const sizeRemote = timer('size.remote', 'The size in bytes of the state a remote agent sent in a push/pull exchange.');
  const queue = timer('queue.broadcasts', 'The number of messages queued for broadcast, sampled every 30 seconds.');
  const pool: Pool = { network, gossip, clock, sizeLocal: NaN };
  gossip.instrument({
    msgAlive: counter('msg.alive', 'This metric counts the number of alive agents, that the agent has mapped out so far, based on the message information given by the network layer.'),
    msgSuspect: counter('msg.suspect', 'This increments when an agent suspects another as failed when executing random probes as part of the gossip protocol.'),
    msgDead: counter('msg.dead', 'This metric counts the number of times an agent has marked another agent to be a dead node.'),
    tcpAccept: counter('tcp.accept', 'This metric counts the number of times an agent has accepted an incoming TCP stream connection.'),
    tcpConnect: counter('tcp.connect', 'This metric counts the number of times an agent has initiated a push/pull sync with an other agent.'),
    tcpSent: counter('tcp.sent', 'This metric measures the total number of bytes sent by an agent through the TCP protocol.'),
    udpSent: counter('udp.sent', 'This metric measures the total number of bytes sent by an agent through the UDP protocol.'),
    udpReceived: counter('udp.received', 'This metric measures the total number of bytes received by an agent through the UDP protocol.'),
    degradedProbe: counter('degraded.probe', 'This metric counts the number of times the agent has performed failure detection on an other agent at a slower probe rate.'),
    degradedTimeout: counter('degraded.timeout', 'This metric counts the number of times an agent was marked as a dead node, whilst not getting enough confirmations from a randomly selected list of agent nodes in an agent\'s membership.'),
    gossip: (ms, at) => gossipTimer.add(ms, at),
    probeNode: (ms, at) => probeTimer.add(ms, at),
    pushPullNode: (ms, at) => pushPullTimer.add(ms, at),
    sizeLocal: (bytes) => { pool.sizeLocal = bytes; },
    sizeRemote: (bytes) => sizeRemote.add(bytes, performance.now()),
    queueBroadcasts: (n) => queue.add(n, performance.now()),
  });
  let list = pools.get(t);
  if (!list) {
    const l: Pool[] = [];
    pools.set(t, list = l);
    t.labeledGauge('memberlist.health.score',
      "This metric describes a node's perception of its own health based on how well it is meeting the soft real-time requirements of the protocol. This metric ranges from 0 to 8, where 0 indicates \"totally healthy\".",
      ['network'], () => l.map((p) => [{ network: p.network }, p.gossip.healthScore()] as [Record<'network', string>, number]));
    t.labeledGauge('memberlist.node.instances', 'The number of members in each state (alive, suspect, dead, left) this agent knows, itself included.',
      ['network', 'node_state'], () => l.flatMap((p) => instances(p)));
    t.labeledGauge('memberlist.size.local', 'The size in bytes of the state this agent sent in its last push/pull exchange.',
      ['network'], () => l.filter((p) => !Number.isNaN(p.sizeLocal)).map((p) => [{ network: p.network }, p.sizeLocal] as [Record<'network', string>, number]));
  }
  list.push(pool);
}

/**
 * One pool's members counted by state, every state listed (memberlist's pushPull sets all four).
 * memberlist's own table drops a dead or left member once gossip_to_the_dead_time has passed
 * (resetNodes), though Serf above it remembers the member until reconnect_timeout: here the
 * table is Serf's, so those members are left out, as memberlist would have forgotten them.
 */
function instances(p: Pool): [Record<'network' | 'node_state', string>, number][] {
  const counts = new Map<string, number>(NODE_STATES.map((s) => [s, 0]));
  const now = p.clock.now();
  const toTheDead = p.gossip.config.gossipToTheDeadMs;
  for (const m of p.gossip.members()) {
    if ((m.state === 'dead' || m.state === 'left') && now - m.stateChange > toTheDead) continue;
    counts.set(m.state, (counts.get(m.state) ?? 0) + 1);
  }
  return [...counts].map(([state, n]) => [{ network: p.network, node_state: state }, n]);
}
