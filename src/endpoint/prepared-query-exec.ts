// Running a prepared query (Consul's PreparedQuery.execute, Execute and queryFailover): the
// healthy instances of the query's service in this datacenter, filtered by tags (`!tag` forbids),
// node and service meta; then ACL filtering, shuffle, distance sort from the query source, the
// source node first, the limit; and when nothing is left, failover to other datacenters
// (NearestN by RTT, then Datacenters in order, or Targets), each run there by ExecuteRemote.
import type { CheckServiceNode } from '../api/catalog-types.ts';
import type { PreparedQueryExecuteResponse } from '../api/prepared-query-types.ts';
import type { Logger } from '../log.ts';
import type { Abortable } from '../state/notify.ts';
import type { PreparedQueryRecord } from '../state/index.ts';
import type { EndpointDeps } from './deps.ts';
import type { AclIdentity } from './acl-resolver.ts';
import { sortNear } from './near.ts';
import { linkedGatewayInstances } from './terminating-links.ts';
import { shuffle } from '../shuffle.ts';
import { catalogOf, configEntriesOf, peerImportsOf, foldTenancyName, isDefaultEnt, partitionEnt, DEFAULT_TENANCY_NAME, type EnterpriseMeta } from '../state/index.ts';
import type { AuthorizerContext } from '../acl/index.ts';
import { allowed, entContext } from './acl-enforce.ts';
import { withPartition, withTenancy } from './catalog-tenancy.ts';

/** The tenant a query reads: its Service.Namespace and Service.Partition (folded); undefined for default/default. */
export function queryEnt(q: PreparedQueryRecord): EnterpriseMeta | undefined {
  const ent = { partition: foldTenancyName(q.Service.Partition || 'default'), namespace: foldTenancyName(q.Service.Namespace || 'default') };
  return isDefaultEnt(ent) ? undefined : ent;
}

/** The ACL context of a query's tenant (undefined for the default one). */
export function queryContext(q: PreparedQueryRecord): AuthorizerContext | undefined {
  return entContext(queryEnt(q));
}

/** The JSON of an execute answer (Consul's PreparedQueryExecuteResponse without its meta; PeerName set for a peer's results). */
export type ExecuteResult = Omit<PreparedQueryExecuteResponse, 'PeerName'> & { PeerName?: string };

/** What ExecuteRemote receives: the whole query, since the remote datacenter does not hold it. */
export interface RemoteExecuteRequest {
  Query: PreparedQueryRecord;
  Limit: number;
  Connect: boolean;
}

/** How failover reaches other datacenters (the WAN pool and the internal RPC). */
export interface QueryFailover {
  /** Other datacenters known in the WAN pool, nearest first. */
  datacentersByDistance(): string[];
  /**
   * Runs the query in `dc` under `token` (Consul's ExecuteRemote), with whether ACLs filtered it
   * there; `signal` cancels the call when its caller has gone.
   */
  executeRemote(dc: string, req: RemoteExecuteRequest, token: string, signal?: Abortable): Promise<ExecuteResult & { ResultsFilteredByACLs?: boolean }>;
}

/** Where an execute request comes from (Consul's QuerySource plus the agent's node). */
export interface ExecuteSource {
  /** `?near`, or '' to use the query's Near. */
  near: string;
  /** The caller's IP, for Near `_ip`. */
  ip: string;
  /** The agent's node name (`_agent`). */
  agentNode: string;
  /**
   * The query source's datacenter when it is not this one (Consul's QuerySource.Datacenter, else
   * the agent's): a DNS question a server of another datacenter forwarded here. Distances are
   * compared only within it, so then nothing is sorted and the source node not put first.
   */
  datacenter?: string;
}

/**
 * The query's matching healthy instances in this datacenter, unsorted and unfiltered by ACLs: of
 * the catalog, or of the services a cluster peer exports here (the query's Peer, or `peer`: a
 * failover target); a peer's have no mesh endpoints here.
 */
