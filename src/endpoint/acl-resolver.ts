// Token resolution (Consul's ACLResolver): a secret becomes an Authorizer built from the token's
// policies, roles, service/node identities and templated policies, chained with the default
// policy; cached per secret digest and dropped whenever any ACL table changes. Secrets are never
// compared directly: lookups go by digest and the recovery token is checked in constant time.
import { createRequire } from 'node:module';
import {
  ANONYMOUS_TOKEN_ID, aclNotFoundError, allowAll, authorizerFrom, callMethod, chainedAuthorizer, denyAll, manageAll, policyCompiler,
  secretDigest, secretsEqual, type Authorizer,
} from '../acl/index.ts';
import { DEFAULT_ENT, type ACLTokenRecord, type EnterpriseMeta, type Indexed } from '../state/index.ts';
import { aclEnt } from '../state/acl-tables.ts';
import type { EndpointDeps } from './deps.ts';
import type { TokenSources } from './acl-sources.ts';
import type { RemoteToken, RemoteTokens } from './acl-remote.ts';

const require = createRequire(import.meta.url);
let sourcesModule: typeof import('./acl-sources.ts') | undefined;
/** What a token grants (acl-sources.ts), loaded by the first resolution that needs it, not at start (issue #9). */
const sources = () => sourcesModule ??= require('./acl-sources.ts') as typeof import('./acl-sources.ts');

/** The authorizer context of the default tenant, spelled out for namespaced tokens. */
const DEFAULT_CTX = Object.freeze({ partition: 'default', namespace: 'default' });

/** The AccessorID permission errors name for the agent recovery token. */
export const AGENT_RECOVERY_ACCESSOR = 'agent-recovery-token';

/** The AccessorID of a caller down_policy answered for (the primary could not be asked). */
export const PRIMARY_DC_DOWN = 'primary-dc-down';

/** Who is asking and what they may do; endpoints receive it next to the token. */
export interface AclIdentity {
  authorizer: Authorizer;
  /** The token's AccessorID, named in permission-denied errors ('' when ACLs are off). */
  accessorID: string;
  /** A token was presented (not anonymous): only then is X-Consul-Results-Filtered-By-ACLs sent. */
  tokenGiven: boolean;
  /** The resolved token record, when there is one. */
  token?: Indexed<ACLTokenRecord>;
  /** The token's grants as the primary resolved them (a secondary that holds no policies yet). */
  sources?: TokenSources;
  /** The token's home namespace and partition (absent: default/default); fills a request's unnamed tenancy. */
  ent?: EnterpriseMeta;
}

/** When a secondary's secrets are the primary's to resolve (see AclResolver.useRemote). */
export interface RemoteWhen {
  /** Every secret, held here or not (token replication off: what this datacenter holds is not kept current). */
  always?: () => boolean;
  /** Secrets this datacenter does not hold. */
  unknown?: () => boolean;
}

/** ACL settings the resolver needs. */
export interface AclResolverConfig {
  enabled: boolean;
  defaultPolicy: 'allow' | 'deny';
  datacenter: string;
  nodeName: string;
  /** The agent recovery token (acl.tokens.agent_recovery), read on each call. */
  agentRecovery: () => string;
}

interface Cached {
  index: number;
  identity: AclIdentity;
  /** Epoch ms after which the token is expired; Infinity when it never expires. */
  expires: number;
}

/** Whether a token's ExpirationTime has passed at `now` (epoch ms). */
export function tokenExpired(token: { ExpirationTime?: string }, now: number): boolean {
  return token.ExpirationTime !== undefined && Date.parse(token.ExpirationTime) <= now;
}

// While ACLs are off every caller may do everything (shared: DNS resolves on every query).
const DISABLED: AclIdentity = { authorizer: manageAll(), accessorID: '', tokenGiven: false };

/** Resolves secrets to identities, with a per-secret cache invalidated by ACL table changes. */
export class AclResolver {
  readonly #deps: EndpointDeps;
  readonly #cfg: AclResolverConfig;
  #cache = new Map<string, Cached>();
  #cacheIndex = -1;
  #cacheNamespaces = -1;
  #remote: RemoteTokens | undefined;
  #remoteWhen: RemoteWhen = {};
  /** Identities built from the primary's answers (an answer replaced by a refresh drops its own). */
  readonly #remoteBuilt = new WeakMap<RemoteToken, { index: number; identity: AclIdentity }>();

  constructor(deps: EndpointDeps, cfg: AclResolverConfig) {
    this.#deps = deps;
    this.#cfg = { ...cfg };
  }

  /** Whether ACLs are enforced. */
  get enabled(): boolean {
    return this.#cfg.enabled;
  }

  /** The default policy in force ('allow' or 'deny'). */
  get defaultPolicy(): 'allow' | 'deny' {
    return this.#cfg.defaultPolicy;
  }

