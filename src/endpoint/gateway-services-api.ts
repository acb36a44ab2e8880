// The services behind an API gateway in Consul's gateway-services table: derived from the
// bound-api-gateway entry the leader's controller writes (a service is linked once a route to it
// binds), with GatewayKind api-gateway, the listener's port and protocol and, for an http-route,
// its hostnames.
import { CONFIG_ENTRIES_TABLE, type ConfigEntry, type ConfigEntriesTable, type Replica, type WatchSet } from '../state/index.ts';
import type { GatewayService } from '../api/config-entries.ts';

type Obj = Record<string, unknown>;
const BOUND = 'bound-api-gateway';
const list = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The services a route targets. */
function routeServices(route: ConfigEntry): string[] {
  if (route.Kind === 'tcp-route') return list(route.Services).map((s) => str(s.Name));
  return list(route.Rules).flatMap((r) => list(r.Services).map((s) => str(s.Name)));
}

/** A namespace's config entry table, its watch table name, and the Namespace/Partition its names carry (none: the default read). */
export interface LinkTenant {
  table: Pick<ConfigEntriesTable, 'get' | 'list' | 'kindIndex'>;
  tableName: string;
  tenancy?: { Namespace: string; Partition: string };
}

const defaultTenant = (replica: Pick<Replica, 'configEntries'>): LinkTenant => ({ table: replica.configEntries, tableName: CONFIG_ENTRIES_TABLE });

/** The rows one bound-api-gateway entry links, by service then port; reads (and watches) its gateway and routes. */
export function boundGatewayRows(replica: Pick<Replica, 'configEntries'>, ws: WatchSet, bound: ConfigEntry, tenant: LinkTenant = defaultTenant(replica)): GatewayService[] {
  const t = tenant.table;
  const named = (Name: string) => (tenant.tenancy ? { Name, ...tenant.tenancy } : { Name });
  ws.addKey(tenant.tableName, `api-gateway/${bound.Name}`);
  const gateway = t.get('api-gateway', bound.Name);
  const rows = new Map<string, GatewayService>();
  for (const bl of list(bound.Listeners)) {
    const l = list(gateway?.Listeners).find((x) => str(x.Name) === str(bl.Name));
    if (!l) continue;
    const port = Number(l.Port);
    for (const ref of list(bl.Routes)) {
      const kind = str(ref.Kind);
      ws.addKey(tenant.tableName, `${kind}/${str(ref.Name)}`);
      const route = t.get(kind, str(ref.Name));
      if (!route) continue;
      const hosts = kind === 'http-route' ? list(route.Hostnames) as unknown as string[] : [];
      for (const service of routeServices(route)) {
        const key = `${service}\0${port}`;
        const row: GatewayService = rows.get(key) ?? {
          Gateway: named(bound.Name), Service: named(service), GatewayKind: 'api-gateway', Port: port, Protocol: str(l.Protocol),
          CreateIndex: bound.CreateIndex, ModifyIndex: bound.ModifyIndex,
        };
        const merged = [...new Set([...(row.Hosts ?? []), ...hosts])];
        if (merged.length) row.Hosts = merged;
        rows.set(key, { ...row, CreateIndex: bound.CreateIndex, ModifyIndex: bound.ModifyIndex });
      }
    }
  }
  // Hosts sit before the indexes, as in Consul's struct order.
  return [...rows.values()]
    .map(({ CreateIndex, ModifyIndex, ...r }) => ({ ...r, CreateIndex, ModifyIndex }))
    .sort((a, b) => (a.Service.Name < b.Service.Name ? -1 : a.Service.Name > b.Service.Name ? 1 : (a.Port ?? 0) - (b.Port ?? 0)));
}

/** One API gateway's links (none until its bound entry exists), watching its bound entry; with the index they answer at. */
export function apiGatewayLinks(
  replica: Pick<Replica, 'configEntries'>, ws: WatchSet, gateway: string, tenant: LinkTenant = defaultTenant(replica),
): { index: number; rows: GatewayService[] } {
  ws.addKey(tenant.tableName, `${BOUND}/${gateway}`);
  const bound = tenant.table.get(BOUND, gateway);
  return { index: linkIndex(tenant.table), rows: bound ? boundGatewayRows(replica, ws, bound, tenant) : [] };
}

/** Every API gateway's links, watching every bound entry. */
export function allApiGatewayLinks(replica: Pick<Replica, 'configEntries'>, ws: WatchSet): { index: number; rows: GatewayService[] } {
  ws.addPrefix(CONFIG_ENTRIES_TABLE, `${BOUND}/`);
  const rows = replica.configEntries.list(BOUND).flatMap((b) => boundGatewayRows(replica, ws, b));
  return { index: linkIndex(replica.configEntries), rows };
}

/** The index the links answer at: their bound entries' and the routes' (whose hostnames and services they carry). */
function linkIndex(t: Pick<ConfigEntriesTable, 'kindIndex'>): number {
  return Math.max(...[BOUND, 'http-route', 'tcp-route'].map((k) => t.kindIndex(k)));
}
