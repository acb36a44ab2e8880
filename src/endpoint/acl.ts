// The remaining ACL operations (Consul's ACL.TemplatedPolicy*, ACL.ReplicationStatus, ACL.Logout
// and Internal.ACLAuthorize): built-in templated policies, replication status of a primary,
// logout of auth-method tokens and the batch permission check the UI uses.
import {
  ACL_TEMPLATED_POLICIES, aclNotFoundError, enforceResource, permissionDenied, templatedPolicySynthetic,
  validateTemplatedPolicy, type ACLReplicationStatus, type ACLTemplatedPolicyResponse, type SyntheticPolicy,
} from '../acl/index.ts';
import { BadRequestError, NotFoundError } from '../errors.ts';
import { ACL_TOKEN_PREFIX } from '../state/index.ts';
import { aclEnt, aclStoreKey } from '../state/acl-tables.ts';
import type { AclIdentity, AclResolver } from './acl-resolver.ts';
import { authorize, entContext } from './acl-enforce.ts';
import type { EnterpriseMeta } from '../state/index.ts';
import { aclPreCheck } from './acl-links.ts';
import { deletePlan } from './acl-write.ts';
import { commitWrite } from './commit.ts';
import type { EndpointDeps } from './deps.ts';

/** One access question of /v1/internal/acl/authorize. */
export interface AuthorizationRequest {
  Resource: string;
  Segment?: string;
  Access: string;
}

/** Its answer. */
export type AuthorizationResponse = AuthorizationRequest & { Allow: boolean };

/** Consul's cap on one authorize batch. */
const MAX_AUTHORIZE = 64;
const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/** Templated policies, replication status, logout and batch authorization. */
export class AclMiscEndpoint {
  readonly #deps: EndpointDeps;
  readonly #resolver: AclResolver;
  readonly #replication: () => ACLReplicationStatus | undefined;

  /** `replication`: a secondary datacenter's replication status (absent: this is the primary). */
  constructor(deps: EndpointDeps, resolver: AclResolver, replication: () => ACLReplicationStatus | undefined = () => undefined) {
    this.#deps = deps;
    this.#resolver = resolver;
    this.#replication = replication;
  }

  /** Every built-in templated policy by name (needs acl:read). */
  templatedPolicies(id: AclIdentity | undefined): Record<string, ACLTemplatedPolicyResponse> {
    aclPreCheck(this.#resolver);
    authorize(id, 'aclRead');
    const out: Record<string, ACLTemplatedPolicyResponse> = {};
    for (const [name, t] of ACL_TEMPLATED_POLICIES) out[name] = { TemplateName: t.TemplateName, Schema: t.Schema, Template: t.Template, Description: t.Description };
    return out;
  }

  /** One templated policy; 404 when unknown. */
  templatedPolicy(name: string, id: AclIdentity | undefined): ACLTemplatedPolicyResponse {
    const all = this.templatedPolicies(id);
    if (!all[name]) throw new NotFoundError(`Invalid templated policy Name: ${name}`);
    return all[name];
  }

  /** The synthetic policy a templated policy renders to with `vars`. */
  previewTemplatedPolicy(name: string, vars: { name?: string }, id: AclIdentity | undefined): SyntheticPolicy {
    this.templatedPolicy(name, id);
    const tp = { TemplateName: name, TemplateVariables: vars };
    const errs = validateTemplatedPolicy(tp);
    if (errs.length) throw new BadRequestError(`validation error for templated policy ${JSON.stringify(name)}: ${errs.join('; ')}`);
    return templatedPolicySynthetic(tp);
  }

  /**
   * Replication status (no token needed, as Consul: it leaks nothing and health checks read it):
   * a secondary's figures, or replication off in the primary.
   */
  replication(): ACLReplicationStatus {
    aclPreCheck(this.#resolver);
    const status = this.#replication();
    if (status) return status;
    return {
      Enabled: false, Running: false, SourceDatacenter: '', ReplicationType: '', ReplicatedIndex: 0,
      ReplicatedRoleIndex: 0, ReplicatedTokenIndex: 0, LastSuccess: GO_ZERO_TIME, LastError: GO_ZERO_TIME, LastErrorMessage: '',
    };
  }

  /** Deletes the caller's own token when an auth method issued it (Consul's ACL.Logout). */
  async logout(secret: string): Promise<void> {
    aclPreCheck(this.#resolver);
    if (secret === '') throw aclNotFoundError();
    await commitWrite(this.#deps, () => {
      const t = this.#deps.replica.acl.tokens.by(secret);
      if (!t) throw aclNotFoundError();
      if (!t.AuthMethod) throw permissionDenied('token was not created by an auth method');
      return deletePlan(aclStoreKey(ACL_TOKEN_PREFIX, t.AccessorID, aclEnt(t)), t);
    });
  }

  /** Answers each access question for the caller in the request's tenant `ent` (everything allowed with ACLs off). */
  authorizeBatch(reqs: AuthorizationRequest[], id: AclIdentity | undefined, ent?: EnterpriseMeta): AuthorizationResponse[] {
    if (reqs.length > MAX_AUTHORIZE) throw new BadRequestError(`Refusing to authorize more than ${MAX_AUTHORIZE} access requests`);
    const ctx = entContext(ent);
    return reqs.map((r) => {
      const allow = !this.#resolver.enabled || !id
        || enforceResource(id.authorizer, r.Resource, r.Segment ?? '', r.Access, ctx) === 'allow';
      return { ...r, Allow: allow };
    });
  }
}
