// `proconsul connect redirect-traffic`: applies the transparent proxy's iptables rules, taking the
// ports from the flags or from the proxy's registration (-proxy-id), as Consul's command does:
// one `iptables` run per rule, through `nsenter --net=<path>` when -netns names a namespace.

import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { ConsulClient } from '../api/index.ts';
import { FlagError, parseFlags, type ParsedFlags } from './flags.ts';
import { HTTP_CLIENT_FLAGS, clientFromFlags } from './http-flags.ts';
import type { CliIO, Command } from './io.ts';
import { goFlagDefaults } from './usage.ts';
import { DEFAULT_TPROXY_OUTBOUND_PORT, redirectCommands, type RedirectConfig, type RuleCommand } from './redirect-traffic-rules.ts';

/** The proxy registration fields the command reads (api.AgentService). */
interface ProxyService {
  Port?: number;
  Proxy?: {
    DestinationServiceName?: string;
    Config?: Record<string, unknown>;
    TransparentProxy?: { OutboundListenerPort?: number } | null;
    Expose?: { Checks?: boolean; Paths?: { ListenerPort?: number }[] | null } | null;
  } | null;
}

/** Go's %q for the plain strings these messages quote. */
const q = (s: string): string => JSON.stringify(s);

/** Go's net.SplitHostPort port part, with its error texts. */
export function splitPort(hostport: string): string {
  const fail = (why: string) => new Error(`address ${hostport}: ${why}`);
  const i = hostport.lastIndexOf(':');
  if (i < 0) throw fail('missing port in address');
  if (hostport.startsWith('[')) {
    const end = hostport.indexOf(']');
    if (end < 0) throw fail("missing ']' in address");
    if (end + 1 === hostport.length) throw fail('missing port in address');
    if (end + 1 !== i) throw fail(hostport[end + 1] === ':' ? 'too many colons in address' : 'missing port in address');
  } else if (hostport.slice(0, i).includes(':')) {
    throw fail('too many colons in address');
  }
  return hostport.slice(i + 1);
}

/** Go's strconv.ParseInt(s, 0, 64) for the strings it accepts (0x, 0o, 0b and leading-0 octal prefixes); null otherwise. */
export function parseIntBase0(s: string): number | null {
  const m = /^([+-]?)(?:0[xX]([0-9a-fA-F_]+)|0[bB]([01_]+)|0[oO]?([0-7_]+)|([1-9][0-9_]*|0))$/.exec(s);
  if (!m) return null;
  const [, sign, hex, bin, oct, dec] = m;
  const [digits, base] = hex !== undefined ? [hex, 16] : bin !== undefined ? [bin, 2] : oct !== undefined ? [oct, 8] : [dec, 10];
  // Go allows underscores only between digits (and after a base prefix).
  if (/__|_$/.test(digits) || (base === 10 && digits.startsWith('_'))) return null;
  const n = parseInt(digits.replaceAll('_', ''), base);
  return sign === '-' ? -n : n;
}

/** mapstructure.WeakDecode of the proxy's opaque config into the three keys the rules need. */
function decodeProxyConfig(config: Record<string, unknown> | undefined): { bindPort: number; prometheus: string; stats: string } {
  const get = (key: string): unknown => Object.entries(config ?? {}).find(([k]) => k.toLowerCase() === key)?.[1];
  const str = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
  const raw = get('bind_port');
  let bindPort = 0;
  if (typeof raw === 'number') bindPort = Math.trunc(raw);
  else if (typeof raw === 'boolean') bindPort = raw ? 1 : 0;
  else if (typeof raw === 'string' && raw !== '') {
    const n = parseIntBase0(raw);
    if (n === null) throw new Error(`1 error(s) decoding:\n\n* cannot parse 'bind_port' as int: strconv.ParseInt: parsing ${q(raw)}: invalid syntax`);
    bindPort = n;
  }
  return { bindPort, prometheus: str(get('envoy_prometheus_bind_addr')), stats: str(get('envoy_stats_bind_addr')) };
}

function tenancy(flags: ParsedFlags): Record<string, string | undefined> {
  const s = (n: string) => (flags.values[n] ? String(flags.values[n]) : undefined);
  return { ns: s('namespace'), partition: s('partition') };
}

/** The proxy's registration: from the local agent, or from the catalog of -node-name. */
async function fetchProxy(client: ConsulClient, flags: ParsedFlags, proxyID: string, nodeName: string): Promise<ProxyService> {
  if (nodeName === '') {
    const res = await client.json<ProxyService>({ method: 'GET', path: `/v1/agent/service/${encodeURIComponent(proxyID)}`, query: tenancy(flags) })
      .catch((err: Error) => { throw new Error(`failed to fetch proxy service from Consul Agent: ${err.message}`); });
    return res.data;
  }
  const query = { ...tenancy(flags), filter: `ID == ${q(proxyID)}`, 'merge-central-config': true };
  const res = await client.json<{ Services?: ProxyService[] | null } | null>({ method: 'GET', path: `/v1/catalog/node-services/${encodeURIComponent(nodeName)}`, query })
    .catch((err: Error) => { throw new Error(`failed to fetch proxy service from Consul: ${err.message}`); });
  const list = res.data?.Services ?? [];
  if (list.length < 1) throw new Error(`proxy service with ID ${q(proxyID)} not found`);
  if (list.length > 1) throw new Error(`expected to find only one proxy service with ID ${q(proxyID)}, but more were found`);
  return list[0];
}

