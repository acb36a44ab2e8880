// `proconsul connect envoy -gateway terminating`: registers the gateway as Consul's command does
// with -register (Kind terminating-gateway, a TCP check on its LAN address), or finds it on the
// local agent, then runs the built-in data plane's terminating gateway in Envoy's place, with
// Envoy's admin /ready, /stats and /quitquitquit.
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import os from 'node:os';
import type { AgentService, ConsulClient } from '../api/index.ts';
import type { AgentServiceRegistration } from '../api/agent-services.ts';
import { TerminatingGateway } from '../connect/gateway/terminating.ts';
import { proxyStats, startEnvoyAdmin, type EnvoyAdmin, type EnvoyState } from '../connect/proxy/envoy-admin.ts';
import { createLogger, type Logger } from '../log.ts';
import type { EnvoyPlan } from './connect-envoy-flags.ts';
import type { ParsedFlags } from './flags.ts';
import { ui, type CliIO } from './io.ts';

const KIND = 'terminating-gateway';
const DEFAULT_PORT = 8443;

/** An address as the -address, -wan-address and -bind-address flags hold it. */
export interface GatewayAddress {
  Address: string;
  Port: number;
}

/** A terminating gateway to run: its service (registered first with -register) and the addresses given. */
export interface GatewayPlan {
  /** -service, else the kind (Consul's default gateway service name). */
  name: string;
  /** -proxy-id; with -register and none given, the service name. */
  proxyId: string;
  register: boolean;
  lan?: GatewayAddress;
  wan?: GatewayAddress;
  bindAddresses: Record<string, GatewayAddress>;
  deregisterAfterCritical: string;
}

/** The plan from the flags; `parse` reads an address flag value (the -address parser), `parseBind` a -bind-address one. */
export function gatewayPlan(
  flags: ParsedFlags, proxyId: string, parse: (v: string) => GatewayAddress, parseBind: (v: string) => [string, GatewayAddress],
): GatewayPlan {
  const str = (n: string) => String(flags.values[n] ?? '');
  const name = str('service') || KIND;
  const register = flags.values.register === true;
  const binds = (flags.values['bind-address'] as string[] | undefined) ?? [];
  return {
    name, proxyId: proxyId || (register ? name : ''), register,
    ...(str('address') ? { lan: parse(str('address')) } : {}),
    ...(str('wan-address') ? { wan: parse(str('wan-address')) } : {}),
    bindAddresses: Object.fromEntries(binds.map(parseBind)),
    deregisterAfterCritical: str('deregister-after-critical') || '6h',
  };
}

/**
 * Consul's canBind: an address this host can listen on (unspecified, or one of its interfaces' IPs);
 * an empty or non-IP address cannot be bound.
 */
export function canBind(address: string | undefined, interfaces = os.networkInterfaces()): boolean {
  if (!address || net.isIP(address) === 0) return false;
  if (address === '0.0.0.0' || address === '::') return true;
  const want = net.isIPv6(address) ? new net.SocketAddress({ address, family: 'ipv6' }).address : address;
  return Object.values(interfaces).some((list) => (list ?? []).some((i) => i.address === want));
}

/** Consul's refusal of a -register whose LAN address this host cannot bind (and no -bind-address overrides it); null when fine. */
export function lanBindError(plan: GatewayPlan, bindable: (a: string | undefined) => boolean = canBind): string | null {
  if (Object.keys(plan.bindAddresses).length > 0 || !plan.lan?.Address || bindable(plan.lan.Address)) return null;
  return `The LAN address ${JSON.stringify(plan.lan.Address)} will not be bindable. Either set a bindable address or override the bind addresses with -bind-address`;
}

/** Consul's registration of a gateway (-register): LAN and WAN tagged addresses, bind settings, a TCP check on the LAN port. */
export function gatewayRegistration(plan: GatewayPlan, bindable: (a: string | undefined) => boolean = canBind): AgentServiceRegistration {
  const lan = plan.lan ?? { Address: '', Port: DEFAULT_PORT };
  const tagged: Record<string, GatewayAddress> = {};
  if (lan.Address) tagged.lan = lan;
  if (plan.wan?.Address) tagged.wan = plan.wan;
  const binds = Object.keys(plan.bindAddresses).length > 0;
  const config = binds ? { envoy_gateway_no_default_bind: true, envoy_gateway_bind_addresses: plan.bindAddresses }
    : bindable(lan.Address) && bindable(plan.wan?.Address) ? { envoy_gateway_no_default_bind: true, envoy_gateway_bind_tagged_addresses: true } : undefined;
  const checkHost = lan.Address || '127.0.0.1';
  return {
    Kind: KIND, ID: plan.proxyId, Name: plan.name, Address: lan.Address, Port: lan.Port,
    ...(Object.keys(tagged).length ? { TaggedAddresses: tagged } : {}),
    ...(config ? { Proxy: { Config: config } } : {}),
    Check: {
      Name: `${KIND} listening`, TCP: checkHost.includes(':') ? `[${checkHost}]:${lan.Port}` : `${checkHost}:${lan.Port}`,
      Interval: '10s', DeregisterCriticalServiceAfter: plan.deregisterAfterCritical,
    },
  };
}

