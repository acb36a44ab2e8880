// Catalog and health reads in namespaces (Consul Enterprise): reads that name a tenant, or act in a
// non-default one, come here; the default tenant's unnamed reads keep catalog.ts and health.ts.
// Services and service checks are the namespace's; nodes and node checks are the partition's, seen
// from every namespace. Answers carry Consul Enterprise's Namespace and Partition fields (a Node
// only Partition); `ns=*` (where Consul's handler parses it) reads every namespace of the partition.
import {
  CHECKS_TABLE, NODE_VIEW, SERVICES_TABLE, NODES_TABLE, SERVICE_HEALTH, NAMESPACES_TABLE, DEFAULT_ENT, DEFAULT_TENANCY_NAME, WILDCARD_NAMESPACE,
  catalogOf, catalogTableName, configEntriesOf, foldName, namespacesFor, sameId, partitionEnt, partitionCatalog, isDefaultEnt,
  type CatalogTables, type EnterpriseMeta, type WatchSet,
} from '../state/index.ts';
import type { HealthCheck, Node, NodeService, ServiceNode, CheckServiceNode } from '../api/catalog-types.ts';
import { filterList } from '../filter/index.ts';
import { blockingQuery, type QueryOptions, type QueryResult } from './query.ts';
import { nodeMetaMatches, serviceInstances, toServiceNode, type CatalogFilters } from './catalog.ts';
import type { EndpointDeps } from './deps.ts';
import { allowed, entContext, filterAllowed } from './acl-enforce.ts';
import { checkReadable, healthAnswer, instanceReadable } from './catalog-acl.ts';
import { sortNear } from './near.ts';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * `?merge-central-config` in a namespace or partition (default-tenant reads merge in serviceInstances):
 * the tenant's proxy-defaults and service-defaults (merge-central-config.ts mergeTenantInstances).
 */
function mergeInTenant<I extends { service: NodeService }>(
  deps: EndpointDeps, ent: EnterpriseMeta, ws: WatchSet, index: number, instances: I[],
): { index: number; instances: I[] } {
  // Loaded on the first merging read only (issue #9).
  const { mergeTenantInstances } = require('./merge-central-config.ts') as typeof import('./merge-central-config.ts');
  return mergeTenantInstances(deps.replica, ent, ws, index, instances);
}

/** Whether a read goes through the tenancy reads: it named a tenant, or acts in a non-default one. */
export function tenantRead(opts: QueryOptions): boolean {
  return opts.entNamed === true || (opts.ent !== undefined && opts.ent !== DEFAULT_ENT && !isDefaultEnt(opts.ent));
}

/** A record with Consul Enterprise's `Namespace` and `Partition` before its indexes (EnterpriseMeta precedes RaftIndex). */
export function withTenancy<T extends object>(rec: T, ent: EnterpriseMeta): T {
  const out: Record<string, unknown> = {};
  let placed = false;
  for (const [k, v] of Object.entries(rec)) {
    if (!placed && (k === 'CreateIndex' || k === 'ModifyIndex')) {
      out.Namespace = ent.namespace;
      out.Partition = ent.partition;
      placed = true;
    }
    out[k] = v;
  }
  if (!placed) Object.assign(out, { Namespace: ent.namespace, Partition: ent.partition });
  return out as T;
}

/** A node with Consul Enterprise's `Partition` (after Datacenter, as structs.Node). */
export function withPartition(node: Node, partition: string): Node {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    out[k] = v;
    if (k === 'Datacenter') out.Partition = partition;
  }
  return out as unknown as Node;
}

/** A check with the tenancy it lives in: a node check is its partition's default namespace's. */
export function checkWithTenancy(c: HealthCheck, ent: EnterpriseMeta): HealthCheck {
  return withTenancy(c, c.ServiceID ? ent : partitionEnt(ent.partition));
}

/** A tenant spelled as answers show it (lower-case names, as stored). */
function shown(ent: EnterpriseMeta): EnterpriseMeta {
  return { partition: ent.partition.toLowerCase(), namespace: ent.namespace.toLowerCase() };
}

/** One namespace's part of a read. */
interface Part {
  ent: EnterpriseMeta;
  cat: CatalogTables;
}

