// The agent's own service and check routes (/v1/agent/service*, /v1/agent/check*, /v1/agent/health/service/*),
// built on their first request (issue #9): their handlers and the registration code they use
// (definitions, validation, sidecars, proxies, ACL vetting, check runners' types) load then, not at start.
import type { Clock } from '../../clock.ts';
import type { Local } from '../../agent/local/index.ts';
import { lazyHandlers } from '../lazy-handlers.ts';
import type { RouteHandlers } from '../routes.ts';
import type { AgentLocalConfig } from './agent-services.ts';

const SERVICE_ROUTES = ['services', 'service', 'register', 'deregister', 'maintenance', 'healthById', 'healthByName'] as const;
const CHECK_ROUTES = ['checks', 'register', 'deregister', 'pass', 'warn', 'fail', 'update', 'nodeMaintenance'] as const;

/** The agent services and agent checks route groups over `local`, each made on its first request. */
export function agentLocalRoutes(
  local: Local, cfg: AgentLocalConfig, clock: Clock, random: () => number,
): Pick<RouteHandlers, 'agentServices' | 'agentChecks'> {
  return {
    agentServices: lazyHandlers(SERVICE_ROUTES, async () => (await import('./agent-services.ts')).agentServiceHandlers(local, cfg, clock, random)),
    agentChecks: lazyHandlers(CHECK_ROUTES, async () => (await import('./agent-checks.ts')).agentCheckHandlers(local, cfg)),
  };
}
