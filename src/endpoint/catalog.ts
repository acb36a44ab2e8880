// The catalog endpoint (Consul's Catalog.*): register/deregister through planned Store txns,
// and the read views (nodes, services, service instances, one node) with blocking, tag,
// node-meta and filter support.
import { createRequire } from 'node:module';
import {
  NODES_TABLE, SERVICES_TABLE, SERVICE_HEALTH, CONNECT_HEALTH, NODE_VIEW, DEFAULT_TENANCY_NAME, foldName, catalogTableName, isDefaultEnt,
  type CatalogTables, type ConfigEntriesTable, type EnterpriseMeta, type WatchSet,
} from '../state/index.ts';
import type { Node, NodeService, ServiceNode, RegisterRequest, DeregisterRequest } from '../api/catalog-types.ts';
import { filterList } from '../filter/index.ts';
import { blockingQuery, type QueryOptions, type QueryResult } from './query.ts';
import { commitWrite, type WritePlan } from './commit.ts';
import { planRegister, planDeregister } from './catalog-write.ts';
import type { EndpointDeps } from './deps.ts';
import type { AclIdentity } from './acl-resolver.ts';
import { allowed, entContext, filterAllowed } from './acl-enforce.ts';
import { instanceReadable, meshTargetHidden, vetDeregister, vetRegister } from './catalog-acl.ts';
import { sortNear } from './near.ts';
import { terminatingGatewayInstances } from './terminating-links.ts';
import { TenantCatalogReads, tenantRead } from './catalog-tenancy.ts';
import { entPins, writableEnt } from './tenancy.ts';

const require = createRequire(import.meta.url);
/** Writes into an admin partition other than default (catalog-partition.ts), loaded by the first of them, not at start (issue #9). */
const inPartition = () => require('./catalog-partition.ts') as typeof import('./catalog-partition.ts');

/** Read filters shared by catalog and health views. */
export interface CatalogFilters {
  /** `?node-meta=k:v`, all must match. */
  nodeMeta?: [string, string][];
  /** `?tag=`, all must be present (case-insensitive, as Consul). */
  tags?: string[];
  /** `?filter=` bexpr expression. */
  filter?: string;
  /** Mesh view: connect proxies for the service and native instances (`/connect/:service`). */
  connect?: boolean;
  /** `?near=<node>|_agent`: sort by estimated round trip from that node. */
  near?: string;
  /** `?merge-central-config`: proxies and gateways answered merged with their central defaults. */
  mergeCentralConfig?: boolean;
}

/**
 * What catalog/service and health/service read: the instances of a service (or, with
 * `connect`, its mesh endpoints) whose node has the node meta and which have the tags, at the
 * view's index, watching the view. The name matches case-insensitively, as Consul's service
 * index does. Instances are null when the caller may not see the mesh target: Consul answers an
 * empty list then, not reported as filtered. `entries`: the default tenant's config entries
 * (terminating gateways, merge-central-config); `tenantEntries`: a namespace's, for its terminating gateways only.
 */
