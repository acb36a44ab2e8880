// `proconsul connect envoy`: Consul's command with every flag it accepts, running the built-in
// data plane (the proxy `connect proxy -sidecar-for` runs) in Envoy's place for the sidecar
// registration found, with Envoy's admin /ready, /stats and /quitquitquit on -admin-bind.
import { lookup } from 'node:dns/promises';
import type { AgentService, ConsulClient } from '../api/index.ts';
import { proxyConfigOf, watchProxyConfig } from '../connect/proxy/agent-config-watch.ts';
import { proxyStats, startEnvoyAdmin, type EnvoyAdmin, type EnvoyState } from '../connect/proxy/envoy-admin.ts';
import { Proxy, findSidecarProxy } from '../connect/proxy/index.ts';
import { LINEAR_REGEXP_FLAG } from '../connect/proxy/l7-route.ts';
import { createLogger, type Logger } from '../log.ts';
import { ENVOY_FLAGS, addressFlagError, gatewayRefusal, planEnvoy, type EnvoyPlan } from './connect-envoy-flags.ts';
import type { ParsedFlags } from './flags.ts';
import { openClient } from './http-flags.ts';
import { runIngressGatewayEnvoy } from './connect-ingress-gateway.ts';
import { runApiGatewayEnvoy } from './connect-api-gateway.ts';
import { runMeshGatewayEnvoy, type MeshRunning } from './connect-mesh-gateway.ts';
import { runGatewayEnvoy, type GatewayRunning } from './connect-gateway.ts';
import { parseCommandFlags, ui, type CliIO, type Command } from './io.ts';
import { goFlagDefaults } from './usage.ts';

/** What a started run exposes to tests: the proxy and the admin endpoint's address. */
export interface EnvoyRunning {
  proxy: Proxy;
  adminAddress: string;
}

/** The proxy registration to run and its ID. */
interface Registration {
  proxyId: string;
  svc: AgentService & { ContentHash?: string };
}

/** Finds the proxy registration as Consul does (-proxy-id, else the one sidecar for -sidecar-for); throws Consul's texts. */
async function loadRegistration(client: ConsulClient, plan: EnvoyPlan, warn: (s: string) => void): Promise<Registration> {
  const proxyId = plan.proxyId || await findSidecarProxy(client, plan.sidecarFor);
  if (!client.config.token && await aclEnabled(client)) {
    warn('No ACL token was provided to Envoy. Because the ACL system is enabled, pass a suitable ACL token for this service to Envoy to avoid potential communication failure.');
  }
  let svc: AgentService | null;
  try {
    svc = (await client.agent.service(proxyId)).data;
  } catch (err) {
    throw new Error(`failed fetch proxy config from local agent: ${(err as Error).message}`);
  }
  if (!svc) throw new Error(`failed fetch proxy config from local agent: Unexpected response code: 404 (unknown service ID: ${proxyId})`);
  const gateway = /^(terminating|mesh|ingress|api)-gateway$/.exec(String(svc.Kind ?? ''))?.[1];
  if (gateway) throw new Error(`${proxyId} is a ${String(svc.Kind)}: run it with -gateway ${gateway} -proxy-id ${proxyId}`);
  if (String(svc.Kind ?? '').endsWith('-gateway')) throw new Error(gatewayRefusal(String(svc.Kind).replace(/-gateway$/, ''), `${proxyId} is a ${svc.Kind}`));
  if (!svc.Proxy || svc.Kind !== 'connect-proxy') throw new Error('service is not a Connect proxy or gateway');
  return { proxyId, svc };
}

/** Whether the agent enforces ACLs: Consul reads the token's own record and looks for `ACL not found`. */
async function aclEnabled(client: ConsulClient): Promise<boolean> {
  const res = await client.request({ method: 'GET', path: '/v1/acl/token/self', accept: [401, 403, 404, 500] }).catch(() => null);
  return res?.status === 403 && res.body.toString('utf8').includes('ACL not found');
}

/** Envoy resolves the admin address to an IP (Consul's net.ResolveIPAddr), preferring IPv4 for localhost. */
async function resolveHost(host: string): Promise<string> {
  try {
    return (await lookup(host, { order: 'ipv4first' })).address;
  } catch (err) {
    throw new Error(`Failed to resolve admin bind address: ${(err as Error).message}`);
  }
}

/**
 * The checks and look-ups before anything binds: the plan and the registration, or the error
 * printed (exit 1); nothing is printed once `stopped` (a signal came while the agent was asked).
 */
