// PUT /v1/internal/service-virtual-ip: manual virtual IPs for a service (Consul's
// AssignManualServiceVIPs), used by consul-k8s to give a mesh service its ClusterIP.
import type { EndpointDeps } from '../../endpoint/deps.ts';
import { assignManualVIPs } from '../../endpoint/virtual-ips-manual.ts';
import { BadRequestError } from '../../errors.ts';
import type { HttpResult } from '../router.ts';
import { canonical, parseJSON } from '../body.ts';
import { authzOf, checkDatacenter, type HttpRequest, type RequestConfig } from '../request.ts';
import { requestEnt } from '../tenancy.ts';

const FIELDS = ['Service', 'ManualVIPs'] as const;

/** The body's service and addresses, fields matched case-insensitively; Go's decode errors for wrong types. */
function decode(body: Buffer): { service: string; ips: string[] } {
  const raw = parseJSON(body);
  if (raw !== undefined && (raw === null || typeof raw !== 'object' || Array.isArray(raw))) {
    throw new BadRequestError('Request decode failed: body must be an object');
  }
  const b = canonical(raw ?? {}, FIELDS);
  if (b.Service !== undefined && b.Service !== null && typeof b.Service !== 'string') {
    throw new BadRequestError('Request decode failed: json: cannot unmarshal into Go struct field AssignServiceManualVIPsRequest.Service of type string');
  }
  const ips = b.ManualVIPs ?? null;
  if (ips !== null && (!Array.isArray(ips) || ips.some((ip) => typeof ip !== 'string'))) {
    throw new BadRequestError('Request decode failed: json: cannot unmarshal into Go struct field AssignServiceManualVIPsRequest.ManualVIPs of type []string');
  }
  return { service: (b.Service as string | null) ?? '', ips: (ips as string[] | null) ?? [] };
}

/** The handler of PUT /v1/internal/service-virtual-ip. */
export function internalVipHandlers(deps: EndpointDeps, cfg: RequestConfig) {
  return {
    async assign(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      const { service, ips } = decode(await req.body());
      const authz = authzOf(req, cfg);
      const ent = requestEnt(req, cfg, 'namespace-no-wildcard', authz);
      return { body: await assignManualVIPs(deps, authz, ent, service, ips) };
    },
  };
}
