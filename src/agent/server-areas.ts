// The server's HTTP areas built on their first request (issue #9): each imports its endpoint and
// handler modules then, so an agent start compiles none of them. buildServer passes the deps.
import type { EndpointDeps, HealthEndpoint } from '../endpoint/index.ts';
import type { RequestConfig, RouteHandlers } from '../http/index.ts';
import { lazyHandlers } from '../http/lazy-handlers.ts';
import type { IntentionEndpoint } from '../endpoint/intentions.ts';
import type { LegacyIntentionEndpoint } from '../endpoint/intentions-legacy.ts';
import type { RuntimeConfig } from './config/runtime.ts';

const INTENTION_ROUTES = [
  'list', 'create', 'match', 'check', 'getExact', 'putExact', 'deleteExact', 'getById', 'updateById', 'deleteById', 'authorize',
] as const;

/** /v1/connect/intentions* and /v1/agent/connect/authorize, over the intention endpoints made on first use. */
export function intentionRoutes(
  deps: EndpointDeps, config: RuntimeConfig, reqCfg: RequestConfig, measure: (ixns: IntentionEndpoint, legacy: LegacyIntentionEndpoint) => void,
): RouteHandlers['intentions'] {
  return lazyHandlers(INTENTION_ROUTES, async () => {
    const [{ IntentionEndpoint }, { LegacyIntentionEndpoint }, { intentionHandlers }] = await Promise.all([
      import('../endpoint/intentions.ts'), import('../endpoint/intentions-legacy.ts'), import('../http/v1/intentions.ts'),
    ]);
    const opts = { connectEnabled: config.connect.enabled };
    const ixns = new IntentionEndpoint(deps, opts);
    const legacy = new LegacyIntentionEndpoint(deps, opts);
    measure(ixns, legacy);
    return intentionHandlers(ixns, legacy, reqCfg);
  });
}

/** /v1/catalog/gateway-services/:gateway and /v1/health/ingress/:service. */
export function gatewayRoutes(deps: EndpointDeps, reqCfg: RequestConfig, health: HealthEndpoint): RouteHandlers['gateways'] {
  return lazyHandlers(['gatewayServices', 'ingress'], async () => {
    const [{ GatewayEndpoint }, { gatewayHandlers }] = await Promise.all([import('../endpoint/gateway-services.ts'), import('../http/v1/gateways.ts')]);
    return gatewayHandlers(new GatewayEndpoint(deps), reqCfg, health);
  });
}

/** /v1/discovery-chain/:service. */
export function discoveryChainRoutes(deps: EndpointDeps, reqCfg: RequestConfig): RouteHandlers['discoveryChain'] {
  return lazyHandlers(['read'], async () => {
    const [{ DiscoveryChainEndpoint }, { discoveryChainHandlers }] = await Promise.all([
      import('../endpoint/discovery-chain.ts'), import('../http/v1/discovery-chain.ts'),
    ]);
    return discoveryChainHandlers(new DiscoveryChainEndpoint(deps), reqCfg);
  });
}

const TENANCY_ROUTES = ['create', 'update', 'read', 'delete', 'list'] as const;

/** /v1/namespace/* and /v1/namespaces. */
export function namespaceRoutes(deps: EndpointDeps, reqCfg: RequestConfig): RouteHandlers['namespaces'] {
  return lazyHandlers(TENANCY_ROUTES, async () => {
    const [{ NamespaceEndpoint }, { namespaceHandlers }] = await Promise.all([import('../endpoint/namespaces.ts'), import('../http/v1/namespaces.ts')]);
    return namespaceHandlers(new NamespaceEndpoint(deps), reqCfg);
  });
}

/** /v1/partition/* and /v1/partitions. */
export function partitionRoutes(deps: EndpointDeps, reqCfg: RequestConfig): RouteHandlers['partitions'] {
  return lazyHandlers(TENANCY_ROUTES, async () => {
    const [{ PartitionEndpoint }, { partitionHandlers }] = await Promise.all([import('../endpoint/partitions.ts'), import('../http/v1/partitions.ts')]);
    return partitionHandlers(new PartitionEndpoint(deps), reqCfg);
  });
}
