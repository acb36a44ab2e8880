// The health endpoint (Consul's Health.*): checks of a node, of a service, in a state, and
// the CheckServiceNode view that discovery clients block on (`?passing` drops any instance
// with a non-passing node or service check).
import { createRequire } from 'node:module';
import { CHECKS_TABLE, SERVICE_HEALTH, NODE_VIEW, foldName, sameId } from '../state/index.ts';
import type { HealthCheck, CheckServiceNode } from '../api/catalog-types.ts';
import { BadRequestError } from '../errors.ts';
import { filterList } from '../filter/index.ts';
import { blockingQuery, type QueryOptions, type QueryResult } from './query.ts';
import { nodeMetaMatches, serviceInstances, type CatalogFilters } from './catalog.ts';
import type { EndpointDeps } from './deps.ts';
import { filterAllowed, type Filtered } from './acl-enforce.ts';
import type { AclIdentity } from './acl-resolver.ts';
import { checkReadable, healthAnswer, instanceReadable } from './catalog-acl.ts';
import { sortNear } from './near.ts';
import { TenantHealthReads, tenantRead } from './catalog-tenancy.ts';
import type { SamenessFilters } from './health-sameness.ts';

// The sameness-group reads (`?sg=`) load their module on first use, not at start (issue #9).
const require = createRequire(import.meta.url);

/** The states `/v1/health/state/:state` accepts. */
export const HEALTH_STATES = ['any', 'passing', 'warning', 'critical'] as const;

/** Health reads. */
export class HealthEndpoint {
  readonly #deps: EndpointDeps;
  readonly #tenant: TenantHealthReads;

  constructor(deps: EndpointDeps) {
    this.#deps = deps;
    this.#tenant = new TenantHealthReads(deps);
  }

  /** Checks of one node (named case-insensitively). */
  node(name: string, opts: QueryOptions, f: CatalogFilters = {}): Promise<QueryResult<HealthCheck[]>> {
    if (tenantRead(opts)) return this.#tenant.node(name, opts, f);
    const cat = this.#deps.replica.catalog;
    return blockingQuery(this.#deps, opts, (ws) => {
      ws.addKey(NODE_VIEW, foldName(name));
      const { items, filtered } = filterAllowed(opts.authz, filterList(cat.nodeChecks(name), f.filter), (c) => checkReadable(opts.authz, c));
      return { index: cat.index.checks, value: items, filtered };
    });
  }

  /** Checks of every instance of a service (named case-insensitively; service checks only, as Consul). */
  checks(service: string, opts: QueryOptions, f: CatalogFilters = {}): Promise<QueryResult<HealthCheck[]>> {
    if (tenantRead(opts)) return this.#tenant.checks(service, opts, f);
    const cat = this.#deps.replica.catalog;
    return blockingQuery(this.#deps, opts, (ws) => {
      const key = foldName(service);
      ws.addKey(SERVICE_HEALTH, key);
      const out: HealthCheck[] = [];
      for (const { node, service: svc } of cat.instances(service)) {
        if (!nodeMetaMatches(node, f.nodeMeta)) continue;
        out.push(...cat.nodeChecks(node.Node).filter((c) => c.ServiceID !== '' && sameId(c.ServiceID, svc.ID)));
      }
      const { items, filtered } = filterAllowed(opts.authz, filterList(out, f.filter), (c) => checkReadable(opts.authz, c));
      return { index: cat.serviceIndex.get(key) ?? cat.index.checks, value: sortNear(this.#deps, f.near, items, (c) => c.Node), filtered };
    });
  }

  /** Checks in a state (`any` for all). */
  state(state: string, opts: QueryOptions, f: CatalogFilters = {}): Promise<QueryResult<HealthCheck[]>> {
    if (!(HEALTH_STATES as readonly string[]).includes(state)) throw new BadRequestError(`Invalid state: ${state}`);
    if (tenantRead(opts)) return this.#tenant.state(state, opts, f);
    const cat = this.#deps.replica.catalog;
    return blockingQuery(this.#deps, opts, (ws) => {
      ws.addTable(CHECKS_TABLE);
      const out: HealthCheck[] = [];
      for (const [nodeName, checks] of [...cat.checks].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const node = cat.nodes.get(nodeName);
        if (f.nodeMeta && (!node || !nodeMetaMatches(node, f.nodeMeta))) continue;
        for (const c of [...checks.values()].sort((a, b) => (a.CheckID < b.CheckID ? -1 : 1))) {
          if (state === 'any' || c.Status === state) out.push(c);
        }
      }
      const { items, filtered } = filterAllowed(opts.authz, filterList(out, f.filter), (c) => checkReadable(opts.authz, c));
      return { index: cat.index.checks, value: sortNear(this.#deps, f.near, items, (c) => c.Node), filtered };
    });
  }

  /** Instances of a service with their node and checks. */
  service(name: string, opts: QueryOptions, f: CatalogFilters & { passing?: boolean } = {}): Promise<QueryResult<CheckServiceNode[]>> {
    if (tenantRead(opts)) return this.#tenant.service(name, opts, f);
    const cat = this.#deps.replica.catalog;
    return blockingQuery(this.#deps, opts, (ws) => {
      const { index, instances } = serviceInstances(cat, ws, name, f, opts.authz, this.#deps.replica.configEntries);
      if (!instances) return { index, value: [] };
      const { items, filtered } = answerInstances(opts.authz, instances.map((i) => cat.checkServiceNode(i)), f);
      return { index, value: sortNear(this.#deps, f.near, items, (r) => r.Node.Node), filtered };
    });
  }

  /** `?sg=`: the instances of the first member of the request partition's sameness group `group` that has any. */
  sameness(group: string, name: string, opts: QueryOptions, f: SamenessFilters = {}): Promise<QueryResult<CheckServiceNode[]>> {
    return (require('./health-sameness.ts') as typeof import('./health-sameness.ts')).samenessHealth(this.#deps, group, name, opts, f);
  }
}

/** The instances a CheckServiceNode query answers (healthAnswer with node:read and service:read). */
export function answerInstances(id: AclIdentity | undefined, rows: CheckServiceNode[], f: { passing?: boolean; filter?: string }): Filtered<CheckServiceNode> {
  return healthAnswer(id, rows, f, (r) => instanceReadable(id, r.Node.Node, r.Service.Service));
}
