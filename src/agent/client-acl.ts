// ACLs on a client agent (Consul's client-side ACL resolver): what a token grants is fetched from
// a server and compiled here, cached for acl.token_ttl (and no longer than acl.policy_ttl or
// role_ttl when it links policies or roles), so the agent's own routes (services, checks, tokens,
// leave, …) are authorized locally; servers with ACLs off are not asked again for acl.disabled_ttl.
// When no server answers, down_policy decides: extend-cache keeps using what was cached, allow and
// deny answer for tokens not cached.
import {
  ANONYMOUS_TOKEN_ID, aclNotFoundError, allowAll, chainedAuthorizer, denyAll, isACLNotFound, manageAll, type Authorizer,
} from '../acl/index.ts';
import { newPolicyAuthorizer, parseRules } from '../acl/compile.ts';
import type { Clock } from '../clock.ts';
import { durationSetting } from '../duration.ts';
import type { AclIdentity } from '../endpoint/index.ts';
import { agentRecoveryRules } from '../endpoint/acl-sources.ts';
import { secretsEqual } from '../acl/secret.ts';
import { parseToken, type Handler, type HttpRequest, type RequestConfig, type Router } from '../http/index.ts';
import type { Logger } from '../log.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import type { ServerCall } from './local/remote-target.ts';
import { ACL_RPC_PATH, type TokenGrants } from './rpc-server.ts';

const AGENT_RECOVERY_ACCESSOR = 'agent-recovery-token';
/** Every token while the servers' ACLs are off. */
const DISABLED: AclIdentity = { authorizer: manageAll(), accessorID: '', tokenGiven: false };

interface Entry {
  identity?: AclIdentity;
  /** The server said `ACL not found`. */
  notFound?: boolean;
  fetchedAt: number;
  /** How long the entry is fresh (ms). */
  ttlMs?: number;
  /** The token's ExpirationTime (ms), if it has one. */
  expiresAt?: number;
}

/** Settings of the client resolver. */
export interface ClientAclDeps {
  config: RuntimeConfig;
  call: ServerCall;
  clock: Clock;
  logger: Logger;
  /** acl.tokens.agent_recovery, read live. */
  agentRecovery: () => string;
  /** Counts load()'s cache hits and misses (Consul's acl.token.cache_hit/cache_miss); absent: not counted. */
  cacheStats?: { hit(): void; miss(): void };
}

/** Resolves tokens through the servers; `load()` before the synchronous `resolve()`. */
export class ClientAclResolver {
  readonly #d: ClientAclDeps;
  readonly #ttl: { token: number; policy: number; role: number; disabled: number };
  readonly #cache = new Map<string, Entry>();
  /** Until when (ms) a server's "ACLs disabled" holds for every token: nothing is asked meanwhile. */
  #disabledUntil = -Infinity;
  /**
   * Secrets whose last load() found ACLs disabled: their request resolves as such even when
   * resolve() comes after disabled_ttl ran out (the handler ran in between), as Consul resolves
   * a request's token once. Each secret's next load() takes it out; servers answering with ACLs
   * on, or a new disabled spell, clear it.
   */
  readonly #loadedDisabled = new Set<string>();

