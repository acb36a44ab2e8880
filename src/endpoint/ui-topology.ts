// A service's place in the mesh as the UI draws it (Consul's state.ServiceTopology and
// UIServiceTopology): upstreams from its proxies' registrations (an ingress gateway's from its
// links) and, for transparent proxies, from what intentions allow; downstreams likewise, with the
// intention decision for each pair; upstreams that only routing entries define are listed as
// routing-config, and a downstream reaches a service through its upstreams' discovery chains.
import {
  CHECKS_TABLE, CONFIG_ENTRIES_TABLE, NODES_TABLE, SERVICES_TABLE, DEFAULT_TENANCY_NAME, catalogOf, catalogTableName, configEntriesOf,
  configEntriesTableName, foldTenancyName, partitionCatalog, partitionEnt, wildcardNamespaceOf,
  type CatalogTables, type ConfigEntriesTable, type EnterpriseMeta, type Replica, type WatchSet,
} from '../state/index.ts';
import type { NodeService } from '../api/catalog-types.ts';
import type { AuthorizerContext } from '../acl/index.ts';
import { intentionDecision, matchIntentions, type IntentionsEntry } from '../connect/intentions.ts';
import type { QueryRun } from './query.ts';
import { entContext, filterAllowed } from './acl-enforce.ts';
import type { AclIdentity } from './acl-resolver.ts';
import { instanceReadable } from './catalog-acl.ts';
import { defaultAllow } from './intentions.ts';
import { gatewayLinks } from './gateway-services.ts';
import { bareSummary, prepSummaryOutput, summarizeServices, type DumpRow, type ServiceSummary } from './ui-summary.ts';
import { BadRequestError } from '../errors.ts';

/** Consul's IntentionDecisionSummary. */
export interface IntentionDecisionSummary {
  DefaultAllow: boolean;
  Allowed: boolean;
  HasPermissions: boolean;
  ExternalSource: string;
  HasExact: boolean;
}

/** An upstream or downstream: its summary, why it is one, and the intention decision between the two. */
export type ServiceTopologySummary = ServiceSummary & { Source: string; Intention: IntentionDecisionSummary };

/** Consul's ServiceTopology. */
export interface ServiceTopology {
  Protocol: string;
  TransparentProxy: boolean;
  Upstreams: ServiceTopologySummary[];
  Downstreams: ServiceTopologySummary[];
  FilteredByACLs: boolean;
}

type Proxy = { DestinationServiceName?: string; Mode?: string; Upstreams?: { DestinationName?: string; DestinationType?: string; DestinationNamespace?: string }[] };
const proxyOf = (s: NodeService): Proxy => (s.Proxy ?? {}) as Proxy;
const INTENTIONS = 'service-intentions';
/** Consul's TopologySource labels. */
const REGISTRATION = 'proxy-registration';
const ROUTING_CONFIG = 'routing-config';
const CHAIN_KINDS = ['service-router', 'service-splitter', 'service-resolver'];
type Obj = Record<string, unknown>;
const list = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

/**
 * Where a topology is read: the default tenant's catalog and config entries, or (Consul
 * Enterprise's ?ns=) one namespace's, its intentions with the partition's wildcard-namespace ones,
 * and the partition's proxy-defaults. A namespace's topology stays within it.
 */
interface Scope {
  cat: CatalogTables;
  entries: ConfigEntriesTable;
  /** The table of the partition's proxy-defaults. */
  partitionEntries: ConfigEntriesTable;
  /** Absent for the default tenant. */
  ent?: EnterpriseMeta;
  ctx?: AuthorizerContext;
}

function defaultScope(replica: Replica): Scope {
  return { cat: replica.catalog, entries: replica.configEntries, partitionEntries: replica.configEntries };
}

/** A namespace's scope (folded names), its tables watched. */
function tenantScope(replica: Replica, ws: WatchSet, ent: EnterpriseMeta): Scope {
  const e = { partition: foldTenancyName(ent.partition), namespace: foldTenancyName(ent.namespace) };
  const ap = partitionEnt(e.partition);
  ws.addTable(catalogTableName(NODES_TABLE, ap)).addTable(catalogTableName(CHECKS_TABLE, ap));
  for (const t of [SERVICES_TABLE, CHECKS_TABLE]) ws.addTable(catalogTableName(t, e));
  for (const t of [e, wildcardNamespaceOf(e), ap]) ws.addTable(configEntriesTableName(t.partition === DEFAULT_TENANCY_NAME && t.namespace === DEFAULT_TENANCY_NAME ? undefined : t));
  return { cat: catalogOf(replica, e), entries: configEntriesOf(replica, e), partitionEntries: configEntriesOf(replica, ap), ent: e, ctx: entContext(e) };
}