export function serviceInstances(
  cat: CatalogTables, ws: WatchSet, name: string, f: CatalogFilters, authz: AclIdentity | undefined, entries?: ConfigEntriesTable,
  ent?: EnterpriseMeta, tenantEntries?: ConfigEntriesTable,
): { index: number; instances: { node: Node; service: NodeService }[] | null } {
  const key = foldName(name);
  const table = f.connect ? CONNECT_HEALTH : SERVICE_HEALTH;
  // `ent`: a non-default namespace's tables (catalog-tenancy.ts); absent, the default one's.
  ws.addKey(ent === undefined ? table : catalogTableName(table, ent), key);
  let index = cat.serviceIndex.get(f.connect ? `connect:${key}` : key) ?? cat.index.services;
  if (f.connect && meshTargetHidden(authz, name, entContext(ent))) return { index, instances: null };
  let found = cat.instances(name, f.connect);
  const gatewayEntries = entries ?? tenantEntries;
  if (f.connect && gatewayEntries) {
    // A service linked to terminating gateways is reached through them too (Consul appends them).
    // Its index counts the gateway entries, as Consul's counts the gateway-services table: an unlink moves it forward.
    const gw = terminatingGatewayInstances(cat, gatewayEntries, ws, name, ent);
    if (gw.instances.length) found = [...found, ...gw.instances];
    index = Math.max(index, gw.index);
  }
  const instances = found.filter((i) => nodeMetaMatches(i.node, f.nodeMeta) && tagsMatch(i.service, f.tags));
  if (!f.mergeCentralConfig || !entries) return { index, instances };
  // Loaded on the first merging read only (issue #9).
  const { mergeInstances } = require('./merge-central-config.ts') as typeof import('./merge-central-config.ts');
  return mergeInstances(entries, ws, index, instances);
}

/** True when the node carries every `key:value` pair. */
export function nodeMetaMatches(node: Node, meta: [string, string][] | undefined): boolean {
  return !meta || meta.every(([k, v]) => node.Meta?.[k] === v);
}

/** True when the service has every tag (case-insensitive). */
export function tagsMatch(svc: NodeService, tags: string[] | undefined): boolean {
  if (!tags || tags.length === 0) return true;
  const have = new Set((svc.Tags ?? []).map((t) => t.toLowerCase()));
  return tags.every((t) => have.has(t.toLowerCase()));
}

/** The stored spellings of a service name with the tags of their instances that pass the node-meta and bexpr filters. */
function filteredTags(cat: CatalogTables, key: string, f: CatalogFilters): [string, string[]][] {
  const byName = new Map<string, Set<string>>();
  const rows = cat.instances(key).filter((i) => nodeMetaMatches(i.node, f.nodeMeta));
  for (const s of filterList(rows.map((i) => toServiceNode(i.node, i.service)), f.filter)) {
    let tags = byName.get(s.ServiceName);
    if (!tags) byName.set(s.ServiceName, (tags = new Set()));
    for (const t of s.ServiceTags) tags.add(t);
  }
  return [...byName].map(([n, t]) => [n, [...t]]);
}

/** Flattens a node and one of its services into Consul's ServiceNode. */
export function toServiceNode(node: Node, s: NodeService): ServiceNode {
  return {
    ID: node.ID, Node: node.Node, Address: node.Address, Datacenter: node.Datacenter,
    TaggedAddresses: node.TaggedAddresses, NodeMeta: node.Meta, ServiceKind: s.Kind ?? '', ServiceID: s.ID,
    ServiceName: s.Service, ServiceTags: s.Tags ?? [], ServiceAddress: s.Address,
    ...(s.TaggedAddresses ? { ServiceTaggedAddresses: s.TaggedAddresses } : {}),
    ServiceWeights: s.Weights, ServiceMeta: s.Meta ?? {}, ServicePort: s.Port, ServiceSocketPath: s.SocketPath ?? '',
    ServiceEnableTagOverride: s.EnableTagOverride, ServiceProxy: s.Proxy ?? {}, ServiceConnect: s.Connect ?? {},
    // Consul's ServiceNode.ServiceLocality has no omitempty: null when the service has none.
    ServiceLocality: s.Locality ?? null,
    PeerName: '', CreateIndex: s.CreateIndex, ModifyIndex: s.ModifyIndex,
  };
}

/** A write's tenant: undefined for the default one. */
function namespaceOf(ent: EnterpriseMeta | undefined): EnterpriseMeta | undefined {
  return ent === undefined || isDefaultEnt(ent) ? undefined : ent;
}

/** Whether a tenant is in an admin partition other than default (catalog-partition.ts plans its writes). */
function otherPartition(ent: EnterpriseMeta): boolean {
  return ent.partition.toLowerCase() !== DEFAULT_TENANCY_NAME;
}

