// /v1/connect/ca/roots and /v1/agent/connect/ca/roots: the CA roots (JSON, or ?pem=true).
import { rootsPem, PEM_CHAIN_CONTENT_TYPE } from '../../connect/index.ts';
import type { ConnectCAEndpoint } from '../../endpoint/connect-ca.ts';
import type { HttpResult } from '../router.ts';
import { queryOptions, type HttpRequest, type RequestConfig } from '../request.ts';

/** Handlers for the CA routes. */
export function connectHandlers(ca: ConnectCAEndpoint, cfg: RequestConfig) {
  return {
    async roots(req: HttpRequest): Promise<HttpResult> {
      const { value, meta } = await ca.roots(queryOptions(req, cfg));
      if (req.query.get('pem') === 'true') return { raw: rootsPem(value), contentType: PEM_CHAIN_CONTENT_TYPE, meta };
      return { body: value, meta };
    },
  };
}
