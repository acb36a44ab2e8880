// GET /v1/operator/license: Consul Enterprise's licence reply. Proconsul needs no licence, so it
// answers with the open licence (api/operator-license.ts) instead of an error, so that scripts
// and tools that read it (`consul license get` in health checks) keep working. No ACL is needed,
// as in Consul; PUT and DELETE were removed in Consul 1.10 and get 405 from the route table.
import { NotFoundError } from '../../errors.ts';
import { openLicense } from '../../api/operator-license.ts';
import type { HttpResult } from '../router.ts';
import { checkDatacenter, flag, type HttpRequest, type RequestConfig } from '../request.ts';

/** The licence handler. */
export function operatorLicenseHandler(reqCfg: RequestConfig) {
  return async (req: HttpRequest): Promise<HttpResult> => {
    checkDatacenter(req, reqCfg);
    // Consul answers ?signed with the signed licence blob; there is none to give.
    if (flag(req, 'signed')) throw new NotFoundError('No signed license: Proconsul runs under its open license');
    return { body: openLicense() };
  };
}