  /** Starts enforcing at runtime with `defaultPolicy` (ACLs turned on without a restart). */
  enable(defaultPolicy: 'allow' | 'deny'): void {
    this.#cfg.enabled = true;
    this.#cfg.defaultPolicy = defaultPolicy;
    this.#cache.clear();
  }

  /**
   * In a secondary datacenter: secrets are resolved in the primary through `remote`, every one
   * while `when.always()` says so, else those not held here while `when.unknown()` says so (Consul's
   * server backend: token replication off, or on with no token replicated yet).
   */
  useRemote(remote: RemoteTokens, when: RemoteWhen = { unknown: () => true }): void {
    this.#remote = remote;
    this.#remoteWhen = when;
  }

  // Whether `secret` is the primary's to resolve.
  #askPrimary(secret: string): boolean {
    if (this.#remote === undefined) return false;
    if (this.#remoteWhen.always?.()) return true;
    return !this.#heldHere(secret) && (this.#remoteWhen.unknown?.() ?? false);
  }

  /**
   * Makes `resolve(secret)` able to answer a secret this datacenter does not hold (asks the
   * primary, see acl-remote.ts); nothing to do for known secrets, ACLs off or a primary.
   */
  async prepare(secret: string): Promise<void> {
    if (!this.#cfg.enabled || !this.#remote || !this.#askPrimary(secret)) return;
    const recovery = this.#cfg.agentRecovery();
    if (recovery !== '' && secretsEqual(secret, recovery)) return;
    await this.#remote.load(secret);
  }

  /**
   * Whether `resolve(secret)` answers now without `prepare` first: false only for a secret the
   * primary resolves that has no fresh answer yet (DNS awaits `prepare` then, as Consul's resolver
   * asks the primary synchronously).
   */
  ready(secret: string): boolean {
    if (!this.#cfg.enabled || !this.#remote || !this.#askPrimary(secret)) return true;
    const recovery = this.#cfg.agentRecovery();
    if (recovery !== '' && secretsEqual(secret, recovery)) return true;
    return this.#remote.ready(secret);
  }

  // Whether this datacenter holds the token of `secret` ('' is the anonymous token, which a
  // secondary without token replication holds only if it was made here).
  #heldHere(secret: string): boolean {
    const tokens = this.#deps.replica.acl.tokens;
    return secret === '' ? tokens.get(ANONYMOUS_TOKEN_ID) !== undefined : tokens.by(secret) !== undefined;
  }

  /** The default-policy authorizer that answers when no rule applies. */
  defaultAuthorizer(): Authorizer {
    return this.#cfg.defaultPolicy === 'allow' ? allowAll() : denyAll();
  }

  /** Resolves a secret ('' = anonymous); throws `ACL not found` for unknown or expired secrets. */
  resolve(secret: string): AclIdentity {
    if (!this.#cfg.enabled) return DISABLED;
    const acl = this.#deps.replica.acl;
    // A namespace's ACL defaults are part of its tokens' authorizers.
    const namespaces = this.#deps.replica.tenants.namespaces.index;
    if (this.#cacheIndex !== acl.index || this.#cacheNamespaces !== namespaces) {
      this.#cache.clear();
      this.#cacheIndex = acl.index;
      this.#cacheNamespaces = namespaces;
    }
    const now = this.#deps.clock.now();
    const key = secretDigest(secret);
    const hit = this.#cache.get(key);
    if (hit && hit.expires > now) return hit.identity;
    if (hit) {
      this.#cache.delete(key);
      throw aclNotFoundError();
    }
    const local = !this.#askPrimary(secret);
    // A remote answer has its own lifetime (acl.token_ttl): it is asked for again, never cached here.
    if (!local) return this.#remoteIdentity(secret, now);
    const identity = this.#build(secret, now);
    const exp = identity.token?.ExpirationTime;
    this.#cache.set(key, { index: acl.index, identity, expires: exp ? Date.parse(exp) : Infinity });
    return identity;
  }

  #build(secret: string, now: number): AclIdentity {
    const recovery = this.#cfg.agentRecovery();
    if (recovery !== '' && secretsEqual(secret, recovery)) return this.#agentRecovery();
    const acl = this.#deps.replica.acl;
    const token = secret === '' ? acl.tokens.get(ANONYMOUS_TOKEN_ID) : acl.tokens.by(secret);
    if (secret === '' && !token) {
      return { authorizer: this.defaultAuthorizer(), accessorID: ANONYMOUS_TOKEN_ID, tokenGiven: false };
    }
    if (!token || tokenExpired(token, now)) throw aclNotFoundError();
    const ent = aclEnt(token);
    return { authorizer: this.#authorizerFor(token), accessorID: token.AccessorID, tokenGiven: secret !== '', token, ...(ent ? { ent } : {}) };
  }

  #remoteIdentity(secret: string, now: number): AclIdentity {
    const recovery = this.#cfg.agentRecovery();
    if (recovery !== '' && secretsEqual(secret, recovery)) return this.#agentRecovery();
    const e = this.#remote?.get(secret);
    // Not readied by prepare() (the agent's own tokens): fetched or refreshed in the background for the next call.
    this.#remote?.touch(secret);
    if (!e) {
      if (secret === '') return { authorizer: this.defaultAuthorizer(), accessorID: ANONYMOUS_TOKEN_ID, tokenGiven: false };
      throw aclNotFoundError();
    }
    if (e.down) {
      const authorizer = e.down === 'allow' ? allowAll() : e.down === 'deny' ? denyAll() : this.defaultAuthorizer();
      // Consul's missingIdentity: permission errors name the accessor 'primary-dc-down'.
      return { authorizer, accessorID: PRIMARY_DC_DOWN, tokenGiven: secret !== '' };
    }
    const token = e.token;
    if (!token || tokenExpired(token, now)) throw aclNotFoundError();
    // Compiled once per answer of the primary and state of this datacenter's policies and roles.
    const acl = this.#deps.replica.acl;
    const built = this.#remoteBuilt.get(e);
    if (built && built.index === acl.index) return built.identity;
    const indexed = { CreateIndex: 0, ModifyIndex: 0, ...token } as Indexed<ACLTokenRecord>;
    // Until this datacenter holds policies, the primary's resolution of them applies (Consul's ResolvePolicyFromID).
    const sources = acl.policies.index === 0 ? e.sources : undefined;
    const ent = aclEnt(token);
    const authorizer = sources ? this.#authorizerOf(sources, ent) : this.#authorizerFor(token);
    const identity: AclIdentity = {
      authorizer, accessorID: token.AccessorID, tokenGiven: secret !== '', token: indexed, ...(sources ? { sources } : {}), ...(ent ? { ent } : {}),
    };
    this.#remoteBuilt.set(e, { index: acl.index, identity });
    return identity;
  }

  // Consul's agent recovery token: agent write on this node and node read everywhere, nothing else.
  #agentRecovery(): AclIdentity {
    const { newPolicyAuthorizer, parseRules } = policyCompiler();
    const authorizer = chainedAuthorizer([newPolicyAuthorizer([parseRules(sources().agentRecoveryRules(this.#cfg.nodeName))]), denyAll()]);
    return { authorizer, accessorID: AGENT_RECOVERY_ACCESSOR, tokenGiven: true };
  }

  /** The labelled policies behind an identity valid in `datacenter` (default: this one), for explaining its decisions. */
  sourcesOf(identity: AclIdentity, datacenter = this.#cfg.datacenter): TokenSources {
    if (identity.accessorID === AGENT_RECOVERY_ACCESSOR) {
      const origin = { Source: 'agent-recovery' as const, Identity: `agent:${this.#cfg.nodeName}` };
      return { management: false, sources: [{ origin, policy: policyCompiler().parseRules(sources().agentRecoveryRules(this.#cfg.nodeName)) }] };
    }
    if (identity.sources && datacenter === this.#cfg.datacenter) return identity.sources;
    if (!identity.token) return { management: false, sources: [] };
    return sources().tokenSources(this.#deps.replica.acl, identity.token, datacenter);
  }

  /** The authorizer of a token record: its own grants, then its namespace's ACL defaults, then the default policy. */
  #authorizerFor(token: ACLTokenRecord): Authorizer {
    return this.#authorizerOf(sources().tokenSources(this.#deps.replica.acl, token, this.#cfg.datacenter), aclEnt(token));
  }

  /**
   * Grants of a token of tenant `ent` (undefined: default/default). Its rules outside namespace and
   * partition blocks apply in its home namespace; the namespace's PolicyDefaults and RoleDefaults
   * decide only where the token's own rules are silent (Consul Enterprise's parent authorizer).
   */
  #authorizerOf(grants: TokenSources, ent?: EnterpriseMeta): Authorizer {
    if (grants.management) return manageAll();
    const compiler = policyCompiler();
    const defaults = sources().namespaceDefaultSources(this.#deps.replica, ent ?? DEFAULT_ENT, this.#cfg.datacenter);
    if (!ent && !defaults) return chainedAuthorizer([compiler.newPolicyAuthorizer(grants.sources.map((s) => s.policy)), this.defaultAuthorizer()]);
    const home = ent ? { partition: ent.partition, namespace: ent.namespace } : {};
    const chain = [compiler.newPolicyAuthorizer(grants.sources.map((s) => s.policy), home)];
    if (defaults?.management) chain.push(manageAll());
    else if (defaults) chain.push(compiler.newPolicyAuthorizer(defaults.sources.map((s) => s.policy), home));
    chain.push(this.defaultAuthorizer());
    const inner = chainedAuthorizer(chain);
    if (!ent) return inner;
    // Endpoints pass no context for the default tenant (entContext): for a namespaced token that is
    // default/default, not the token's home scope the authorizer would otherwise assume.
    return authorizerFrom((method, name, ctx) => callMethod(inner, method, name, ctx ?? DEFAULT_CTX));
  }
}
