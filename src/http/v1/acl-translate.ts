// POST /v1/acl/rules/translate (legacy): rewrites pre-1.4 ACL rules (bare `key`, `service`, …
// blocks meaning prefixes) into the current syntax. Needs acl:read, as in Consul.
import { policyCompiler } from '../../acl/index.ts';
import { authorize } from '../../endpoint/acl-enforce.ts';
import { BadRequestError } from '../../errors.ts';
import type { HttpResult } from '../router.ts';
import { authzOf, checkDatacenter, type HttpRequest, type RequestConfig } from '../request.ts';

/** Handler for the legacy rules translation route. */
export function translateHandler(cfg: RequestConfig) {
  return async (req: HttpRequest): Promise<HttpResult> => {
    checkDatacenter(req, cfg);
    authorize(authzOf(req, cfg), 'aclRead');
    const body = (await req.body()).toString('utf8');
    try {
      return { raw: policyCompiler().translateLegacyRules(body), contentType: 'text/plain; charset=utf-8' };
    } catch (err) {
      throw new BadRequestError((err as Error).message);
    }
  };
}
