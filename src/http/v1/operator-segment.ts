// GET /v1/operator/segment: Consul Enterprise's network segment list (operator:read). Proconsul
// does not implement network segments (the `segments` key is accepted with a warning), so every
// agent is in the default segment and the list is [""], what Consul Enterprise answers without
// segments configured.
import { authorize } from '../../endpoint/index.ts';
import type { HttpResult } from '../router.ts';
import { authzOf, checkDatacenter, type HttpRequest, type RequestConfig } from '../request.ts';

/** The segment list handler. */
export function operatorSegmentHandler(reqCfg: RequestConfig) {
  return async (req: HttpRequest): Promise<HttpResult> => {
    checkDatacenter(req, reqCfg);
    authorize(authzOf(req, reqCfg), 'operatorRead');
    return { body: [''] };
  };
}
