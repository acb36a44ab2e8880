// /v1/acl/bootstrap, tokens, login/logout, OIDC auth-url/callback, replication, templated policies and
// /v1/internal/acl/authorize: parse, call the ACL endpoint, return data.
import type { AclTokenEndpoint, AclMiscEndpoint, AclAuthEndpoint, AuthorizationRequest } from '../../endpoint/index.ts';
import { aclNotFoundError } from '../../acl/index.ts';
import { BadRequestError } from '../../errors.ts';
import type { HttpResult } from '../router.ts';
import { parseJSON } from '../body.ts';
import { authzOf, checkDatacenter, parseToken, queryOptions, type HttpRequest, type RequestConfig } from '../request.ts';
import { decodeObject, decodeToken } from './acl-body.ts';
import { aclWriteEnt } from './acl-policies.ts';
import { requestEnt } from '../tenancy.ts';
import { checkGoTypes, goJsonKind } from '../go-json.ts';
import { refuseUnknownFields } from '../known-fields.ts';
import { ACL_AUTHORIZATION, ACL_BOOTSTRAP, ACL_LOGIN, ACL_TOKEN } from '../request-fields.ts';

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The ACL endpoints these handlers call. */
export interface AclHandlerDeps {
  tokens: AclTokenEndpoint;
  auth: AclAuthEndpoint;
  misc: AclMiscEndpoint;
}

/** Handlers for bootstrap, tokens and the small ACL routes. */
export function aclTokenHandlers(ep: AclHandlerDeps, cfg: RequestConfig) {
  const write = (req: HttpRequest) => {
    checkDatacenter(req, cfg);
    return authzOf(req, cfg);
  };
  return {
    async bootstrap(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      const b = decodeObject(await req.body(), ['BootstrapSecret'], 'structs.ACLInitialTokenBootstrapRequest', { prefix: 'Request decoding failed', known: ACL_BOOTSTRAP });
      return { body: await ep.tokens.bootstrap(typeof b.BootstrapSecret === 'string' ? b.BootstrapSecret : '') };
    },
    async list(req: HttpRequest): Promise<HttpResult> {
      const q = (k: string) => req.query.get(k) ?? undefined;
      const f = { policy: q('policy'), role: q('role'), authMethod: q('authmethod'), serviceName: q('servicename'), authMethodNs: q('authmethod-ns') };
      const { value, meta } = await ep.tokens.list(f, queryOptions(req, cfg, { tenancy: 'namespace' }));
      return { body: value, meta };
    },
    async create(req: HttpRequest): Promise<HttpResult> {
      const id = write(req);
      const input = decodeToken(await req.body());
      return { body: await ep.tokens.set(input, id, true, aclWriteEnt(req, cfg, id, input)) };
    },
    async get(req: HttpRequest): Promise<HttpResult> {
      if (req.params.rest === 'self') {
        checkDatacenter(req, cfg);
        return { body: ep.tokens.self(parseToken(req, cfg)) };
      }
      const { value, meta } = await ep.tokens.read(req.params.rest, queryOptions(req, cfg, { tenancy: 'namespace-no-wildcard' }));
      if (!value) throw aclNotFoundError();
      return { body: value, meta };
    },
    async put(req: HttpRequest): Promise<HttpResult> {
      const id = write(req);
      if (req.params.rest.endsWith('/clone')) {
        const b = decodeObject(await req.body(), ['Description', 'Namespace', 'Partition'], 'structs.ACLToken', { prefix: 'Token decoding failed', known: ACL_TOKEN });
        const desc = typeof b.Description === 'string' ? b.Description : '';
        return { body: await ep.tokens.clone(req.params.rest.slice(0, -'/clone'.length), desc, id, aclWriteEnt(req, cfg, id, b)) };
      }
      const input = decodeToken(await req.body());
      if (input.AccessorID && input.AccessorID !== req.params.rest) throw new BadRequestError('Token Accessor ID in URL and payload do not match');
      return { body: await ep.tokens.set({ ...input, AccessorID: req.params.rest }, id, false, aclWriteEnt(req, cfg, id, input)) };
    },
    async delete(req: HttpRequest): Promise<HttpResult> {
      const id = write(req);
      await ep.tokens.delete(req.params.rest, id, parseToken(req, cfg), aclWriteEnt(req, cfg, id));
      return { body: true };
    },
    async login(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      const b = decodeObject(await req.body(), ['AuthMethod', 'BearerToken', 'Meta'], 'structs.ACLLoginParams', {
        types: { AuthMethod: 'string', BearerToken: 'string', Meta: 'map[string]string' }, prefix: DECODE_FAILED, known: ACL_LOGIN,
      });
      const params = { AuthMethod: String(b.AuthMethod ?? ''), BearerToken: String(b.BearerToken ?? ''), Meta: b.Meta as Record<string, string> | undefined };
      // The auth method's tenant: the request's (a login carries no token to take one from).
      const ent = requestEnt(req, cfg, 'namespace-no-wildcard', undefined);
      return { body: await ep.auth.login(params, (input, method, tokenEnt, methodNs) => ep.tokens.createLoginToken(input, method, tokenEnt, methodNs), ent) };
    },
    async oidcAuthURL(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      const b = decodeObject(await req.body(), ['AuthMethod', 'RedirectURI', 'ClientNonce', 'Meta'], 'structs.ACLOIDCAuthURLParams', {
        types: { AuthMethod: 'string', RedirectURI: 'string', ClientNonce: 'string', Meta: 'map[string]string' }, prefix: DECODE_FAILED,
      });
      const params = { AuthMethod: str(b.AuthMethod), RedirectURI: str(b.RedirectURI), ClientNonce: str(b.ClientNonce), Meta: b.Meta as Record<string, string> | undefined };
      return { body: { AuthURL: await ep.auth.oidcAuthURL(params, requestEnt(req, cfg, 'namespace-no-wildcard', undefined)) } };
    },
    async oidcCallback(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      const b = decodeObject(await req.body(), ['AuthMethod', 'State', 'Code', 'ClientNonce'], 'structs.ACLOIDCCallbackParams', {
        types: { AuthMethod: 'string', State: 'string', Code: 'string', ClientNonce: 'string' }, prefix: DECODE_FAILED,
      });
      const params = { AuthMethod: str(b.AuthMethod), State: str(b.State), Code: str(b.Code), ClientNonce: str(b.ClientNonce) };
      const ent = requestEnt(req, cfg, 'namespace-no-wildcard', undefined);
      return { body: await ep.auth.oidcCallback(params, (input, method, tokenEnt, methodNs) => ep.tokens.createLoginToken(input, method, tokenEnt, methodNs), ent) };
    },
    async logout(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      await ep.misc.logout(parseToken(req, cfg));
      return { body: true };
    },
    async replication(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      return { body: ep.misc.replication() };
    },
    async templatedPolicies(req: HttpRequest): Promise<HttpResult> {
      return { body: ep.misc.templatedPolicies(authzOf(req, cfg)) };
    },
    async templatedPolicy(req: HttpRequest): Promise<HttpResult> {
      return { body: ep.misc.templatedPolicy(req.params.rest, authzOf(req, cfg)) };
    },
    async previewTemplatedPolicy(req: HttpRequest): Promise<HttpResult> {
      const b = decodeObject(await req.body(), ['Name'], 'structs.ACLTemplatedPolicyVariables');
      const vars = typeof b.Name === 'string' ? { name: b.Name } : {};
      return { body: ep.misc.previewTemplatedPolicy(req.params.rest, vars, authzOf(req, cfg)) };
    },
    async authorize(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      const authz = authzOf(req, cfg);
      // Asked in the request's namespace (else the token's), as Consul Enterprise's Internal.ACLAuthorize.
      return { body: ep.misc.authorizeBatch(decodeAuthorizeBatch(await req.body()), authz, requestEnt(req, cfg, 'namespace-no-wildcard', authz)) };
    },
  };
}

