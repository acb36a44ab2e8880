// `/v1/health/service|connect|ingress/:name?sg=` (Consul Enterprise's Health.ServiceNodes with a
// SamenessGroup): the group of the request's partition is walked in
// failover order (IncludeLocal's partition first), each member read as a request of its own would
// be (tags, node-meta, ACLs, filter, passing, near), and the first member with instances answers;
// with none, an empty list. A partition member counts only for a service it exports to the asking
// partition; a peer member answers with what that peer exports into the request's namespace (for
// ingress, nothing: a peer's ingress gateways are not imported, Consul's ingress read is local).
import { InternalError } from '../errors.ts';
import {
  CONFIG_ENTRIES_TABLE, DEFAULT_TENANCY_NAME, configEntriesOf, configEntriesTableName, foldTenancyName, isDefaultEnt, partitionEnt,
  type WatchSet,
} from '../state/index.ts';
import type { CheckServiceNode } from '../api/catalog-types.ts';
import type { CatalogFilters } from './catalog.ts';
import { tenantHealthRows } from './catalog-tenancy.ts';
import { ingressRows } from './gateway-services.ts';
import type { EndpointDeps } from './deps.ts';
import { importedHealthRows } from './peering-imports.ts';
import { blockingQuery, type QueryOptions, type QueryResult } from './query.ts';
import { exportedToPartition, samenessGroup, type SamenessMember } from './sameness.ts';

/** Consul's text when the request's partition has no group of that name (a 500). */
export const SAMENESS_GROUP_NOT_FOUND = 'Sameness Group not found';
/** Consul's text for a group without DefaultForFailover (a 500; DNS turns it into NXDOMAIN). */
export const SAMENESS_GROUP_NOT_DEFAULT = 'Sameness Group must have DefaultForFailover set to true in order to use this endpoint';

const SAMENESS = 'sameness-group';
const EXPORTED = 'exported-services';

type Rows = { index: number; value: CheckServiceNode[]; filtered?: boolean };
/** The member reads' filters; `ingress`: the ingress gateways fronting the service (health/ingress). */
export type SamenessFilters = CatalogFilters & { passing?: boolean; ingress?: boolean };

/**
 * The first member's instances, in failover order, of the request partition's group `group`. Members
 * after it are read too, for the watch and the index only, up to the first with a passing instance: a
 * DNS `.sg` answer (which skips members with only critical instances) is refreshed on this read, and
 * must move when they change; past a passing instance neither answer can change (no wake-up).
 */
export function samenessHealth(
  deps: EndpointDeps, group: string, name: string, opts: QueryOptions, f: SamenessFilters,
): Promise<QueryResult<CheckServiceNode[]>> {
  return blockingQuery(deps, opts, (ws) => {
    const partition = foldTenancyName(opts.ent?.partition || DEFAULT_TENANCY_NAME);
    const namespace = foldTenancyName(opts.ent?.namespace || DEFAULT_TENANCY_NAME);
    let index = watchPartition(deps, ws, partition);
    const g = samenessGroup(deps.replica, partition, group);
    if (!g) throw new InternalError(SAMENESS_GROUP_NOT_FOUND);
    if (!g.defaultForFailover) throw new InternalError(SAMENESS_GROUP_NOT_DEFAULT);
    let filtered = false;
    let answer: CheckServiceNode[] | undefined;
    for (const m of g.members) {
      const run = readMember(deps, ws, m, { partition, namespace }, name, opts, f);
      index = Math.max(index, run.index);
      if (!answer) {
        // As Consul's reply carries it across the walk: any member's ACL filtering shows.
        filtered ||= run.filtered === true;
        if (run.value.length > 0) answer = run.value;
      }
      // Consul's walk stops at the answer; this one goes on (for the watch and the index) only while
      // no member read has a passing instance, where a DNS .sg answer may still come from.
      if (run.value.some((r) => r.Checks.every((c) => c.Status === 'passing'))) break;
    }
    return { index, value: answer ?? [], filtered };
  });
}

/** One member's answer: none from a partition member that does not export the service to the asking partition. */
function readMember(
  deps: EndpointDeps, ws: WatchSet, m: SamenessMember, at: { partition: string; namespace: string }, name: string,
  opts: QueryOptions, f: SamenessFilters,
): Rows {
  // A peer's imports live in the asking partition and namespace, named after the peer.
  if (m.peer !== undefined) return f.ingress ? { index: 0, value: [] } : importedHealthRows(deps, ws, m.peer, name, { ...opts, ent: at, entNamed: true }, f);
  if (m.partition !== at.partition) {
    const index = watchPartition(deps, ws, m.partition);
    if (!exportedToPartition(deps.replica, m.partition, at.namespace, name, at.partition)) return { index, value: [] };
  }
  const ent = { partition: m.partition, namespace: at.namespace };
  if (f.ingress) return ingressRows(deps, ws, name, opts, f, ent);
  return tenantHealthRows(deps, ws, name, { ...opts, ent, entNamed: true }, f);
}

/** Watches what the walk reads of a partition's entries (its groups and exports); their index. */
function watchPartition(deps: EndpointDeps, ws: WatchSet, partition: string): number {
  const ent = partitionEnt(partition);
  const tenant = isDefaultEnt(ent) ? undefined : ent;
  const table = tenant ? configEntriesTableName(tenant) : CONFIG_ENTRIES_TABLE;
  ws.addPrefix(table, `${SAMENESS}/`).addPrefix(table, `${EXPORTED}/`);
  const entries = configEntriesOf(deps.replica, tenant);
  return Math.max(entries.kindIndex(SAMENESS), entries.kindIndex(EXPORTED));
}
