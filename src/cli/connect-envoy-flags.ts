// `proconsul connect envoy`'s flags (Consul's command/connect/envoy: envoy.go and flags.go) and
// the checks Consul makes of them before contacting the agent, plus the refusals of what the
// built-in data plane cannot do (no Envoy to bootstrap or pass arguments to, no gateways yet).
import net from 'node:net';
import type { FlagDef, ParsedFlags } from './flags.ts';
import { gatewayPlan, type GatewayPlan } from './connect-gateway.ts';
import type { MeshGatewayPlan } from './connect-mesh-gateway.ts';
import { HTTP_CLIENT_FLAGS } from './http-flag-defs.ts';

const GATEWAY_PORT = 8443;
const GATEWAYS = ['api', 'mesh', 'terminating', 'ingress'];

/** Every flag Consul's `connect envoy` accepts, with its usage text and default. */
export const ENVOY_FLAGS: FlagDef[] = [
  { name: 'proxy-id', kind: 'string', usage: "The proxy's ID on the local agent." },
  { name: 'node-name', kind: 'string', usage: '[Experimental] The node name where the proxy service is registered. It requires proxy-id to be specified. ' },
  { name: 'mesh-gateway', kind: 'bool', usage: 'Configure Envoy as a Mesh Gateway.' },
  { name: 'gateway', kind: 'string', usage: 'The type of gateway to register. One of: terminating, ingress, or mesh' },
  { name: 'sidecar-for', kind: 'string', usage: 'The ID of a service instance on the local agent that this proxy should become a sidecar for. It requires that the proxy service is registered with the agent as a connect-proxy with Proxy.DestinationServiceID set to this value. If more than one such proxy is registered it will fail.' },
  { name: 'envoy-binary', kind: 'string', usage: 'The full path to the envoy binary to run. By default will just search $PATH. Ignored if -bootstrap is used.' },
  { name: 'admin-access-log-path', kind: 'string', default: '/dev/null', usage: 'DEPRECATED: use proxy-defaults.accessLogs to set Envoy access logs.' },
  { name: 'admin-bind', kind: 'string', default: 'localhost:19000', usage: "The address:port to start envoy's admin server on. Envoy requires this but care must be taken to ensure it's not exposed to an untrusted network as it has full control over the secrets and config of the proxy." },
  { name: 'bootstrap', kind: 'bool', usage: "Generate the bootstrap.json but don't exec envoy" },
  { name: 'no-central-config', kind: 'bool', usage: "By default the proxy's bootstrap configuration can be customized centrally. This requires that the command run on the same agent as the proxy will and that the agent is reachable when the command is run. In cases where either assumption is violated this flag will prevent the command attempting to resolve config from the local agent." },
  { name: 'grpc-addr', kind: 'string', usage: "Set the agent's gRPC address and port (in http(s)://host:port format). Alternatively, you can specify CONSUL_GRPC_ADDR in ENV." },
  { name: 'grpc-ca-file', kind: 'string', usage: 'Path to a CA file to use for TLS when communicating with the Consul agent through xDS. This can also be specified via the CONSUL_GRPC_CACERT environment variable.' },
  { name: 'grpc-ca-path', kind: 'string', usage: 'Path to a directory of CA certificates to use for TLS when communicating with the Consul agent through xDS. This can also be specified via the CONSUL_GRPC_CAPATH environment variable.' },
  { name: 'envoy-version', kind: 'string', default: '1.34.1', usage: 'This is a legacy flag that is currently not used but was formerly used to set the version for the envoy binary that gets invoked by Consul. This is no longer necessary as Consul will invoke the binary at a path set by -envoy-binary or whichever envoy binary it finds in $PATH' },
  { name: 'register', kind: 'bool', usage: 'Register a new gateway service before configuring and starting Envoy' },
  { name: 'address', kind: 'string', placeholder: 'value', usage: 'LAN address to advertise in the gateway service registration' },
  { name: 'envoy-ready-bind-address', kind: 'string', usage: "The address on which Envoy's readiness probe is available." },
  { name: 'envoy-ready-bind-port', kind: 'int', default: 0, usage: "The port on which Envoy's readiness probe is available." },
  { name: 'wan-address', kind: 'string', placeholder: 'value', usage: 'WAN address to advertise in the gateway service registration. For ingress gateways, only an IP address (without a port) is required.' },
  { name: 'bind-address', kind: 'list', usage: 'Bind address to use instead of the default binding rules given as `<name>=<ip>:<port>` pairs. This flag may be specified multiple times to add multiple bind addresses.' },
  { name: 'service', kind: 'string', usage: 'Service name to use for the registration' },
  { name: 'expose-servers', kind: 'bool', usage: 'Expose the servers for WAN federation via this mesh gateway' },
  { name: 'deregister-after-critical', kind: 'string', default: '6h', usage: 'The amount of time the gateway services health check can be failing before being deregistered' },
  { name: 'omit-deprecated-tags', kind: 'bool', usage: 'In Consul 1.9.0 the format of metric tags for Envoy clusters was updated from consul.[service|dc|...] to consul.destination.[service|dc|...]. The old tags were preserved for backward compatibility,but can be disabled with this flag.' },
  { name: 'prometheus-backend-port', kind: 'string', usage: "Sets the backend port for the 'prometheus_backend' cluster that envoy_prometheus_bind_addr will point to. Without this flag, envoy_prometheus_bind_addr would point to the 'self_admin' cluster where Envoy metrics are exposed. The metrics merging feature in consul-k8s uses this to point to the merged metrics endpoint combining Envoy and service metrics. Only applicable when envoy_prometheus_bind_addr is set in proxy config." },
  { name: 'prometheus-scrape-path', kind: 'string', default: '/metrics', usage: 'Sets the path where Envoy will expose metrics on envoy_prometheus_bind_addr listener. For example, if envoy_prometheus_bind_addr is 0.0.0.0:20200, and this flag is set to /scrape-metrics, prometheus metrics would be scrapeable at 0.0.0.0:20200/scrape-metrics. Only applicable when envoy_prometheus_bind_addr is set in proxy config.' },
  { name: 'prometheus-ca-file', kind: 'string', usage: 'Path to a CA file for Envoy to use when serving TLS on the Prometheus metrics endpoint. Only applicable when envoy_prometheus_bind_addr is set in proxy config.' },
  { name: 'prometheus-ca-path', kind: 'string', usage: 'Path to a directory of CA certificates for Envoy to use when serving the Prometheus metrics endpoint. Only applicable when envoy_prometheus_bind_addr is set in proxy config.' },
  { name: 'prometheus-cert-file', kind: 'string', usage: 'Path to a certificate file for Envoy to use when serving TLS on the Prometheus metrics endpoint. Only applicable when envoy_prometheus_bind_addr is set in proxy config.' },
  { name: 'prometheus-key-file', kind: 'string', usage: 'Path to a private key file for Envoy to use when serving TLS on the Prometheus metrics endpoint. Only applicable when envoy_prometheus_bind_addr is set in proxy config.' },
  { name: 'ignore-envoy-compatibility', kind: 'bool', usage: 'If set to `true`, this flag ignores the Envoy version compatibility check. We recommend setting this flag to `false` to ensure compatibility with Envoy and prevent potential issues. Default is `false`.' },
  { name: 'enable-config-gen-logging', kind: 'bool', usage: 'Output debug log messages during config generation' },
  ...HTTP_CLIENT_FLAGS,
  { name: 'namespace', kind: 'string', usage: "Specifies the namespace to query. If not provided, the namespace will be inferred from the request's ACL token, or will default to the `default` namespace. Namespaces are a Consul Enterprise feature." },
  { name: 'partition', kind: 'string', usage: "Specifies the admin partition to query. If not provided, the admin partition will be inferred from the request's ACL token, or will default to the `default` admin partition. Admin Partitions are a Consul Enterprise feature." },
];

