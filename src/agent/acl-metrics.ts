// Consul's ACL metrics: the consul.acl.ResolveToken timer around token resolution (servers and
// client agents) and the timers of a server's ACL endpoint writes (acl.token.upsert, acl.login, …).
// Each wraps the endpoint instance's method once, before the transports take the endpoints.
import { performance } from 'node:perf_hooks';
import type { Telemetry } from '../telemetry/metrics.ts';
import { AGENT_RECOVERY_ACCESSOR } from '../endpoint/acl-resolver.ts';
import type { AclEndpoints } from './server-endpoints.ts';

type AnyFn = (...args: never[]) => Promise<unknown>;

/**
 * Replaces `obj[method]` with a version recording its duration in ms while ACLs are enabled:
 * Consul's ACL RPCs refuse at once when they are not, before their timer starts. A failed call is
 * timed too, as Consul's deferred MeasureSince. A measured method that another calls before its
 * first await (a clone creating its token through `set`) is not timed again: Consul's TokenClone
 * writes its token without going through TokenSet.
 */
function measureAcl<T extends object, K extends keyof T>(
  acl: Pick<AclEndpoints, 'resolver'>, nesting: { inside: boolean }, obj: T, method: K, record: (ms: number) => void,
): void {
  const orig = (obj[method] as AnyFn).bind(obj);
  (obj as Record<K, unknown>)[method] = async (...args: never[]) => {
    if (!acl.resolver.enabled || nesting.inside) return orig(...args);
    const t0 = performance.now();
    let run: Promise<unknown>;
    nesting.inside = true;
    try {
      run = orig(...args);
    } finally {
      nesting.inside = false;
    }
    try {
      return await run;
    } finally {
      record(performance.now() - t0);
    }
  };
}

/**
 * Times token resolution as Consul's ACLResolver.ResolveToken: only while ACLs are enabled, and
 * not for the agent recovery token (resolved locally, before Consul's timer). Cached resolutions
 * count, as Consul's cache sits inside the timed call. Samples go through a preallocated batch:
 * every request under ACLs resolves its token.
 */
export function measureTokenResolution(t: Telemetry, acl: Pick<AclEndpoints, 'resolver'>): void {
  const batch = t.batchedTimer('acl.ResolveToken', 'This measures the time it takes to resolve an ACL token.');
  const resolver = acl.resolver;
  const orig = resolver.resolve.bind(resolver);
  resolver.resolve = (secret) => {
    if (!resolver.enabled) return orig(secret);
    const t0 = performance.now();
    let id;
    try {
      id = orig(secret);
    } catch (err) {
      const t1 = performance.now();
      batch.add(t1 - t0, t1);
      throw err;
    }
    const t1 = performance.now();
    if (id.accessorID !== AGENT_RECOVERY_ACCESSOR) batch.add(t1 - t0, t1);
    return id;
  };
}

/** Times the ACL endpoint's writes with Consul's names, on the server that handles them. */
export function measureAclWrites(t: Telemetry, acl: AclEndpoints): void {
  const timer = (name: string, what: string) => t.timer(name, `Measures the time it takes to ${what}.`);
  const nesting = { inside: false };
  measureAcl(acl, nesting, acl.tokens, 'set', timer('acl.token.upsert', 'create or update an ACL token'));
  measureAcl(acl, nesting, acl.tokens, 'clone', timer('acl.token.clone', 'clone an ACL token'));
  measureAcl(acl, nesting, acl.tokens, 'delete', timer('acl.token.delete', 'delete an ACL token'));
  measureAcl(acl, nesting, acl.policies, 'setPolicy', timer('acl.policy.upsert', 'create or update an ACL policy'));
  measureAcl(acl, nesting, acl.policies, 'deletePolicy', timer('acl.policy.delete', 'delete an ACL policy'));
  measureAcl(acl, nesting, acl.policies, 'setRole', timer('acl.role.upsert', 'create or update an ACL role'));
  measureAcl(acl, nesting, acl.policies, 'deleteRole', timer('acl.role.delete', 'delete an ACL role'));
  measureAcl(acl, nesting, acl.auth, 'setRule', timer('acl.bindingrule.upsert', 'create or update an ACL binding rule'));
  measureAcl(acl, nesting, acl.auth, 'deleteRule', timer('acl.bindingrule.delete', 'delete an ACL binding rule'));
  measureAcl(acl, nesting, acl.auth, 'setMethod', timer('acl.authmethod.upsert', 'create or update an ACL auth method'));
  measureAcl(acl, nesting, acl.auth, 'deleteMethod', timer('acl.authmethod.delete', 'delete an ACL auth method'));
  measureAcl(acl, nesting, acl.auth, 'login', timer('acl.login', 'log in with an ACL auth method'));
  measureAcl(acl, nesting, acl.misc, 'logout', timer('acl.logout', 'log out a token issued by an ACL auth method'));
}

/**
 * Times a client agent's token resolution (Consul's client-side ACLResolver.ResolveToken): each
 * load of the caller's token before an agent route, from the cache or from a server, except the
 * agent recovery token, told by the resolver's own constant-time check (a caller's secret is
 * never compared here). The client's resolver exists only while ACLs are enabled.
 */
export function measureClientTokenLoads(
  t: Telemetry, acl: { load(secret: string): Promise<void>; isAgentRecovery(secret: string): boolean },
): void {
  const batch = t.batchedTimer('acl.ResolveToken', 'This measures the time it takes to resolve an ACL token.');
  const orig = acl.load.bind(acl);
  acl.load = async (secret) => {
    if (acl.isAgentRecovery(secret)) return orig(secret);
    const t0 = performance.now();
    try {
      await orig(secret);
    } finally {
      const t1 = performance.now();
      batch.add(t1 - t0, t1);
    }
  };
}

/** Counts lookups in a token cache that stands before a server (TokenCacheStats). */
export interface TokenCacheStats {
  /** The token was answered from the cache, fresh. */
  hit(): void;
  /** The cache held nothing fresh for the token: a server is asked. */
  miss(): void;
}

/**
 * Consul's acl.token.cache_hit and cache_miss, counted where a token is resolved through another
 * server and cached for acl.token_ttl: a client agent's resolver and a secondary datacenter's
 * server resolving in the primary (Consul's resolveIdentityFromToken; tokens a server resolves
 * from its own state are not cached there and not counted).
 */
export function tokenCacheStats(t: Pick<Telemetry, 'counter'>): TokenCacheStats {
  // One pair per agent: every agent registers it (Consul's Prometheus sink defines ACLCounters on
  // each agent, so they read 0 where no token cache counts), and a secondary server's cache again.
  let s = cacheStats.get(t);
  if (!s) {
    s = {
      hit: t.counter('acl.token.cache_hit', "Increments if Consul is able to resolve a token's identity, or a legacy token, from the cache."),
      miss: t.counter('acl.token.cache_miss', "Increments if Consul cannot resolve a token's identity, or a legacy token, from the cache."),
    };
    cacheStats.set(t, s);
  }
  return s;
}

const cacheStats = new WeakMap<object, TokenCacheStats>();

