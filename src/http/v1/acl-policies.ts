// /v1/acl/policy*, /v1/acl/role*, /v1/acl/auth-method* and /v1/acl/binding-rule*: parse, call the
// ACL endpoint, return data; reads of missing records answer 404 with Consul's texts.
import type { AclPolicyEndpoint, AclAuthEndpoint } from '../../endpoint/index.ts';
import { BadRequestError, NotFoundError } from '../../errors.ts';
import type { HttpResult } from '../router.ts';
import { authzOf, checkDatacenter, queryOptions, type HttpRequest, type RequestConfig } from '../request.ts';
import { bodyEnt, requestEnt } from '../tenancy.ts';
import type { AclIdentity } from '../../endpoint/index.ts';
import type { EnterpriseMeta } from '../../state/index.ts';

/** The tenant of an ACL write: the body's Namespace/Partition, the request's, then the token's. */
export function aclWriteEnt(req: HttpRequest, cfg: RequestConfig, authz: AclIdentity | undefined, body?: object): EnterpriseMeta {
  const b = body as { Namespace?: unknown; Partition?: unknown } | undefined;
  return requestEnt(req, cfg, 'namespace-no-wildcard', authz, b ? bodyEnt({ namespace: b.Namespace, partition: b.Partition }) : undefined);
}

/** Read options of one ACL record (no wildcard) and of a list (`ns=*` reads every namespace). */
const ONE = { tenancy: 'namespace-no-wildcard' } as const;
const LIST = { tenancy: 'namespace' } as const;
import { decodeAuthMethod, decodeBindingRule, decodePolicy, decodeRole } from './acl-body.ts';

const NAME_PREFIX = 'name/';

/** Handlers for ACL policies and roles. */
export function aclPolicyHandlers(ep: AclPolicyEndpoint, cfg: RequestConfig) {
  const write = (req: HttpRequest) => {
    checkDatacenter(req, cfg);
    return authzOf(req, cfg);
  };
  const byName = (req: HttpRequest) => req.path.includes(`/${NAME_PREFIX}`);
  return {
    async policies(req: HttpRequest): Promise<HttpResult> {
      const { value, meta } = await ep.listPolicies(queryOptions(req, cfg, LIST));
      return { body: value, meta };
    },
    async createPolicy(req: HttpRequest): Promise<HttpResult> {
      const id = write(req);
      const input = decodePolicy(await req.body());
      return { body: await ep.setPolicy({ ...input, ID: undefined }, id, aclWriteEnt(req, cfg, id, input)) };
    },
    async policy(req: HttpRequest): Promise<HttpResult> {
      const { value, meta } = await ep.readPolicy(req.params.rest, byName(req), queryOptions(req, cfg, ONE));
      if (!value) throw new NotFoundError('ACL policy not found');
      return { body: value, meta };
    },
    async updatePolicy(req: HttpRequest): Promise<HttpResult> {
      const id = write(req);
      const input = decodePolicy(await req.body());
      if (input.ID && input.ID !== req.params.rest) throw new BadRequestError('Policy ID in URL and request body do not match');
      return { body: await ep.setPolicy({ ...input, ID: req.params.rest }, id, aclWriteEnt(req, cfg, id, input)) };
    },
    async deletePolicy(req: HttpRequest): Promise<HttpResult> {
      const id = write(req);
      await ep.deletePolicy(req.params.rest, id, aclWriteEnt(req, cfg, id));
      return { body: true };
    },
    async roles(req: HttpRequest): Promise<HttpResult> {
      const { value, meta } = await ep.listRoles(req.query.get('policy') ?? '', queryOptions(req, cfg, LIST));
      return { body: value, meta };
    },
    async createRole(req: HttpRequest): Promise<HttpResult> {
      const id = write(req);
      const input = decodeRole(await req.body());
      return { body: await ep.setRole({ ...input, ID: undefined }, id, aclWriteEnt(req, cfg, id, input)) };
    },
    async role(req: HttpRequest): Promise<HttpResult> {
      const { value, meta } = await ep.readRole(req.params.rest, byName(req), queryOptions(req, cfg, ONE));
      if (!value) throw new NotFoundError('ACL role not found');
      return { body: value, meta };
    },
    async updateRole(req: HttpRequest): Promise<HttpResult> {
      const id = write(req);
      const input = decodeRole(await req.body());
      if (input.ID && input.ID !== req.params.rest) throw new BadRequestError('Role ID in URL and request body do not match');
      return { body: await ep.setRole({ ...input, ID: req.params.rest }, id, aclWriteEnt(req, cfg, id, input)) };
    },
    async deleteRole(req: HttpRequest): Promise<HttpResult> {
      const id = write(req);
      await ep.deleteRole(req.params.rest, id, aclWriteEnt(req, cfg, id));
      return { body: true };
    },
  };
}