/** Consul's generateConfigFromFlags: the flags, with the proxy's ports and exclusions when -proxy-id is given. */
export async function configFromFlags(flags: ParsedFlags, io: CliIO): Promise<RedirectConfig> {
  const v = flags.values;
  const list = (n: string): string[] => (v[n] as string[] | undefined) ?? [];
  const cfg: RedirectConfig = {
    consulDNSIP: String(v['consul-dns-ip'] ?? ''), consulDNSPort: Number(v['consul-dns-port'] ?? 0), proxyUserID: String(v['proxy-uid'] ?? ''),
    proxyInboundPort: Number(v['proxy-inbound-port'] ?? 0), proxyOutboundPort: Number(v['proxy-outbound-port']), netNS: String(v.netns ?? ''),
    excludeInboundPorts: [], excludeOutboundPorts: list('exclude-outbound-port'), excludeOutboundCIDRs: list('exclude-outbound-cidr'), excludeUIDs: list('exclude-uid'),
  };
  const proxyID = String(v['proxy-id'] ?? '');
  if (proxyID !== '') {
    let client: ConsulClient;
    try {
      client = clientFromFlags(flags, io.env);
    } catch (err) {
      throw new Error(`error creating Consul API client: ${(err as Error).message}`, { cause: err });
    }
    try {
      await fromRegistration(client, flags, proxyID, cfg);
    } finally {
      client.close();
    }
  }
  cfg.excludeInboundPorts!.push(...list('exclude-inbound-port'));
  return cfg;
}

async function fromRegistration(client: ConsulClient, flags: ParsedFlags, proxyID: string, cfg: RedirectConfig): Promise<void> {
  const nodeName = String(flags.values['node-name'] ?? '');
  const svc = await fetchProxy(client, flags, proxyID, nodeName);
  const proxy = svc.Proxy;
  if (!proxy) throw new Error(`service ${proxyID} is not a proxy service`);
  let tr: ReturnType<typeof decodeProxyConfig>;
  try {
    tr = decodeProxyConfig(proxy.Config);
  } catch (err) {
    throw new Error(`failed parsing Proxy.Config: ${(err as Error).message}`, { cause: err });
  }
  cfg.proxyInboundPort = tr.bindPort || (svc.Port ?? 0);
  cfg.proxyOutboundPort = proxy.TransparentProxy?.OutboundListenerPort || DEFAULT_TPROXY_OUTBOUND_PORT;
  const exclude = cfg.excludeInboundPorts!;
  for (const [key, addr] of [['envoy_prometheus_bind_addr', tr.prometheus], ['envoy_stats_bind_addr', tr.stats]] as const) {
    if (addr === '') continue;
    try {
      exclude.push(splitPort(addr));
    } catch (err) {
      throw new Error(`failed parsing host and port from ${key}: ${(err as Error).message}`, { cause: err });
    }
  }
  for (const p of proxy.Expose?.Paths ?? []) if (p.ListenerPort) exclude.push(String(p.ListenerPort));
  if (proxy.Expose?.Checks && nodeName === '') {
    const query = { ...tenancy(flags), filter: `ServiceName == ${q(proxy.DestinationServiceName ?? '')}` };
    const checks = (await client.json<Record<string, { ExposedPort?: number }>>({ method: 'GET', path: '/v1/agent/checks', query })).data;
    for (const c of Object.values(checks ?? {})) if (c.ExposedPort) exclude.push(String(c.ExposedPort));
  }
}

/** Go's exec.LookPath on PATH: the program's full path, or Go's error. */
export function lookPath(file: string, env: NodeJS.ProcessEnv): string {
  if (file.includes('/')) return file;
  for (const dir of (env.PATH ?? '').split(':')) {
    const full = path.join(dir === '' ? '.' : dir, file);
    try {
      accessSync(full, constants.X_OK);
      return full;
    } catch {
      // not here; try the next directory
    }
  }
  throw new Error(`exec: ${q(file)}: executable file not found in $PATH`);
}

/** Runs one command with stdout and stderr in one buffer; rejects with Consul's "failed to run command" text. */
function runOne(cmd: RuleCommand, env: NodeJS.ProcessEnv): Promise<void> {
  const [name, ...args] = cmd;
  let file: string;
  try {
    file = lookPath(name, env);
  } catch (err) {
    return Promise.reject(new Error(`failed to run command: ${cmd.join(' ')}, err: ${(err as Error).message}, output: `));
  }
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => out.push(c));
    child.on('error', (err) => reject(new Error(`failed to run command: ${[file, ...args].join(' ')}, err: ${err.message}, output: `)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      const why = signal ? `signal: ${signal.replace(/^SIG/, '').toLowerCase()}` : `exit status ${code}`;
      reject(new Error(`failed to run command: ${[file, ...args].join(' ')}, err: ${why}, output: ${Buffer.concat(out).toString('utf8')}`));
    });
  });
}

