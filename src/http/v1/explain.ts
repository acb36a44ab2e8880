// /v1/acl/explain (beyond Consul): GET with ?resource=key:app/db&access=write for the caller's own
// token, or POST {Token, Resource, Access} to explain another token (needs acl:read).
import type { AclExplainEndpoint } from '../../endpoint/acl-explain.ts';
import { BadRequestError } from '../../errors.ts';
import type { HttpResult } from '../router.ts';
import { parseJSON } from '../body.ts';
import { authzOf, checkDatacenter, type HttpRequest, type RequestConfig } from '../request.ts';

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Handlers for the explain routes. */
export function explainHandlers(ep: AclExplainEndpoint, cfg: RequestConfig) {
  return {
    async get(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      const input = { Resource: req.query.get('resource') ?? '', Access: req.query.get('access') ?? '' };
      return { body: ep.explain(authzOf(req, cfg), input) };
    },
    async post(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      const raw = parseJSON(await req.body(), 'Failed to decode request body');
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new BadRequestError('Request body must be an object: {Token, Resource, Access}');
      const b = raw as Record<string, unknown>;
      return { body: ep.explain(authzOf(req, cfg), { Token: str(b.Token), Resource: str(b.Resource), Access: str(b.Access) }) };
    },
  };
}