/** A namespace write's planner: the namespace must exist and not be being deleted, and its record is pinned (as KV's inTenant). */
function inNamespace(deps: EndpointDeps, ent: EnterpriseMeta, plan: () => WritePlan): () => WritePlan {
  return () => {
    writableEnt(deps.replica.tenants, ent);
    const p = plan();
    p.compares.push(...entPins(deps.replica.tenants, ent));
    return p;
  };
}

/** Catalog reads and writes. */
export class CatalogEndpoint {
  readonly #deps: EndpointDeps;
  readonly #tenant: TenantCatalogReads;

  constructor(deps: EndpointDeps) {
    this.#deps = deps;
    this.#tenant = new TenantCatalogReads(deps);
  }

  /**
   * Registers a node and optionally a service and checks; always true on success. `ent`: the
   * namespace of the service and its checks (absent or default: the default namespace).
   */
  register(req: RegisterRequest, authz?: AclIdentity, ent?: EnterpriseMeta): Promise<boolean> {
    const ns = namespaceOf(ent);
    vetRegister(this.#deps, authz, req, ns);
    if (ns === undefined) return commitWrite(this.#deps, () => planRegister(this.#deps, req), true);
    const plan = otherPartition(ns) ? () => inPartition().planRegisterInPartition(this.#deps, req, ns) : () => planRegister(this.#deps, req, ns);
    return commitWrite(this.#deps, inNamespace(this.#deps, ns, plan), true);
  }

  /** Deregisters a check, a service or a node (`ent`: the namespace of the service or check). */
  deregister(req: DeregisterRequest, authz?: AclIdentity, ent?: EnterpriseMeta): Promise<boolean> {
    const ns = namespaceOf(ent);
    vetDeregister(this.#deps, authz, req, ns);
    // No existence check: a namespace that is gone (or never was) holds nothing to delete, and an
    // agent whose registration there failed must be able to drop it.
    const plan = ns !== undefined && otherPartition(ns) ? () => inPartition().planDeregisterInPartition(this.#deps, req, ns) : () => planDeregister(this.#deps, req, ns);
    return commitWrite(this.#deps, plan, true);
  }

  /** Known datacenters (federation adds more). */
  datacenters(): string[] {
    return [this.#deps.config.datacenter];
  }

  /** Every node, sorted by name. */
  nodes(opts: QueryOptions, f: CatalogFilters = {}): Promise<QueryResult<Node[]>> {
    if (tenantRead(opts)) return this.#tenant.nodes(opts, f);
    const cat = this.#deps.replica.catalog;
    return blockingQuery(this.#deps, opts, (ws) => {
      ws.addTable(NODES_TABLE);
      const nodes = [...cat.nodes.values()].filter((n) => nodeMetaMatches(n, f.nodeMeta)).sort((a, b) => (a.Node < b.Node ? -1 : 1));
      const { items, filtered } = filterAllowed(opts.authz, filterList(nodes, f.filter), (n) => allowed(opts.authz, 'nodeRead', n.Node));
      return { index: cat.index.nodes, value: sortNear(this.#deps, f.near, items, (n) => n.Node), filtered };
    });
  }

  /** Service names with the union of their tags. */
  services(opts: QueryOptions, f: CatalogFilters = {}): Promise<QueryResult<Record<string, string[]>>> {
    if (tenantRead(opts)) return this.#tenant.services(opts, f);
    const cat = this.#deps.replica.catalog;
    return blockingQuery(this.#deps, opts, (ws) => {
      ws.addTable(SERVICES_TABLE).addTable(NODES_TABLE);
      const rows: [string, string[]][] = [];
      let filtered = false;
      // Without node-meta or filter the per-service tag cache answers in O(service names).
      const plain = !f.nodeMeta && !f.filter;
      // Keys are the stored spellings: `Web` and `web` are two entries, as in Consul.
      for (const key of cat.byName.keys()) {
        for (const [name, tags] of plain ? cat.serviceTags(key) : filteredTags(cat, key, f)) {
          if (allowed(opts.authz, 'serviceRead', name)) rows.push([name, tags]);
          else filtered = true;
        }
      }
      const out: Record<string, string[]> = {};
      for (const [name, tags] of rows.sort(([a], [b]) => (a < b ? -1 : 1))) out[name] = tags;
      return { index: Math.max(cat.index.services, cat.index.nodes), value: out, filtered };
    });
  }

  /** Instances of one service as flattened ServiceNodes. */
  service(name: string, opts: QueryOptions, f: CatalogFilters = {}): Promise<QueryResult<ServiceNode[]>> {
    if (tenantRead(opts)) return this.#tenant.service(name, opts, f);
    const cat = this.#deps.replica.catalog;
    return blockingQuery(this.#deps, opts, (ws) => {
      const { index, instances } = serviceInstances(cat, ws, name, f, opts.authz, this.#deps.replica.configEntries);
      if (!instances) return { index, value: [] };
      const rows = instances.map((i) => toServiceNode(i.node, i.service));
      const { items, filtered } = filterAllowed(opts.authz, filterList(rows, f.filter), (r) => instanceReadable(opts.authz, r.Node, r.ServiceName));
      return { index, value: sortNear(this.#deps, f.near, items, (r) => r.Node), filtered };
    });
  }

  /**
   * One node (named case-insensitively) with its services keyed by ID, or null; with `merge`,
   * proxies and gateways merged with their central defaults (`?merge-central-config`).
   */
  node(name: string, opts: QueryOptions, merge = false): Promise<QueryResult<{ Node: Node; Services: Record<string, NodeService> } | null>> {
    if (tenantRead(opts)) {
      return this.#tenant.node(name, opts, merge).then(({ value, meta }) => ({
        meta, value: value && { Node: value.Node, Services: Object.fromEntries(value.Services.map((s) => [s.ID, s])) },
      }));
    }
    const cat = this.#deps.replica.catalog;
    return blockingQuery(this.#deps, opts, (ws) => {
      ws.addKey(NODE_VIEW, foldName(name));
      const node = cat.node(name);
      let index = Math.max(cat.index.nodes, cat.index.services);
      if (!node) return { index, value: null };
      if (!allowed(opts.authz, 'nodeRead', node.Node)) return { index, value: null, filtered: true };
      const all = [...(cat.services.get(node.Node)?.values() ?? [])].sort((a, b) => (a.ID < b.ID ? -1 : 1));
      let { items: services, filtered } = filterAllowed(opts.authz, all, (s) => allowed(opts.authz, 'serviceRead', s.Service));
      if (merge) {
        // Loaded on the first merging read only (issue #9).
        const { mergeInstances } = require('./merge-central-config.ts') as typeof import('./merge-central-config.ts');
        const m = mergeInstances(this.#deps.replica.configEntries, ws, index, services.map((service) => ({ service })));
        index = m.index;
        services = m.instances.map((i) => i.service);
      }
      return { index, value: { Node: node, Services: Object.fromEntries(services.map((s) => [s.ID, s])) }, filtered };
    });
  }

  /** One node with its services as a list (`node-services`, `?merge-central-config` honoured), or null. */
  nodeServices(name: string, opts: QueryOptions, f: CatalogFilters = {}): Promise<QueryResult<{ Node: Node; Services: NodeService[] } | null>> {
    if (tenantRead(opts)) {
      return this.#tenant.node(name, opts, f.mergeCentralConfig === true).then(({ value, meta }) => ({
        meta, value: value && { Node: value.Node, Services: filterList(value.Services, f.filter) },
      }));
    }
    return this.node(name, opts, f.mergeCentralConfig === true).then(({ value, meta }) => ({
      meta,
      value: value && { Node: value.Node, Services: filterList(Object.values(value.Services), f.filter) },
    }));
  }
}
