// Leader duty: the builtin `default` partition and namespace records, written once when missing
// (on every leadership and after a snapshot restore, which re-runs the duties), create-only so
// concurrent leaders never write them twice. Their indexes are then real, as in Consul Enterprise.
import type { Store } from '../store/index.ts';
import {
  DEFAULT_ENT, DEFAULT_TENANCY_NAME, encodeRecord, namespaceKey, partitionKey, type NamespaceRecord, type PartitionRecord,
  type Replica,
} from '../state/index.ts';
import type { LeaderLoop } from './loops.ts';

/** Consul Enterprise's builtin partition record. */
export const BUILTIN_PARTITION: PartitionRecord = { Name: DEFAULT_TENANCY_NAME, Description: 'Builtin Default Partition' };
/** Consul Enterprise's builtin namespace record (in the default partition). */
export const BUILTIN_NAMESPACE: NamespaceRecord = { Name: DEFAULT_TENANCY_NAME, Description: 'Builtin Default Namespace' };

/** Writes the builtin records the replica does not hold, in one create-only transaction. */
export async function ensureBuiltinTenancy(deps: { store: Store; replica: Replica }): Promise<void> {
  const { store, replica } = deps;
  const missing: [string, object][] = [];
  if (!replica.tenants.partitions.partition(DEFAULT_TENANCY_NAME)) missing.push([partitionKey(DEFAULT_TENANCY_NAME), BUILTIN_PARTITION]);
  if (!replica.tenants.namespaces.namespace(DEFAULT_ENT)) missing.push([namespaceKey(DEFAULT_ENT), BUILTIN_NAMESPACE]);
  if (missing.length === 0) return;
  // Failed compares mean another leader wrote them: nothing to do.
  const res = await store.txn({
    compares: missing.map(([key]) => ({ key, target: 'createRevision' as const, op: '=' as const, value: 0 })),
    success: missing.map(([key, rec]) => ({ type: 'put' as const, key, value: encodeRecord(rec) })),
  });
  await replica.waitFor(res.revision);
}

/** The duty as a leader loop. */
export function tenancyBuiltinsDuty(deps: { store: Store; replica: Replica }): LeaderLoop {
  return { name: 'tenancy-builtins', start: () => ensureBuiltinTenancy(deps), stop: () => undefined };
}
