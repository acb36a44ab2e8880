// ACL tokens (Consul's ACL.BootstrapTokens/TokenSet/TokenRead/TokenClone/TokenDelete/TokenList):
// validation with Consul's texts, expiry from ExpirationTTL, secrets hidden without acl:write,
// and one-time bootstrap of the management token.
import { randomUUID } from 'node:crypto';
import {
  ACL_BOOTSTRAP_NOT_ALLOWED, ACL_POLICY_GLOBAL_MANAGEMENT_ID, ACL_RESERVED_ID_PREFIX, ANONYMOUS_TOKEN_ID,
  aclIDReserved, aclNotFoundError, permissionDenied, rootAuthorizer, type ACLToken, type ACLTokenListStub,
} from '../acl/index.ts';
import { BadRequestError, PermissionDeniedError } from '../errors.ts';
import { formatGoDuration } from '../duration.ts';
import { ACL_BOOTSTRAP_KEY, ACL_TOKEN_PREFIX, DEFAULT_TENANCY_NAME, foldTenancyName, type ACLTokenRecord, type EnterpriseMeta, type Indexed } from '../state/index.ts';
import { aclEnt, aclStoreKey } from '../state/acl-tables.ts';
import { tokenExpired, type AclIdentity, type AclResolver } from './acl-resolver.ts';
import { allowed, entContext } from './acl-enforce.ts';
import {
  aclListFilter, authorizeAcl, authorizeAclList, wildcardNamespaces, concreteEnt, inAclTenant, inTenantOrUndefined, namedRead, tenantView,
} from './acl-tenancy.ts';
import {
  aclPreCheck, checkNodeIdentities, checkServiceIdentities, checkTemplatedPolicies, contentHash, isUUID,
  resolvePolicyLinks, resolveRoleLinks, sameAclName, withLinkNames,
} from './acl-links.ts';
import { putOp, putPlan, deletePlan } from './acl-write.ts';
import { commitWrite, pinRecord } from './commit.ts';
import type { QueryOptions, QueryResult } from './query.ts';
import { tableQuery } from './table-query.ts';
import type { EndpointDeps } from './deps.ts';

/** A token write as the API carries it; ExpirationTTL already in milliseconds. */
export type TokenInput = Partial<Omit<ACLToken, 'ExpirationTTL' | 'CreateIndex' | 'ModifyIndex' | 'Hash' | 'CreateTime'>> & {
  ExpirationTTL?: number;
};

/** `/v1/acl/tokens` filters. */
export interface TokenListFilters {
  policy?: string;
  role?: string;
  authMethod?: string;
  serviceName?: string;
  /** `authmethod-ns`: only tokens whose auth method lives in this namespace. */
  authMethodNs?: string;
}

/** Consul's default acl_token_min/max_expiration_ttl. */
const MIN_TTL_MS = 60_000;
const MAX_TTL_MS = 24 * 3600_000;
const REDACTED = '<hidden>';

/** Stamps the content hash and drops empty optional lists, as Consul's omitempty does. */
export function finishToken(rec: ACLTokenRecord): ACLTokenRecord {
  const out = { ...rec } as Record<string, unknown>;
  for (const k of ['Policies', 'Roles', 'ServiceIdentities', 'NodeIdentities', 'TemplatedPolicies']) {
    if (!Array.isArray(out[k]) || (out[k] as unknown[]).length === 0) delete out[k];
  }
  if (!out.AuthMethod) delete out.AuthMethod;
  if (!out.ExpirationTime) delete out.ExpirationTime;
  delete out.ExpirationTTL;
  const r = out as unknown as ACLTokenRecord;
  r.Hash = contentHash([r.Description, r.Policies, r.Roles, r.ServiceIdentities, r.NodeIdentities, r.TemplatedPolicies, r.Local]);
  return r;
}

/** ACL token operations. */
export class AclTokenEndpoint {
  readonly #deps: EndpointDeps;
  readonly #resolver: AclResolver;

  constructor(deps: EndpointDeps, resolver: AclResolver) {
    this.#deps = deps;
    this.#resolver = resolver;
  }