async function prepare(flags: ParsedFlags, io: CliIO, client: ConsulClient, stopped: () => boolean): Promise<{ plan: EnvoyPlan; reg: Registration; adminHost: string } | null> {
  const planned = planEnvoy(flags, io.env);
  if ('error' in planned) return (ui(io).error(planned.error), null);
  const { plan } = planned;
  for (const w of plan.warnings) io.stderr(`${w}\n`);
  try {
    const adminHost = await resolveHost(plan.admin.host);
    return { plan, reg: await loadRegistration(client, plan, (w) => io.stderr(`${w}\n`)), adminHost };
  } catch (err) {
    if (!stopped()) ui(io).error((err as Error).message);
    return null;
  }
}

/** Runs the built-in proxy until `stop` resolves or POST /quitquitquit (tests pass their own `stop`). */
export async function runConnectEnvoy(
  flags: ParsedFlags, io: CliIO, stop: Promise<unknown>, onStarted?: (r: EnvoyRunning) => void, onTerminating?: (r: GatewayRunning) => void,
  onMesh?: (r: MeshRunning) => void,
): Promise<number> {
  // -namespace/-partition are ignored (planEnvoy warns): the client must not send them either, as the
  // agent's handlers this command calls answer ?ns with Consul CE's 400, even for `default`.
  const client = openClient({ ...flags, values: { ...flags.values, namespace: '', partition: '' } }, io);
  if (!client) return 1;
  const admins: EnvoyAdmin[] = [];
  const watchStop = new AbortController();
  let proxy: Proxy | undefined;
  // A signal ends the command in any phase: Consul exits on it before exec'ing Envoy, Envoy after.
  let stopped = false;
  const stopping = stop.then(() => { stopped = true; });
  try {
    // Route regexes from config entries then run in linear time (sidecar and ingress gateway), as RE2 runs Envoy's.
    io.setV8Flag?.(LINEAR_REGEXP_FLAG);
    const ingress = flags.values.gateway === 'ingress' ? planEnvoy(flags, io.env) : null;
    if (ingress && 'plan' in ingress && ingress.plan.ingress) return await runIngressGatewayEnvoy({ ...ingress.plan, gateway: ingress.plan.ingress }, io, client, stop);
    const terminating = flags.values.gateway === 'terminating' ? planEnvoy(flags, io.env) : null;
    if (terminating && 'plan' in terminating && terminating.plan.terminating) {
      return await runGatewayEnvoy({ ...terminating.plan, gateway: terminating.plan.terminating }, io, client, stop, onTerminating);
    }
    const api = flags.values.gateway === 'api' ? planEnvoy(flags, io.env) : null;
    if (api && 'plan' in api && api.plan.api) return await runApiGatewayEnvoy({ ...api.plan, gateway: api.plan.api }, io, client, stop);
    const mesh = flags.values.gateway === 'mesh' || flags.values['mesh-gateway'] === true ? planEnvoy(flags, io.env) : null;
    if (mesh && 'plan' in mesh && mesh.plan.mesh) return await runMeshGatewayEnvoy({ ...mesh.plan, gateway: mesh.plan.mesh }, io, client, stop, onMesh);
    const prepared = await Promise.race([prepare(flags, io, client, () => stopped), stopping.then(() => null)]);
    if (stopped) return 0;
    if (!prepared) return 1;
    const { plan, reg, adminHost } = prepared;
    const logger: Logger = createLogger({ level: 'info', json: false, write: (s) => io.stderr(s) }).child({ '@module': 'proxy' });
    const p = proxy = new Proxy(proxyConfigOf(reg.svc, reg.proxyId), { client, logger });
    let state: EnvoyState = 'INITIALIZING';
    let quit!: () => void;
    const quitting = new Promise<void>((r) => { quit = r; });
    const startedAt = Date.now();
    const stats = () => proxyStats({
      state, uptimeMs: Date.now() - startedAt, listeners: (p.publicAddress ? 1 : 0) + p.upstreamAddresses.size,
      leafValidBefore: p.service.leafCert?.ValidBefore, nowMs: Date.now(),
    });
    const adminDeps = { state: () => state, stats, quit: () => { state = 'DRAINING'; quit(); }, log: logger.child({ listener: 'admin' }) };
    try {
      admins.push(await startEnvoyAdmin(adminHost, plan.admin.port, adminDeps));
      if (plan.ready) admins.push(await startEnvoyAdmin(await resolveHost(plan.ready.host), plan.ready.port, { ...adminDeps, paths: ['/ready'] }));
    } catch (err) {
      return (ui(io).error(`Failed to start the admin endpoint: ${(err as Error).message}`), 1);
    }
    logger.info({ proxy_id: reg.proxyId, admin: admins[0].address },
      'Envoy is not run: the built-in data plane (as `proconsul connect proxy -proxy-id`) serves this proxy in its place');
    const started = p.start().then(() => {
      state = 'LIVE';
      onStarted?.({ proxy: p, adminAddress: admins[0].address });
    });
    void watchProxyConfig(client, reg.proxyId, reg.svc.ContentHash ?? '', (next) => p.addUpstreams(next.Upstreams), logger.child({ service_id: reg.proxyId }), watchStop.signal);
    const failed = await Promise.race([started.then(() => null, (err: Error) => err), stop.then(() => null), quitting.then(() => null)]);
    if (failed) return (ui(io).error(`Failed running proxy: ${failed.message}`), 1);
    await Promise.race([stop, quitting]);
    state = 'DRAINING';
    logger.info('Shutting down');
    return 0;
  } finally {
    watchStop.abort();
    await proxy?.close();
    await Promise.all(admins.map((a) => a.close()));
    client.close();
  }
}

