// `?merge-central-config` on catalog and health service reads (Consul's
// MergeNodeServiceWithCentralConfig): each sidecar proxy or gateway instance is answered merged
// with proxy-defaults `global` and the service-defaults involved, and the read also wakes when
// those entries change.
import type { NodeService } from '../api/catalog-types.ts';
import { CONFIG_ENTRIES_TABLE, type ConfigEntriesTable, type WatchSet } from '../state/index.ts';
import { computeResolvedServiceConfig } from './service-config-resolve.ts';
import { mergeServiceConfig, serviceConfigRequest } from './service-config-merge.ts';

/** The instances with their proxies and gateways merged, and the read's index raised to the entries'. */
export function mergeInstances<I extends { service: NodeService }>(
  entries: ConfigEntriesTable, ws: WatchSet, index: number, instances: I[],
): { index: number; instances: I[] } {
  ws.addPrefix(CONFIG_ENTRIES_TABLE, 'proxy-defaults/');
  ws.addPrefix(CONFIG_ENTRIES_TABLE, 'service-defaults/');
  const lookup = {
    proxyDefaults: () => entries.get('proxy-defaults', 'global'),
    serviceDefaults: (name: string) => entries.get('service-defaults', name),
  };
  let merged = false;
  const out = instances.map((i) => {
    const req = serviceConfigRequest(i.service);
    if (!req) return i;
    merged = true;
    return { ...i, service: mergeServiceConfig(computeResolvedServiceConfig(req, lookup), i.service) };
  });
  const at = merged ? Math.max(index, entries.kindIndex('proxy-defaults'), entries.kindIndex('service-defaults')) : index;
  return { index: at, instances: out };
}
