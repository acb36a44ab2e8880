// The terminating gateways standing in for a service in its mesh view (Consul's
// serviceGatewayNodes for health/connect and catalog/connect): a service linked by a
// terminating-gateway entry (by name, or by `*` when it is a typical service) is reached through
// that gateway's instances, which are answered after its own proxies and native instances.
import {
  SERVICE_HEALTH, catalogTableName, configEntriesTableName, foldName, type CatalogTables, type ConfigEntriesTable, type EnterpriseMeta, type WatchSet,
} from '../state/index.ts';
import type { Node, NodeService } from '../api/catalog-types.ts';

const TERMINATING = 'terminating-gateway';

/** Names of the terminating gateways whose entries link `service`, in entry order. */
export function terminatingGatewaysFor(cat: CatalogTables, entries: ConfigEntriesTable, service: string): string[] {
  const key = foldName(service);
  let typical: boolean | undefined;
  const isTypical = (): boolean => (typical ??= key !== 'consul' && cat.instances(service).some((i) => !i.service.Kind));
  const out: string[] = [];
  for (const e of entries.list(TERMINATING)) {
    const links = Array.isArray(e.Services) ? (e.Services as { Name?: unknown }[]) : [];
    if (links.some((s) => (typeof s.Name === 'string' && foldName(s.Name) === key) || (s.Name === '*' && isTypical()))) out.push(e.Name);
  }
  return out;
}

/**
 * The instances of the terminating gateways linking `service`, watching the gateway entries, the
 * service's own instances when any entry links `*` (the link depends on them) and the gateways'
 * instances; the index is the highest of what was read. `ent`: a namespace other than default, whose
 * own entries and catalog are given.
 */
export function terminatingGatewayInstances(
  cat: CatalogTables, entries: ConfigEntriesTable, ws: WatchSet, service: string, ent?: EnterpriseMeta,
): { index: number; instances: { node: Node; service: NodeService }[] } {
  // `ent`: a non-default namespace, whose tables (and notifier names) are its own.
  const health = catalogTableName(SERVICE_HEALTH, ent);
  ws.addPrefix(configEntriesTableName(ent), `${TERMINATING}/`);
  let index = entries.kindIndex(TERMINATING);
  const instances: { node: Node; service: NodeService }[] = [];
  // The common case, no terminating gateway at all, allocates nothing more.
  if (entries.count(TERMINATING) === 0) return { index, instances };
  // A wildcard link follows the service's typical instances (Consul adds and removes its
  // gateway-services row as they come and go): their changes wake the query and move its index.
  if (entries.list(TERMINATING).some((e) => Array.isArray(e.Services) && (e.Services as { Name?: unknown }[]).some((s) => s.Name === '*'))) {
    ws.addKey(health, foldName(service));
    index = Math.max(index, cat.serviceIndex.get(foldName(service)) ?? 0);
  }
  const gateways = terminatingGatewaysFor(cat, entries, service);
  if (gateways.length === 0) return { index, instances };
  for (const gw of gateways) {
    const key = foldName(gw);
    ws.addKey(health, key);
    index = Math.max(index, cat.serviceIndex.get(key) ?? 0);
    for (const i of cat.instances(gw)) if (i.service.Kind === TERMINATING) instances.push(i);
  }
  return { index, instances };
}

/** The instances of the terminating gateways linking `service`, for a one-off read (a prepared query's connect answer). */
export function linkedGatewayInstances(cat: CatalogTables, entries: ConfigEntriesTable, service: string): { node: Node; service: NodeService }[] {
  if (entries.count(TERMINATING) === 0) return [];
  const out: { node: Node; service: NodeService }[] = [];
  for (const gw of terminatingGatewaysFor(cat, entries, service)) for (const i of cat.instances(gw)) if (i.service.Kind === TERMINATING) out.push(i);
  return out;
}
