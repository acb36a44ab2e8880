// Intentions as Consul (1.9+) derives them from service-intentions config entries: one intention
// per source of a destination's entry, its precedence, Consul's match order and the allow/deny
// decision for a connection (agent/structs/intention.go, config_entry_intentions.go, state/intention.go).

/** The wildcard service name. */
export const WILDCARD = '*';

/** One source of a service-intentions entry, as stored. */
export interface SourceIntention {
  Name: string;
  Peer?: string;
  /** Stored only when not `default` (a source inherits its entry's partition and namespace at write). */
  Partition?: string;
  Namespace?: string;
  SamenessGroup?: string;
  Action?: string;
  Permissions?: unknown[];
  Precedence?: number;
  Type?: string;
  Description?: string;
  LegacyID?: string;
  LegacyMeta?: Record<string, string>;
  LegacyCreateTime?: string;
  LegacyUpdateTime?: string;
}

/** The service-intentions entry fields intentions are read from (indexes from the store's revisions). */
export interface IntentionsEntry {
  Name: string;
  /** Set by the replica on a non-default tenant's entries (absent: default). */
  Namespace?: string;
  Partition?: string;
  Sources?: SourceIntention[] | null;
  Meta?: Record<string, string> | null;
  CreateIndex: number;
  ModifyIndex: number;
}

/** An intention as Consul's API renders it (structs.Intention; empty optional fields omitted). */
export interface Intention {
  CreatedAt?: string;
  UpdatedAt?: string;
  ID?: string;
  Description?: string;
  SourcePeer?: string;
  SourceNS: string;
  SourceName: string;
  DestinationNS: string;
  DestinationName: string;
  SourcePartition?: string;
  DestinationPartition?: string;
  SourceSamenessGroup?: string;
  SourceType: string;
  Action?: string;
  Permissions?: unknown[];
  Meta?: Record<string, string>;
  Precedence: number;
  CreateIndex: number;
  ModifyIndex: number;
}

/** Which side a match looks at. */
export type MatchType = 'source' | 'destination';

/**
 * Consul's computeIntentionPrecedence: the destination's exact parts (namespace, name) set the
 * maximum (2: 9, 1: 6, 0: 3), and each wildcard part of the source takes one off. A wildcard
 * namespace counts as no exact part (its name must be `*` too). Namespaces default to `default`.
 */
export function intentionPrecedence(destination: string, source: string, destinationNS = 'default', sourceNS = 'default'): number {
  const max = [3, 6, 9][countExact(destination, destinationNS)];
  return max - (2 - countExact(source, sourceNS));
}

/** intentionCountExact: exact parts of a (namespace, name) pair. */
function countExact(name: string, namespace: string): number {
  if (namespace === WILDCARD) return 0;
  return name === WILDCARD ? 1 : 2;
}

const nonEmpty = (m: Record<string, string> | null | undefined): m is Record<string, string> => !!m && Object.keys(m).length > 0;

/** ToIntention: one source of an entry as an intention; legacy sources keep their ID, times and meta. */
export function toIntention(entry: IntentionsEntry, src: SourceIntention): Intention {
  const legacy = !!src.LegacyID;
  const ixn: Intention = {} as Intention;
  if (legacy && src.LegacyCreateTime) ixn.CreatedAt = src.LegacyCreateTime;
  if (legacy && src.LegacyUpdateTime) ixn.UpdatedAt = src.LegacyUpdateTime;
  if (legacy) ixn.ID = src.LegacyID;
  if (src.Description) ixn.Description = src.Description;
  if (src.Peer) ixn.SourcePeer = src.Peer;
  ixn.SourceNS = src.Namespace || 'default';
  ixn.SourceName = src.Name;
  ixn.DestinationNS = entry.Namespace || 'default';
  ixn.DestinationName = entry.Name;
  // Consul Enterprise's fields (omitempty): shown for a tenant's entry or a source in another partition.
  if (src.Partition) ixn.SourcePartition = src.Partition;
  else if (entry.Partition && !src.Peer && !src.SamenessGroup) ixn.SourcePartition = 'default';
  if (entry.Partition) ixn.DestinationPartition = entry.Partition;
  if (src.SamenessGroup) ixn.SourceSamenessGroup = src.SamenessGroup;
  ixn.SourceType = src.Type || 'consul';
  if (src.Action) ixn.Action = src.Action;
  if (src.Permissions?.length) ixn.Permissions = src.Permissions;
  const meta = legacy ? src.LegacyMeta : entry.Meta;
  if (nonEmpty(meta)) ixn.Meta = meta;
  ixn.Precedence = src.Precedence ?? intentionPrecedence(entry.Name, src.Name, entry.Namespace, src.Namespace);
  ixn.CreateIndex = entry.CreateIndex;
  ixn.ModifyIndex = entry.ModifyIndex;
  return ixn;
}