/** The service's protocol for metrics: service-defaults, then proxy-defaults, else tcp. */
function protocolOf(scope: Scope, ws: WatchSet, service: string): string {
  if (!scope.ent) ws.addKey(CONFIG_ENTRIES_TABLE, `service-defaults/${service}`).addKey(CONFIG_ENTRIES_TABLE, 'proxy-defaults/global');
  const sd = scope.entries.get('service-defaults', service)?.Protocol;
  const pd = (scope.partitionEntries.get('proxy-defaults', 'global')?.Config as Record<string, unknown> | undefined)?.protocol;
  return typeof sd === 'string' && sd ? sd : typeof pd === 'string' && pd ? pd : 'tcp';
}

/** The Source of an intention-derived link: which intention (or the default) allowed it. */
function intentionSource(d: ReturnType<typeof intentionDecision>): string {
  if (!d.intention) return 'default-allow';
  return d.intention.SourceName === '*' || d.intention.DestinationName === '*' ? 'wildcard-intention' : 'specific-intention';
}

/** What one topology read looks at: the catalog's mesh and the intentions, under the caller's default. */
class MeshView {
  readonly #scope: Scope;
  readonly #entries: IntentionsEntry[];
  readonly #dflt: boolean;

  constructor(scope: Scope, id: AclIdentity | undefined, wildcard?: ConfigEntriesTable) {
    this.#scope = scope;
    this.#entries = scope.entries.list(INTENTIONS) as unknown as IntentionsEntry[];
    if (wildcard) this.#entries = [...this.#entries, ...wildcard.list(INTENTIONS) as unknown as IntentionsEntry[]];
    this.#dflt = defaultAllow(id);
  }

  /** The intentions from `src` (in a namespace: those naming it there, with destinations in the namespace). */
  #bySource(src: string, dst: string) {
    const ent = this.#scope.ent;
    if (!ent) return matchIntentions(this.#entries, 'source', src);
    return matchIntentions(this.#entries, 'destination', dst, ent.namespace).filter((i) => !i.SourcePeer && !i.SourceSamenessGroup
      && (i.SourceName === src || i.SourceName === '*') && (i.SourceNS === ent.namespace || i.SourceNS === '*')
      && (i.SourcePartition || DEFAULT_TENANCY_NAME) === ent.partition);
  }