/** Where the gateway listens (Envoy's gateway bind rules): the bind addresses, the tagged addresses, else the service's address and port. */
export function gatewayBinds(svc: AgentService): { host: string; port: number }[] {
  const cfg = ((svc.Proxy as { Config?: Record<string, unknown> } | undefined)?.Config ?? {});
  const bindAddrs = cfg.envoy_gateway_bind_addresses as Record<string, GatewayAddress> | undefined;
  if (bindAddrs && Object.keys(bindAddrs).length) return Object.values(bindAddrs).map((a) => ({ host: a.Address, port: a.Port }));
  const out = [{ host: svc.Address || '0.0.0.0', port: svc.Port }];
  if (cfg.envoy_gateway_bind_tagged_addresses === true) {
    const tagged = (svc.TaggedAddresses ?? {}) as Record<string, GatewayAddress>;
    const seen = new Set<string>();
    const list = ['lan', 'wan'].map((k) => tagged[k]).filter((a): a is GatewayAddress => !!a?.Address)
      .map((a) => ({ host: a.Address, port: a.Port })).filter((b) => !seen.has(`${b.host}:${b.port}`) && seen.add(`${b.host}:${b.port}`));
    if (list.length) return list;
  }
  return out;
}

/**
 * Registers (-register, with `registration`) or finds the `kind` gateway service on the local
 * agent; throws Consul's texts.
 */
export async function gatewayService(
  client: ConsulClient, plan: GatewayPlan, io: CliIO, kind: string, registration: () => AgentServiceRegistration,
): Promise<AgentService> {
  if (plan.register) {
    const bindErr = lanBindError(plan);
    if (bindErr) throw new Error(bindErr);
    const reg = registration();
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
      found = Object.values((await client.agent.services({ filter: `Kind == \`${kind}\`` })).data);
    } catch (err) {
      throw new Error(`Failed looking up ${kind} instances: ${(err as Error).message}`);
    }
    if (found.length === 0) throw new Error(`No ${kind} services registered with this agent`);
    if (found.length > 1) throw new Error(`Cannot lookup the ${kind}'s proxy ID because multiple are registered with the agent`);
    id = found[0].ID;
  }
  let svc: AgentService | null;
  try {
    svc = (await client.agent.service(id)).data;
  } catch (err) {
    throw new Error(`failed fetch proxy config from local agent: ${(err as Error).message}`);
  }
  if (!svc) throw new Error(`failed fetch proxy config from local agent: Unexpected response code: 404 (unknown service ID: ${id})`);
  if (svc.Kind !== kind) throw new Error(`${id} is a ${String(svc.Kind || 'typical service')}, not a ${kind}`);
  return svc;
}

/** What a started gateway run exposes to tests. */
export interface Running<G> {
  gateway: G;
  adminAddress: string;
}

/** What a started terminating gateway run exposes to tests. */
export type GatewayRunning = Running<TerminatingGateway>;

/** What `startGateway` needs of a built-in gateway. */
interface Startable {
  start(): Promise<void>;
  close(): Promise<void>;
}

/** A built-in gateway to serve in Envoy's place, with what its /stats report. */
export interface GatewayServe<G extends Startable> {
  gateway: G;
  svc: AgentService;
  /** The gateway's kind as the log and error texts name it ('terminating', 'ingress', 'mesh'). */
  what: string;
  listeners: () => number;
  leafValidBefore?: () => string | undefined;
  io: CliIO;
  logger: Logger;
  admin: { host: string; port: number };
  /** Where Consul's ready listener serves /ready too, if anywhere. */
  ready?: { host: string; port: number };
  stop: Promise<unknown>;
  onStarted?: (r: Running<G>) => void;
}

