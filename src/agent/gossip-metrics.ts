// Serf's metrics on a pool's events, with Serf's names and Consul's `network` label (lan, wan):
// serf.member.join, left, failed, update and flap (a member failed and back within Serf's 60 s
// FlapTimeout), serf.events and serf.events.<name> for user events.
import type { Clock } from '../clock.ts';
import type { GossipListener } from '../gossip/gossip-events.ts';
import type { Telemetry } from '../telemetry/metrics.ts';

/** Serf's default FlapTimeout. */
export const FLAP_TIMEOUT_MS = 60_000;

/** Counts the pool's events; attach the returned listener with GossipNode.on. */
export function gossipMetrics(t: Pick<Telemetry, 'counterFamily'>, clock: Clock, network: 'lan' | 'wan' = 'lan'): GossipListener {
  const labels = { network };
  const counter = (name: string, help: string) => t.counterFamily(name, help, ['network'])(labels);
  const join = counter('serf.member.join', 'Increments when an agent joins the cluster.');
  const left = counter('serf.member.left', 'Increments when an agent leaves the cluster.');
  const failed = counter('serf.member.failed', 'Increments when an agent is marked dead.');
  const update = counter('serf.member.update', "Increments when an agent's tags change.");
  const flap = counter('serf.member.flap', 'Available in Consul 0.7 and later, this increments when an agent is marked dead and then recovers within a short time period.');
  const events = counter('serf.events', 'Increments when an agent processes an event.');
  const byName = new Map<string, (n?: number) => void>();
  const failedAt = new Map<string, number>();
  return (e) => {
    switch (e.type) {
      case 'member-join': {
        const at = failedAt.get(e.member.name);
        if (at !== undefined) {
          failedAt.delete(e.member.name);
          if (clock.now() - at < FLAP_TIMEOUT_MS) flap();
        }
        join();
        return;
      }
      case 'member-leave': left(); return;
      case 'member-failed':
        failedAt.set(e.member.name, clock.now());
        failed();
        return;
      case 'member-update': update(); return;
      case 'member-reap': failedAt.delete(e.member.name); return;
      case 'user': {
        events();
        // Keyed as Prometheus spells the name: names that differ only in characters it forbids
        // ('a-b', 'a.b', 'a_b') are one metric there, and a second registration would throw.
        const key = e.event.name.replace(/[^a-zA-Z0-9_:]/g, '_');
        let c = byName.get(key);
        if (!c) byName.set(key, c = counter(`serf.events.${e.event.name}`, 'Increments when an agent processes an event of this name.'));
        c();
      }
    }
  };
}