  constructor(deps: ClientAclDeps) {
    this.#d = deps;
    // Consul caches tokens, policies and roles apart, each for its TTL (default 30 s); the server
    // sends one token's grants at once, so they are fresh for the shortest TTL that applies.
    const acl = deps.config.raw.acl as Record<string, unknown> | undefined;
    this.#ttl = {
      token: durationSetting(acl?.token_ttl, 30_000), policy: durationSetting(acl?.policy_ttl, 30_000),
      role: durationSetting(acl?.role_ttl, 30_000), disabled: durationSetting(acl?.disabled_ttl, 30_000),
    };
  }

  /** Makes sure `secret` is resolved and fresh; failures follow down_policy. */
  async load(secret: string): Promise<void> {
    if (this.#recovery(secret)) return;
    const now = this.#d.clock.now();
    if (now < this.#disabledUntil) {
      this.#loadedDisabled.add(secret);
      return;
    }
    this.#loadedDisabled.delete(secret);
    const cached = this.#cache.get(secret);
    // `ACL not found` is asked again every time: the token may be created any moment (a server
    // still bootstrapping its initial management token, a token being replicated).
    if (cached && !cached.notFound && now - cached.fetchedAt < (cached.ttlMs ?? this.#ttl.token)) {
      this.#d.cacheStats?.hit();
      return;
    }
    this.#d.cacheStats?.miss();
    try {
      const res = await this.#d.call('GET', ACL_RPC_PATH, secret);
      const text = res.body.toString('utf8');
      if (res.status === 403 && isACLNotFound(new Error(text))) this.#cache.set(secret, { notFound: true, fetchedAt: now });
      else if (res.status !== 200) throw new Error(text.trim() || `server answered ${res.status}`);
      else {
        const grants = JSON.parse(text) as TokenGrants;
        if (!grants.Enabled) {
          this.#disabledUntil = now + this.#ttl.disabled;
          this.#loadedDisabled.clear();
          this.#loadedDisabled.add(secret);
          return;
        }
        // ACLs are on: no earlier load's 'disabled' holds any more.
        this.#loadedDisabled.clear();
        const expiresAt = grants.ExpirationTime ? Date.parse(grants.ExpirationTime) : undefined;
        this.#cache.set(secret, { identity: this.#identity(secret, grants), fetchedAt: now, ttlMs: this.#ttlOf(grants), expiresAt });
      }
    } catch (err) {
      this.#down(secret, cached, err as Error);
    }
  }

  /** The identity of a loaded secret; throws `ACL not found` when the server knows no such token. */
  resolve(secret: string): AclIdentity {
    if (this.#recovery(secret)) return this.#recoveryIdentity();
    if (this.#d.clock.now() < this.#disabledUntil || this.#loadedDisabled.has(secret)) return DISABLED;
    const e = this.#cache.get(secret);
    if (!e || e.notFound || !e.identity) throw aclNotFoundError();
    if (e.expiresAt !== undefined && e.expiresAt <= this.#d.clock.now()) throw aclNotFoundError();
    return e.identity;
  }

  /** Wraps a handler so the caller's token is loaded before it runs. */
  preload(h: Handler, cfg: RequestConfig): Handler {
    return async (req: HttpRequest) => {
      await this.load(parseToken(req, cfg));
      return h(req);
    };
  }

  /** The route table with every agent route preloading the caller's token; `forward`ed routes are the servers' to authorize. */
  routes(table: Pick<Router, 'match' | 'list'>, cfg: RequestConfig, forward: Handler): Pick<Router, 'match' | 'list'> {
    return {
      match: (method, path) => {
        const m = table.match(method, path);
        return m && m.handler !== forward ? { ...m, handler: this.preload(m.handler, cfg) } : m;
      },
      list: () => table.list(),
    };
  }

  #down(secret: string, cached: Entry | undefined, err: Error): void {
    const policy = this.#d.config.acl.downPolicy;
    this.#d.logger.warn({ error: err.message, down_policy: policy }, 'failed to resolve a token through the servers');
    if (cached && (policy === 'extend-cache' || policy === 'async-cache')) return;
    if (policy === 'allow' || policy === 'deny') {
      const authorizer = policy === 'allow' ? allowAll() : denyAll();
      this.#cache.set(secret, { identity: { authorizer, accessorID: '', tokenGiven: secret !== '' }, fetchedAt: 0 });
      return;
    }
    throw err;
  }

  #ttlOf(g: TokenGrants): number {
    let ttl = this.#ttl.token;
    if (g.HasPolicies) ttl = Math.min(ttl, this.#ttl.policy);
    if (g.HasRoles) ttl = Math.min(ttl, this.#ttl.role);
    return ttl;
  }

  #identity(secret: string, g: TokenGrants): AclIdentity {
    const tokenGiven = secret !== '';
    const fallback = this.#d.config.acl.defaultPolicy === 'allow' ? allowAll() : denyAll();
    const authorizer: Authorizer = g.Management ? manageAll() : chainedAuthorizer([newPolicyAuthorizer(g.Policies), fallback]);
    return { authorizer, accessorID: g.AccessorID || ANONYMOUS_TOKEN_ID, tokenGiven };
  }

  /** Whether `secret` is the agent recovery token, compared in constant time (as the server's resolver does). */
  isAgentRecovery(secret: string): boolean {
    const r = this.#d.agentRecovery();
    return r !== '' && secretsEqual(secret, r);
  }

  #recovery(secret: string): boolean {
    return this.isAgentRecovery(secret);
  }

  // Consul's agent recovery token works without servers: agent write here, node read everywhere.
  #recoveryIdentity(): AclIdentity {
    const authorizer = chainedAuthorizer([newPolicyAuthorizer([parseRules(agentRecoveryRules(this.#d.config.nodeName))]), denyAll()]);
    return { authorizer, accessorID: AGENT_RECOVERY_ACCESSOR, tokenGiven: true };
  }
}