/**
 * Serves a built-in gateway with Envoy's admin /ready, /stats and /quitquitquit (and /ready on
 * `ready`) until `stop` resolves or POST /quitquitquit; closes the gateway on the way out.
 */
export async function serveGateway<G extends Startable>(o: GatewayServe<G>): Promise<number> {
  const { gateway, io, logger } = o;
  let state: EnvoyState = 'INITIALIZING';
  let quit!: () => void;
  const quitting = new Promise<void>((r) => { quit = r; });
  const startedAt = Date.now();
  const stats = () => proxyStats({ state, uptimeMs: Date.now() - startedAt, listeners: o.listeners(), leafValidBefore: o.leafValidBefore?.(), nowMs: Date.now() });
  const admins: EnvoyAdmin[] = [];
  const adminDeps = { state: () => state, stats, quit: () => { state = 'DRAINING'; quit(); }, log: logger.child({ listener: 'admin' }) };
  try {
    try {
      admins.push(await startEnvoyAdmin(o.admin.host, o.admin.port, adminDeps));
      if (o.ready) admins.push(await startEnvoyAdmin(o.ready.host, o.ready.port, { ...adminDeps, paths: ['/ready'] }));
    } catch (err) {
      return (ui(io).error(`Failed to start the admin endpoint: ${(err as Error).message}`), 1);
    }
    logger.info({ service_id: o.svc.ID, admin: admins[0].address }, `Envoy is not run: the built-in data plane serves this ${o.what} gateway in its place`);
    const started = gateway.start().then(() => {
      state = 'LIVE';
      o.onStarted?.({ gateway, adminAddress: admins[0].address });
    });
    const failed = await Promise.race([started.then(() => null, (err: Error) => err), o.stop.then(() => null), quitting.then(() => null)]);
    if (failed) return (ui(io).error(`Failed running ${o.what} gateway: ${failed.message}`), 1);
    await Promise.race([o.stop, quitting]);
    state = 'DRAINING';
    logger.info('Shutting down');
    return 0;
  } finally {
    await gateway.close();
    await Promise.all(admins.map((a) => a.close()));
  }
}

/**
 * What every `connect envoy -gateway` run does first: Consul's warnings, the -admin-bind host
 * resolved and the gateway logger; a number is the exit code of a failure already reported.
 */
export async function gatewayPrelude(
  plan: EnvoyPlan, io: CliIO, warnings: string[] = plan.warnings,
): Promise<{ adminHost: string; logger: Logger } | number> {
  for (const w of warnings) io.stderr(`${w}\n`);
  let adminHost: string;
  try {
    adminHost = (await lookup(plan.admin.host, { order: 'ipv4first' })).address;
  } catch (err) {
    return (ui(io).error(`Failed to resolve admin bind address: ${(err as Error).message}`), 1);
  }
  const logger = createLogger({ level: 'info', json: false, write: (s) => io.stderr(s) }).child({ '@module': 'gateway' });
  return { adminHost, logger };
}

/** Runs the terminating gateway until `stop` resolves or POST /quitquitquit; the client is the caller's to close. */
export async function runTerminatingGateway(
  client: ConsulClient, plan: GatewayPlan, io: CliIO, logger: Logger, admin: { host: string; port: number }, stop: Promise<unknown>,
  onStarted?: (r: GatewayRunning) => void,
): Promise<number> {
  let svc: AgentService;
  try {
    svc = await gatewayService(client, plan, io, KIND, () => gatewayRegistration(plan));
  } catch (err) {
    return (ui(io).error((err as Error).message), 1);
  }
  const gateway = new TerminatingGateway({ client, logger: logger.child({ gateway: svc.Service }), service: svc.Service, binds: gatewayBinds(svc) });
  return serveGateway({ gateway, svc, what: 'terminating', listeners: () => gateway.addresses.length, io, logger, admin, stop, onStarted });
}

/**
 * `connect envoy -gateway terminating` once its flags passed: Consul's warnings, then the gateway
 * (registered first with -register) with the admin endpoint on -admin-bind; the client is the caller's.
 */
export async function runGatewayEnvoy(
  plan: EnvoyPlan & { gateway: GatewayPlan }, io: CliIO, client: ConsulClient, stop: Promise<unknown>, onStarted?: (r: GatewayRunning) => void,
): Promise<number> {
  const pre = await gatewayPrelude(plan, io);
  if (typeof pre === 'number') return pre;
  return runTerminatingGateway(client, plan.gateway, io, pre.logger, { host: pre.adminHost, port: plan.admin.port }, stop, onStarted);
}
