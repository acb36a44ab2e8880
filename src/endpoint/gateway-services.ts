// Services linked to gateways (Consul's gateway-services table, derived here from the
// ingress-gateway, terminating-gateway and bound-api-gateway entries): `catalog/gateway-services/:gateway` and the
// ingress gateways fronting a service as CheckServiceNodes (`health/ingress/:service`).
import {
  CONFIG_ENTRIES_TABLE, SERVICE_HEALTH, SERVICES_TABLE, catalogOf, catalogTableName, configEntriesOf, configEntriesTableName, foldName, foldTenancyName,
  isDefaultEnt, partitionEnt, DEFAULT_ENT, type ConfigEntry, type EnterpriseMeta, type Replica, type WatchSet,
} from '../state/index.ts';
import type { CheckServiceNode } from '../api/catalog-types.ts';
import type { GatewayService } from '../api/config-entries.ts';
import { blockingQuery, type QueryOptions, type QueryResult } from './query.ts';
import type { EndpointDeps } from './deps.ts';
import { allowed, authorize, entContext, filterAllowed } from './acl-enforce.ts';
import { withPartition, withTenancy } from './catalog-tenancy.ts';
import { healthAnswer, meshTargetHidden } from './catalog-acl.ts';
import { answerInstances } from './health.ts';
import { sortNear } from './near.ts';
import { allApiGatewayLinks, apiGatewayLinks } from './gateway-services-api.ts';

type Obj = Record<string, unknown>;
const INGRESS = 'ingress-gateway';
const TERMINATING = 'terminating-gateway';

const list = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

/**
 * The rows one gateway entry links, wildcards expanded over `typical` (explicit rows win).
 * `tenancy`: a namespace's read, whose names carry Consul Enterprise's Namespace and Partition
 * (structs.ServiceName embeds EnterpriseMeta; a link is in its gateway's namespace).
 */
function entryRows(e: ConfigEntry, typical: string[], tenancy?: { Namespace: string; Partition: string }): GatewayService[] {
  const explicit = new Map<string, GatewayService>();
  const wild = new Map<string, GatewayService>();
  const idx = { CreateIndex: e.CreateIndex, ModifyIndex: e.ModifyIndex };
  // Keys in Consul's struct order: Gateway, Service, GatewayKind, the link's fields, FromWildcard, indexes.
  const row = (service: string, fields: Partial<GatewayService>, wildcard: boolean): GatewayService => ({
    Gateway: tenancy ? { Name: e.Name, ...tenancy } : { Name: e.Name }, Service: tenancy ? { Name: service, ...tenancy } : { Name: service },
    GatewayKind: e.Kind, ...fields, ...(wildcard ? { FromWildcard: true } : {}), ...idx,
  });
  const add = (name: string, port: number, fields: Partial<GatewayService>): void => {
    if (name !== '*') explicit.set(`${name}\0${port}`, row(name, fields, false));
    else for (const s of typical) wild.set(`${s}\0${port}`, row(s, fields, true));
  };
  if (e.Kind === INGRESS) {
    for (const l of list(e.Listeners)) {
      for (const s of list(l.Services)) {
        const hosts = list(s.Hosts) as unknown as string[];
        add(String(s.Name), Number(l.Port), { Port: Number(l.Port), Protocol: String(l.Protocol), ...(hosts.length ? { Hosts: hosts } : {}) });
      }
    }
  } else {
    for (const s of list(e.Services)) {
      const tls = Object.fromEntries(['CAFile', 'CertFile', 'KeyFile', 'SNI'].filter((f) => s[f]).map((f) => [f, s[f]]));
      add(String(s.Name), 0, tls);
    }
  }
  for (const [k, row] of wild) if (!explicit.has(k)) explicit.set(k, row);
  return [...explicit.values()].sort((a, b) => cmp(a.Service.Name, b.Service.Name) || (a.Port ?? 0) - (b.Port ?? 0));
}

/**
 * Names of the ingress gateways whose entries link `service`, compared case-insensitively (a `*`
 * entry links every typical service), for DNS `.ingress` lookups; reads only the ingress entries.
 */
