// `proconsul connect proxy`: runs the built-in L4 mTLS proxy (Consul's command/connect/proxy)
// configured from flags (-service, -listen, -upstream) or from the local agent's sidecar
// registration (-sidecar-for, -proxy-id), until SIGINT/SIGTERM.
import type { ConsulClient } from '../api/index.ts';
import { proxyConfigOf, watchProxyConfig } from '../connect/proxy/agent-config-watch.ts';
import {
  Proxy, findSidecarProxy, parseUpstreamFlag, publicListenerDefaults, splitListen, upstreamDefaults,
  type ProxyConfig,
} from '../connect/proxy/index.ts';
import { startRegisterMonitor } from '../connect/proxy/register.ts';
import { LINEAR_REGEXP_FLAG } from '../connect/proxy/l7-route.ts';
import { createLogger, type LogOptions } from '../log.ts';
import type { ParsedFlags } from './flags.ts';
import { openClient } from './http-flags.ts';
import { HTTP_FLAGS } from './http-flag-defs.ts';
import { parseCommandFlags, type CliIO, type Command } from './io.ts';
import { goFlagDefaults } from './usage.ts';

/** Consul's PrefixedUi for the proxy: Output and Error as `==> `, Info indented four spaces. */
function proxyUi(io: CliIO) {
  return { output: (s: string) => io.stdout(`==> ${s}\n`), info: (s: string) => io.stdout(`    ${s}\n`), error: (s: string) => io.stderr(`==> ${s}\n`) };
}

const LEVELS: Record<string, LogOptions['level']> = { trace: 'trace', debug: 'debug', info: 'info', warn: 'warn', err: 'error', error: 'error' };

/** A configuration and, in Agent API mode, the registration to keep watching (its ID and ContentHash). */
export interface ProxySetup {
  cfg: ProxyConfig;
  agent?: { proxyId: string; hash: string };
}

/** The proxy configuration the flags (or the sidecar registration) describe; throws Consul's texts. */
export async function proxyConfigFromFlags(client: ConsulClient, flags: ParsedFlags, io: CliIO): Promise<ProxySetup> {
  const p = proxyUi(io);
  const str = (n: string) => String(flags.values[n] ?? '');
  let proxyId = str('proxy-id') || io.env.CONNECT_PROXY_ID || '';
  const sidecarFor = str('sidecar-for') || io.env.CONNECT_SIDECAR_FOR || '';
  if (proxyId || sidecarFor) {
    if (!proxyId) proxyId = await findSidecarProxy(client, sidecarFor);
    p.info('Configuration mode: Agent API');
    if (sidecarFor && !str('proxy-id') && !io.env.CONNECT_PROXY_ID) p.info(`    Sidecar for ID: ${sidecarFor}`);
    p.info(`          Proxy ID: ${proxyId}`);
    const svc = (await client.agent.service(proxyId)).data;
    return { cfg: proxyConfigOf(svc, proxyId), agent: { proxyId, hash: (svc as { ContentHash?: string }).ContentHash ?? '' } };
  }
  const service = str('service');
  if (!service) throw new Error('-service or -proxy-id must be specified so that proxy can configure itself.');
  p.info('Configuration mode: Flags');
  p.info(`           Service: ${service}`);
  const parsed = new Map<string, ReturnType<typeof parseUpstreamFlag>>();
  for (const v of (flags.values.upstream as string[] | undefined) ?? []) {
    const u = parseUpstreamFlag(v);
    parsed.set(u.DestinationName, u);
  }
  const upstreams = [...parsed.keys()].sort().map((k) => {
    const u = parsed.get(k)!;
    p.info(`          Upstream: ${k} => ${u.LocalBindAddress}:${u.LocalBindPort}`);
    return upstreamDefaults(u);
  });
  const cfg: ProxyConfig = { ProxiedServiceName: service, Upstreams: upstreams };
  const listen = str('listen');
  if (listen) {
    const { host, port } = splitListen(listen);
    if (!str('service-addr')) throw new Error('-service-addr must be specified with -listen so the proxy knows the backend service address.');
    p.info(`   Public listener: ${host}:${port} => ${str('service-addr')}`);
    cfg.PublicListener = publicListenerDefaults({ BindAddress: host, BindPort: port, LocalServiceAddress: str('service-addr') });
  } else {
    p.info('   Public listener: Disabled');
  }
  return { cfg };
}