/** Consul's iptables.Setup: validates, then runs every rule in order, stopping at the first that fails. */
export async function applyRedirect(cfg: RedirectConfig, env: NodeJS.ProcessEnv): Promise<void> {
  const cmds = redirectCommands(cfg);
  lookPath('iptables', env);
  for (const cmd of cmds) await runOne(cmd, env);
}

/** The `connect redirect-traffic` command. */
export const connectRedirectTrafficCommand: Command = {
  name: 'connect redirect-traffic',
  synopsis: 'Applies iptables rules for traffic redirection',
  flags: [
    { name: 'node-name', kind: 'string', usage: 'The node name where the proxy service is registered. It requires proxy-id to be specified. This is needed if running in an environment without client agents.' },
    { name: 'consul-dns-ip', kind: 'string', usage: 'IP used to reach Consul DNS. If provided, DNS queries will be redirected to Consul.' },
    { name: 'consul-dns-port', kind: 'int', default: 0, usage: 'Port used to reach Consul DNS. If provided, DNS queries will be redirected to Consul.' },
    { name: 'proxy-uid', kind: 'string', usage: 'The user ID of the proxy to exclude from traffic redirection.' },
    { name: 'proxy-id', kind: 'string', usage: 'The service ID of the proxy service registered with Consul.' },
    { name: 'proxy-inbound-port', kind: 'int', default: 0, usage: 'The inbound port that the proxy is listening on.' },
    { name: 'proxy-outbound-port', kind: 'int', default: DEFAULT_TPROXY_OUTBOUND_PORT, usage: 'The outbound port that the proxy is listening on. When not provided, 15001 is used by default.' },
    { name: 'exclude-inbound-port', kind: 'list', usage: 'Inbound port to exclude from traffic redirection. May be provided multiple times.' },
    { name: 'exclude-outbound-port', kind: 'list', usage: 'Outbound port to exclude from traffic redirection. May be provided multiple times.' },
    { name: 'exclude-outbound-cidr', kind: 'list', usage: 'Outbound CIDR to exclude from traffic redirection. May be provided multiple times.' },
    { name: 'exclude-uid', kind: 'list', usage: 'Additional user ID to exclude from traffic redirection. May be provided multiple times.' },
    { name: 'netns', kind: 'string', usage: 'The network namespace where traffic redirection rules should apply.This must be a path to the network namespace, e.g. /var/run/netns/foo.' },
    ...HTTP_CLIENT_FLAGS,
    { name: 'namespace', kind: 'string', usage: "Specifies the namespace to query. If not provided, the namespace will be inferred from the request's ACL token, or will default to the `default` namespace. Namespaces are a Consul Enterprise feature." },
    { name: 'partition', kind: 'string', usage: "Specifies the admin partition to query. If not provided, the admin partition will be inferred from the request's ACL token, or will default to the `default` admin partition. Admin Partitions are a Consul Enterprise feature." },
  ],
  help: `
Usage: proconsul connect redirect-traffic [options]

  Applies iptables rules for inbound and outbound traffic redirection.

  Requires that the iptables command line utility is installed.

  Examples:

    $ proconsul connect redirect-traffic -proxy-uid 1234 -proxy-id web

    $ proconsul connect redirect-traffic -proxy-uid 1234 -proxy-inbound-port 20000
`,
  async run(args: string[], io: CliIO): Promise<number> {
    // Consul wraps this command's Ui in a PrefixedUi: errors "==> ", info "    ".
    const error = (s: string): number => {
      io.stderr(`==> ${s}\n`);
      return 1;
    };
    let flags: ParsedFlags;
    try {
      flags = parseFlags(this.flags, args);
    } catch (err) {
      if (!(err instanceof FlagError)) throw err;
      io.stderr(`${err.message}\nUsage:\n${goFlagDefaults(this.flags)}`);
      return error(`Failed to parse args: ${err.message}`);
    }
    const v = flags.values;
    if (!v['proxy-uid']) return error('-proxy-uid is required');
    if (!v['proxy-id'] && !v['proxy-inbound-port']) return error('either -proxy-id or -proxy-inbound-port are required');
    if (v['proxy-id'] && (v['proxy-inbound-port'] !== 0 || v['proxy-outbound-port'] !== DEFAULT_TPROXY_OUTBOUND_PORT)) {
      return error("-proxy-inbound-port or -proxy-outbound-port cannot be provided together with -proxy-id. Proxy's inbound and outbound ports are retrieved from the proxy's configuration instead.");
    }
    let cfg: RedirectConfig;
    try {
      cfg = await configFromFlags(flags, io);
    } catch (err) {
      return error(`Failed to create configuration to apply traffic redirection rules: ${(err as Error).message}`);
    }
    try {
      await applyRedirect(cfg, { ...process.env, ...io.env });
    } catch (err) {
      return error(`Error setting up traffic redirection rules: ${(err as Error).message}`);
    }
    io.stdout('    Successfully applied traffic redirection rules\n');
    return 0;
  },
};
