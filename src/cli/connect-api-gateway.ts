// `proconsul connect envoy -gateway api`: registers the gateway as Consul's command does with
// -register (Kind api-gateway, a TCP check on its LAN address), or finds it on the local agent,
// then runs the built-in data plane's API gateway in Envoy's place, with Envoy's admin /ready,
// /stats and /quitquitquit, and /ready also on the LAN address.
import type { AgentService, ConsulClient } from '../api/index.ts';
import type { AgentServiceRegistration } from '../api/agent-services.ts';
import { ApiGateway } from '../connect/gateway/api.ts';
import { LINEAR_REGEXP_FLAG } from '../connect/proxy/l7-route.ts';
import type { EnvoyPlan } from './connect-envoy-flags.ts';
import { gatewayPrelude, gatewayRegistration, gatewayService, serveGateway, type GatewayPlan, type Running } from './connect-gateway.ts';
import { ui, type CliIO } from './io.ts';

const KIND = 'api-gateway';
const DEFAULT_PORT = 8443;

/** Consul's -register of an API gateway: the terminating one's shape with Kind api-gateway. */
export function apiGatewayRegistration(plan: GatewayPlan): AgentServiceRegistration {
  const reg = gatewayRegistration(plan);
  return { ...reg, Kind: KIND, ...(reg.Check ? { Check: { ...reg.Check, Name: `${KIND} listening` } } : {}) };
}

/** What a started API gateway run exposes to tests. */
export type ApiGatewayRunning = Running<ApiGateway>;

/**
 * `connect envoy -gateway api` once its flags passed: Consul's warnings, the gateway (registered
 * first with -register), the admin endpoint on -admin-bind and /ready on the LAN address; runs
 * until `stop` resolves or POST /quitquitquit. The client is the caller's.
 */
export async function runApiGatewayEnvoy(
  plan: EnvoyPlan & { gateway: GatewayPlan }, io: CliIO, client: ConsulClient, stop: Promise<unknown>, onStarted?: (r: ApiGatewayRunning) => void,
): Promise<number> {
  const pre = await gatewayPrelude(plan, io);
  if (typeof pre === 'number') return pre;
  const { logger } = pre;
  let svc: AgentService;
  try {
    svc = await gatewayService(client, plan.gateway, io, KIND, () => apiGatewayRegistration(plan.gateway));
  } catch (err) {
    return (ui(io).error((err as Error).message), 1);
  }
  // Route regexes from http-routes then run in linear time, as RE2 runs Envoy's.
  io.setV8Flag?.(LINEAR_REGEXP_FLAG);
  const gateway = new ApiGateway({ client, logger: logger.child({ gateway: svc.Service }), service: svc.Service, bindHost: svc.Address || '0.0.0.0' });
  return serveGateway({
    gateway, svc, what: 'API', listeners: () => gateway.addresses.size, leafValidBefore: () => gateway.service.leafCert?.ValidBefore,
    io, logger, admin: { host: pre.adminHost, port: plan.admin.port },
    ready: plan.ready ?? { host: svc.Address || '127.0.0.1', port: svc.Port || DEFAULT_PORT }, stop, onStarted,
  });
}