/** An address as Consul's ServiceAddressValue holds it. */
export interface ServiceAddress {
  Address: string;
  Port: number;
}

/** Go's net.SplitHostPort, with its error texts. */
export function splitHostPort(hostport: string): { host: string; port: string } {
  const err = (why: string) => new Error(`address ${hostport}: ${why}`);
  const i = hostport.lastIndexOf(':');
  if (i < 0) throw err('missing port in address');
  let host = hostport.slice(0, i);
  if (host.startsWith('[')) {
    if (!host.endsWith(']')) throw err(hostport.indexOf(']') < 0 ? "missing ']' in address" : 'missing port in address');
    host = host.slice(1, -1);
  } else if (host.includes(':')) {
    throw err('too many colons in address');
  } else if (hostport.includes(']')) {
    throw err("unexpected ']' in address");
  }
  return { host, port: hostport.slice(i + 1) };
}

/** Consul's parseAddress: `ip[:port]`, the port defaulting to 8443; throws its texts. */
export function parseServiceAddress(raw: string): ServiceAddress {
  // Consul evaluates go-sockaddr templates here; a plain address is its own template.
  if (raw.includes('{{')) throw new Error(`Error parsing address ${JSON.stringify(raw)}: go-sockaddr templates are not supported`);
  let host: string;
  let portStr = '';
  try {
    ({ host, port: portStr } = splitHostPort(raw));
  } catch (err) {
    const msg = (err as Error).message;
    if (!msg.includes('missing port in address')) throw new Error(`Error parsing address ${JSON.stringify(raw)}: ${msg}`);
    if (net.isIP(raw) === 0) throw new Error(`Error parsing address ${JSON.stringify(raw)}: not an IP address`);
    host = raw;
  }
  let port = GATEWAY_PORT;
  if (portStr !== '') {
    if (!/^[+-]?\d+$/.test(portStr)) throw new Error(`Error parsing port ${JSON.stringify(portStr)}: strconv.Atoi: parsing ${JSON.stringify(portStr)}: invalid syntax`);
    port = Number(portStr);
  }
  return { Address: host, Port: port };
}

