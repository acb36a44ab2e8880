// The HTTP handlers and agent/self figures that come from the agent's gossip pools: members,
// join, force-leave (LAN, or WAN with `?wan`), the operator keyring, the serf_lan stats section,
// and the WAN-wide datacenter listings. The keyring's handlers load on its first request (issue #9).
import type { RequestConfig } from '../http/index.ts';
import { memberJson, membersHandlers } from '../http/index.ts';
import { lazyHandlers } from '../http/lazy-handlers.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import type { LanPool } from './lan-pool.ts';
import type { WanPool } from './wan-pool.ts';

/** Route handlers backed by the pools. */
export function poolHandlers(config: RuntimeConfig, pool: LanPool, reqCfg: RequestConfig, wan?: WanPool) {
  return {
    members: membersHandlers({
      pool, wan, nodeName: config.nodeName, datacenter: config.datacenter, server: config.server, serfWanPort: config.ports.serfWan,
      ...(config.partition ? { partition: config.partition } : {}),
    }),
    keyring: lazyHandlers(['list', 'install', 'use', 'remove'], async () => (await import('../http/v1/operator-keyring.ts')).keyringHandlers({
      keyring: () => pool.gossip?.keyring ?? null, wanKeyring: () => wan?.gossip?.keyring ?? null, datacenter: config.datacenter, reqCfg,
    })),
  };
}

/** This agent's member JSON for agent/self. */
export function selfMember(pool: LanPool): Record<string, unknown> {
  return memberJson(pool.localMember(), pool.leaving);
}

/** agent/self Stats.serf_lan: member counts by status, the Lifeguard health score and whether gossip is encrypted. */
export function serfLanStats(pool: Pick<LanPool, 'members' | 'gossip'>): Record<string, string> {
  const members = pool.members();
  const count = (s: string) => String(members.filter((m) => m.state === s).length);
  return {
    members: String(members.length), failed: count('dead'), left: count('left'),
    health_score: String(pool.gossip?.healthScore() ?? 0), encrypted: String(pool.gossip?.keyring.local() !== undefined),
  };
}

/** GET /v1/catalog/datacenters from the WAN pool: every known datacenter, nearest first. */
export function wanDatacentersHandler(wan: WanPool | undefined, datacenter: string): () => Promise<{ body: string[] }> {
  return async () => ({ body: wan ? wan.datacenters() : [datacenter] });
}

/** agent/self Stats.serf_wan and consul.known_datacenters from a running WAN pool (undefined otherwise). */
export function wanStats(wan: WanPool | undefined): { serfWan: Record<string, string>; knownDatacenters: number } | undefined {
  if (!wan?.gossip) return undefined;
  return { serfWan: serfLanStats(wan), knownDatacenters: wan.datacenters().length };
}
