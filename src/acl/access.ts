// Access levels and enforcement decisions: the vocabulary shared by the rule parser, the merger
// and the authorizers (Consul's acl.AccessLevel, takesPrecedenceOver and enforce).

/** A rule's disposition, as written in a policy (`policy = "read"`). */
export type AccessLevel = 'deny' | 'read' | 'list' | 'write';

/** An authorizer's answer: a rule allowed, a rule denied, or no rule applied (defer to the next). */
export type Decision = 'allow' | 'deny' | 'default';

/** The access a check requires; `list` is only ever required of keys. */
export type RequiredAccess = 'read' | 'list' | 'write';

const LEVELS: ReadonlySet<string> = new Set(['deny', 'read', 'list', 'write']);

/** Parses a disposition case-insensitively like Consul's AccessLevelFromString; null if unknown. */
export function parseAccessLevel(level: string): AccessLevel | null {
  const lower = level.toLowerCase();
  return LEVELS.has(lower) ? (lower as AccessLevel) : null;
}

/** Whether `policy` is a valid disposition; `list` only where `allowList` (key rules). */
export function isPolicyValid(policy: string, allowList: boolean): boolean {
  const level = parseAccessLevel(policy);
  if (level === null) return false;
  return level !== 'list' || allowList;
}

const RANK: Record<string, number> = { deny: 4, write: 3, list: 2, read: 1 };

/**
 * Whether disposition `a` overrides `b` when two policies give the same segment a rule:
 * deny > write > list > read > unset (Consul's takesPrecedenceOver).
 */
export function takesPrecedenceOver(a: string, b: string): boolean {
  const ra = RANK[a] ?? 0;
  const rb = RANK[b] ?? 0;
  if (ra === 0) return false;
  return ra >= rb;
}

/** Decides `required` against a rule's level: write grants all, list grants list+read, read grants read. */
export function enforce(rule: AccessLevel | undefined, required: RequiredAccess): Decision {
  switch (rule) {
    case 'write':
      return 'allow';
    case 'list':
      return required === 'list' || required === 'read' ? 'allow' : 'deny';
    case 'read':
      return required === 'read' ? 'allow' : 'deny';
    case 'deny':
      return 'deny';
    default:
      return 'default';
  }
}

/** Maps a Default decision to Allow (Consul's defaultIsAllow). */
export function defaultIsAllow(decision: Decision): Decision {
  return decision === 'deny' ? 'deny' : 'allow';
}

/** The resource names used in permission errors and `enforce` (Consul's acl.Resource). */
export type Resource =
  | 'acl' | 'agent' | 'event' | 'identity' | 'intention' | 'key' | 'keyring' | 'mesh' | 'namespace'
  | 'node' | 'operator' | 'partition' | 'peering' | 'query' | 'service' | 'session';

/** Where the checked resource lives; empty or missing fields mean the token's own scope. */
export interface AuthorizerContext {
  partition?: string;
  namespace?: string;
  /** Set when the resource was imported from a cluster peer. */
  peer?: string;
}
