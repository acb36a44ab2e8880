// `proconsul connect envoy -gateway api`: registers the gateway as Consul's command does with
// -register (Kind api-gateway, a TCP check on its LAN address), or finds it on the local agent,
// then runs the built-in data plane's API gateway in Envoy's place as the ingress gateway is run
// (Envoy's admin /ready, /stats and /quitquitquit).
import type { ConsulClient } from '../api/index.ts';
import type { AgentServiceRegistration } from '../api/agent-services.ts';
import { ApiGateway } from '../connect/gateway/api.ts';
import type { EnvoyPlan } from './connect-envoy-flags.ts';
import type { GatewayPlan, Running } from './connect-gateway.ts';
import { hostedRegistration, runHostedGatewayEnvoy, type HostedGateway } from './connect-ingress-gateway.ts';
import type { CliIO } from './io.ts';

// No /ready on the LAN address (Consul sets Envoy's ready listener there for ingress gateways only): a listener may use that port.
const API: HostedGateway<ApiGateway> = { kind: 'api-gateway', what: 'API', readyOnLan: false, make: (o) => new ApiGateway(o) };

/** Consul's -register of an API gateway: the terminating one's shape with Kind api-gateway. */
export function apiGatewayRegistration(plan: GatewayPlan): AgentServiceRegistration {
  return hostedRegistration(API.kind, plan);
}

/** What a started API gateway run exposes to tests. */
export type ApiGatewayRunning = Running<ApiGateway>;

/** `connect envoy -gateway api` once its flags passed (runHostedGatewayEnvoy). */
export function runApiGatewayEnvoy(
  plan: EnvoyPlan & { gateway: GatewayPlan }, io: CliIO, client: ConsulClient, stop: Promise<unknown>, onStarted?: (r: ApiGatewayRunning) => void,
): Promise<number> {
  return runHostedGatewayEnvoy(API, plan, io, client, stop, onStarted);
}