  /** The intention decision from `src` to `dst` (L7 intentions count as allowing, as in Consul's topology). */
  decision(src: string, dst: string) {
    return intentionDecision(this.#bySource(src, dst), dst, this.#dflt, true, this.#scope.ent?.namespace);
  }

  /** IntentionDecisionSummary of a pair. */
  summary(src: string, dst: string): IntentionDecisionSummary {
    const d = this.decision(src, dst);
    return {
      DefaultAllow: this.#dflt, Allowed: d.allowed, HasPermissions: d.hasPermissions, ExternalSource: d.intention?.Meta?.['external-source'] ?? '',
      HasExact: this.#bySource(src, dst).some((i) => i.SourceName === src && i.DestinationName === dst),
    };
  }

  /** The sidecar proxies registered for a service. */
  proxies(name: string): NodeService[] {
    return this.#scope.cat.instances(name, true).map((i) => i.service).filter((s) => s.Kind === 'connect-proxy');
  }

  /** Whether every proxy of the service (at least one) is in transparent mode. */
  transparent(name: string): boolean {
    const p = this.proxies(name);
    return p.length > 0 && p.every((s) => proxyOf(s).Mode === 'transparent');
  }

  /** Whether a proxy of `name` registers `target` as an upstream, directly or through the upstream's discovery chain. */
  registersUpstream(name: string, target: string): boolean {
    return this.registeredUpstreams(name).some((u) => u === target || this.chainTargets(u).has(target));
  }

  /** Whether router, splitter or resolver entries route the name (a virtual service when nothing is registered under it). */
  routed(name: string): boolean {
    return CHAIN_KINDS.some((k) => this.#scope.entries.get(k, name) !== undefined);
  }

  /** The services a name's discovery chain can send traffic to (routes, splits, redirects, failovers), itself included unless redirected. */
  chainTargets(name: string, seen = new Set<string>()): Set<string> {
    if (seen.has(name)) return seen;
    seen.add(name);
    const t = this.#scope.entries;
    const next: string[] = [];
    for (const r of list(t.get('service-router', name)?.Routes)) next.push(String((r.Destination as Obj | undefined)?.Service || name));
    for (const sp of list(t.get('service-splitter', name)?.Splits)) next.push(String(sp.Service || name));
    const resolver = t.get('service-resolver', name);
    const redirect = (resolver?.Redirect as Obj | undefined)?.Service;
    if (typeof redirect === 'string' && redirect) next.push(redirect);
    for (const f of Object.values((resolver?.Failover as Record<string, Obj> | undefined) ?? {})) {
      if (typeof f.Service === 'string' && f.Service) next.push(f.Service);
      for (const target of list(f.Targets)) if (typeof target.Service === 'string' && target.Service) next.push(target.Service);
    }
    for (const n of next) this.chainTargets(n, seen);
    return seen;
  }

  /** The upstream names a service's proxies register. */
  registeredUpstreams(name: string): string[] {
    const ns = this.#scope.ent?.namespace;
    // In a namespace, upstreams in another namespace are left out (the topology stays within it).
    const here = (u: { DestinationNamespace?: string }): boolean => ns === undefined || !u.DestinationNamespace || foldTenancyName(u.DestinationNamespace) === ns;
    return this.proxies(name).flatMap((p) => (proxyOf(p).Upstreams ?? []).filter((u) => u.DestinationName && u.DestinationType !== 'prepared_query' && here(u)).map((u) => u.DestinationName!));
  }

  /** Names of the services that have sidecar proxies, but `except`. */
  meshServices(except: string): string[] {
    const names = [...this.#scope.cat.byConnect.keys()].flatMap((k) => this.proxies(k).map((s) => proxyOf(s).DestinationServiceName ?? ''));
    return [...new Set(names)].filter((n) => n !== '' && n !== except);
  }
}

/** A service's upstreams and why: an ingress gateway's links, else its proxies' upstreams and, transparent, what intentions allow. */
function upstreams(mesh: MeshView, replica: Replica, scope: Scope, ws: WatchSet, service: string, kind: string): { index: number; up: Map<string, string> } {
  const up = new Map<string, string>();
  // Gateway links are read in the default tenant only (gateway-services.ts): a namespace's ingress gateway lists none yet.
  if (kind === 'ingress-gateway' && scope.ent) return { index: 0, up };
  if (kind === 'ingress-gateway') {
    const links = gatewayLinks(replica, ws, service);
    for (const gs of links.rows) up.set(gs.Service.Name, REGISTRATION);
    return { index: links.index, up };
  }
  for (const u of mesh.registeredUpstreams(service)) {
    // A name nothing is registered under but routing entries route is a virtual service (Consul's routing-config upstream).
    up.set(u, scope.cat.instances(u).length === 0 && mesh.routed(u) ? ROUTING_CONFIG : REGISTRATION);
  }
  if (mesh.transparent(service)) {
    for (const other of mesh.meshServices(service)) {
      const d = mesh.decision(service, other);
      if (d.allowed && !up.has(other)) up.set(other, intentionSource(d));
    }
  }
  return { index: 0, up };
}

/** A service's downstreams and why: ingress gateways linking it, proxies registering it, transparent ones intentions let in. */
function downstreams(mesh: MeshView, replica: Replica, scope: Scope, ws: WatchSet, service: string): { index: number; down: Map<string, string> } {
  const down = new Map<string, string>();
  // Ingress gateways linking the service are its downstreams, as their links enter Consul's mesh topology
  // (read in the default tenant only, as gateway links are).
  if (!scope.ent) {
    ws.addPrefix(CONFIG_ENTRIES_TABLE, 'ingress-gateway/');
    for (const gw of replica.configEntries.list('ingress-gateway')) {
      if (gatewayLinks(replica, ws, gw.Name).rows.some((r) => r.Service.Name === service)) down.set(gw.Name, REGISTRATION);
    }
  }
  for (const name of mesh.meshServices(service)) {
    if (mesh.registersUpstream(name, service)) down.set(name, REGISTRATION);
    else if (mesh.transparent(name)) {
      const d = mesh.decision(name, service);
      if (d.allowed) down.set(name, intentionSource(d));
    }
  }
  return { index: scope.ent ? 0 : replica.configEntries.kindIndex('ingress-gateway'), down };
}

/** Summaries of the named services (instances and their proxies' checks), sidecars left out, under the caller's ACLs. */
function linked(scope: Scope, names: Map<string, string>, id: AclIdentity | undefined, pair: (other: string) => IntentionDecisionSummary) {
  const cat = scope.cat;
  const rows: DumpRow[] = [];
  for (const name of names.keys()) {
    for (const i of [...cat.instances(name), ...cat.instances(name, true).filter((x) => x.service.Kind === 'connect-proxy')]) {
      rows.push({ node: i.node, service: i.service, checks: cat.instanceChecks(i.node.Node, i.service.ID) });
    }
  }
  const { items, filtered } = filterAllowed(id, rows, (r) => instanceReadable(id, r.node!.Node, r.service!.Service, scope.ctx));
  // In a namespace each summary shows its tenancy (ServiceSummary embeds acl.EnterpriseMeta).
  const tenancy = scope.ent ? { Namespace: scope.ent.namespace, Partition: scope.ent.partition } : {};
  const list = prepSummaryOutput(summarizeServices(items).summaries, true)
    .map((s): ServiceTopologySummary => ({ ...s, ...tenancy, Source: names.get(s.Name) ?? '', Intention: pair(s.Name) }));
  return { list, filtered };
}

/** The computation under a blocking query; `kind` is the service kind the UI asks about. */
export function serviceTopology(
  replica: Replica, ws: WatchSet, service: string, kind: string, id: AclIdentity | undefined, datacenter: string, ent?: EnterpriseMeta,
): QueryRun<ServiceTopology> {
  if (kind !== '' && kind !== 'ingress-gateway') throw new BadRequestError(`Unsupported service kind ${JSON.stringify(kind)}`);
  let scope: Scope;
  let mesh: MeshView;
  if (ent) {
    scope = tenantScope(replica, ws, ent);
    mesh = new MeshView(scope, id, configEntriesOf(replica, wildcardNamespaceOf(scope.ent)));
  } else {
    ws.addTable(NODES_TABLE).addTable(SERVICES_TABLE).addTable(CHECKS_TABLE).addPrefix(CONFIG_ENTRIES_TABLE, `${INTENTIONS}/`);
    for (const k of CHAIN_KINDS) ws.addPrefix(CONFIG_ENTRIES_TABLE, `${k}/`);
    scope = defaultScope(replica);
    mesh = new MeshView(scope, id);
  }
  const { index: upIndex, up } = upstreams(mesh, replica, scope, ws, service, kind);
  const { index: downIndex, down } = downstreams(mesh, replica, scope, ws, service);
  const u = linked(scope, up, id, (other) => mesh.summary(service, other));
  // Virtual upstreams have no instances to summarize: Consul appends them bare, with their decision.
  const tenancy = scope.ent ? { Namespace: scope.ent.namespace, Partition: scope.ent.partition } : {};
  for (const [name, source] of [...up].filter(([, src]) => src === ROUTING_CONFIG).sort(([a], [b]) => (a < b ? -1 : 1))) {
    u.list.push({ ...bareSummary(name, datacenter), ...tenancy, Source: source, Intention: mesh.summary(service, name) });
  }
  const d = linked(scope, down, id, (other) => mesh.summary(other, service));
  const value: ServiceTopology = {
    Protocol: protocolOf(scope, ws, service), TransparentProxy: mesh.transparent(service),
    Upstreams: u.list, Downstreams: d.list, FilteredByACLs: u.filtered || d.filtered,
  };
  const e = scope.entries;
  let index = Math.max(scope.cat.maxIndex, e.kindIndex(INTENTIONS), upIndex, downIndex, ...CHAIN_KINDS.map((k) => e.kindIndex(k)));
  if (scope.ent) index = Math.max(index, configEntriesOf(replica, wildcardNamespaceOf(scope.ent)).kindIndex(INTENTIONS), partitionCatalog(replica, scope.ent.partition).maxIndex, 1);
  return { index, value };
}