/** Consul's ServiceAddressMapValue: `<name>=<ip>:<port>`. */
export function parseBindAddress(raw: string): [string, ServiceAddress] {
  const i = raw.indexOf('=');
  if (i < 0) throw new Error(`Missing "=" in argument: ${raw}`);
  return [raw.slice(0, i), parseServiceAddress(raw.slice(i + 1))];
}

/** The first flag value Go's flag.Var would refuse while parsing, as `invalid value …` (null when all parse). */
export function addressFlagError(flags: ParsedFlags): string | null {
  const checks: [string, (v: string) => unknown][] = [['address', parseServiceAddress], ['wan-address', parseServiceAddress], ['bind-address', parseBindAddress]];
  for (const [name, parse] of checks) {
    const raw = flags.values[name];
    for (const v of raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)]) {
      try {
        parse(v);
      } catch (err) {
        return `invalid value ${JSON.stringify(v)} for flag -${name}: ${(err as Error).message}`;
      }
    }
  }
  return null;
}

/** What the command runs once the flags pass: the proxy to find and where to serve the admin endpoint. */
export interface EnvoyPlan {
  proxyId: string;
  sidecarFor: string;
  admin: { host: string; port: number };
  /** -envoy-ready-bind-address/-port: a second listener answering /ready. */
  ready?: { host: string; port: number };
  /** Consul's warnings (stderr) and notes on flags that only shaped Envoy's bootstrap. */
  warnings: string[];
  /** -gateway ingress: the gateway to register or find. */
  ingress?: GatewayPlan;
  /** -gateway terminating: the gateway to register or find. */
  terminating?: GatewayPlan;
  /** -gateway mesh (or -mesh-gateway): the gateway to register or find. */
  mesh?: MeshGatewayPlan;
  /** -gateway api: the gateway to register or find. */
  api?: GatewayPlan;
}

/** The refusal printed for -gateway: the built-in data plane runs sidecars only. */
export function gatewayRefusal(kind: string, what = `-gateway ${kind}`): string {
  return `${what}: Proconsul's built-in data plane has no ${kind} gateway yet; it runs Connect sidecar proxies (-sidecar-for or -proxy-id) and ingress, terminating, mesh and API gateways (-gateway ingress|terminating|mesh|api) only`;
}

const NO_ENVOY = 'Envoy is not used: Proconsul runs its built-in data plane in its place and serves no xDS';

function port(raw: string): number | null {
  return /^\d+$/.test(raw) && Number(raw) <= 65535 ? Number(raw) : null;
}

/**
 * Consul's checks of the flags in its order (errors as its texts), then the built-in data
 * plane's refusals; an error string, or the plan.
 */
