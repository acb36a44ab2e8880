// Tokens a secondary datacenter does not hold (not replicated yet, or token replication off),
// resolved in the primary as Consul's ACLResolver does remotely: each answer is kept for
// acl.token_ttl; when the primary cannot be reached acl.down_policy decides: extend-cache and
// async-cache keep using what was fetched before (async-cache refreshes in the background
// meanwhile), otherwise allow, deny, or (cache policies with nothing cached) the default policy.
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { ACLTokenRecord } from '../state/index.ts';
import type { TokenSources } from './acl-sources.ts';

/** The primary's answer for a secret: the token, and its grants as the primary resolved them for this datacenter. */
export interface RemoteAnswer {
  token: ACLTokenRecord;
  /** Used while this datacenter has no policies yet (Consul resolves policies remotely until the table has an index). */
  sources?: TokenSources;
}

/** What the primary said about a secret, or what down_policy made of its silence. */
export interface RemoteToken {
  /** The token record (policies and roles are resolved against this datacenter's replicated copies). */
  token?: ACLTokenRecord;
  /** The token's grants as the primary resolved them. */
  sources?: TokenSources;
  /** The primary knows no such token. */
  notFound?: boolean;
  /** The primary could not be reached and nothing usable was cached: the authorizer down_policy names. */
  down?: 'allow' | 'deny' | 'default';
  fetchedAt: number;
}

/** Dependencies of the remote token cache. */
export interface RemoteTokensDeps {
  /** The primary's token for `secret`; null when it answers `ACL not found`; throws when it cannot be asked. */
  fetch(secret: string, signal: AbortSignal): Promise<RemoteAnswer | null>;
  clock: Clock;
  logger: Logger;
  /** acl.token_ttl in ms. */
  ttlMs: number;
  /** acl.down_policy. */
  downPolicy: string;
  /** How long one question to the primary may take (default: Consul's rpc_client_timeout, 60 s). */
  timeoutMs?: number;
  /** Counts load()'s cache hits and misses (Consul's acl.token.cache_hit/cache_miss); absent: not counted. */
  cacheStats?: { hit(): void; miss(): void };
}

/** Bound on the secrets remembered (the oldest is dropped first). */
const MAX_ENTRIES = 4096;

/** Remotely resolved tokens, per secret. */
export class RemoteTokens {
  readonly #d: RemoteTokensDeps;
  readonly #cache = new Map<string, RemoteToken>();
  readonly #inflight = new Map<string, Promise<void>>();

  constructor(deps: RemoteTokensDeps) {
    this.#d = deps;
  }

  /** What is known about `secret` now (after `load`). */
  get(secret: string): RemoteToken | undefined {
    return this.#cache.get(secret);
  }

  /** Whether `load(secret)` would answer without waiting on the primary (a fresh token, or a stale one async-cache serves). */
  ready(secret: string): boolean {
    const e = this.#cache.get(secret);
    if (e?.token === undefined) return false;
    return this.#d.downPolicy === 'async-cache' || this.#d.clock.now() - e.fetchedAt < this.#d.ttlMs;
  }

  /** Makes sure `secret` is resolved and, unless async-cache serves a stale answer meanwhile, fresh. */
  async load(secret: string): Promise<void> {
    const e = this.#cache.get(secret);
    const fresh = e !== undefined && e.token !== undefined && this.#d.clock.now() - e.fetchedAt < this.#d.ttlMs;
    if (fresh) {
      this.#d.cacheStats?.hit();
      return;
    }
    this.#d.cacheStats?.miss();
    if (e?.token && this.#d.downPolicy === 'async-cache') {
      void this.#refresh(secret);
      return;
    }
    await this.#refresh(secret);
  }

  /**
   * For a caller that cannot wait (the agent's own tokens; DNS awaits load() first): starts fetching `secret` in the
   * background when nothing fresh is known; the answer serves the next call.
   */
  touch(secret: string): void {
    const e = this.#cache.get(secret);
    // A miss or a failure just fetched (by load() before this call) is not asked again at once.
    const fresh = e && this.#d.clock.now() - e.fetchedAt < (e.token ? this.#d.ttlMs : Math.min(this.#d.ttlMs, 1000));
    if (!fresh) void this.#refresh(secret);
  }

  /** Forgets every answer (ACLs were reset, tests). */
  clear(): void {
    this.#cache.clear();
  }

  #refresh(secret: string): Promise<void> {
    let p = this.#inflight.get(secret);
    if (!p) {
      p = this.#fetch(secret).finally(() => this.#inflight.delete(secret));
      this.#inflight.set(secret, p);
    }
    return p;
  }

  async #fetch(secret: string): Promise<void> {
    const now = this.#d.clock.now();
    // A primary that stopped answering without closing its connections: down_policy applies past the timeout.
    const ctl = new AbortController();
    const timer = this.#d.clock.setTimer(this.#d.timeoutMs ?? 60_000, () => ctl.abort(new Error('rpc error: timeout')));
    try {
      const answer = await Promise.race([
        this.#d.fetch(secret, ctl.signal),
        new Promise<never>((_, reject) => ctl.signal.addEventListener('abort', () => reject(ctl.signal.reason as Error), { once: true })),
      ]);
      if (answer?.token.Local) {
        // A token local to the primary is not valid here; Consul's resolver takes its permission
        // denied ('This is a local token in datacenter ...') as a remote error: down_policy, no cached answer.
        this.#down(secret, new Error('This is a local token in the primary datacenter'), now, false);
        return;
      }
      // `ACL not found` is asked again on the next use: the token may be created in the primary any moment.
      this.#set(secret, answer ? { ...answer, fetchedAt: now } : { notFound: true, fetchedAt: now });
    } catch (err) {
      this.#down(secret, err as Error, now, true);
    } finally {
      timer.cancel();
    }
  }

  #down(secret: string, err: Error, now: number, extend: boolean): void {
    const policy = this.#d.downPolicy;
    this.#d.logger.warn({ error: err.message, down_policy: policy }, 'failed to resolve a token in the primary datacenter');
    const cached = this.#cache.get(secret);
    const caching = policy === 'extend-cache' || policy === 'async-cache';
    if (extend && caching && cached?.token) {
      // Consul puts the cached identity back: it serves for another token_ttl before the primary is asked again.
      this.#set(secret, { ...cached, fetchedAt: this.#d.clock.now() });
      return;
    }
    const down = policy === 'allow' ? 'allow' : policy === 'deny' ? 'deny' : 'default';
    this.#set(secret, { down, fetchedAt: now });
  }

  #set(secret: string, e: RemoteToken): void {
    this.#cache.delete(secret);
    if (this.#cache.size >= MAX_ENTRIES) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(secret, e);
  }
}
