// Both ends of config entry replication between datacenters: the internal RPC route a primary's
// server answers with every stored entry (Consul's ConfigEntry.ListAll, blocking and stale), and
// the secondary leader's replicator reading it from the primary under the replication token and
// writing the difference into its own store.
import { createRequire } from 'node:module';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { HttpRequest, HttpResult } from '../http/index.ts';
import type { AclIdentity } from '../endpoint/index.ts';
import type { ConfigEntryEndpoint } from '../endpoint/config-entries.ts';
import { DEFAULT_TENANCY_NAME, WILDCARD_NAMESPACE, partitionConfigEntries, type ConfigEntry, type EnterpriseMeta, type Replica } from '../state/index.ts';
import type { ConfigReplicator, RemoteEntries } from '../leader/config-replication.ts';
import type { LeaderLoops } from '../leader/loops.ts';
import type { Telemetry } from '../telemetry/metrics.ts';
import { parseGoDuration, formatGoDuration } from '../duration.ts';
import { callPrimary, type PrimaryForwardDeps } from './primary-forward.ts';

const require = createRequire(import.meta.url);

/** Where a secondary's leader reads the primary's config entries (`?index=&wait=`, token in X-Consul-Token). */
export const CONFIG_LIST_RPC_PATH = '/v1/internal/rpc/config/list-all';

/** How long one blocking read of the primary waits for a change (Consul's default query time). */
const FETCH_WAIT_MS = 5 * 60_000;
/** What a call may take past its wait before it is given up (Consul's limits.rpc_client_timeout). */
const RPC_CLIENT_TIMEOUT_MS = 60_000;

/** The route answering CONFIG_LIST_RPC_PATH from this server's replica (stale, as Consul's AllowStale). */
export function configListRoute(
  entries: Pick<ConfigEntryEndpoint, 'listAll'>, resolve: (secret: string) => AclIdentity, maxQueryTime: number,
): (req: HttpRequest) => Promise<HttpResult> {
  return async (req) => {
    const header = req.headers['x-consul-token'];
    const token = typeof header === 'string' ? header : '';
    const minIndex = Number(req.query.get('index') ?? 0) || 0;
    const waitMs = Math.min(parseGoDuration(req.query.get('wait') ?? '') || maxQueryTime, maxQueryTime);
    // `ns=*`: every namespace of the default partition, each entry with its Namespace (what a secondary replicates).
    const ent = req.query.get('ns') === WILDCARD_NAMESPACE ? { partition: DEFAULT_TENANCY_NAME, namespace: WILDCARD_NAMESPACE } : undefined;
    const { value, meta } = await entries.listAll({ minIndex, waitMs, consistency: 'stale', token, authz: resolve(token), signal: req.signal, ent });
    return { body: value, meta };
  };
}

/** What the secondary's replicator is built from. */
export interface ConfigReplicationWiring {
  primary: PrimaryForwardDeps;
  entries: Pick<ConfigEntryEndpoint, 'putReplicated' | 'deleteReplicated'>;
  replica: Replica;
  /** acl.tokens.replication as it is now (it can be set at runtime). */
  token: () => string;
  clock: Clock;
  logger: Logger;
  random: () => number;
}

/** The primary's entries newer than `minIndex`, read from one of its servers. */
export async function fetchPrimaryEntries(d: Pick<ConfigReplicationWiring, 'primary' | 'token'>, minIndex: number, signal: AbortSignal): Promise<RemoteEntries> {
  // Every namespace of the default partition (an older primary ignores `ns` and answers its default namespace).
  const url = `${CONFIG_LIST_RPC_PATH}?index=${minIndex}&wait=${formatGoDuration(FETCH_WAIT_MS)}&ns=*`;
  const res = await callPrimary(d.primary, 'GET', url, d.token(), { signal });
  const text = res.body.toString('utf8');
  if (res.status !== 200) throw new Error(`failed to retrieve remote config entries: ${text.trim() || `status ${res.status}`}`);
  const index = Number(res.headers['X-Consul-Index'] ?? 0);
  return { entries: JSON.parse(text) as ConfigEntry[], index };
}

/** The tenant of a replicated entry's Namespace (the default partition; absent or `default`: the default tenant). */
function namespaceEnt(ns: unknown): EnterpriseMeta | undefined {
  return typeof ns === 'string' && ns !== '' && ns !== DEFAULT_TENANCY_NAME ? { partition: DEFAULT_TENANCY_NAME, namespace: ns } : undefined;
}

/** Runs config entry replication while this secondary server leads, with Consul's replication gauges. */
export function replicateConfigEntries(d: ConfigReplicationWiring & { loops: LeaderLoops; telemetry: Telemetry }): ConfigReplicator {
  // Only a secondary datacenter's servers replicate: the replicator loads then (issue #9).
  const { ConfigReplicator } = require('../leader/config-replication.ts') as typeof import('../leader/config-replication.ts');
  const replicator = new ConfigReplicator({
    clock: d.clock, logger: d.logger, random: d.random,
    fetch: (minIndex, signal) => fetchPrimaryEntries(d, minIndex, signal),
    fetchTimeoutMs: FETCH_WAIT_MS + FETCH_WAIT_MS / 16 + RPC_CLIENT_TIMEOUT_MS,
    local: () => partitionConfigEntries(d.replica, DEFAULT_TENANCY_NAME),
    upsert: (e) => d.entries.putReplicated(e as ConfigEntry),
    remove: (e) => d.entries.deleteReplicated(e.Kind, e.Name, namespaceEnt(e.Namespace)),
  });
  d.loops.add(replicator);
  d.telemetry.gauge('leader.replication.config-entries.status', 'Tracks the current health of config entry replication on the leader', () => {
    const s = replicator.status();
    return s.lastError > s.lastSuccess ? 0 : 1;
  });
  d.telemetry.gauge('leader.replication.config-entries.index', 'Tracks the index of config entries in the primary that the secondary has successfully replicated',
    () => replicator.status().replicatedIndex);
  return replicator;
}