const DECODE_FAILED = 'Failed to decode request body';

/** The /v1/internal/acl/authorize body as Go decodes []structs.ACLAuthorizationRequest (null elements and fields are zero values). */
export function decodeAuthorizeBatch(body: Buffer): AuthorizationRequest[] {
  const raw = parseJSON(body, DECODE_FAILED) ?? [];
  if (!Array.isArray(raw)) throw new BadRequestError(`${DECODE_FAILED}: json: cannot unmarshal ${goJsonKind(raw)} into Go value of type []structs.ACLAuthorizationRequest`);
  return raw.map((x) => {
    if (x !== null && (typeof x !== 'object' || Array.isArray(x))) {
      throw new BadRequestError(`${DECODE_FAILED}: json: cannot unmarshal ${goJsonKind(x)} into Go value of type structs.ACLAuthorizationRequest`);
    }
    const r = (x ?? {}) as Record<string, unknown>;
    refuseUnknownFields(r, ACL_AUTHORIZATION, DECODE_FAILED);
    checkGoTypes(r, { Resource: 'string', Segment: 'string', Access: 'string' }, 'ACLAuthorizationRequest', DECODE_FAILED);
    // Absent and null strings are Go's zero value, "".
    return { ...r, Resource: r.Resource ?? '', Segment: r.Segment ?? '', Access: r.Access ?? '' } as AuthorizationRequest;
  });
}