/** The first SIGINT or SIGTERM, and a way to stop listening once the command is over. */
function signals(): { next: Promise<void>; dispose(): void } {
  let on!: () => void;
  const next = new Promise<void>((resolve) => { on = resolve; });
  process.once('SIGINT', on);
  process.once('SIGTERM', on);
  return { next, dispose: () => { process.off('SIGINT', on); process.off('SIGTERM', on); } };
}

/** The `connect envoy` command. */
export const connectEnvoyCommand: Command = {
  name: 'connect envoy',
  synopsis: 'Runs or Configures Envoy as a Connect proxy',
  flags: ENVOY_FLAGS,
  help: `
Usage: proconsul connect envoy [options] [-- pass-through options]

  Runs the Connect sidecar proxy for a particular service instance, as
  Consul's command starts Envoy for it. Proconsul has no Envoy: this command
  runs its built-in data plane (the proxy "proconsul connect proxy
  -sidecar-for" runs: mutual TLS, intentions and L7 routing from the
  discovery chain) for the sidecar registration, until an interrupt is
  received or the admin endpoint's /quitquitquit is posted.

  The admin endpoint on -admin-bind answers what is probed on Envoy's admin
  port: /ready (LIVE with 200 once the listeners are up, 503 before),
  /stats and /stats/prometheus (server.live, server.state, server.uptime,
  listener_manager.total_listeners_active and
  server.days_until_first_cert_expiring) and POST /quitquitquit. With
  -envoy-ready-bind-address and -envoy-ready-bind-port, /ready is also
  served there.

  There is no xDS server and no Envoy to configure, so -bootstrap and
  pass-through options are refused; flags that only shaped Envoy's bootstrap
  (-grpc-addr, -envoy-binary, -prometheus-*, ...) are accepted and ignored.
  With -gateway ingress it runs the built-in ingress gateway (registered
  first with -register) for the gateway's ingress-gateway config entry; with
  -gateway terminating, a terminating gateway through which mesh clients
  reach the services its terminating-gateway config entry links; with
  -gateway mesh (or -mesh-gateway), a mesh gateway that routes other
  datacenters' mesh connections by their TLS server name (SNI), without
  terminating TLS, to a local service's sidecar or to the gateways of the
  datacenter named; with -gateway api, an API gateway serving the listeners
  of its api-gateway config entry with the http-route and tcp-route entries
  bound to them, TLS from the inline-certificate or file-system-certificate
  entries they name.

  The proxy requires service:write permissions for the service it represents.
  The token may be passed via the CLI or the CONSUL_HTTP_TOKEN environment
  variable.

  The example below shows how to start a local proxy as a sidecar to a "web"
  service instance. It assumes that the proxy was already registered with its
  Config for example via a sidecar_service block.

    $ proconsul connect envoy -sidecar-for web

  Probe it as Envoy's admin port is probed:

    $ curl -s localhost:19000/ready
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    // Go's flag package runs the address values' Set while parsing: a bad value is a flag error.
    const bad = addressFlagError(flags);
    if (bad) return (io.stderr(`${bad}\nUsage:\n${goFlagDefaults(this.flags)}`), 1);
    const sig = signals();
    try {
      return await runConnectEnvoy(flags, io, sig.next);
    } finally {
      sig.dispose();
    }
  },
};
