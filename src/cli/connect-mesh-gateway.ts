// `proconsul connect envoy -gateway mesh` (and the deprecated -mesh-gateway): registers the gateway
// as Consul's command does with -register (Kind mesh-gateway, LAN and WAN tagged addresses, a TCP
// check on its LAN address, the consul-wan-federation meta with -expose-servers), or finds it on
// the local agent, then runs the built-in data plane's mesh gateway in Envoy's place, with Envoy's
// admin /ready, /stats and /quitquitquit.
import type { AgentService, ConsulClient } from '../api/index.ts';
import type { AgentServiceRegistration } from '../api/agent-services.ts';
import { MeshGateway } from '../connect/gateway/mesh.ts';
import type { EnvoyPlan } from './connect-envoy-flags.ts';
import { gatewayBinds, gatewayPrelude, gatewayRegistration, gatewayService, serveGateway, type GatewayPlan, type Running } from './connect-gateway.ts';
import { ui, type CliIO } from './io.ts';

const KIND = 'mesh-gateway';
const EXPOSE_SERVERS_WARNING = '-expose-servers: the consul-wan-federation meta is registered, but the built-in mesh gateway carries mesh service traffic only, not server RPC or gossip';

/** A mesh gateway to run: the common gateway plan and -expose-servers. */
export interface MeshGatewayPlan extends GatewayPlan {
  exposeServers: boolean;
}

/** Consul's -register of a mesh gateway: the terminating one's shape with Kind mesh-gateway, and the WAN federation meta with -expose-servers. */
export function meshRegistration(plan: MeshGatewayPlan): AgentServiceRegistration {
  const reg = gatewayRegistration(plan);
  return {
    ...reg, Kind: KIND,
    ...(plan.exposeServers ? { Meta: { 'consul-wan-federation': '1' } } : {}),
    ...(reg.Check ? { Check: { ...reg.Check, Name: `${KIND} listening` } } : {}),
  };
}

/** What a started mesh gateway run exposes to tests. */
export type MeshRunning = Running<MeshGateway>;

/**
 * `connect envoy -gateway mesh` once its flags passed: Consul's warnings, the gateway (registered
 * first with -register) and the admin endpoint on -admin-bind; runs until `stop` resolves or POST
 * /quitquitquit. The client is the caller's.
 */
export async function runMeshGatewayEnvoy(
  plan: EnvoyPlan & { gateway: MeshGatewayPlan }, io: CliIO, client: ConsulClient, stop: Promise<unknown>, onStarted?: (r: MeshRunning) => void,
): Promise<number> {
  const pre = await gatewayPrelude(plan, io, [...plan.warnings, ...(plan.gateway.exposeServers ? [EXPOSE_SERVERS_WARNING] : [])]);
  if (typeof pre === 'number') return pre;
  const { logger } = pre;
  let svc: AgentService;
  try {
    svc = await gatewayService(client, plan.gateway, io, KIND, () => meshRegistration(plan.gateway));
  } catch (err) {
    return (ui(io).error((err as Error).message), 1);
  }
  const gateway = new MeshGateway({ client, logger: logger.child({ gateway: svc.Service }), service: svc.Service, binds: gatewayBinds(svc) });
  return serveGateway({
    gateway, svc, what: 'mesh', listeners: () => gateway.addresses.length,
    io, logger, admin: { host: pre.adminHost, port: plan.admin.port }, ready: plan.ready, stop, onStarted,
  });
}
