// `?merge-central-config` on catalog and health service reads (Consul's
// MergeNodeServiceWithCentralConfig): each sidecar proxy or gateway instance is answered merged
// with proxy-defaults `global` and the service-defaults involved, and the read also wakes when
// those entries change.
import type { NodeService } from '../api/catalog-types.ts';
import type { Upstream } from '../api/proxy-types.ts';
import {
  CONFIG_ENTRIES_TABLE, configEntriesOf, configEntryEnt, configEntriesTableName, isDefaultEnt,
  type ConfigEntriesTable, type EnterpriseMeta, type Replica, type WatchSet,
} from '../state/index.ts';
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

/**
 * mergeInstances for instances of a namespace or partition (`ent`; the default tenant is
 * mergeInstances itself): the partition's proxy-defaults and the namespace's service-defaults,
 * each upstream's in its own namespace, watched on the tables read.
 */
export function mergeTenantInstances<I extends { service: NodeService }>(
  replica: Pick<Replica, 'configEntries' | 'tenants'>, ent: EnterpriseMeta | undefined, ws: WatchSet, index: number, instances: I[],
): { index: number; instances: I[] } {
  if (ent === undefined || isDefaultEnt(ent)) return mergeInstances(replica.configEntries, ws, index, instances);
  const tables = new Set<ConfigEntriesTable>();
  const read = (kind: string, name: string, at: EnterpriseMeta) => {
    const t = configEntryEnt(kind, at);
    const tenant = t === undefined || isDefaultEnt(t) ? undefined : t;
    ws.addPrefix(configEntriesTableName(tenant), `${kind}/`);
    const table = configEntriesOf(replica, tenant);
    tables.add(table);
    return table.get(kind, name);
  };
  const lookup = {
    proxyDefaults: () => read('proxy-defaults', 'global', ent),
    serviceDefaults: (name: string, namespace?: string, partition?: string) =>
      read('service-defaults', name, { namespace: namespace || ent.namespace, partition: partition || ent.partition }),
  };
  let merged = false;
  const out = instances.map((i) => {
    const service = upstreamsIn(i.service, ent);
    const req = serviceConfigRequest(service);
    if (!req) return i;
    merged = true;
    return { ...i, service: mergeServiceConfig(computeResolvedServiceConfig(req, lookup), service) };
  });
  let at = index;
  if (merged) for (const t of tables) at = Math.max(at, t.kindIndex('proxy-defaults'), t.kindIndex('service-defaults'));
  return { index: at, instances: out };
}

/**
 * A proxy whose upstreams naming no namespace or partition name the proxy's own (Consul Enterprise
 * defaults an upstream's tenancy to its proxy's): a bare upstream of a proxy in team-a is team-a's.
 */
function upstreamsIn(s: NodeService, ent: EnterpriseMeta): NodeService {
  const ups = (s.Proxy as { Upstreams?: Upstream[] } | undefined)?.Upstreams;
  if (!ups?.some((u) => !u.DestinationNamespace || !u.DestinationPartition)) return s;
  const Upstreams = ups.map((u) => ({
    ...u, DestinationNamespace: u.DestinationNamespace || ent.namespace, DestinationPartition: u.DestinationPartition || ent.partition,
  }));
  return { ...s, Proxy: { ...s.Proxy, Upstreams } as NodeService['Proxy'] };
}