export function runLocal(deps: EndpointDeps, q: PreparedQueryRecord, connect: boolean, peer = q.Service.Peer ?? ''): ExecuteResult {
  // A query naming a namespace or partition reads that tenant's catalog (its results say so).
  const ent = queryEnt(q);
  const cat = ent ? catalogOf(deps.replica, ent) : deps.replica.catalog;
  const svc = q.Service;
  const ignore = new Set(svc.IgnoreCheckIDs ?? []);
  const found: CheckServiceNode[] = !peer
    // A connect answer appends the terminating gateways (of the query's namespace) linking the service, as health/connect does.
    ? [...cat.instances(svc.Service, svc.Connect || connect), ...(svc.Connect || connect ? linkedGatewayInstances(cat, configEntriesOf(deps.replica, ent), svc.Service) : [])]
      .map((i) => cat.checkServiceNode(i))
    // A peer's services as it exports them into the query's namespace (Consul Enterprise's imports are per namespace).
    : svc.Connect || connect ? [] : peerImportsOf(deps.replica, ent).service(peer, svc.Service)?.Nodes ?? [];
  let nodes = found
    .filter((n) => n.Checks.every((c) => ignore.has(c.CheckID) || !(c.Status === 'critical' || (svc.OnlyPassing && c.Status !== 'passing'))));
  if (svc.NodeMeta && Object.keys(svc.NodeMeta).length) nodes = nodes.filter((n) => metaSatisfies(n.Node.Meta, svc.NodeMeta!));
  if (svc.ServiceMeta && Object.keys(svc.ServiceMeta).length) nodes = nodes.filter((n) => metaSatisfies(n.Service.Meta, svc.ServiceMeta!));
  if (svc.Tags && svc.Tags.length) nodes = nodes.filter((n) => tagsSatisfy(n.Service.Tags, svc.Tags!));
  // Results of a namespace show Consul Enterprise's tenancy fields, as health/service?ns= shows them.
  if (ent) nodes = nodes.map((n) => withTenancyFields(n, ent));
  const tenancy = ent ? { Namespace: ent.namespace, Partition: ent.partition } : {};
  return { Service: svc.Service, ...tenancy, Nodes: nodes, DNS: { TTL: q.DNS.TTL }, Datacenter: deps.config.datacenter, ...(peer ? { PeerName: peer } : {}), Failovers: 0 };
}

function withTenancyFields(n: CheckServiceNode, ent: EnterpriseMeta): CheckServiceNode {
  const nodeLevel = { partition: ent.partition, namespace: 'default' };
  return {
    Node: withPartition(n.Node, ent.partition), Service: withTenancy(n.Service, ent),
    Checks: n.Checks.map((c) => withTenancy(c, c.ServiceID ? ent : nodeLevel)),
  };
}

function metaSatisfies(have: Record<string, string> | undefined | null, want: Record<string, string>): boolean {
  return Object.entries(want).every(([k, v]) => have?.[k] === v);
}

/** Consul's tagFilter: every required tag present and no `!tag` present, case-insensitively. */
export function tagsSatisfy(have: string[] | null | undefined, tags: string[]): boolean {
  const index = new Set((have ?? []).map((t) => t.toLowerCase()));
  return tags.every((t) => {
    const l = t.toLowerCase();
    return l.startsWith('!') ? !index.has(l.slice(1)) : index.has(l);
  });
}

/**
 * Drops the instances the identity may not read: service:read in the query's namespace `ctx`,
 * node:read in its partition (a default-partition token's top-level node rules grant nothing elsewhere).
 */
export function readableNodes(id: AclIdentity | undefined, nodes: CheckServiceNode[], ctx?: AuthorizerContext): CheckServiceNode[] {
  if (!id) return nodes;
  const nodeCtx = ctx && entContext(partitionEnt(ctx.partition ?? DEFAULT_TENANCY_NAME));
  return nodes.filter((n) => allowed(id, 'nodeRead', n.Node.Node, nodeCtx) && allowed(id, 'serviceRead', n.Service.Service, ctx));
}

/** Shuffles, sorts by distance from the query source and moves the source node first (Consul's Execute after the local run). */
export function orderLocal(deps: EndpointDeps, q: PreparedQueryRecord, res: ExecuteResult, src: ExecuteSource, log: Logger): void {
  shuffle(res.Nodes, deps.random);
  let node = src.near || q.Service.Near;
  if (node === '_agent') node = src.agentNode;
  else if (node === '_ip') {
    if (src.ip) node = [...deps.replica.catalog.nodes.values()].find((n) => n.Address === src.ip)?.Node ?? '';
    else log.warn('Prepared Query using near=_ip requires the source IP to be set but none was provided. No distance sorting will be done.');
    if (node === '_ip') node = '';
  }
  // Consul's sortNodesByDistanceFrom and the source-first swap both need the source in this datacenter.
  if (!node || (src.datacenter && src.datacenter !== deps.config.datacenter)) return;
  sortNear(deps, node, res.Nodes, (n) => n.Node.Node);
  // The source node itself first when it is among the nearest results (a node without coordinates sorts last).
  const lower = node.toLowerCase();
  const i = res.Nodes.slice(0, 10).findIndex((n) => n.Node.Node.toLowerCase() === lower);
  if (i > 0) [res.Nodes[0], res.Nodes[i]] = [res.Nodes[i], res.Nodes[0]];
}

