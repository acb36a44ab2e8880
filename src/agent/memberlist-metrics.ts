// memberlist's metrics with Consul's names and its `network` label (lan, wan), as Consul's serf
// setup labels each pool: consul.memberlist.msg.alive|suspect|dead, tcp.accept|connect|sent,
// udp.sent|received (bytes), the gossip and probeNode timers, and the health.score gauge read
// from the pool's Lifeguard awareness at scrape time. Counters and timers sit on the gossip hot
// paths: each pool's increments are bound once (no key built per packet) and timer samples go
// through preallocated batches.
import type { Gossip } from '../gossip/index.ts';
import type { Telemetry } from '../telemetry/metrics.ts';

/** The pools whose health each agent's health.score gauge reports. */
const pools = new WeakMap<Telemetry, { network: string; gossip: Pick<Gossip, 'healthScore'> }[]>();

/** Counts and times `gossip`'s work as memberlist's metrics labelled `network`. */
export function memberlistMetrics(t: Telemetry, network: 'lan' | 'wan', gossip: Pick<Gossip, 'instrument' | 'healthScore'>): void {
  const labels = { network };
  const counter = (name: string, help: string) => t.counterFamily(`memberlist.${name}`, help, ['network'])(labels);
  const timer = (name: string, help: string) => t.batchedTimerFamily(`memberlist.${name}`, help, 'network')(network);
  const gossipTimer = timer('gossip', 'This metric gives the number of gossips (messages) broadcasted to a set of randomly selected nodes.');
  const probeTimer = timer('probeNode', 'This metric measures the time taken to perform a single round of failure detection on a select agent.');
  gossip.instrument({
    msgAlive: counter('msg.alive', 'This metric counts the number of alive agents, that the agent has mapped out so far, based on the message information given by the network layer.'),
    msgSuspect: counter('msg.suspect', 'This increments when an agent suspects another as failed when executing random probes as part of the gossip protocol.'),
    msgDead: counter('msg.dead', 'This metric counts the number of times an agent has marked another agent to be a dead node.'),
    tcpAccept: counter('tcp.accept', 'This metric counts the number of times an agent has accepted an incoming TCP stream connection.'),
    tcpConnect: counter('tcp.connect', 'This metric counts the number of times an agent has initiated a push/pull sync with an other agent.'),
    tcpSent: counter('tcp.sent', 'This metric measures the total number of bytes sent by an agent through the TCP protocol.'),
    udpSent: counter('udp.sent', 'This metric measures the total number of bytes sent by an agent through the UDP protocol.'),
    udpReceived: counter('udp.received', 'This metric measures the total number of bytes received by an agent through the UDP protocol.'),
    gossip: (ms, at) => gossipTimer.add(ms, at),
    probeNode: (ms, at) => probeTimer.add(ms, at),
  });
  let list = pools.get(t);
  if (!list) {
    const l: { network: string; gossip: Pick<Gossip, 'healthScore'> }[] = [];
    pools.set(t, list = l);
    t.labeledGauge('memberlist.health.score',
      "This metric describes a node's perception of its own health based on how well it is meeting the soft real-time requirements of the protocol. This metric ranges from 0 to 8, where 0 indicates \"totally healthy\".",
      ['network'], () => l.map((p) => [{ network: p.network }, p.gossip.healthScore()] as [Record<'network', string>, number]));
  }
  list.push({ network, gossip });
}
