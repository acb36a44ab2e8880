// Namespaces across datacenters (Consul Enterprise): a secondary datacenter's server sends
// namespace writes to the primary, which applies them, and its leader replicates the primary's
// namespaces of the default partition (the only partition federation supports), with the
// leader.replication.namespaces gauges.
import { createRequire } from 'node:module';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { Handler, HttpRequest, Router } from '../http/index.ts';
import type { NamespaceEndpoint } from '../endpoint/namespaces.ts';
import type { Namespace } from '../api/namespaces.ts';
import { DEFAULT_TENANCY_NAME, type Replica } from '../state/index.ts';
import type { NamespaceReplicator, RemoteNamespaces, ReplicatedNamespace } from '../leader/namespace-replication.ts';
import type { LeaderLoops } from '../leader/loops.ts';
import type { Telemetry } from '../telemetry/metrics.ts';
import { formatGoDuration } from '../duration.ts';
import { callPrimary, forwardToPrimary, type PrimaryForwardDeps } from './primary-forward.ts';
import { withoutDc } from './config-primary-routes.ts';

const require = createRequire(import.meta.url);

/** True for a request that creates, updates or deletes a namespace. */
export function writesNamespaces(method: string, path: string): boolean {
  if (path === '/v1/namespace') return method === 'PUT';
  return path.startsWith('/v1/namespace/') && (method === 'PUT' || method === 'DELETE');
}

/**
 * Wraps the route table (`router`, which follows `?dc`) so namespace writes are answered by the
 * primary datacenter: forwarded there from a secondary (`primary` set), applied by `local` (the
 * table that does not follow `?dc`) in the primary, whatever `?dc` names.
 */
export function namespacePrimaryRouter(
  router: Pick<Router, 'match' | 'list'>, local: Pick<Router, 'match'>, primary: PrimaryForwardDeps | null,
): Pick<Router, 'match' | 'list'> {
  return {
    list: () => router.list(),
    match(method, path) {
      const m = router.match(method, path);
      if (!m || !writesNamespaces(method, path)) return m;
      const own = local.match(method, path) ?? m;
      const handler: Handler = (req: HttpRequest) => (primary ? forwardToPrimary(primary, withoutDc(req)) : own.handler(withoutDc(req)));
      return { ...m, handler };
    },
  };
}

/** How long one blocking read of the primary waits for a change (Consul's default query time). */
const FETCH_WAIT_MS = 5 * 60_000;
/** What a call may take past its wait before it is given up (Consul's limits.rpc_client_timeout). */
const RPC_CLIENT_TIMEOUT_MS = 60_000;

/** What the secondary's namespace replication is built from. */
export interface NamespaceReplicationWiring {
  primary: PrimaryForwardDeps;
  namespaces: Pick<NamespaceEndpoint, 'putReplicated' | 'deleteReplicated' | 'toAPI'>;
  replica: Replica;
  /** acl.tokens.replication as it is now (it can be set at runtime). */
  token: () => string;
  /** Whether ACLs are enabled (federated datacenters share the setting). */
  aclsEnabled: boolean;
  clock: Clock;
  logger: Logger;
  random: () => number;
}

/**
 * The primary's default-partition namespaces (its public list under the replication token): newer
 * than `minIndex`, stale, or with `consistent` as its leader has them now. With ACLs on and no
 * replication token the list is the anonymous token's, and Consul sends no
 * X-Consul-Results-Filtered-By-ACLs to anonymous callers: it is taken as filtered.
 */
export async function fetchPrimaryNamespaces(
  d: Pick<NamespaceReplicationWiring, 'primary' | 'token' | 'aclsEnabled'>, minIndex: number, signal: AbortSignal, consistent = false,
): Promise<RemoteNamespaces> {
  const mode = consistent ? 'consistent=' : `stale=&index=${minIndex}&wait=${formatGoDuration(FETCH_WAIT_MS)}`;
  const q = `dc=${encodeURIComponent(d.primary.primary)}&partition=${DEFAULT_TENANCY_NAME}&${mode}`;
  const token = d.token();
  const res = await callPrimary(d.primary, 'GET', `/v1/namespaces?${q}`, token, { signal });
  const text = res.body.toString('utf8');
  if (res.status !== 200) throw new Error(`failed to retrieve remote namespaces: ${text.trim() || `status ${res.status}`}`);
  const namespaces = JSON.parse(text) as Namespace[];
  return {
    namespaces: namespaces.map((n) => ({ ...n, ModifyIndex: n.ModifyIndex ?? 0 })),
    index: Number(res.headers['X-Consul-Index'] ?? 0),
    filtered: res.headers['X-Consul-Results-Filtered-By-ACLs'] === 'true' || (d.aclsEnabled && token === ''),
  };
}

/** This datacenter's namespaces of the default partition as the API renders them. */
function localNamespaces(d: Pick<NamespaceReplicationWiring, 'replica' | 'namespaces'>): ReplicatedNamespace[] {
  return d.replica.tenants.namespaces.namespacesOf(DEFAULT_TENANCY_NAME)
    .map(({ record }) => ({ ...d.namespaces.toAPI(record, DEFAULT_TENANCY_NAME), ...(record.Replicated ? { Replicated: true } : {}) }) as ReplicatedNamespace);
}

/** Runs namespace replication while this secondary server leads, with the replication gauges. */
export function replicateNamespaces(d: NamespaceReplicationWiring & { loops: LeaderLoops; telemetry: Telemetry }): NamespaceReplicator {
  // Only a secondary datacenter's servers replicate: the replicator loads then (issue #9).
  const { NamespaceReplicator } = require('../leader/namespace-replication.ts') as typeof import('../leader/namespace-replication.ts');
  const replicator = new NamespaceReplicator({
    clock: d.clock, logger: d.logger, random: d.random,
    fetch: (minIndex, signal) => fetchPrimaryNamespaces(d, minIndex, signal),
    confirm: (signal) => fetchPrimaryNamespaces(d, 0, signal, true),
    fetchTimeoutMs: FETCH_WAIT_MS + FETCH_WAIT_MS / 16 + RPC_CLIENT_TIMEOUT_MS,
    local: () => localNamespaces(d),
    upsert: (n) => d.namespaces.putReplicated(n as Namespace),
    remove: (n) => d.namespaces.deleteReplicated(n.Name),
  });
  d.loops.add(replicator);
  d.telemetry.gauge('leader.replication.namespaces.status', 'Tracks the current health of namespace replication on the leader', () => {
    const s = replicator.status();
    return s.lastError > s.lastSuccess ? 0 : 1;
  });
  d.telemetry.gauge('leader.replication.namespaces.index', 'Tracks the index of namespaces in the primary that the secondary has successfully replicated',
    () => replicator.status().replicatedIndex);
  return replicator;
}
