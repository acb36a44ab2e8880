// The HTTP handlers and agent/self figures that come from the agent's LAN pool: members,
// join, force-leave, the operator keyring, and the serf_lan stats section.
import type { RequestConfig } from '../http/index.ts';
import { keyringHandlers, memberJson, membersHandlers } from '../http/index.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import type { LanPool } from './lan-pool.ts';

/** Route handlers backed by the pool. */
export function poolHandlers(config: RuntimeConfig, pool: LanPool, reqCfg: RequestConfig) {
  return {
    members: membersHandlers({
      pool, nodeName: config.nodeName, datacenter: config.datacenter, server: config.server, serfWanPort: config.ports.serfWan,
    }),
    keyring: keyringHandlers({ keyring: () => pool.gossip?.keyring ?? null, datacenter: config.datacenter, reqCfg }),
  };
}

/** This agent's member JSON for agent/self. */
export function selfMember(pool: LanPool): Record<string, unknown> {
  return memberJson(pool.localMember(), pool.leaving);
}

/** agent/self Stats.serf_lan: member counts by status and the Lifeguard health score. */
export function serfLanStats(pool: LanPool): Record<string, string> {
  const members = pool.members();
  const count = (s: string) => String(members.filter((m) => m.state === s).length);
  return {
    members: String(members.length), failed: count('dead'), left: count('left'),
    health_score: String(pool.gossip?.healthScore() ?? 0),
  };
}
