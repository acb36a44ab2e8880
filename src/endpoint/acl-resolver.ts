// Token resolution (Consul's ACLResolver): a secret becomes an Authorizer built from the token's
// policies, roles, service/node identities and templated policies, chained with the default
// policy; cached per secret digest and dropped whenever any ACL table changes. Secrets are never
// compared directly: lookups go by digest and the recovery token is checked in constant time.
import {
  ACL_POLICY_GLOBAL_MANAGEMENT_ID, ANONYMOUS_TOKEN_ID, aclNotFoundError, allowAll, chainedAuthorizer, denyAll,
  manageAll, newPolicyAuthorizer, nodeIdentityPolicy, parseRules, secretDigest, secretsEqual, serviceIdentityPolicy, templatedPolicySynthetic,
  type ACLNodeIdentity, type ACLServiceIdentity, type ACLTemplatedPolicy, type Authorizer, type Policy,
} from '../acl/index.ts';
import type { ACLTokenRecord, Indexed } from '../state/index.ts';
import type { EndpointDeps } from './deps.ts';

/** Who is asking and what they may do; endpoints receive it next to the token. */
export interface AclIdentity {
  authorizer: Authorizer;
  /** The token's AccessorID, named in permission-denied errors ('' when ACLs are off). */
  accessorID: string;
  /** A token was presented (not anonymous): only then is X-Consul-Results-Filtered-By-ACLs sent. */
  tokenGiven: boolean;
  /** The resolved token record, when there is one. */
  token?: Indexed<ACLTokenRecord>;
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

/** Resolves secrets to identities, with a per-secret cache invalidated by ACL table changes. */
export class AclResolver {
  readonly #deps: EndpointDeps;
  readonly #cfg: AclResolverConfig;
  #cache = new Map<string, Cached>();
  #cacheIndex = -1;

  constructor(deps: EndpointDeps, cfg: AclResolverConfig) {
    this.#deps = deps;
    this.#cfg = cfg;
  }

  /** Whether ACLs are enforced. */
  get enabled(): boolean {
    return this.#cfg.enabled;
  }

  /** The default-policy authorizer that answers when no rule applies. */
  defaultAuthorizer(): Authorizer {
    return this.#cfg.defaultPolicy === 'allow' ? allowAll() : denyAll();
  }

  /** Resolves a secret ('' = anonymous); throws `ACL not found` for unknown or expired secrets. */
  resolve(secret: string): AclIdentity {
    if (!this.#cfg.enabled) return { authorizer: manageAll(), accessorID: '', tokenGiven: false };
    const acl = this.#deps.replica.acl;
    if (this.#cacheIndex !== acl.index) {
      this.#cache.clear();
      this.#cacheIndex = acl.index;
    }
    const now = this.#deps.clock.now();
    const key = secretDigest(secret);
    const hit = this.#cache.get(key);
    if (hit && hit.expires > now) return hit.identity;
    if (hit) {
      this.#cache.delete(key);
      throw aclNotFoundError();
    }
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
    return { authorizer: this.#authorizerFor(token), accessorID: token.AccessorID, tokenGiven: secret !== '', token };
  }

  // Consul's agent recovery token: agent write on this node and node read everywhere, nothing else.
  #agentRecovery(): AclIdentity {
    const rules = `agent "${this.#cfg.nodeName}" { policy = "write" }\nnode_prefix "" { policy = "read" }`;
    return { authorizer: chainedAuthorizer([newPolicyAuthorizer([parseRules(rules)]), denyAll()]), accessorID: 'agent-recovery-token', tokenGiven: true };
  }

  /** The authorizer of a token record: its own grants, then the default policy. */
  #authorizerFor(token: ACLTokenRecord): Authorizer {
    const grants = this.#collect(token);
    if (grants.management) return manageAll();
    return chainedAuthorizer([newPolicyAuthorizer(grants.policies), this.defaultAuthorizer()]);
  }

  #collect(token: ACLTokenRecord): { management: boolean; policies: Policy[] } {
    const acl = this.#deps.replica.acl;
    const out = { management: false, policies: [] as Policy[] };
    const policyIDs = (token.Policies ?? []).map((l) => l.ID);
    const services: ACLServiceIdentity[] = [...(token.ServiceIdentities ?? [])];
    const nodes: ACLNodeIdentity[] = [...(token.NodeIdentities ?? [])];
    const templated: ACLTemplatedPolicy[] = [...(token.TemplatedPolicies ?? [])];
    for (const link of token.Roles ?? []) {
      const role = acl.roles.get(link.ID);
      if (!role) continue;
      policyIDs.push(...(role.Policies ?? []).map((l) => l.ID));
      services.push(...(role.ServiceIdentities ?? []));
      nodes.push(...(role.NodeIdentities ?? []));
      templated.push(...(role.TemplatedPolicies ?? []));
    }
    for (const id of new Set(policyIDs)) {
      const policy = acl.policies.get(id);
      if (!policy || !this.#inDatacenter(policy.Datacenters)) continue;
      if (id === ACL_POLICY_GLOBAL_MANAGEMENT_ID) out.management = true;
      out.policies.push(parseRules(policy.Rules));
    }
    const synthetic = [
      ...services.map(serviceIdentityPolicy), ...nodes.map(nodeIdentityPolicy), ...templated.map(templatedPolicySynthetic),
    ];
    for (const p of synthetic) if (this.#inDatacenter(p.Datacenters)) out.policies.push(parseRules(p.Rules));
    return out;
  }

  #inDatacenter(dcs: string[] | undefined): boolean {
    return !dcs || dcs.length === 0 || dcs.includes(this.#cfg.datacenter);
  }
}