/** Every intention of an entry, in its sources' order. */
export function entryIntentions(entry: IntentionsEntry): Intention[] {
  return (entry.Sources ?? []).map((s) => toIntention(entry, s));
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** IntentionPrecedenceSorter: highest precedence first, then source and destination names. */
export function comparePrecedence(a: Intention, b: Intention): number {
  if (a.Precedence !== b.Precedence) return b.Precedence - a.Precedence;
  return cmp(a.SourceNS, b.SourceNS) || cmp(a.SourceName, b.SourceName)
    || cmp(a.DestinationNS, b.DestinationNS) || cmp(a.DestinationName, b.DestinationName);
}

/** Sorts intentions in Consul's precedence order (a new array). */
export function sortIntentions(list: Intention[]): Intention[] {
  return [...list].sort(comparePrecedence);
}

/**
 * IntentionMatch for one name: by destination, every source of the entries for `name` and `*`;
 * by source, the local (unpeered) sources named `name` or `*` of every entry; precedence order.
 */
export function matchIntentions(entries: Iterable<IntentionsEntry>, by: MatchType, name: string, namespace = 'default'): Intention[] {
  const out: Intention[] = [];
  for (const e of entries) {
    if (by === 'destination') {
      if (inNamespace(e.Namespace, namespace) && (e.Name === name || e.Name === WILDCARD)) out.push(...entryIntentions(e));
      continue;
    }
    for (const s of e.Sources ?? []) {
      if (!s.Peer && !s.SamenessGroup && inNamespace(s.Namespace, namespace) && (s.Name === name || s.Name === WILDCARD)) out.push(toIntention(e, s));
    }
  }
  return out.sort(comparePrecedence);
}

/** Whether a stored namespace (absent: default; `*`: every one) covers `namespace`. */
function inNamespace(stored: string | undefined, namespace: string): boolean {
  const ns = stored || 'default';
  return ns === namespace || ns === WILDCARD;
}

/** The outcome of IntentionDecision. */
export interface IntentionDecision {
  allowed: boolean;
  /** The intention that decided, if one matched. */
  intention?: Intention;
  /** The matching intention has L7 permissions (so it cannot decide at L4). */
  hasPermissions: boolean;
}

/**
 * IntentionDecision: the first of `bySource` (a source match, precedence order) whose destination
 * is `target` or `*` decides; one with L7 permissions denies unless `allowPermissions`. No match:
 * the default.
 */
export function intentionDecision(
  bySource: Intention[], target: string, defaultAllow: boolean, allowPermissions = false, targetNamespace = 'default',
): IntentionDecision {
  const ixn = bySource.find((i) => (i.DestinationNS === targetNamespace || i.DestinationNS === WILDCARD)
    && (i.DestinationName === target || i.DestinationName === WILDCARD));
  if (!ixn) return { allowed: defaultAllow, hasPermissions: false };
  const hasPermissions = (ixn.Permissions?.length ?? 0) > 0;
  if (hasPermissions) return { allowed: allowPermissions, intention: ixn, hasPermissions };
  return { allowed: ixn.Action === 'allow', intention: ixn, hasPermissions };
}
