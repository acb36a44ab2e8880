// `proconsul connect envoy -gateway ingress`: registers the gateway as Consul's command does with
// -register (Kind ingress-gateway, a TCP check on its LAN address), or finds it on the local
// agent, then runs the built-in data plane's ingress gateway in Envoy's place, with Envoy's admin
// /ready, /stats and /quitquitquit, and /ready also on the LAN address (Consul's ready listener
// there is what the TCP check reaches). The API gateway (connect-api-gateway.ts) runs the same way.
import type { AgentService, ConsulClient } from '../api/index.ts';
import type { AgentServiceRegistration } from '../api/agent-services.ts';
import { IngressGateway } from '../connect/gateway/ingress.ts';
import type { ConnectService } from '../connect/proxy/service.ts';
import { LINEAR_REGEXP_FLAG } from '../connect/proxy/l7-route.ts';
import type { Logger } from '../log.ts';
import type { EnvoyPlan } from './connect-envoy-flags.ts';
import { gatewayPrelude, gatewayRegistration, gatewayService, serveGateway, type GatewayPlan, type Running } from './connect-gateway.ts';
import { ui, type CliIO } from './io.ts';

const DEFAULT_PORT = 8443;

/** A gateway run as the ingress gateway is: its kind, its name in logs, and how it is built. */
export interface HostedGateway<G> {
  kind: string;
  what: string;
  /** Whether /ready is also served on the LAN address, for the TCP check (Consul does so for ingress gateways only). */
  readyOnLan: boolean;
  make(o: { client: ConsulClient; logger: Logger; service: string; bindHost: string }): G;
}

/** What the runner needs of such a gateway. */
interface Hosted {
  start(): Promise<void>;
  close(): Promise<void>;
  readonly addresses: Map<number, string>;
  readonly service: ConnectService;
}

/** Consul's -register of a gateway of `kind`: the terminating one's shape with that Kind. */
export function hostedRegistration(kind: string, plan: GatewayPlan): AgentServiceRegistration {
  const reg = gatewayRegistration(plan);
  return { ...reg, Kind: kind, ...(reg.Check ? { Check: { ...reg.Check, Name: `${kind} listening` } } : {}) };
}

/**
 * `connect envoy -gateway <kind>` once its flags passed: Consul's warnings, the gateway
 * (registered first with -register), the admin endpoint on -admin-bind and /ready on the LAN
 * address; runs until `stop` resolves or POST /quitquitquit. The client is the caller's.
 */
export async function runHostedGatewayEnvoy<G extends Hosted>(
  k: HostedGateway<G>, plan: EnvoyPlan & { gateway: GatewayPlan }, io: CliIO, client: ConsulClient, stop: Promise<unknown>,
  onStarted?: (r: Running<G>) => void,
): Promise<number> {
  const pre = await gatewayPrelude(plan, io);
  if (typeof pre === 'number') return pre;
  const { logger } = pre;
  let svc: AgentService;
  try {
    svc = await gatewayService(client, plan.gateway, io, k.kind, () => hostedRegistration(k.kind, plan.gateway));
  } catch (err) {
    return (ui(io).error((err as Error).message), 1);
  }
  // Route regexes from config entries then run in linear time, as RE2 runs Envoy's.
  io.setV8Flag?.(LINEAR_REGEXP_FLAG);
  const gateway = k.make({ client, logger: logger.child({ gateway: svc.Service }), service: svc.Service, bindHost: svc.Address || '0.0.0.0' });
  return serveGateway({
    gateway, svc, what: k.what, listeners: () => gateway.addresses.size, leafValidBefore: () => gateway.service.leafCert?.ValidBefore,
    io, logger, admin: { host: pre.adminHost, port: plan.admin.port },
    ready: plan.ready ?? (k.readyOnLan ? { host: svc.Address || '127.0.0.1', port: svc.Port || DEFAULT_PORT } : undefined), stop, onStarted,
  });
}

const INGRESS: HostedGateway<IngressGateway> = { kind: 'ingress-gateway', what: 'ingress', readyOnLan: true, make: (o) => new IngressGateway(o) };

/** Consul's -register of an ingress gateway: the terminating one's shape with Kind ingress-gateway. */
export function ingressRegistration(plan: GatewayPlan): AgentServiceRegistration {
  return hostedRegistration(INGRESS.kind, plan);
}

/** What a started ingress gateway run exposes to tests. */
export type IngressRunning = Running<IngressGateway>;

/** `connect envoy -gateway ingress` once its flags passed (runHostedGatewayEnvoy). */
export function runIngressGatewayEnvoy(
  plan: EnvoyPlan & { gateway: GatewayPlan }, io: CliIO, client: ConsulClient, stop: Promise<unknown>, onStarted?: (r: IngressRunning) => void,
): Promise<number> {
  return runHostedGatewayEnvoy(INGRESS, plan, io, client, stop, onStarted);
}
