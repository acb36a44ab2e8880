// `proconsul connect envoy -gateway ingress`: registers the gateway as Consul's command does with
// -register (Kind ingress-gateway, a TCP check on its LAN address), or finds it on the local
// agent, then runs the built-in data plane's ingress gateway in Envoy's place, with Envoy's admin
// /ready, /stats and /quitquitquit, and /ready also on the LAN address (Consul's ready listener
// there is what the TCP check reaches).
import type { AgentService, ConsulClient } from '../api/index.ts';
import type { AgentServiceRegistration } from '../api/agent-services.ts';
import { IngressGateway } from '../connect/gateway/ingress.ts';
import { LINEAR_REGEXP_FLAG } from '../connect/proxy/l7-route.ts';
import type { EnvoyPlan } from './connect-envoy-flags.ts';
import { gatewayPrelude, gatewayRegistration, gatewayService, serveGateway, type GatewayPlan, type Running } from './connect-gateway.ts';
import { ui, type CliIO } from './io.ts';

const KIND = 'ingress-gateway';
const DEFAULT_PORT = 8443;

/** Consul's -register of an ingress gateway: the terminating one's shape with Kind ingress-gateway. */
export function ingressRegistration(plan: GatewayPlan): AgentServiceRegistration {
  const reg = gatewayRegistration(plan);
  return { ...reg, Kind: KIND, ...(reg.Check ? { Check: { ...reg.Check, Name: `${KIND} listening` } } : {}) };
}

/** What a started ingress gateway run exposes to tests. */
export type IngressRunning = Running<IngressGateway>;

/**
 * `connect envoy -gateway ingress` once its flags passed: Consul's warnings, the gateway
 * (registered first with -register), the admin endpoint on -admin-bind and /ready on the LAN
 * address; runs until `stop` resolves or POST /quitquitquit. The client is the caller's.
 */
export async function runIngressGatewayEnvoy(
  plan: EnvoyPlan & { gateway: GatewayPlan }, io: CliIO, client: ConsulClient, stop: Promise<unknown>, onStarted?: (r: IngressRunning) => void,
): Promise<number> {
  const pre = await gatewayPrelude(plan, io);
  if (typeof pre === 'number') return pre;
  const { logger } = pre;
  let svc: AgentService;
  try {
    svc = await gatewayService(client, plan.gateway, io, KIND, () => ingressRegistration(plan.gateway));
  } catch (err) {
    return (ui(io).error((err as Error).message), 1);
  }
  // Route regexes from config entries then run in linear time, as RE2 runs Envoy's.
  io.setV8Flag?.(LINEAR_REGEXP_FLAG);
  const gateway = new IngressGateway({ client, logger: logger.child({ gateway: svc.Service }), service: svc.Service, bindHost: svc.Address || '0.0.0.0' });
  return serveGateway({
    gateway, svc, what: 'ingress', listeners: () => gateway.addresses.size, leafValidBefore: () => gateway.service.leafCert?.ValidBefore,
    io, logger, admin: { host: pre.adminHost, port: plan.admin.port },
    ready: plan.ready ?? { host: svc.Address || '127.0.0.1', port: svc.Port || DEFAULT_PORT }, stop, onStarted,
  });
}
