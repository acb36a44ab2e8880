// Validation of sameness-group entries as Consul Enterprise refuses them: each member names exactly
// one partition or one peer, and only once; the entry's own partition is a member (listed, or added
// by IncludeLocal); and a partition has at most one group with DefaultForFailover (Consul keeps a
// unique index on it: the discovery chain and `.sg` DNS names read "the" default group).
import { InternalError } from '../errors.ts';
import { DEFAULT_TENANCY_NAME, foldTenancyName, type ConfigEntriesTable, type EnterpriseMeta } from '../state/index.ts';

type Obj = Record<string, unknown>;

const SAMENESS = 'sameness-group';
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The entry's own checks (no other entry read); the error text or null. */
export function validateSamenessGroup(e: Obj, ent?: EnterpriseMeta): string | null {
  const local = foldTenancyName(ent?.partition || DEFAULT_TENANCY_NAME);
  const members = Array.isArray(e.Members) ? (e.Members as Obj[]) : [];
  const seen = new Set<string>();
  let hasLocal = e.IncludeLocal === true;
  for (const [i, m] of members.entries()) {
    const partition = str(m?.Partition);
    const peer = str(m?.Peer);
    if (partition && peer) return `Members[${i}]: a sameness group member cannot specify both a Partition and a Peer`;
    if (!partition && !peer) return `Members[${i}]: a sameness group member must specify either a Partition or a Peer`;
    const key = peer ? `peer\0${peer}` : `partition\0${foldTenancyName(partition)}`;
    if (seen.has(key)) return `Members[${i}]: ${peer ? `peer ${JSON.stringify(peer)}` : `partition ${JSON.stringify(partition)}`} is listed more than once; sameness group members must be unique`;
    seen.add(key);
    if (!peer && foldTenancyName(partition) === local) hasLocal = true;
  }
  if (!hasLocal) return `the local partition ${JSON.stringify(local)} must be a member of the sameness group, or IncludeLocal must be true`;
  return null;
}

/**
 * Throws when writing `proposed` (null: deleting) as group `name` would give the partition whose
 * entries `table` holds a second DefaultForFailover group.
 */
export function checkDefaultForFailover(table: ConfigEntriesTable, name: string, proposed: Obj | null): void {
  if (proposed?.DefaultForFailover !== true) return;
  const other = table.list(SAMENESS).find((e) => e.Name !== name && e.DefaultForFailover === true);
  if (other) {
    throw new InternalError(`sameness group ${JSON.stringify(other.Name)} already has DefaultForFailover set: a partition may have only one default sameness group`);
  }
}
