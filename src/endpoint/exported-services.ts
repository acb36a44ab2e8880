// ConfigEntry.GetResolvedExportedServices: the services the `exported-services` entry exports
// and to which peers and partitions, with a `*` entry expanded to every typical service in the catalog
// and sameness-group consumers to their member peers and partitions; the `consul` service is never exported.
import {
  CONFIG_ENTRIES_TABLE, SERVICES_TABLE, DEFAULT_TENANCY_NAME, foldTenancyName, partitionEnt, configEntriesOf, configEntriesTableName, isDefaultEnt,
  type ConfigEntry, type WatchSet,
} from '../state/index.ts';
import type { ResolvedExportedService } from '../api/exported-services.ts';
import type { EndpointDeps } from './deps.ts';
import { authorize, entContext } from './acl-enforce.ts';
import { blockingQuery, type QueryOptions, type QueryResult } from './query.ts';

const EXPORTED = 'exported-services';
const SAMENESS = 'sameness-group';
type Consumer = { Peer?: string; SamenessGroup?: string; Partition?: string };
type Export = { Name?: string; Namespace?: string; Consumers?: Consumer[] };

/**
 * The resolved exports of the request's partition sorted by namespace, then service name; needs
 * mesh:read (which operator:read grants).
 */
export function resolvedExportedServices(deps: EndpointDeps, opts: QueryOptions): Promise<QueryResult<ResolvedExportedService[]>> {
  const partition = opts.ent?.partition ?? DEFAULT_TENANCY_NAME;
  authorize(opts.authz, 'meshRead', '', entContext(partitionEnt(partition)));
  return blockingQuery(deps, opts, (ws) => resolveExports(deps, ws, partition));
}

/**
 * The resolution itself at the replica's state, watching what it read in `ws`: the partition's
 * exported-services entry (named after the partition, `default` in the default one). A `*` service
 * expands to the default partition's catalog only.
 */
export function resolveExports(deps: EndpointDeps, ws: WatchSet, partition = DEFAULT_TENANCY_NAME): { index: number; value: ResolvedExportedService[] } {
  const ap = foldTenancyName(partition);
  const ent = partitionEnt(ap);
  const tenant = isDefaultEnt(ent) ? undefined : ent;
  const configEntries = configEntriesOf(deps.replica, tenant);
  const table = tenant ? configEntriesTableName(tenant) : CONFIG_ENTRIES_TABLE;
  const { catalog } = deps.replica;
  ws.addKey(table, `${EXPORTED}/${ap}`).addPrefix(table, `${SAMENESS}/`);
  let index = Math.max(configEntries.kindIndex(EXPORTED), configEntries.kindIndex(SAMENESS));
  const entry = configEntries.get(EXPORTED, ap);
  const byService = new Map<string, { service: string; namespace: string; peers: Set<string>; partitions: Set<string> }>();
  const add = (service: string, namespace: string, peers: string[], partitions: string[]) => {
    if (service === 'consul') return;
    const key = `${namespace}\0${service}`;
    let e = byService.get(key);
    if (!e) byService.set(key, (e = { service, namespace, peers: new Set(), partitions: new Set() }));
    for (const p of peers) e.peers.add(p);
    for (const p of partitions) e.partitions.add(p);
  };
  for (const svc of (entry?.Services as Export[] | undefined) ?? []) {
    const peers = consumerPeers(svc.Consumers ?? [], (g) => configEntries.get(SAMENESS, g));
    const partitions = consumerPartitions(svc.Consumers ?? [], (g) => configEntries.get(SAMENESS, g), ap);
    const namespace = svc.Namespace || DEFAULT_TENANCY_NAME;
    if (svc.Name !== '*') {
      add(String(svc.Name ?? ''), namespace, peers, partitions);
      continue;
    }
    if (tenant || namespace !== DEFAULT_TENANCY_NAME) continue;
    ws.addTable(SERVICES_TABLE);
    index = Math.max(index, catalog.index.services);
    for (const name of typicalServiceNames(catalog)) add(name, namespace, peers, partitions);
  }
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  const value = [...byService.values()].sort((a, b) => cmp(a.namespace, b.namespace) || cmp(a.service, b.service)).map((e): ResolvedExportedService => {
    const Peers = [...e.peers].sort();
    const Partitions = [...e.partitions].sort();
    const out: ResolvedExportedService = { Service: e.service } as ResolvedExportedService;
    // Consul Enterprise's fields, shown outside the default tenant (CE answers stay as they were).
    if (tenant || e.namespace !== DEFAULT_TENANCY_NAME) Object.assign(out, { Partition: ap, Namespace: e.namespace });
    out.Consumers = { ...(Peers.length > 0 ? { Peers } : {}), ...(Partitions.length > 0 ? { Partitions } : {}) };
    return out;
  });
  return { index, value };
}

/** The peers of a service's consumers: named peers and the peer members of named sameness groups. */
function consumerPeers(consumers: Consumer[], group: (name: string) => ConfigEntry | undefined): string[] {
  const out: string[] = [];
  for (const c of consumers) {
    if (c.Peer) out.push(c.Peer);
    if (c.SamenessGroup) {
      for (const m of (group(c.SamenessGroup)?.Members as { Peer?: string }[] | undefined) ?? []) if (m.Peer) out.push(m.Peer);
    }
  }
  return out;
}

/** The partitions of a service's consumers: named partitions and the partition members of named sameness groups (the exporter's own left out). */
function consumerPartitions(consumers: Consumer[], group: (name: string) => ConfigEntry | undefined, exporter: string): string[] {
  const out: string[] = [];
  for (const c of consumers) {
    if (c.Partition) out.push(c.Partition);
    if (c.SamenessGroup) {
      for (const m of (group(c.SamenessGroup)?.Members as { Partition?: string }[] | undefined) ?? []) {
        if (m.Partition && foldTenancyName(m.Partition) !== exporter) out.push(m.Partition);
      }
    }
  }
  return out;
}

/** Names (as stored) of the catalog's services of the typical kind, one per case-folded name. */
function typicalServiceNames(catalog: EndpointDeps['replica']['catalog']): string[] {
  const out: string[] = [];
  for (const refs of catalog.byName.values()) {
    for (const ref of refs) {
      const [node, id] = ref.split('\0');
      const svc = catalog.services.get(node)?.get(id);
      if (svc && !svc.Kind) {
        out.push(svc.Service);
        break;
      }
    }
  }
  return out;
}