export function ingressGateways(replica: Replica, service: string): string[] {
  const name = service.toLowerCase();
  let typical: boolean | undefined;
  const isTypical = (): boolean => (typical ??= name !== 'consul'
    && replica.catalog.instances(name).some((i) => !i.service.Kind));
  return replica.configEntries.list(INGRESS)
    .filter((e) => list(e.Listeners).some((l) => list(l.Services).some((s) => String(s.Name).toLowerCase() === name || (s.Name === '*' && isTypical()))))
    .map((e) => e.Name);
}

function hasWildcard(e: ConfigEntry): boolean {
  const services = e.Kind === INGRESS ? list(e.Listeners).flatMap((l) => list(l.Services)) : list(e.Services);
  return services.some((s) => s.Name === '*');
}

/** Names (as stored) of typical services a wildcard links: every registered service but gateways, proxies and `consul`. */
function typicalNames(replica: Replica, ws: WatchSet): string[] {
  ws.addTable(SERVICES_TABLE);
  const cat = replica.catalog;
  const names = new Set<string>();
  for (const key of cat.byName.keys()) {
    if (key === 'consul') continue;
    for (const i of cat.instances(key)) if (!i.service.Kind) names.add(i.service.Service);
  }
  return [...names].sort();
}

/** The services one gateway's entries link (Consul's GatewayServices state read), watching what it read. */
export function gatewayLinks(replica: Replica, ws: WatchSet, gateway: string): { index: number; rows: GatewayService[] } {
  const t = replica.configEntries;
  let index = Math.max(t.kindIndex(INGRESS), t.kindIndex(TERMINATING));
  const rows: GatewayService[] = [];
  for (const kind of [INGRESS, TERMINATING]) {
    ws.addKey(CONFIG_ENTRIES_TABLE, `${kind}/${gateway}`);
    const e = t.get(kind, gateway);
    if (!e) continue;
    const typical = hasWildcard(e) ? typicalNames(replica, ws) : [];
    if (typical.length) index = Math.max(index, replica.catalog.index.services);
    rows.push(...entryRows(e, typical));
  }
  const api = apiGatewayLinks(replica, ws, gateway);
  if (api.rows.length) return { index: Math.max(index, api.index), rows: [...rows, ...api.rows] };
  return { index, rows };
}

/** Every gateway's links (Consul's DumpGatewayServices), watching every gateway entry. */
export function allGatewayLinks(replica: Replica, ws: WatchSet): { index: number; rows: GatewayService[] } {
  const t = replica.configEntries;
  let index = Math.max(t.kindIndex(INGRESS), t.kindIndex(TERMINATING));
  const rows: GatewayService[] = [];
  for (const kind of [INGRESS, TERMINATING]) {
    ws.addPrefix(CONFIG_ENTRIES_TABLE, `${kind}/`);
    for (const e of t.list(kind)) {
      const typical = hasWildcard(e) ? typicalNames(replica, ws) : [];
      if (typical.length) index = Math.max(index, replica.catalog.index.services);
      rows.push(...entryRows(e, typical));
    }
  }
  const api = allApiGatewayLinks(replica, ws);
  return { index: Math.max(index, api.index), rows: [...rows, ...api.rows] };
}

/** health/ingress's `?passing`, `?filter` and `?near` (a node name, `_agent`: this agent's). */
export type IngressFilters = { passing?: boolean; filter?: string; near?: string };

/** Gateway views over config entries and the catalog. */
export class GatewayEndpoint {
  readonly #deps: EndpointDeps;

  constructor(deps: EndpointDeps) {
    this.#deps = deps;
  }

