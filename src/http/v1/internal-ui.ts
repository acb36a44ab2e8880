// /v1/internal/ui/*: the reads the web UI makes (Consul's agent/ui_endpoint.go); parse, call the
// internal UI endpoint, return its shapes.
import type { InternalUiEndpoint } from '../../endpoint/internal-ui.ts';
import { BadRequestError, InternalError } from '../../errors.ts';
import type { HttpResult } from '../router.ts';
import { queryOptions, type HttpRequest, type RequestConfig } from '../request.ts';

function name(req: HttpRequest, what: string): string {
  if (!req.params.rest) throw new BadRequestError(`Missing ${what}`);
  return req.params.rest;
}

/** Handlers for the internal UI routes. */
export function internalUiHandlers(ui: InternalUiEndpoint, cfg: RequestConfig) {
  return {
    async nodes(req: HttpRequest): Promise<HttpResult> {
      // Consul Enterprise's UINodes parses the namespace with `*` allowed (every namespace's services).
      const { value, meta } = await ui.nodes(queryOptions(req, cfg, { tenancy: 'namespace' }), req.query.get('filter') ?? undefined);
      return { body: value, meta };
    },
    async node(req: HttpRequest): Promise<HttpResult> {
      const opts = queryOptions(req, cfg, { tenancy: 'namespace' });
      const { value, meta } = await ui.node(name(req, 'node name'), opts, req.query.get('peer') ?? '');
      // Consul answers a missing (or hidden) node with a bare 404.
      return value ? { body: value, meta } : { status: 404, meta };
    },
    async services(req: HttpRequest): Promise<HttpResult> {
      // Consul Enterprise's UIServices parses the namespace with `*` allowed (every namespace of the partition).
      const { value, meta } = await ui.services(queryOptions(req, cfg, { tenancy: 'namespace' }), req.query.get('filter') ?? undefined, req.query.get('peer') ?? '');
      return { body: value, meta };
    },
    async catalogOverview(req: HttpRequest): Promise<HttpResult> {
      // Consul's handler sets no query meta here, and parses no namespace or partition (both ignored, in CE too).
      return { body: ui.catalogOverview(queryOptions(req, cfg, { tenancy: false })) };
    },
    async gatewayServicesNodes(req: HttpRequest): Promise<HttpResult> {
      // Consul Enterprise's UIGatewayServicesNodes parses the namespace without `*`.
      const { value, meta } = await ui.gatewayServicesNodes(name(req, 'gateway name'), queryOptions(req, cfg, { tenancy: 'namespace-no-wildcard' }));
      return { body: value, meta };
    },
    async gatewayIntentions(req: HttpRequest): Promise<HttpResult> {
      // Consul Enterprise's UIGatewayIntentions parses the namespace without `*`.
      const { value, meta } = await ui.gatewayIntentions(name(req, 'gateway name'), queryOptions(req, cfg, { tenancy: 'namespace-no-wildcard' }));
      return { body: value, meta };
    },
    async serviceTopology(req: HttpRequest): Promise<HttpResult> {
      // Consul Enterprise's UIServiceTopology parses the namespace (parseEntMeta; `*` names no single namespace here).
      const opts = queryOptions(req, cfg, { tenancy: 'namespace-no-wildcard' });
      const service = name(req, 'service name');
      const kind = req.query.get('kind');
      if (kind === null) throw new BadRequestError('Missing service kind');
      if (kind !== '' && kind !== 'ingress-gateway') throw new BadRequestError(`Unsupported service kind ${JSON.stringify(kind)}`);
      const { value, meta } = await ui.serviceTopology(service, kind, opts);
      return { body: value, meta };
    },
    async exportedServices(req: HttpRequest): Promise<HttpResult> {
      // Consul Enterprise's UIExportedServices parses the namespace and partition with `*` allowed.
      const opts = queryOptions(req, cfg, { tenancy: 'namespace' });
      const peer = req.query.get('peer') ?? '';
      if (peer === '') throw new InternalError('must provide PeerName');
      const { value, meta } = await ui.exportedServices(peer, opts);
      return { body: value, meta };
    },
  };
}