  /** The token as the API shows it: link names filled in, secret hidden unless acl:write. */
  view(t: Indexed<ACLTokenRecord>, id?: AclIdentity, named?: boolean): ACLToken {
    const out = tenantView(withLinkNames(this.#deps.replica.acl, t) as ACLToken, named);
    return allowed(id, 'aclWrite', '', entContext(aclEnt(t))) ? out : { ...out, SecretID: REDACTED };
  }

  /** One-time bootstrap: creates the management token; 403 with the reset index afterwards. */
  async bootstrap(secret = ''): Promise<ACLToken> {
    aclPreCheck(this.#resolver);
    if (secret !== '' && !isUUID(secret)) throw new BadRequestError('Invalid Token: SecretID is not a valid UUID');
    const rec = finishToken({
      AccessorID: randomUUID(), SecretID: secret || randomUUID(), Description: 'Bootstrap Token (Global Management)',
      Policies: [{ ID: ACL_POLICY_GLOBAL_MANAGEMENT_ID }], Local: false, CreateTime: this.#now(), Hash: '',
    });
    await commitWrite(this.#deps, () => {
      const done = this.#deps.replica.acl.bootstrap();
      if (done) throw new PermissionDeniedError(`Permission denied: ${ACL_BOOTSTRAP_NOT_ALLOWED} (reset index: ${done.ModifyIndex})`);
      return {
        compares: [pinRecord(ACL_BOOTSTRAP_KEY, undefined)],
        ops: [putOp(ACL_TOKEN_PREFIX + rec.AccessorID, rec), putOp(ACL_BOOTSTRAP_KEY, { AccessorID: rec.AccessorID })],
      };
    });
    this.#deps.logger.info({}, 'ACL bootstrap completed');
    return this.view(this.#deps.replica.acl.tokens.get(rec.AccessorID)!);
  }

  /** Creates (no AccessorID, or `create`) or updates a token. */
  async set(input: TokenInput, id: AclIdentity | undefined, create: boolean, ent?: EnterpriseMeta): Promise<ACLToken> {
    ent = concreteEnt(ent);
    aclPreCheck(this.#resolver);
    authorizeAcl(id, true, ent);
    let accessor = '';
    await commitWrite(this.#deps, inAclTenant(this.#deps, ent, () => {
      // Accessor IDs are cluster-unique: one of another namespace is in use, but not this namespace's to update.
      const held = input.AccessorID ? this.#deps.replica.acl.tokens.get(input.AccessorID) : undefined;
      const existing = inTenantOrUndefined(held, ent);
      const rec = create || !input.AccessorID ? this.#planCreate(input, held, ent) : this.#planUpdate(input, existing, ent);
      accessor = rec.AccessorID;
      return putPlan(aclStoreKey(ACL_TOKEN_PREFIX, rec.AccessorID, ent), existing, rec);
    }));
    return this.view(this.#deps.replica.acl.tokens.get(accessor)!, id);
  }

  #planCreate(input: TokenInput, existing: ACLTokenRecord | undefined, ent: EnterpriseMeta | undefined): ACLTokenRecord {
    const tokens = this.#deps.replica.acl.tokens;
    const accessor = this.#newID(input.AccessorID, 'AccessorID', existing !== undefined || tokens.by(input.AccessorID ?? '') !== undefined);
    const secret = this.#newID(input.SecretID, 'SecretID', tokens.by(input.SecretID ?? '') !== undefined || tokens.get(input.SecretID ?? '') !== undefined);
    if (input.AuthMethod) throw new BadRequestError('AuthMethod field is disallowed outside of Login');
    const created = this.#deps.clock.now();
    let expiration = input.ExpirationTime;
    if (input.ExpirationTTL) {
      if (input.ExpirationTTL < 0) throw new BadRequestError(`Token Expiration TTL '${formatGoDuration(input.ExpirationTTL)}' should be > 0`);
      if (expiration) throw new BadRequestError('Token Expiration TTL and Expiration Time cannot both be set');
      expiration = new Date(created + input.ExpirationTTL).toISOString();
    }
    if (expiration) checkExpiration(Date.parse(expiration) - created);
    return this.#grants(input, { AccessorID: accessor, SecretID: secret, CreateTime: new Date(created).toISOString(), ExpirationTime: expiration }, ent);
  }

  #newID(given: string | undefined, field: string, inUse: boolean): string {
    if (!given) return randomUUID();
    if (!isUUID(given)) throw new BadRequestError(`Invalid Token: ${field} is not a valid UUID`);
    if (inUse) throw new BadRequestError(`Invalid Token: ${field} is already in use`);
    if (aclIDReserved(given)) throw new BadRequestError(`Invalid Token: UUIDs with the prefix ${JSON.stringify(ACL_RESERVED_ID_PREFIX)} are reserved`);
    return given;
  }

  #planUpdate(input: TokenInput, existing: Indexed<ACLTokenRecord> | undefined, ent: EnterpriseMeta | undefined): ACLTokenRecord {
    const accessor = input.AccessorID!;
    if (!isUUID(accessor)) throw new BadRequestError('AccessorID is not a valid UUID');
    if (input.SecretID && rootAuthorizer(input.SecretID)) throw permissionDenied('Cannot modify root ACL');
    if (!existing || tokenExpired(existing, this.#deps.clock.now())) throw new BadRequestError(`Cannot find token ${JSON.stringify(accessor)}`);
    if (input.SecretID && input.SecretID !== existing.SecretID) throw new BadRequestError('Changing a tokens SecretID is not permitted');
    if (input.Local !== undefined && input.Local !== existing.Local) throw new BadRequestError(`cannot toggle local mode of ${accessor}`);
    if (input.AuthMethod && input.AuthMethod !== existing.AuthMethod) throw new BadRequestError(`Cannot change AuthMethod of ${accessor}`);
    if (input.ExpirationTTL || (input.ExpirationTime && Date.parse(input.ExpirationTime) !== Date.parse(existing.ExpirationTime ?? ''))) {
      throw new BadRequestError(`Cannot change expiration time of ${accessor}`);
    }
    return this.#grants({ ...input, Local: existing.Local }, {
      AccessorID: accessor, SecretID: existing.SecretID, CreateTime: existing.CreateTime,
      ExpirationTime: existing.ExpirationTime, AuthMethod: existing.AuthMethod,
      ...(existing.AuthMethodNamespace ? { AuthMethodNamespace: existing.AuthMethodNamespace } : {}),
    }, ent);
  }

