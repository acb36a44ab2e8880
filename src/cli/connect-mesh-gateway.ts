// `proconsul connect envoy -gateway mesh` (and the deprecated -mesh-gateway): registers the gateway
// as Consul's command does with -register (Kind mesh-gateway, LAN and WAN tagged addresses, a TCP
// check on its LAN address, the consul-wan-federation meta with -expose-servers), or finds it on
// the local agent, then runs the built-in data plane's mesh gateway in Envoy's place, with Envoy's
// admin /ready, /stats and /quitquitquit.
import { lookup } from 'node:dns/promises';
import type { AgentService, ConsulClient } from '../api/index.ts';
import type { AgentServiceRegistration } from '../api/agent-services.ts';
import { MeshGateway } from '../connect/gateway/mesh.ts';
import { proxyStats, startEnvoyAdmin, type EnvoyAdmin, type EnvoyState } from '../connect/proxy/envoy-admin.ts';
import { createLogger, type Logger } from '../log.ts';
import type { EnvoyPlan } from './connect-envoy-flags.ts';
import { gatewayBinds, gatewayRegistration, lanBindError, type GatewayPlan } from './connect-gateway.ts';
import { ui, type CliIO } from './io.ts';

const KIND = 'mesh-gateway';

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

/** Registers (-register) or finds the gateway service; throws Consul's texts. */
async function meshService(client: ConsulClient, plan: MeshGatewayPlan, io: CliIO): Promise<AgentService> {
  if (plan.register) {
    const bindErr = lanBindError(plan);
    if (bindErr) throw new Error(bindErr);
    const reg = meshRegistration(plan);
    try {
      await client.agent.serviceRegister(reg);
    } catch (err) {
      throw new Error(`Error registering service ${JSON.stringify(reg.Name)}: ${(err as Error).message}`);
    }
    io.stdout(`Registered service: ${reg.Name}\n`);
  }
  let id = plan.proxyId;
  if (!id) {
    let found: AgentService[];
    try {
      found = Object.values((await client.agent.services({ filter: `Kind == \`${KIND}\`` })).data);
    } catch (err) {
      throw new Error(`Failed looking up ${KIND} instances: ${(err as Error).message}`);
    }
    if (found.length === 0) throw new Error(`No ${KIND} services registered with this agent`);
    if (found.length > 1) throw new Error(`Cannot lookup the ${KIND}'s proxy ID because multiple are registered with the agent`);
    id = found[0].ID;
  }
  let svc: AgentService | null;
  try {
    svc = (await client.agent.service(id)).data;
  } catch (err) {
    throw new Error(`failed fetch proxy config from local agent: ${(err as Error).message}`);
  }
  if (!svc) throw new Error(`failed fetch proxy config from local agent: Unexpected response code: 404 (unknown service ID: ${id})`);
  if (svc.Kind !== KIND) throw new Error(`${id} is a ${String(svc.Kind || 'typical service')}, not a ${KIND}`);
  return svc;
}

/** What a started mesh gateway run exposes to tests. */
export interface MeshRunning {
  gateway: MeshGateway;
  adminAddress: string;
}

/**
 * `connect envoy -gateway mesh` once its flags passed: Consul's warnings, the gateway (registered
 * first with -register) and the admin endpoint on -admin-bind; runs until `stop` resolves or POST
 * /quitquitquit. The client is the caller's.
 */
export async function runMeshGatewayEnvoy(
  plan: EnvoyPlan & { gateway: MeshGatewayPlan }, io: CliIO, client: ConsulClient, stop: Promise<unknown>, onStarted?: (r: MeshRunning) => void,
): Promise<number> {
  for (const w of plan.warnings) io.stderr(`${w}\n`);
  if (plan.gateway.exposeServers) io.stderr('-expose-servers: the consul-wan-federation meta is registered, but the built-in mesh gateway carries mesh service traffic only, not server RPC or gossip\n');
  let adminHost: string;
  try {
    adminHost = (await lookup(plan.admin.host, { order: 'ipv4first' })).address;
  } catch (err) {
    return (ui(io).error(`Failed to resolve admin bind address: ${(err as Error).message}`), 1);
  }
  const logger: Logger = createLogger({ level: 'info', json: false, write: (s) => io.stderr(s) }).child({ '@module': 'gateway' });
  let svc: AgentService;
  try {
    svc = await meshService(client, plan.gateway, io);
  } catch (err) {
    return (ui(io).error((err as Error).message), 1);
  }
  const gateway = new MeshGateway({ client, logger: logger.child({ gateway: svc.Service }), service: svc.Service, binds: gatewayBinds(svc) });
  let state: EnvoyState = 'INITIALIZING';
  let quit!: () => void;
  const quitting = new Promise<void>((r) => { quit = r; });
  const startedAt = Date.now();
  const stats = () => proxyStats({ state, uptimeMs: Date.now() - startedAt, listeners: gateway.addresses.length, leafValidBefore: undefined, nowMs: Date.now() });
  const admins: EnvoyAdmin[] = [];
  const adminDeps = { state: () => state, stats, quit: () => { state = 'DRAINING'; quit(); }, log: logger.child({ listener: 'admin' }) };
  try {
    try {
      admins.push(await startEnvoyAdmin(adminHost, plan.admin.port, adminDeps));
      if (plan.ready) admins.push(await startEnvoyAdmin(plan.ready.host, plan.ready.port, { ...adminDeps, paths: ['/ready'] }));
    } catch (err) {
      return (ui(io).error(`Failed to start the admin endpoint: ${(err as Error).message}`), 1);
    }
    logger.info({ service_id: svc.ID, admin: admins[0].address }, 'Envoy is not run: the built-in data plane serves this mesh gateway in its place');
    const started = gateway.start().then(() => {
      state = 'LIVE';
      onStarted?.({ gateway, adminAddress: admins[0].address });
    });
    const failed = await Promise.race([started.then(() => null, (err: Error) => err), stop.then(() => null), quitting.then(() => null)]);
    if (failed) return (ui(io).error(`Failed running mesh gateway: ${failed.message}`), 1);
    await Promise.race([stop, quitting]);
    state = 'DRAINING';
    logger.info('Shutting down');
    return 0;
  } finally {
    await gateway.close();
    await Promise.all(admins.map((a) => a.close()));
  }
}
