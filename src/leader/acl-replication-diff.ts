// What one ACL replication round changes in a secondary datacenter (Consul's diffACLPolicies,
// diffACLRoles, diffACLTokens): records the primary no longer has are deleted, records it has
// that are missing here or differ in content hash are fetched and written.

/** One record as both sides list it: its ID and content hash. */
export interface ReplicatedItem {
  id: string;
  hash: string;
}

/** The IDs to delete here and the IDs to fetch from the primary and write here, each sorted. */
export interface AclDiff {
  deletes: string[];
  updates: string[];
}

/** Compares this datacenter's replicated records with the primary's. */
export function diffAcl(local: readonly ReplicatedItem[], remote: readonly ReplicatedItem[]): AclDiff {
  const here = new Map(local.map((i) => [i.id, i.hash]));
  const there = new Set(remote.map((i) => i.id));
  const deletes = local.filter((i) => !there.has(i.id)).map((i) => i.id);
  const updates = remote.filter((i) => here.get(i.id) !== i.hash).map((i) => i.id);
  const sort = (ids: string[]) => [...new Set(ids)].sort();
  return { deletes: sort(deletes), updates: sort(updates) };
}

/** Splits `items` into batches of at most `size` (one store transaction each). */
export function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
