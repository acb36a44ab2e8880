// Consul's flood joins: every server of a datacenter brings the other servers it sees in its LAN
// pool into the WAN pool (at their LAN address and `wan_join_port` tag), right after a LAN member
// event and every minute, so a datacenter needs retry_join_wan on one server only.
import type { Clock, TimerHandle } from '../clock.ts';
import type { Logger } from '../log.ts';
import { formatAddress, type Gossip, type Member } from '../gossip/index.ts';

/** Consul's serf flood interval. */
export const FLOOD_INTERVAL_MS = 60_000;

/** What the flooder needs. */
export interface FloodDeps {
  lan: Pick<Gossip, 'members' | 'on'>;
  wan: Pick<Gossip, 'members' | 'join'>;
  datacenter: string;
  clock: Clock;
  logger: Logger;
}

/** The WAN addresses of this datacenter's alive LAN servers that the WAN pool does not know yet. */
export function floodTargets(lan: Member[], wan: Member[], datacenter: string): string[] {
  const known = new Set(wan.map((m) => m.name));
  const out: string[] = [];
  for (const m of lan) {
    if (m.tags.role !== 'consul' || m.tags.dc !== datacenter || m.state !== 'alive') continue;
    const port = Number(m.tags.wan_join_port);
    if (!(port > 0) || known.has(`${m.name}.${datacenter}`)) continue;
    out.push(formatAddress({ host: m.addr, port }));
  }
  return out;
}

/** Starts flooding; stop() ends it. */
export function startFlood(d: FloodDeps): { stop(): void } {
  let timer: TimerHandle | null = null;
  let stopped = false;
  let running = false;
  let retryMs = 500;
  let retry: TimerHandle | null = null;
  const flood = async (): Promise<void> => {
    if (stopped || running) return;
    running = true;
    let failed = false;
    try {
      for (const addr of floodTargets(d.lan.members(), d.wan.members(), d.datacenter)) {
        try {
          await d.wan.join([addr]);
          d.logger.info({ address: addr }, 'Successfully performed flood-join for server');
        } catch (err) {
          failed = true;
          d.logger.debug({ address: addr, error: (err as Error).message }, 'Failed to flood-join server');
        }
      }
    } finally {
      running = false;
    }
    // A server that just joined the LAN may not listen on its WAN port yet: retry soon, backing
    // off to the regular interval.
    if (failed && !stopped && retryMs < FLOOD_INTERVAL_MS) {
      retry?.cancel();
      retry = d.clock.setTimer(retryMs, () => void flood());
      retryMs *= 2;
    } else if (!failed) retryMs = 500;
  };
  const tick = (): void => {
    timer = d.clock.setTimer(FLOOD_INTERVAL_MS, () => { void flood(); tick(); });
  };
  // Only server events matter; client churn in a large LAN pool must not rescan the members.
  const off = d.lan.on((e) => {
    if ((e.type === 'member-join' || e.type === 'member-update') && e.member.tags.role === 'consul') void flood();
  });
  void flood();
  tick();
  return { stop() { stopped = true; timer?.cancel(); retry?.cancel(); off(); } };
}
