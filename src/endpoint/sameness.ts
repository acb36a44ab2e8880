// Sameness groups as service lookups read them (Consul Enterprise's `.sg` DNS names and prepared
// queries' Service.SamenessGroup): a partition's `sameness-group` entry with its members in
// failover order (the partition itself first under IncludeLocal), and whether a partition member's
// service counts for the asking partition: it must be exported to it (by partition or group).
import { configEntriesOf, foldName, foldTenancyName, partitionEnt, DEFAULT_TENANCY_NAME, type ConfigEntry, type Replica } from '../state/index.ts';

const SAMENESS = 'sameness-group';
const EXPORTED = 'exported-services';
const WILDCARD = '*';
const CONSUL = 'consul';

/** One member of a group: a partition of this datacenter or a cluster peer (names folded). */
export type SamenessMember = { partition: string; peer?: undefined } | { peer: string; partition?: undefined };

/** A sameness group as lookups use it. */
export interface SamenessGroup {
  name: string;
  defaultForFailover: boolean;
  /** In failover order, each member once. */
  members: SamenessMember[];
}

type RawMember = { Partition?: string; Peer?: string };

/** The entry of a partition's group `name` (as written, else the one whose name folds to it: DNS names are lower case). */
function groupEntry(replica: Replica, partition: string, name: string): ConfigEntry | undefined {
  const table = configEntriesOf(replica, partitionEnt(foldTenancyName(partition)));
  if (table.count(SAMENESS) === 0) return undefined;
  return table.get(SAMENESS, name) ?? table.list(SAMENESS).find((e) => e.Name.toLowerCase() === name.toLowerCase());
}

/** The partition's sameness group `name`, or undefined when it has none of that name. */
export function samenessGroup(replica: Replica, partition: string, name: string): SamenessGroup | undefined {
  const e = groupEntry(replica, partition, name);
  if (!e) return undefined;
  return { name: e.Name, defaultForFailover: e.DefaultForFailover === true, members: groupMembers(e, foldTenancyName(partition)) };
}

/** Consul's AllMembers: the local partition first when IncludeLocal, then Members in order (a repeat kept once). */
export function groupMembers(e: ConfigEntry, local: string): SamenessMember[] {
  const raw = [...(e.IncludeLocal === true ? [{ Partition: local }] : []), ...((e.Members as RawMember[] | undefined) ?? [])];
  const seen = new Set<string>();
  const out: SamenessMember[] = [];
  for (const m of raw) {
    const member: SamenessMember | undefined = m.Peer ? { peer: m.Peer } : m.Partition ? { partition: foldTenancyName(m.Partition) } : undefined;
    const key = member && (member.peer !== undefined ? `peer/${member.peer}` : `ap/${member.partition}`);
    if (!member || seen.has(key!)) continue;
    seen.add(key!);
    out.push(member);
  }
  return out;
}

/**
 * Whether partition `from` exports `service` of `namespace` to partition `to`: its exported-services
 * entry lists the service (or `*`) of that namespace (or `*`) with a consumer that is `to`, or a
 * sameness group of `from` having `to` as a member. A partition always sees its own services; the
 * `consul` service is never exported (Consul's rule, as resolveExports keeps it).
 */
export function exportedToPartition(replica: Replica, from: string, namespace: string, service: string, to: string): boolean {
  const [src, dst] = [foldTenancyName(from), foldTenancyName(to)];
  if (src === dst) return true;
  const wanted = foldName(service);
  if (wanted === CONSUL) return false;
  const entries = configEntriesOf(replica, partitionEnt(src));
  // The entry is named after its partition (`default` in the default one), as resolveExports reads it.
  const entry = entries.get(EXPORTED, src);
  const ns = foldTenancyName(namespace);
  type Export = { Name?: string; Namespace?: string; Consumers?: { Partition?: string; SamenessGroup?: string }[] };
  for (const s of (entry?.Services as Export[] | undefined) ?? []) {
    const sNs = foldTenancyName(s.Namespace || DEFAULT_TENANCY_NAME);
    if ((s.Name !== WILDCARD && foldName(String(s.Name ?? '')) !== wanted) || (sNs !== WILDCARD && sNs !== ns)) continue;
    for (const c of s.Consumers ?? []) {
      if (c.Partition && foldTenancyName(c.Partition) === dst) return true;
      if (c.SamenessGroup && samenessGroup(replica, src, c.SamenessGroup)?.members.some((m) => m.partition === dst)) return true;
    }
  }
  return false;
}