/** Runs the proxy until `stop` resolves (the command's body; tests pass their own `stop`). */
export async function runConnectProxy(flags: ParsedFlags, io: CliIO, stop: Promise<unknown>, onStarted?: (proxy: Proxy) => void): Promise<number> {
  const p = proxyUi(io);
  if (flags.args.length > 0) return (p.error('Should have no non-flag arguments.'), 1);
  const level = LEVELS[String(flags.values['log-level']).toLowerCase()];
  if (!level) return (p.error(`Invalid log level: ${String(flags.values['log-level'])}. Valid log levels are: [TRACE DEBUG INFO WARN ERR]`), 1);
  const logger = createLogger({ level, json: flags.values['log-json'] === true, write: (s) => io.stdout(s) }).child({ '@module': 'proxy' });
  const client = openClient(flags, io);
  if (!client) return 1;
  let stopRegister: (() => Promise<void>) | undefined;
  const watchStop = new AbortController();
  let proxy: Proxy | undefined;
  try {
    p.output('Consul Connect proxy starting...');
    let setup: ProxySetup;
    try {
      setup = await proxyConfigFromFlags(client, flags, io);
    } catch (err) {
      return (p.error(`Error preparing configuration: ${(err as Error).message}`), 1);
    }
    const cfg = setup.cfg;
    if (flags.values.register === true) {
      const pl = cfg.PublicListener;
      if (!flags.values.service || !flags.values.listen || !pl) return (p.error('Failed initializing registration: -register may only be specified with -service and -listen'), 1);
      stopRegister = startRegisterMonitor(client, { service: cfg.ProxiedServiceName, idSuffix: String(flags.values['register-id'] ?? ''), address: pl.BindAddress, port: pl.BindPort }, logger);
    }
    p.info('');
    p.output('Log data will now stream in as it occurs:\n');
    // Route regexes from config entries then run in linear time, as RE2 runs Envoy's.
    io.setV8Flag?.(LINEAR_REGEXP_FLAG);
    proxy = new Proxy(cfg, { client, logger });
    const started = proxy.start().then(() => onStarted?.(proxy!));
    if (setup.agent) {
      const { proxyId, hash } = setup.agent;
      void watchProxyConfig(client, proxyId, hash, (next) => proxy!.addUpstreams(next.Upstreams), logger.child({ service_id: proxyId }), watchStop.signal);
    }
    const failed = await Promise.race([started.then(() => null, (err: Error) => err), stop.then(() => null)]);
    if (failed) p.error(`Failed running proxy: ${failed.message}`);
    else await stop;
    p.output('Consul Connect proxy shutdown');
    return 0;
  } finally {
    watchStop.abort();
    await proxy?.close();
    await stopRegister?.();
    client.close();
  }
}

/** Waits for the first SIGINT or SIGTERM. */
function nextSignal(): Promise<void> {
  return new Promise((resolve) => {
    const on = () => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve();
    };
    process.once('SIGINT', on);
    process.once('SIGTERM', on);
  });
}

/** The `connect proxy` command. */
export const connectProxyCommand: Command = {
  name: 'connect proxy',
  synopsis: 'Runs a Consul Connect proxy',
  flags: [
    { name: 'proxy-id', kind: 'string', usage: "The proxy's ID on the local agent." },
    { name: 'sidecar-for', kind: 'string', usage: 'The ID of a service instance on the local agent that this proxy should become a sidecar for. It requires that the proxy service is registered with the agent as a connect-proxy with Proxy.DestinationServiceID set to this value. If more than one such proxy is registered it will fail.' },
    { name: 'log-level', kind: 'string', default: 'INFO', usage: 'Specifies the log level.' },
    { name: 'log-json', kind: 'bool', usage: 'Output logs in JSON format.' },
    { name: 'pprof-addr', kind: 'string', usage: "Enable debugging via pprof. Providing a host:port (or just ':port') enables profiling HTTP endpoints on that address." },
    { name: 'service', kind: 'string', usage: 'Name of the service this proxy is representing.' },
    { name: 'upstream', kind: 'list', placeholder: 'value', usage: "Upstream service to support connecting to. The format should be 'name:addr', such as 'db:8181'. This will make 'db' available on port 8181. This can be repeated multiple times." },
    { name: 'service-addr', kind: 'string', usage: 'Address of the local service to proxy. Only useful if -listen and -service are both set.' },
    { name: 'listen', kind: 'string', usage: 'Address to listen for inbound connections to the proxied service. Must be specified with -service and -service-addr.' },
    { name: 'register', kind: 'bool', usage: 'Self-register with the local Consul agent. Only useful with -listen.' },
    { name: 'register-id', kind: 'string', usage: 'ID suffix for the service. Use this to disambiguate with other proxies.' },
    ...HTTP_FLAGS,
  ],
  help: `
Usage: proconsul connect proxy [options]

  Starts a Consul Connect proxy and runs until an interrupt is received.
  The proxy can be used to accept inbound connections for a service,
  wrap outbound connections to upstream services, or both. This enables
  a non-Connect-aware application to use Connect.

  The proxy requires service:write permissions for the service it represents.
  The token may be passed via the CLI or the CONSUL_HTTP_TOKEN environment
  variable.

  Start a local proxy for outbound connections to "db" as the frontend
  service; any TCP connection to port 8181 becomes a mutual TLS connection
  to "db" identified as "frontend":

    $ proconsul connect proxy -service frontend -upstream db:8181

  Also accept inbound connections on port 8443, authorize them and forward
  them to port 8080:

    $ proconsul connect proxy \\
        -service frontend \\
        -service-addr 127.0.0.1:8080 \\
        -listen ':8443'

  Run as the sidecar registered for the local service instance "web":

    $ proconsul connect proxy -sidecar-for web
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    // Go's flag package runs FlagUpstreams.Set while parsing: a bad value is a flag error.
    for (const v of (flags.values.upstream as string[] | undefined) ?? []) {
      try {
        parseUpstreamFlag(v);
      } catch (err) {
        io.stderr(`invalid value ${JSON.stringify(v)} for flag -upstream: ${(err as Error).message}\nUsage:\n${goFlagDefaults(this.flags)}`);
        return 1;
      }
    }
    return runConnectProxy(flags, io, nextSignal());
  },
};
