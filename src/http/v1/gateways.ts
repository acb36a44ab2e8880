// /v1/catalog/gateway-services/:gateway and /v1/health/ingress/:service: the gateway views
// derived from ingress-gateway and terminating-gateway config entries.
import type { GatewayEndpoint } from '../../endpoint/gateway-services.ts';
import type { HealthEndpoint } from '../../endpoint/health.ts';
import { sameness, samenessParam } from './catalog.ts';
import { BadRequestError } from '../../errors.ts';
import type { HttpResult } from '../router.ts';
import { boolParam, queryOptions, type HttpRequest, type RequestConfig } from '../request.ts';

function name(req: HttpRequest, what: string): string {
  if (!req.params.rest) throw new BadRequestError(`Missing ${what}`);
  return req.params.rest;
}

/** Handlers for the gateway routes (`health`: for health/ingress through a sameness group). */
export function gatewayHandlers(gateways: GatewayEndpoint, cfg: RequestConfig, health?: HealthEndpoint) {
  return {
    async gatewayServices(req: HttpRequest): Promise<HttpResult> {
      // Consul Enterprise's CatalogGatewayServices reads ?ns= and ?partition= (no `ns=*`).
      const { value, meta } = await gateways.gatewayServices(name(req, 'gateway name'), queryOptions(req, cfg, { tenancy: 'namespace-no-wildcard' }));
      return { body: value, meta };
    },
    async ingress(req: HttpRequest): Promise<HttpResult> {
      if (health && samenessParam(req)) return sameness(health, req, cfg, 'ingress');
      // Consul Enterprise's health/ingress reads ?ns= and ?partition= (no `ns=*`), as health/service;
      // the service name is checked before ?passing.
      const opts = queryOptions(req, cfg, { tenancy: 'namespace-no-wildcard' });
      const service = name(req, 'service name');
      const passing = boolParam(req, 'passing', 'Invalid value for ?passing');
      const filter = req.query.get('filter') ?? undefined;
      const near = req.query.get('near') || undefined;
      const { value, meta } = await gateways.ingress(service, opts, { passing, filter, near });
      return { body: value, meta };
    },
  };
}
