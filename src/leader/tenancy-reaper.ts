// Leader duty: finishes deferred deletions of namespaces and admin partitions. A DELETE marks the
// record (DeletedAt); while this server leads, every marked namespace has its whole tenant prefix
// (`t/<ap>/<ns>/`: KV, sessions with their lock guards and renew keys, catalog, ACL, config,
// guards) deleted and then its record, and every marked partition all of its tenants (`t/<ap>/`), its namespace records and then itself.
// Each purge is one transaction pinned on the marked record, so a record is never gone while any
// of its data is left.
import {
  NAMESPACES_TABLE, NAMESPACE_PREFIX, PARTITIONS_TABLE, TENANT_PREFIX, DEFAULT_TENANCY_NAME, namespaceKey, partitionKey, peeringSecretKey, peeringStatusKey,
  sessionInTenant, tenantPrefix, type EnterpriseMeta, type Replica,
} from '../state/index.ts';
import { planInvalidate } from '../endpoint/locks.ts';
import type { WritePlan } from '../endpoint/commit.ts';
import type { Store } from '../store/index.ts';
import type { Logger } from '../log.ts';
import { backgroundLoop, type LeaderLoop } from './loops.ts';

/** What the reaper needs. */
export interface TenancyReaperDeps {
  store: Store;
  replica: Replica;
  logger: Logger;
}

/** Longest wait between passes with no table change (a pass that lost a race is re-run at once anyway). */
export const REAP_RESCAN_MS = 30_000;
/** Wait after a failed pass. */
export const REAP_RETRY_MS = 1_000;

/** One purge the reaper commits: what goes, pinned on the marked record. */
interface Purge {
  what: string;
  name: string;
  key: string;
  modRevision: number;
  prefixes: string[];
  /** Invalidations of other namespaces' sessions tied to the purged namespace's checks (their compares pin what they change). */
  invalidations?: WritePlan[];
}

/**
 * The invalidation of every session of `ent`'s partition outside namespace `ent` that names one of its service checks:
 * the purge deletes those checks, and a deleted check invalidates its sessions (Consul's
 * session_checks). The namespace's own sessions go with its prefix.
 */
function sessionsTiedTo(replica: Replica, ent: EnterpriseMeta): WritePlan[] {
  const out: WritePlan[] = [];
  for (const s of replica.sessions.list()) {
    // Only the namespace's partition's sessions name its checks (a session's checks are in its partition).
    if ((s.Partition ?? DEFAULT_TENANCY_NAME) !== ent.partition || sessionInTenant(s, ent)) continue;
    if (!(s.ServiceChecks ?? []).some((c) => (c.Namespace ? c.Namespace.toLowerCase() : DEFAULT_TENANCY_NAME) === ent.namespace)) continue;
    const plan = planInvalidate({ replica }, s.ID);
    if (plan) out.push(plan);
  }
  return out;
}

/** The purges the replica's marked records call for now; partitions first (they cover their namespaces). */
export function plannedPurges(replica: Replica): Purge[] {
  const { partitions, namespaces } = replica.tenants;
  const out: Purge[] = [];
  const goingAway = new Set<string>();
  for (const [id, p] of partitions.entries()) {
    if (!p.DeletedAt) continue;
    goingAway.add(id);
    out.push({
      what: 'partition', name: p.Name, key: partitionKey(id), modRevision: p.ModifyIndex,
      // Its peerings' records are in its tenant prefix; their secrets and stream status records are keyed by ID alone.
      prefixes: [`${TENANT_PREFIX}${id}/`, `${NAMESPACE_PREFIX}${id}/`, ...replica.peerings.list(id).flatMap((p) => [peeringSecretKey(p.ID), peeringStatusKey(p.ID, '')])],
    });
  }
  for (const [id, ns] of namespaces.entries()) {
    if (!ns.DeletedAt) continue;
    const partition = id.slice(0, id.indexOf('/'));
    if (goingAway.has(partition)) continue;
    const ent = { partition, namespace: id.slice(partition.length + 1) };
    const invalidations = sessionsTiedTo(replica, ent);
    out.push({
      what: 'namespace', name: ns.Name, key: namespaceKey(ent), modRevision: ns.ModifyIndex, prefixes: [tenantPrefix(ent)],
      ...(invalidations.length ? { invalidations } : {}),
    });
  }
  return out;
}

/** Commits every purge due now; returns how many took effect (a record changed meanwhile is left for the next pass). */
export async function reapTenants(deps: TenancyReaperDeps): Promise<number> {
  let done = 0;
  for (const p of plannedPurges(deps.replica)) {
    const res = await deps.store.txn({
      compares: [{ key: p.key, target: 'modRevision', op: '=', value: p.modRevision }, ...(p.invalidations ?? []).flatMap((i) => i.compares)],
      success: [
        ...(p.invalidations ?? []).flatMap((i) => i.ops),
        ...p.prefixes.map((prefix) => ({ type: 'deletePrefix' as const, prefix })),
        { type: 'delete', key: p.key },
      ],
    });
    await deps.replica.waitFor(res.revision);
    if (!res.succeeded) continue;
    done++;
    deps.logger.info({ [p.what]: p.name }, `${p.what} deleted`);
  }
  return done;
}

/** The reaper as a leader duty: a pass at start and after every change of the namespace or partition records. */
export function tenancyReaperDuty(deps: TenancyReaperDeps): LeaderLoop {
  const tables = () => deps.replica.tenants.namespaces.index + deps.replica.tenants.partitions.index;
  const run = async (signal: AbortSignal): Promise<void> => {
    while (!signal.aborted) {
      const seen = tables();
      let wait = REAP_RESCAN_MS;
      try {
        await reapTenants(deps);
      } catch (err) {
        deps.logger.warn({ error: (err as Error).message }, 'tenancy reaper pass failed');
        wait = REAP_RETRY_MS;
      }
      if (signal.aborted) return;
      // Checked and registered in one turn: no change can slip between them.
      if (wait === REAP_RESCAN_MS && tables() !== seen) continue;
      await deps.replica.notifier.watchSet().addTable(NAMESPACES_TABLE).addTable(PARTITIONS_TABLE).wait(wait, signal);
    }
  };
  return backgroundLoop('tenancy-reaper', run);
}