  #grants(
    input: TokenInput, base: Pick<ACLTokenRecord, 'AccessorID' | 'SecretID' | 'CreateTime' | 'ExpirationTime'> & { AuthMethod?: string; AuthMethodNamespace?: string },
    ent: EnterpriseMeta | undefined,
  ): ACLTokenRecord {
    const acl = this.#deps.replica.acl;
    const local = input.Local ?? false;
    return finishToken({
      ...base, Description: input.Description ?? '', Local: local, Hash: '',
      Policies: resolvePolicyLinks(acl, input.Policies, ent), Roles: resolveRoleLinks(acl, input.Roles, ent),
      ServiceIdentities: checkServiceIdentities(input.ServiceIdentities, 'token', local),
      NodeIdentities: checkNodeIdentities(input.NodeIdentities, 'token'),
      TemplatedPolicies: checkTemplatedPolicies(input.TemplatedPolicies),
    });
  }

  /** Creates the token of a successful login, linked to its auth method (no caller ACL check: the login is the proof). */
  /**
   * Creates the token of a successful login, linked to its auth method (no caller ACL check: the
   * login is the proof), in tenant `ent` (the method's namespace, or the one a NamespaceRule bound);
   * `methodNs` is the namespace of the auth method when it is not the token's (AuthMethodNamespace).
   */
  async createLoginToken(input: TokenInput, authMethod: string, ent?: EnterpriseMeta, methodNs?: string): Promise<ACLToken> {
    ent = concreteEnt(ent);
    let accessor = '';
    await commitWrite(this.#deps, inAclTenant(this.#deps, ent, () => {
      const rec = finishToken({
        ...this.#planCreate({ ...input, AuthMethod: undefined }, undefined, ent), AuthMethod: authMethod,
        ...(methodNs ? { AuthMethodNamespace: methodNs } : {}),
      });
      accessor = rec.AccessorID;
      return putPlan(aclStoreKey(ACL_TOKEN_PREFIX, accessor, ent), undefined, rec);
    }));
    return this.view(this.#deps.replica.acl.tokens.get(accessor)!);
  }

  /** Copies a token's grants into a new token (optionally with a new Description). */
  async clone(accessor: string, description: string, id: AclIdentity | undefined, ent?: EnterpriseMeta): Promise<ACLToken> {
    ent = concreteEnt(ent);
    aclPreCheck(this.#resolver);
    authorizeAcl(id, true, ent);
    const t = inTenantOrUndefined(this.#deps.replica.acl.tokens.get(accessor), ent);
    if (!t || tokenExpired(t, this.#deps.clock.now())) throw aclNotFoundError();
    if (t.AuthMethod) throw new BadRequestError('Cannot clone a token created from an auth method');
    const { AccessorID: _a, SecretID: _s, Namespace: _n, Partition: _p, ...grants } = t;
    return this.set({ ...grants, Description: description || t.Description, ExpirationTTL: undefined }, id, true, ent);
  }

  /** Deletes a token; the anonymous token and the caller's own token cannot be deleted. */
  async delete(accessor: string, id: AclIdentity | undefined, callerSecret: string, ent?: EnterpriseMeta): Promise<void> {
    ent = concreteEnt(ent);
    aclPreCheck(this.#resolver);
    authorizeAcl(id, true, ent);
    if (!isUUID(accessor)) throw new BadRequestError('Accessor ID is missing or an invalid UUID');
    if (accessor === ANONYMOUS_TOKEN_ID) throw new BadRequestError('Delete operation not permitted on the anonymous token');
    await commitWrite(this.#deps, () => {
      const t = inTenantOrUndefined(this.#deps.replica.acl.tokens.get(accessor), ent);
      if (!t) return null;
      if (t.SecretID === callerSecret) throw new BadRequestError("Deletion of the request's authorization token is not permitted");
      return deletePlan(aclStoreKey(ACL_TOKEN_PREFIX, accessor, ent), t);
    });
  }

  /** One token of the read's tenant by AccessorID (null when missing or expired); needs acl:read there. */
  read(accessor: string, opts: QueryOptions): Promise<QueryResult<ACLToken | null>> {
    aclPreCheck(this.#resolver);
    const ent = concreteEnt(opts.ent);
    authorizeAcl(opts.authz, false, ent);
    const tokens = this.#deps.replica.acl.tokens;
    return tableQuery(this.#deps, opts, tokens, () => {
      const t = inTenantOrUndefined(tokens.get(accessor), ent);
      const live = t && !tokenExpired(t, this.#deps.clock.now());
      return { value: live ? this.view(t, opts.authz, opts.entNamed) : null };
    });
  }

  /** The token of the request's own secret; `ACL not found` when there is none. */
  self(secret: string): ACLToken {
    aclPreCheck(this.#resolver);
    const t = this.#deps.replica.acl.tokens.by(secret);
    if (!t || tokenExpired(t, this.#deps.clock.now())) throw aclNotFoundError();
    return withLinkNames(this.#deps.replica.acl, t) as ACLToken;
  }

  /** Tokens as list stubs, filtered by policy, role, auth method or service identity. */
  list(f: TokenListFilters, opts: QueryOptions): Promise<QueryResult<ACLTokenListStub[]>> {
    aclPreCheck(this.#resolver);
    authorizeAclList(opts, wildcardNamespaces(this.#deps, opts));
    const acl = this.#deps.replica.acl;
    const named = namedRead(opts);
    return tableQuery(this.#deps, opts, acl.tokens, () => {
      const now = this.#deps.clock.now();
      const rows = acl.tokens.sorted().filter((t) => !tokenExpired(t, now) && matches(t, f));
      const { items, filtered } = aclListFilter(opts, rows);
      return { value: items.map((t) => this.view(t, opts.authz, named)), filtered: filtered && !!opts.authz };
    });
  }

  #now(): string {
    return new Date(this.#deps.clock.now()).toISOString();
  }
}

function checkExpiration(ms: number): void {
  if (ms < 0) throw new BadRequestError('ExpirationTime cannot be before CreateTime');
  if (ms > MAX_TTL_MS) throw new BadRequestError(`ExpirationTime cannot be more than ${formatGoDuration(MAX_TTL_MS)} in the future (was ${formatGoDuration(ms)})`);
  if (ms < MIN_TTL_MS) throw new BadRequestError(`ExpirationTime cannot be less than ${formatGoDuration(MIN_TTL_MS)} in the future (was ${formatGoDuration(ms)})`);
}

function matches(t: ACLTokenRecord, f: TokenListFilters): boolean {
  if (f.policy && !(t.Policies ?? []).some((l) => l.ID === f.policy)) return false;
  if (f.role && !(t.Roles ?? []).some((l) => l.ID === f.role)) return false;
  if (f.authMethod && !(t.AuthMethod && sameAclName(t.AuthMethod, f.authMethod))) return false;
  if (f.serviceName && !(t.ServiceIdentities ?? []).some((s) => s.ServiceName === f.serviceName)) return false;
  if (f.authMethodNs && foldTenancyName(t.AuthMethodNamespace ?? t.Namespace ?? DEFAULT_TENANCY_NAME) !== foldTenancyName(f.authMethodNs)) return false;
  return true;
}
