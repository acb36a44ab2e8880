// The server's HTTP areas built on their first request (issue #9): each imports its endpoint and
// handler modules then, so an agent start compiles none of them. buildServer passes the deps.
import type { EndpointDeps } from '../endpoint/index.ts';
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
