// Guard keys for uniqueness store keys cannot express (node names in any case, node IDs, ACL policy,
// role and auth method names: Consul's unique lower-cased indexes): a write claiming a name pins its guard to
// "unclaimed since the plan's revision" and bumps it, so of two concurrent claims one re-plans.
import { foldAclName, foldName } from '../state/index.ts';
import type { Compare, Op } from '../store/index.ts';
import type { WritePlan } from './commit.ts';

/** Store prefix of every guard key. */
export const GUARD_PREFIX = 'guard/';

/** Guard of a node name, any spelling. */
export const nodeNameGuard = (name: string): string => `${GUARD_PREFIX}node-name/${encodeURIComponent(foldName(name))}`;
/** Guard of a node ID (compared case-insensitively, as a UUID). */
export const nodeIdGuard = (id: string): string => `${GUARD_PREFIX}node-id/${encodeURIComponent(id.toLowerCase())}`;
/** Guard of an ACL policy, role or auth method name, any spelling. */
export const aclNameGuard = (kind: 'policy' | 'role' | 'auth-method', name: string): string =>
  `${GUARD_PREFIX}acl-${kind}-name/${encodeURIComponent(foldAclName(name))}`;

const EMPTY = new Uint8Array(0);

/**
 * The guards one write claims and releases, turned into compares and ops once at the end: a
 * store txn may hold one op per key, and a write can release a guard and claim it again (a node
 * renamed by its ID keeps the ID's guard).
 */
export class Guards {
  /** The replica revision the plan was read at. */
  readonly #revision: number;
  /** key → claimed now (last word wins) and claimed at all (its compare stays); made on first use. */
  #keys: Map<string, { now: boolean; ever: boolean }> | undefined;

  constructor(revision: number) {
    this.#revision = revision;
  }

  /** Claims a name: the write commits only if no other write claimed it after the plan's revision. */
  claim(key: string): void {
    (this.#keys ??= new Map()).set(key, { now: true, ever: true });
  }

  /** Releases a name whose record the write deletes (so guards do not outlive their records). */
  release(key: string): void {
    const keys = (this.#keys ??= new Map());
    keys.set(key, { now: false, ever: keys.get(key)?.ever ?? false });
  }

  /** The compares pinning every claimed guard. */
  compares(): Compare[] {
    const out: Compare[] = [];
    for (const [key, k] of this.#keys ?? []) if (k.ever) out.push({ key, target: 'modRevision', op: '<', value: this.#revision + 1 });
    return out;
  }

  /** The puts of claimed guards and deletes of released ones. */
  ops(): Op[] {
    const out: Op[] = [];
    for (const [key, k] of this.#keys ?? []) out.push(k.now ? { type: 'put', key, value: EMPTY } : { type: 'delete', key });
    return out;
  }

  /** Adds the compares and ops to a plan. */
  addTo(plan: WritePlan): WritePlan {
    if (!this.#keys) return plan;
    plan.compares.push(...this.compares());
    plan.ops.push(...this.ops());
    return plan;
  }
}