  /** Services linked to a gateway, blocking on its entries (and the catalog when a wildcard links). */
  gatewayServices(gateway: string, opts: QueryOptions): Promise<QueryResult<GatewayService[]>> {
    if (opts.entNamed === true || !isDefaultEnt(opts.ent)) return gatewayServicesIn(this.#deps, gateway, opts, opts.ent ?? DEFAULT_ENT);
    authorize(opts.authz, 'serviceRead', gateway);
    return blockingQuery(this.#deps, opts, (ws) => {
      const { index, rows } = gatewayLinks(this.#deps.replica, ws, gateway);
      const { items, filtered } = filterAllowed(opts.authz, rows, (r) => allowed(opts.authz, 'serviceRead', r.Service.Name));
      return { index, value: items, filtered };
    });
  }

  /** Instances of the ingress gateways fronting `service`, with their checks (`opts.ent`: in that namespace), nearest `f.near` first. */
  ingress(service: string, opts: QueryOptions, f: IngressFilters = {}): Promise<QueryResult<CheckServiceNode[]>> {
    if (!isDefaultEnt(opts.ent)) return ingressIn(this.#deps, service, opts, f, opts.ent!);
    const t = this.#deps.replica.configEntries;
    const cat = this.#deps.replica.catalog;
    return blockingQuery(this.#deps, opts, (ws) => {
      ws.addPrefix(CONFIG_ENTRIES_TABLE, `${INGRESS}/`);
      let index = t.kindIndex(INGRESS);
      if (meshTargetHidden(opts.authz, service)) return { index, value: [] };
      const gateways: string[] = [];
      for (const e of t.list(INGRESS)) {
        const typical = hasWildcard(e) ? typicalNames(this.#deps.replica, ws) : [];
        if (typical.length) index = Math.max(index, cat.index.services);
        if (entryRows(e, typical).some((r) => foldName(r.Service.Name) === foldName(service))) gateways.push(e.Name);
      }
      const rows: CheckServiceNode[] = [];
      for (const gw of gateways) {
        ws.addKey(SERVICE_HEALTH, foldName(gw));
        index = Math.max(index, cat.serviceIndex.get(foldName(gw)) ?? 0);
        for (const i of cat.instances(gw)) rows.push(cat.checkServiceNode(i));
      }
      const { items, filtered } = answerInstances(opts.authz, rows, f);
      return { index, value: sortNear(this.#deps, f.near, items, (r) => r.Node.Node), filtered };
    });
  }
}

/**
 * catalog/gateway-services in a namespace (Consul Enterprise; also the default one when named): the
 * gateway's entries in that namespace, a wildcard expanded over that namespace's services, each
 * name with its Namespace and Partition; service:read on the gateway and on each linked service there.
 */
function gatewayServicesIn(deps: EndpointDeps, gateway: string, opts: QueryOptions, requested: EnterpriseMeta): Promise<QueryResult<GatewayService[]>> {
  const ent = { partition: foldTenancyName(requested.partition), namespace: foldTenancyName(requested.namespace) };
  const ctx = entContext(ent);
  authorize(opts.authz, 'serviceRead', gateway, ctx);
  return blockingQuery(deps, opts, (ws) => {
    const { index, rows } = tenantGatewayLinks(deps.replica, ws, gateway, ent);
    const { items, filtered } = filterAllowed(opts.authz, rows, (r) => allowed(opts.authz, 'serviceRead', r.Service.Name, ctx));
    return { index, value: items, filtered };
  });
}

/** The typical (non-`consul`, kind-less) service names of tenant `ent`, sorted, for a gateway's `*` entry; watches its services table. */
function typicalServices(ws: WatchSet, cat: ReturnType<typeof catalogOf>, ent: EnterpriseMeta): string[] {
  ws.addTable(catalogTableName(SERVICES_TABLE, ent));
  const names = new Set<string>();
  for (const k of cat.byName.keys()) if (k !== 'consul') for (const i of cat.instances(k)) if (!i.service.Kind) names.add(i.service.Service);
  return [...names].sort();
}

/**
 * The services one gateway's entries link in a namespace (Consul Enterprise's GatewayServices read there): a
 * wildcard expanded over that namespace's services, names with their Namespace and Partition; `ent` folded.
 */
export function tenantGatewayLinks(replica: Replica, ws: WatchSet, gateway: string, ent: EnterpriseMeta): { index: number; rows: GatewayService[] } {
  const tenancy = { Namespace: ent.namespace, Partition: ent.partition };
  const t = configEntriesOf(replica, ent);
  const cat = catalogOf(replica, ent);
  let index = Math.max(t.kindIndex(INGRESS), t.kindIndex(TERMINATING));
  const rows: GatewayService[] = [];
  for (const kind of [INGRESS, TERMINATING]) {
    ws.addKey(configEntriesTableName(ent), `${kind}/${gateway}`);
    const e = t.get(kind, gateway);
    if (!e) continue;
    let typical: string[] = [];
    if (hasWildcard(e)) {
      typical = typicalServices(ws, cat, ent);
      index = Math.max(index, cat.index.services);
    }
    rows.push(...entryRows(e, typical, tenancy));
  }
  // An API gateway's links, from its bound entry the controller writes in this namespace.
  const api = apiGatewayLinks(replica, ws, gateway, { table: t, tableName: configEntriesTableName(ent), tenancy });
  if (api.rows.length) {
    index = Math.max(index, api.index);
    rows.push(...api.rows);
  }
  return { index, rows };
}

/**
 * health/ingress in a namespace (or partition) other than default: the namespace's ingress-gateway
 * entries listing the service (a listed service is in its gateway's namespace: config entries take
 * no other) and their gateways' instances there, watching that namespace's tables; answers carry
 * Namespace/Partition as health/service?ns= does.
 */
function ingressIn(
  deps: EndpointDeps, service: string, opts: QueryOptions, f: IngressFilters, requested: EnterpriseMeta,
): Promise<QueryResult<CheckServiceNode[]>> {
  return blockingQuery(deps, opts, (ws) => ingressRows(deps, ws, service, opts, f, requested));
}

/** One run of health/ingress in tenant `requested`: its gateways fronting `service`, each with its tenancy fields. */
export function ingressRows(
  deps: EndpointDeps, ws: WatchSet, service: string, opts: QueryOptions, f: IngressFilters, requested: EnterpriseMeta,
): { index: number; value: CheckServiceNode[]; filtered?: boolean } {
  const ent = { partition: foldTenancyName(requested.partition), namespace: foldTenancyName(requested.namespace) };
  const ctx = entContext(ent);
  const nodeCtx = entContext(partitionEnt(ent.partition));
  const t = configEntriesOf(deps.replica, ent);
  const cat = catalogOf(deps.replica, ent);
  ws.addPrefix(configEntriesTableName(ent), `${INGRESS}/`);
  let index = t.kindIndex(INGRESS);
  if (meshTargetHidden(opts.authz, service, ctx)) return { index, value: [] };
  const gateways: string[] = [];
  for (const e of t.list(INGRESS)) {
    let typical: string[] = [];
    if (hasWildcard(e)) {
      typical = typicalServices(ws, cat, ent);
      index = Math.max(index, cat.index.services);
    }
    if (entryRows(e, typical).some((r) => foldName(r.Service.Name) === foldName(service))) gateways.push(e.Name);
  }
  const rows: CheckServiceNode[] = [];
  for (const gw of gateways) {
    ws.addKey(catalogTableName(SERVICE_HEALTH, ent), foldName(gw));
    index = Math.max(index, cat.serviceIndex.get(foldName(gw)) ?? 0);
    for (const i of cat.instances(gw)) rows.push(cat.checkServiceNode(i));
  }
  const { items, filtered } = healthAnswer(opts.authz, rows, f,
    (r) => allowed(opts.authz, 'nodeRead', r.Node.Node, nodeCtx) && allowed(opts.authz, 'serviceRead', r.Service.Service, ctx));
  const value = sortNear(deps, f.near, items, (r) => r.Node.Node, ent.partition).map((r) => ({
    Node: withPartition(r.Node, ent.partition), Service: withTenancy(r.Service, ent),
    Checks: r.Checks.map((c) => withTenancy(c, c.ServiceID ? ent : partitionEnt(ent.partition))),
  }));
  return { index, value, filtered };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
