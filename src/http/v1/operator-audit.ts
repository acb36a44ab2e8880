// POST /v1/operator/audit-hash (Consul Enterprise, operator:read): body {"Input": "..."} →
// {"Hash": "hmac_sha256:<hex>"} under the cluster's audit salt.
import { BadRequestError } from '../../errors.ts';
import { authorize } from '../../endpoint/index.ts';
import type { HttpResult } from '../router.ts';
import { parseJSON } from '../body.ts';
import { authzOf, checkDatacenter, type HttpRequest, type RequestConfig } from '../request.ts';

/** The audit hash handler over `hash` (endpoint/audit-hash.ts). */
export function operatorAuditHashHandler(reqCfg: RequestConfig, hash: (input: string) => Promise<string>) {
  return async (req: HttpRequest): Promise<HttpResult> => {
    checkDatacenter(req, reqCfg);
    authorize(authzOf(req, reqCfg), 'operatorRead');
    const body = parseJSON(await req.body(), 'Request decode failed');
    const input = body && typeof body === 'object' ? Object.entries(body).find(([k]) => k.toLowerCase() === 'input')?.[1] : undefined;
    if (typeof input !== 'string') throw new BadRequestError('Input is required');
    return { body: { Hash: await hash(input) } };
  };
}