export function planEnvoy(flags: ParsedFlags, env: NodeJS.ProcessEnv): { error: string } | { plan: EnvoyPlan } {
  const str = (n: string) => String(flags.values[n] ?? '');
  const on = (n: string) => flags.values[n] === true;
  const proxyId = str('proxy-id') || env.CONNECT_PROXY_ID || '';
  const sidecarFor = str('sidecar-for') || env.CONNECT_SIDECAR_FOR || '';
  let gateway = str('gateway');
  if (str('node-name') && !proxyId) return { error: "'-node-name' requires '-proxy-id'" };
  if (on('mesh-gateway') && gateway) return { error: 'The mesh-gateway flag is deprecated and cannot be used alongside the gateway flag' };
  if (on('mesh-gateway')) gateway = 'mesh';
  if (on('expose-servers')) {
    if (gateway !== 'mesh') return { error: "'-expose-servers' can only be used for mesh gateways" };
    if (!on('register')) return { error: "'-expose-servers' requires '-register'" };
  }
  if (gateway && !['ingress', 'terminating', 'mesh', 'api'].includes(gateway)) return { error: GATEWAYS.includes(gateway) ? gatewayRefusal(gateway) : 'Gateway must be one of: api, terminating, mesh, or ingress' };
  if (!proxyId && !sidecarFor && !gateway) return { error: 'No proxy ID specified. One of -proxy-id, -sidecar-for, or -gateway is required' };
  const [key, cert, caFile, caPath] = ['prometheus-key-file', 'prometheus-cert-file', 'prometheus-ca-file', 'prometheus-ca-path'].map(str);
  if ((key || cert || caFile || caPath) && (!key || !cert || (!caFile && !caPath))) {
    return { error: 'Must provide a CA (-prometheus-ca-file or -prometheus-ca-path) as well as -prometheus-cert-file and -prometheus-key-file to enable TLS for prometheus metrics' };
  }
  if (on('register') && !gateway) return { error: str('node-name') ? "'-register' cannot be used with '-node-name'" : 'Auto-Registration can only be used for gateways' };
  if (str('node-name')) return { error: '-node-name: the built-in data plane reads its proxy registration from the local agent; run it on the agent where the proxy is registered, without -node-name' };
  if (on('bootstrap')) return { error: `-bootstrap: ${NO_ENVOY}, so there is no Envoy bootstrap configuration to generate. Run without -bootstrap to start the built-in proxy.` };
  if (flags.args.length > 0) return { error: `Cannot pass arguments to Envoy (${flags.args.join(' ')}): ${NO_ENVOY}. Run without the arguments after --.` };
  let admin: { host: string; port: string };
  try {
    admin = splitHostPort(str('admin-bind'));
  } catch (err) {
    return { error: `Invalid Consul HTTP address: ${(err as Error).message}` };
  }
  // Node would bind a missing host on every interface; Envoy cannot bind it at all.
  if (admin.host === '') return { error: `Failed to resolve admin bind address: no host in ${JSON.stringify(str('admin-bind'))}` };
  const adminPort = port(admin.port);
  if (adminPort === null) return { error: `Invalid admin bind port: ${JSON.stringify(admin.port)}` };
  const plan: EnvoyPlan = { proxyId, sidecarFor, admin: { host: admin.host, port: adminPort }, warnings: [] };
  if (gateway === 'terminating') plan.terminating = gatewayPlan(flags, proxyId, parseServiceAddress, parseBindAddress);
  if (gateway === 'mesh') {
    const g = gatewayPlan(flags, proxyId, parseServiceAddress, parseBindAddress);
    // Consul's default gateway service name is the kind (gatewayPlan's default is the terminating one).
    const named = str('service') ? g : { ...g, name: 'mesh-gateway', proxyId: proxyId || (g.register ? 'mesh-gateway' : '') };
    plan.mesh = { ...named, exposeServers: on('expose-servers') };
  }
  if (gateway === 'ingress') {
    const g = gatewayPlan(flags, proxyId, parseServiceAddress, parseBindAddress);
    // Consul's default gateway service name is the kind (gatewayPlan's default is the terminating one).
    plan.ingress = str('service') ? g : { ...g, name: 'ingress-gateway', proxyId: proxyId || (g.register ? 'ingress-gateway' : '') };
  }
  if (gateway === 'api') {
    const g = gatewayPlan(flags, proxyId, parseServiceAddress, parseBindAddress);
    // Consul's default gateway service name is the kind (gatewayPlan's default is the terminating one).
    plan.api = str('service') ? g : { ...g, name: 'api-gateway', proxyId: proxyId || (g.register ? 'api-gateway' : '') };
  }
  if (str('admin-access-log-path') !== '/dev/null') {
    plan.warnings.push('-admin-access-log-path is deprecated and will be removed in a future version of Consul. Configure access logging with proxy-defaults.accessLogs.');
  }
  const readyPort = Number(flags.values['envoy-ready-bind-port'] ?? 0);
  if (str('envoy-ready-bind-address') && readyPort !== 0) plan.ready = { host: str('envoy-ready-bind-address'), port: readyPort };
  const ignored = ['envoy-binary', 'grpc-addr', 'grpc-ca-file', 'grpc-ca-path', 'prometheus-backend-port', 'prometheus-ca-file', 'prometheus-ca-path', 'prometheus-cert-file', 'prometheus-key-file']
    .filter((n) => flags.given.has(n));
  const tenancy = ['namespace', 'partition'].filter((n) => str(n) !== '' && str(n) !== 'default');
  if (tenancy.length) plan.warnings.push(`Ignoring ${tenancy.map((n) => `-${n}`).join(', ')}: the built-in data plane looks up its proxy in the default namespace and partition.`);
  if (ignored.length) plan.warnings.push(`Ignoring ${ignored.map((n) => `-${n}`).join(', ')}: ${NO_ENVOY}.`);
  return { plan };
}