/** The namespaces a read covers (every namespace of the partition for `*`), each watched on `table`. */
export function parts(deps: EndpointDeps, opts: QueryOptions, ws: WatchSet, table: string, key?: string): Part[] {
  const ent = opts.ent ?? DEFAULT_ENT;
  const ents = ent.namespace === WILDCARD_NAMESPACE ? namespacesFor(deps.replica, ent.partition) : [ent];
  // A namespace created while the read blocks may hold matching records by the time it is re-run.
  if (ent.namespace === WILDCARD_NAMESPACE) ws.addTable(NAMESPACES_TABLE);
  return ents.map((e) => {
    const name = catalogTableName(table, e);
    if (key === undefined) ws.addTable(name);
    else ws.addKey(name, key);
    return { ent: shown(e), cat: catalogOf(deps.replica, e) };
  });
}

/** A read's partition: its name (key form), its node tables (no read makes them) and the tenant its nodes' notifier tables are named for. */
export function partitionOf(deps: EndpointDeps, opts: QueryOptions): { ap: string; cat: CatalogTables; ent: EnterpriseMeta } {
  const ap = (opts.ent?.partition ?? DEFAULT_TENANCY_NAME).toLowerCase();
  return { ap, cat: partitionCatalog(deps.replica, ap), ent: partitionEnt(ap) };
}

/** Catalog reads of /v1/catalog/* in a tenant. */
export class TenantCatalogReads {
  readonly #deps: EndpointDeps;

  constructor(deps: EndpointDeps) {
    this.#deps = deps;
  }