/**
 * Consul's queryFailover: tries the selected datacenters in order until one has results; counts
 * the attempts. `remoteFiltered` is set when a datacenter answered: Consul's reply then carries
 * that datacenter's QueryMeta, ResultsFilteredByACLs included. Once `signal` aborts (the caller
 * left: a DNS question its queue dropped), the running remote call is cancelled and no further
 * datacenter is tried, as Consul's RPC context ends with its caller.
 */
export async function failover(
  q: PreparedQueryRecord, fo: QueryFailover | undefined, req: Omit<RemoteExecuteRequest, 'Query'>, token: string, res: ExecuteResult, log: Logger,
  signal?: Abortable, runPeer?: (peer: string) => ExecuteResult & { filtered?: boolean },
): Promise<ExecuteResult & { remoteFiltered?: boolean }> {
  const f = q.Service.Failover;
  const peers = runPeer ? (f.Targets ?? []).some((t) => t.Peer) : false;
  if ((!fo && !peers) || (f.NearestN === 0 && !f.Datacenters?.length && !f.Targets?.length)) return res;
  const nearest = fo?.datacentersByDistance() ?? [];
  const known = new Set(nearest);
  // Consul's target order: the NearestN datacenters, then the listed ones (known, not yet taken)
  // and peers, in their order.
  const targets: { dc?: string; peer?: string }[] = f.NearestN > 0 ? nearest.slice(0, f.NearestN).map((dc) => ({ dc })) : [];
  const listed = f.Targets?.length ? f.Targets : (f.Datacenters ?? []).map((Datacenter) => ({ Datacenter, Peer: '' }));
  for (const t of listed) {
    if (t.Datacenter) {
      if (!known.has(t.Datacenter)) log.debug({ datacenter: t.Datacenter }, 'Skipping unknown datacenter in prepared query');
      else if (!targets.some((x) => x.dc === t.Datacenter)) targets.push({ dc: t.Datacenter });
    }
    if (t.Peer && runPeer) targets.push({ peer: t.Peer });
  }
  let out = res;
  let remoteFiltered: boolean | undefined;
  let failovers = 0;
  for (const t of targets) {
    if (signal?.aborted) break;
    failovers++;
    if (t.peer) {
      const { filtered, ...answer } = runPeer!(t.peer);
      out = answer;
      remoteFiltered = filtered === true;
    } else {
      try {
        const { ResultsFilteredByACLs, ...answer } = await fo!.executeRemote(t.dc!, { Query: q, ...req }, token, signal);
        out = answer;
        remoteFiltered = ResultsFilteredByACLs === true;
      } catch (err) {
        if (signal?.aborted) break;
        log.warn({ service: q.Service.Service, datacenter: t.dc, error: (err as Error).message }, 'Failed querying for service in datacenter');
        continue;
      }
    }
    // A remote answer's Nodes may be null (Go's nil slice): no results there, try the next.
    if ((out.Nodes?.length ?? 0) > 0) break;
  }
  return { ...out, Nodes: out.Nodes ?? [], Failovers: failovers, ...(remoteFiltered === undefined ? {} : { remoteFiltered }) };
}

/** ExecuteRemote's local part: run, filter by ACLs, shuffle, limit (no distance sort: the caller is elsewhere). */
export function executeHere(deps: EndpointDeps, req: RemoteExecuteRequest, id: AclIdentity | undefined, peer?: string): { result: ExecuteResult; filtered: boolean } {
  const res = runLocal(deps, req.Query, req.Connect, peer);
  const found = res.Nodes.length;
  res.Nodes = shuffle(readableNodes(id, res.Nodes, queryContext(req.Query)), deps.random);
  const filtered = res.Nodes.length < found;
  if (req.Limit > 0) res.Nodes = res.Nodes.slice(0, req.Limit);
  return { result: res, filtered };
}