/** Handlers for auth methods and binding rules. */
export function aclAuthHandlers(ep: AclAuthEndpoint, cfg: RequestConfig) {
  const write = (req: HttpRequest) => {
    checkDatacenter(req, cfg);
    return authzOf(req, cfg);
  };
  return {
    async methods(req: HttpRequest): Promise<HttpResult> {
      const { value, meta } = await ep.listMethods(queryOptions(req, cfg, LIST));
      return { body: value, meta };
    },
    async createMethod(req: HttpRequest): Promise<HttpResult> {
      const id = write(req);
      const input = decodeAuthMethod(await req.body());
      return { body: await ep.setMethod(input, id, aclWriteEnt(req, cfg, id, input)) };
    },
    async method(req: HttpRequest): Promise<HttpResult> {
      const { value, meta } = await ep.readMethod(req.params.rest, queryOptions(req, cfg, ONE));
      if (!value) throw new NotFoundError('ACL auth method not found');
      return { body: value, meta };
    },
    async updateMethod(req: HttpRequest): Promise<HttpResult> {
      const id = write(req);
      const input = decodeAuthMethod(await req.body());
      if (input.Name && input.Name !== req.params.rest) throw new BadRequestError('Auth Method Name in URL and request body do not match');
      return { body: await ep.setMethod({ ...input, Name: req.params.rest }, id, aclWriteEnt(req, cfg, id, input)) };
    },
    async deleteMethod(req: HttpRequest): Promise<HttpResult> {
      const id = write(req);
      await ep.deleteMethod(req.params.rest, id, aclWriteEnt(req, cfg, id));
      return { body: true };
    },
    async rules(req: HttpRequest): Promise<HttpResult> {
      const { value, meta } = await ep.listRules(req.query.get('authmethod') ?? '', queryOptions(req, cfg, LIST));
      return { body: value, meta };
    },
    async createRule(req: HttpRequest): Promise<HttpResult> {
      const id = write(req);
      const input = decodeBindingRule(await req.body());
      return { body: await ep.setRule({ ...input, ID: undefined }, id, aclWriteEnt(req, cfg, id, input)) };
    },
    async rule(req: HttpRequest): Promise<HttpResult> {
      const { value, meta } = await ep.readRule(req.params.rest, queryOptions(req, cfg, ONE));
      if (!value) throw new NotFoundError('ACL binding rule not found');
      return { body: value, meta };
    },
    async updateRule(req: HttpRequest): Promise<HttpResult> {
      const id = write(req);
      const input = decodeBindingRule(await req.body());
      if (input.ID && input.ID !== req.params.rest) throw new BadRequestError('BindingRule ID in URL and request body do not match');
      return { body: await ep.setRule({ ...input, ID: req.params.rest }, id, aclWriteEnt(req, cfg, id, input)) };
    },
    async deleteRule(req: HttpRequest): Promise<HttpResult> {
      const id = write(req);
      await ep.deleteRule(req.params.rest, id, aclWriteEnt(req, cfg, id));
      return { body: true };
    },
  };
}