  /** Every node, with its Partition (nodes are partition-level: the namespace is not read). */
  nodes(opts: QueryOptions, f: CatalogFilters): Promise<QueryResult<Node[]>> {
    return blockingQuery(this.#deps, opts, (ws) => {
      const p = partitionOf(this.#deps, opts);
      const cat = p.cat;
      ws.addTable(catalogTableName(NODES_TABLE, p.ent));
      const nodes = [...cat.nodes.values()].filter((n) => nodeMetaMatches(n, f.nodeMeta)).sort((a, b) => (a.Node < b.Node ? -1 : 1));
      const nodeCtx = entContext(p.ent);
      const { items, filtered } = filterAllowed(opts.authz, filterList(nodes, f.filter), (n) => allowed(opts.authz, 'nodeRead', n.Node, nodeCtx));
      const value = sortNear(this.#deps, f.near, items, (n) => n.Node, p.ap).map((n) => withPartition(n, p.ap));
      return { index: cat.index.nodes, value, filtered };
    });
  }

  /** The namespace's service names with their tags. */
  services(opts: QueryOptions, f: CatalogFilters): Promise<QueryResult<Record<string, string[]>>> {
    return blockingQuery(this.#deps, opts, (ws) => {
      const p = partitionOf(this.#deps, opts);
      const nodes = p.cat;
      ws.addTable(catalogTableName(NODES_TABLE, p.ent));
      const out: Record<string, string[]> = {};
      let filtered = false;
      let index = nodes.index.nodes;
      for (const { ent, cat } of parts(this.#deps, opts, ws, SERVICES_TABLE)) {
        const ctx = entContext(ent);
        index = Math.max(index, cat.index.services);
        const rows = new Map<string, Set<string>>();
        for (const key of cat.byName.keys()) {
          for (const i of cat.instances(key)) {
            if (!nodeMetaMatches(i.node, f.nodeMeta)) continue;
            if (f.filter && filterList([toServiceNode(i.node, i.service)], f.filter).length === 0) continue;
            let tags = rows.get(i.service.Service);
            if (!tags) rows.set(i.service.Service, (tags = new Set()));
            for (const t of i.service.Tags ?? []) tags.add(t);
          }
        }
        for (const [name, tags] of [...rows].sort(([a], [b]) => (a < b ? -1 : 1))) {
          if (allowed(opts.authz, 'serviceRead', name, ctx)) out[name] = [...tags];
          else filtered = true;
        }
      }
      return { index, value: out, filtered };
    });
  }

  /** Instances of one service in the namespace (or its mesh endpoints) as ServiceNodes. */
  service(name: string, opts: QueryOptions, f: CatalogFilters): Promise<QueryResult<ServiceNode[]>> {
    return blockingQuery(this.#deps, opts, (ws) => {
      const ent = shown(opts.ent ?? DEFAULT_ENT);
      const cat = catalogOf(this.#deps.replica, ent);
      const def = isDefaultEnt(ent);
      let { index, instances } = serviceInstances(cat, ws, name, f, opts.authz, def ? this.#deps.replica.configEntries : undefined, def ? undefined : ent, def ? undefined : configEntriesOf(this.#deps.replica, ent));
      if (!instances) return { index, value: [] };
      if (f.mergeCentralConfig && !def) ({ index, instances } = mergeInTenant(this.#deps, ent, ws, index, instances));
      const ctx = entContext(ent);
      const rows = instances.map((i) => toServiceNode(i.node, i.service));
      const { items, filtered } = filterAllowed(opts.authz, filterList(rows, f.filter), (r) => instanceReadable(opts.authz, r.Node, r.ServiceName, ctx));
      return { index, value: sortNear(this.#deps, f.near, items, (r) => r.Node, ent.partition).map((r) => withTenancy(r, ent)), filtered };
    });
  }

  /**
   * One node with the namespace's services on it (`*`: every namespace's), or null; with `merge`,
   * proxies and gateways merged with their namespace's central defaults (`?merge-central-config`).
   */
  node(name: string, opts: QueryOptions, merge = false): Promise<QueryResult<{ Node: Node; Services: NodeService[] } | null>> {
    return blockingQuery(this.#deps, opts, (ws) => {
      const ap = partitionOf(this.#deps, opts);
      const nodes = ap.cat;
      ws.addKey(catalogTableName(NODE_VIEW, ap.ent), foldName(name));
      const node = nodes.node(name);
      let index = Math.max(nodes.index.nodes, nodes.index.services);
      const found = parts(this.#deps, opts, ws, NODE_VIEW, foldName(name));
      for (const p of found) index = Math.max(index, p.cat.index.services);
      if (!node) return { index, value: null };
      if (!allowed(opts.authz, 'nodeRead', node.Node, entContext(ap.ent))) return { index, value: null, filtered: true };
      const services: NodeService[] = [];
      let filtered = false;
      for (const { ent, cat } of found) {
        const ctx = entContext(ent);
        let mine: NodeService[] = [];
        for (const s of [...(cat.services.get(node.Node)?.values() ?? [])].sort((a, b) => (a.ID < b.ID ? -1 : 1))) {
          if (allowed(opts.authz, 'serviceRead', s.Service, ctx)) mine.push(s);
          else filtered = true;
        }
        if (merge && mine.length) {
          const m = mergeInTenant(this.#deps, ent, ws, index, mine.map((service) => ({ service })));
          index = m.index;
          mine = m.instances.map((i) => i.service);
        }
        for (const s of mine) services.push(withTenancy(s, ent));
      }
      return { index, value: { Node: withPartition(node, ap.ap), Services: services }, filtered };
    });
  }
}

/** Health reads of /v1/health/* in a tenant. */
export class TenantHealthReads {
  readonly #deps: EndpointDeps;

  constructor(deps: EndpointDeps) {
    this.#deps = deps;
  }

  /** Checks on a node in the namespace (`*`: every namespace's; node checks are the default namespace's). */
  node(name: string, opts: QueryOptions, f: CatalogFilters): Promise<QueryResult<HealthCheck[]>> {
    return blockingQuery(this.#deps, opts, (ws) => {
      const ap = partitionOf(this.#deps, opts);
      ws.addKey(catalogTableName(NODE_VIEW, ap.ent), foldName(name));
      const out: HealthCheck[] = [];
      let index = 0;
      let filtered = false;
      for (const { ent, cat } of parts(this.#deps, opts, ws, NODE_VIEW, foldName(name))) {
        index = Math.max(index, cat.index.checks);
        const r = filterAllowed(opts.authz, filterList(cat.nodeChecks(name), f.filter), (c) => checkReadable(opts.authz, c, entContext(ent)));
        filtered ||= r.filtered;
        for (const c of r.items) out.push(checkWithTenancy(c, ent));
      }
      return { index: Math.max(index, ap.cat.index.nodes), value: out, filtered };
    });
  }

  /** Service checks of every instance of a service in the namespace. */
  checks(service: string, opts: QueryOptions, f: CatalogFilters): Promise<QueryResult<HealthCheck[]>> {
    return blockingQuery(this.#deps, opts, (ws) => {
      const key = foldName(service);
      const [{ ent, cat }] = parts(this.#deps, opts, ws, SERVICE_HEALTH, key);
      const out: HealthCheck[] = [];
      for (const { node, service: svc } of cat.instances(service)) {
        if (!nodeMetaMatches(node, f.nodeMeta)) continue;
        out.push(...cat.nodeChecks(node.Node).filter((c) => c.ServiceID !== '' && sameId(c.ServiceID, svc.ID)));
      }
      const ctx = entContext(ent);
      const { items, filtered } = filterAllowed(opts.authz, filterList(out, f.filter), (c) => checkReadable(opts.authz, c, ctx));
      const value = sortNear(this.#deps, f.near, items, (c) => c.Node, ent.partition).map((c) => checkWithTenancy(c, ent));
      return { index: cat.serviceIndex.get(key) ?? Math.max(cat.index.checks, 1), value, filtered };
    });
  }

  /** Checks in a state in the namespace (`*`: every namespace's). */
  state(state: string, opts: QueryOptions, f: CatalogFilters): Promise<QueryResult<HealthCheck[]>> {
    return blockingQuery(this.#deps, opts, (ws) => {
      const nodes = partitionOf(this.#deps, opts).cat;
      const out: HealthCheck[] = [];
      let index = 0;
      let filtered = false;
      for (const { ent, cat } of parts(this.#deps, opts, ws, CHECKS_TABLE)) {
        index = Math.max(index, cat.index.checks);
        const mine: HealthCheck[] = [];
        for (const [nodeName, checks] of [...cat.checks].sort(([a], [b]) => (a < b ? -1 : 1))) {
          const node = nodes.nodes.get(nodeName);
          if (f.nodeMeta && (!node || !nodeMetaMatches(node, f.nodeMeta))) continue;
          for (const c of [...checks.values()].sort((a, b) => (a.CheckID < b.CheckID ? -1 : 1))) {
            if (state === 'any' || c.Status === state) mine.push(c);
          }
        }
        const r = filterAllowed(opts.authz, filterList(mine, f.filter), (c) => checkReadable(opts.authz, c, entContext(ent)));
        filtered ||= r.filtered;
        for (const c of r.items) out.push(checkWithTenancy(c, ent));
      }
      return { index, value: sortNear(this.#deps, f.near, out, (c) => c.Node, opts.ent?.partition), filtered };
    });
  }

  /** Instances of a service in the namespace with their node and checks. */
  service(name: string, opts: QueryOptions, f: CatalogFilters & { passing?: boolean }): Promise<QueryResult<CheckServiceNode[]>> {
    return blockingQuery(this.#deps, opts, (ws) => tenantHealthRows(this.#deps, ws, name, opts, f));
  }
}

/**
 * One run of a tenant's `/v1/health/service/:name`: the instances in `opts.ent` with their node and
 * checks (`?passing`, `?filter`, ACLs, `?near`), each with its tenancy fields.
 */
export function tenantHealthRows(
  deps: EndpointDeps, ws: WatchSet, name: string, opts: QueryOptions, f: CatalogFilters & { passing?: boolean },
): { index: number; value: CheckServiceNode[]; filtered?: boolean } {
  const ent = shown(opts.ent ?? DEFAULT_ENT);
  const cat = catalogOf(deps.replica, ent);
  const def = isDefaultEnt(ent);
  let { index, instances } = serviceInstances(cat, ws, name, f, opts.authz, def ? deps.replica.configEntries : undefined, def ? undefined : ent, def ? undefined : configEntriesOf(deps.replica, ent));
  if (!instances) return { index, value: [] };
  if (f.mergeCentralConfig && !def) ({ index, instances } = mergeInTenant(deps, ent, ws, index, instances));
  const ctx = entContext(ent);
  let rows = instances.map((i) => cat.checkServiceNode(i));
  const { items, filtered } = healthAnswer(opts.authz, rows, f, (r) => instanceReadable(opts.authz, r.Node.Node, r.Service.Service, ctx));
  const value = sortNear(deps, f.near, items, (r) => r.Node.Node, ent.partition).map((r) => ({
    Node: withPartition(r.Node, ent.partition), Service: withTenancy(r.Service, ent), Checks: r.Checks.map((c) => checkWithTenancy(c, ent)),
  }));
  return { index, value, filtered };
}
