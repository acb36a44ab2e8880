// Leader duties for ACLs: at start-up with ACLs enabled, create the built-in policies, the
// anonymous token and the configured initial management token (which also consumes bootstrap);
// while leading, reap expired tokens on the injected clock.
import { randomUUID } from 'node:crypto';
import {
  ACL_BUILTIN_POLICIES, ACL_POLICY_GLOBAL_MANAGEMENT_ID, ANONYMOUS_TOKEN_DESCRIPTION, ANONYMOUS_TOKEN_ID,
  ANONYMOUS_TOKEN_SECRET,
} from '../acl/index.ts';
import { ACL_BOOTSTRAP_KEY, ACL_POLICY_PREFIX, ACL_TOKEN_PREFIX } from '../state/index.ts';
import { aclEnt, aclStoreKey } from '../state/acl-tables.ts';
import type { Compare, Op } from '../store/index.ts';
import type { TimerHandle } from '../clock.ts';
import type { EndpointDeps } from '../endpoint/index.ts';
import { finishPolicy, finishToken, pinRecord, putOp, tokenExpired, commitWrite, Guards, aclNameGuard } from '../endpoint/index.ts';

/** How often the leader looks for expired tokens. */
export const TOKEN_REAP_INTERVAL_MS = 30_000;

/** Creates what an ACL-enabled cluster needs before its first request; idempotent. */
export async function ensureAclBootstrap(deps: EndpointDeps, initialManagement: string): Promise<void> {
  await commitWrite(deps, () => {
    const acl = deps.replica.acl;
    const compares: Compare[] = [];
    const ops: Op[] = [];
    const guards = new Guards(deps.replica.appliedRevision);
    for (const p of ACL_BUILTIN_POLICIES) {
      if (acl.policies.get(p.ID)) continue;
      compares.push(pinRecord(ACL_POLICY_PREFIX + p.ID, undefined));
      ops.push(putOp(ACL_POLICY_PREFIX + p.ID, finishPolicy({ ...p, Hash: '' })));
      guards.claim(aclNameGuard('policy', p.Name));
    }
    compares.push(...guards.compares());
    ops.push(...guards.ops());
    const now = new Date(deps.clock.now()).toISOString();
    if (!acl.tokens.get(ANONYMOUS_TOKEN_ID)) {
      compares.push(pinRecord(ACL_TOKEN_PREFIX + ANONYMOUS_TOKEN_ID, undefined));
      ops.push(putOp(ACL_TOKEN_PREFIX + ANONYMOUS_TOKEN_ID, finishToken({
        AccessorID: ANONYMOUS_TOKEN_ID, SecretID: ANONYMOUS_TOKEN_SECRET, Description: ANONYMOUS_TOKEN_DESCRIPTION,
        Local: false, CreateTime: now, Hash: '',
      })));
    }
    if (initialManagement && !acl.tokens.by(initialManagement)) {
      const accessor = randomUUID();
      compares.push(pinRecord(ACL_TOKEN_PREFIX + accessor, undefined));
      ops.push(putOp(ACL_TOKEN_PREFIX + accessor, finishToken({
        AccessorID: accessor, SecretID: initialManagement, Description: 'Initial Management Token',
        Policies: [{ ID: ACL_POLICY_GLOBAL_MANAGEMENT_ID }], Local: false, CreateTime: now, Hash: '',
      })));
      // A configured management token is a bootstrap: /v1/acl/bootstrap is refused afterwards.
      if (!acl.bootstrap()) {
        compares.push(pinRecord(ACL_BOOTSTRAP_KEY, undefined));
        ops.push(putOp(ACL_BOOTSTRAP_KEY, { AccessorID: accessor }));
      }
    }
    return { compares, ops };
  });
}

/** Deletes expired tokens every interval while started. */
export class AclTokenReaper {
  readonly #deps: EndpointDeps;
  readonly #localOnly: boolean;
  #timer: TimerHandle | null = null;

  /**
   * `localOnly`: a secondary datacenter's reaper, which leaves expired global tokens to the primary
   * (their deletion arrives by replication), as Consul's reaps only local tokens there.
   */
  constructor(deps: EndpointDeps, o: { localOnly?: boolean } = {}) {
    this.#deps = deps;
    this.#localOnly = o.localOnly ?? false;
  }

  /** Starts the periodic reap. */
  start(): void {
    this.stop();
    this.#timer = this.#deps.clock.setTimer(TOKEN_REAP_INTERVAL_MS, () => {
      // Re-arm first so that a clock moved far ahead fires every interval it passes.
      this.start();
      this.reap().catch((err) => this.#deps.logger.error({ err }, 'ACL token reap failed'));
    });
  }

  /** Stops reaping. */
  stop(): void {
    this.#timer?.cancel();
    this.#timer = null;
  }

  /** Deletes every token whose ExpirationTime has passed; returns how many. */
  async reap(): Promise<number> {
    let n = 0;
    await commitWrite(this.#deps, () => {
      const now = this.#deps.clock.now();
      const expired = this.#deps.replica.acl.tokens.all().filter((t) => tokenExpired(t, now) && (t.Local || !this.#localOnly));
      n = expired.length;
      return {
        // A namespaced token's key is under its tenant's prefix.
        compares: expired.map((t) => pinRecord(aclStoreKey(ACL_TOKEN_PREFIX, t.AccessorID, aclEnt(t)), t)),
        ops: expired.map((t): Op => ({ type: 'delete', key: aclStoreKey(ACL_TOKEN_PREFIX, t.AccessorID, aclEnt(t)) })),
      };
    });
    if (n) this.#deps.logger.info({ count: n }, 'reaped expired ACL tokens');
    return n;
  }
}
