// The built-in proxy's configuration (Consul's connect/proxy/config.go): the public mTLS listener,
// the upstreams, their defaults and names, read from flags or from a sidecar registration.
import type { AgentService } from '../../api/index.ts';

/** The public mTLS listener: where it binds and the local application it forwards to. */
export interface PublicListenerConfig {
  BindAddress: string;
  BindPort: number;
  /** host:port of the proxied application (plain TCP). */
  LocalServiceAddress: string;
  LocalConnectTimeoutMs: number;
  HandshakeTimeoutMs: number;
}

/** One upstream (Consul's api.Upstream as the proxy reads it). */
export interface UpstreamConfig {
  DestinationType: 'service' | 'prepared_query';
  DestinationNamespace: string;
  DestinationName: string;
  Datacenter: string;
  LocalBindAddress: string;
  LocalBindPort: number;
  ConnectTimeoutMs: number;
  /** The upstream's `protocol` config: compiles its discovery chain with this protocol ('' for the chain's own). */
  Protocol: string;
  /**
   * How a target in another datacenter is reached (Consul's MeshGateway.Mode): '' or `none`
   * directly, `local` through this datacenter's mesh gateway, `remote` through the target
   * datacenter's; the upstream's own mode, else the proxy's (proxy-defaults and service-defaults
   * are merged into both by the agent).
   */
  MeshGatewayMode: string;
}

/** A whole proxy configuration. */
export interface ProxyConfig {
  /** The service name this proxy represents (its leaf certificate's identity). */
  ProxiedServiceName: string;
  /**
   * The represented service's namespace and partition (Consul's ProxiedServiceNamespace): its
   * leaf, intentions and authorization are asked in them; absent for the default ones.
   */
  ProxiedServiceNamespace?: string;
  ProxiedServicePartition?: string;
  /** Absent or port 0: no public listener. */
  PublicListener?: PublicListenerConfig;
  Upstreams: UpstreamConfig[];
}

/** A public listener with Consul's defaults filled in (1 s local dial, 10 s handshake, 0.0.0.0). */
export function publicListenerDefaults(p: Partial<PublicListenerConfig>): PublicListenerConfig {
  return {
    BindAddress: p.BindAddress || '0.0.0.0',
    BindPort: p.BindPort ?? 0,
    LocalServiceAddress: p.LocalServiceAddress ?? '',
    LocalConnectTimeoutMs: p.LocalConnectTimeoutMs || 1000,
    HandshakeTimeoutMs: p.HandshakeTimeoutMs || 10_000,
  };
}

/** An upstream with Consul's defaults filled in (service type, default namespace, 127.0.0.1, 10 s connect). */
export function upstreamDefaults(u: Partial<UpstreamConfig>): UpstreamConfig {
  return {
    DestinationType: u.DestinationType || 'service',
    DestinationNamespace: u.DestinationNamespace || 'default',
    DestinationName: u.DestinationName ?? '',
    Datacenter: u.Datacenter ?? '',
    LocalBindAddress: u.LocalBindAddress || '127.0.0.1',
    LocalBindPort: u.LocalBindPort ?? 0,
    ConnectTimeoutMs: u.ConnectTimeoutMs || 10_000,
    Protocol: u.Protocol ?? '',
    MeshGatewayMode: u.MeshGatewayMode ?? '',
  };
}

/** The upstream's name in logs: `<addr>:<port>-><type>:<namespace>/<name>`. */
export function upstreamString(u: UpstreamConfig): string {
  return `${u.LocalBindAddress}:${u.LocalBindPort}->${u.DestinationType}:${u.DestinationNamespace}/${u.DestinationName}`;
}

/** Go's strconv.ParseInt(s, 0, 0) for a port: decimal, 0x, 0o/0 octal, 0b; null when it does not parse. */
function parseGoInt(s: string): number | null {
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO]?[0-7_]+|[1-9][0-9_]*|0)$/.exec(s);
  if (!m) return null;
  let body = m[2].replaceAll('_', '');
  if (/^0[0-7]/.test(body)) body = `0o${body.slice(1)}`;
  const n = Number(body);
  return Number.isSafeInteger(n) ? (m[1] === '-' ? -n : n) : null;
}

/**
 * One `-upstream` value, `name[.type]:[host:]port` (Consul's FlagUpstreams.Set); throws with
 * Consul's texts. The bind address stays empty when not given (defaults apply later).
 */
export function parseUpstreamFlag(value: string): UpstreamConfig {
  const idx = value.indexOf(':');
  if (idx === -1) throw new Error(`Upstream value should be name:addr in ${JSON.stringify(value)}`);
  let name = value.slice(0, idx);
  let portRaw = value.slice(idx + 1);
  let addr = '';
  const colon = portRaw.indexOf(':');
  if (colon !== -1) {
    addr = portRaw.slice(0, colon);
    portRaw = portRaw.slice(colon + 1);
  }
  let type: UpstreamConfig['DestinationType'] = 'service';
  const dot = name.indexOf('.');
  if (dot !== -1) {
    const typ = name.slice(dot + 1);
    name = name.slice(0, dot);
    if (typ === 'query') type = 'prepared_query';
    else if (typ !== '' && typ !== 'service') throw new Error(`Upstream type must be blank, 'service', or 'query'. Got: ${JSON.stringify(typ)}`);
  }
  const port = parseGoInt(portRaw);
  if (port === null) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(portRaw)}: invalid syntax`);
  return { ...upstreamDefaults({ DestinationName: name, DestinationType: type, LocalBindPort: port }), LocalBindAddress: addr };
}

/** Go's net.SplitHostPort + ParseInt for `-listen`; throws Go's texts. */
export function splitListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]*)\]|([^:]*)):([^:]*)$/.exec(listen);
  if (!m) {
    const why = listen.includes(':') ? 'too many colons in address' : 'missing port in address';
    throw new Error(`address ${listen}: ${why}`);
  }
  const port = parseGoInt(m[3]);
  if (port === null) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(m[3])}: invalid syntax`);
  return { host: m[1] ?? m[2], port };
}

/** Go's net.JoinHostPort: IPv6 hosts in brackets. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

interface ProxyBlock {
  DestinationServiceName?: string;
  DestinationServiceID?: string;
  LocalServiceAddress?: string;
  LocalServicePort?: number;
  Config?: Record<string, unknown>;
  Upstreams?: Record<string, unknown>[];
  MeshGateway?: { Mode?: string };
}

/** The agent's connect-proxy registration as a proxy configuration (Consul's AgentConfigWatcher.handler). */
export function configFromProxyService(svc: AgentService): ProxyConfig {
  const proxy = (svc.Proxy ?? {}) as ProxyBlock;
  const cfg = proxy.Config ?? {};
  const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
  const local = proxy.LocalServicePort ? joinHostPort(proxy.LocalServiceAddress || '', proxy.LocalServicePort) : (proxy.LocalServiceAddress ?? '');
  const ns = nonDefault(svc.Namespace);
  const ap = nonDefault(svc.Partition);
  return {
    ProxiedServiceName: proxy.DestinationServiceName ?? '',
    ...(ns ? { ProxiedServiceNamespace: ns } : {}),
    ...(ap ? { ProxiedServicePartition: ap } : {}),
    PublicListener: publicListenerDefaults({
      BindAddress: svc.Address, BindPort: svc.Port, LocalServiceAddress: local,
      LocalConnectTimeoutMs: num(cfg.local_connect_timeout_ms), HandshakeTimeoutMs: num(cfg.handshake_timeout_ms),
    }),
    Upstreams: (proxy.Upstreams ?? []).map((u) => {
      const c = (u.Config ?? {}) as Record<string, unknown>;
      return upstreamDefaults({
        DestinationType: u.DestinationType === 'prepared_query' ? 'prepared_query' : 'service',
        // A bare upstream of a namespaced proxy is in the proxy's namespace (Consul Enterprise's default).
        DestinationNamespace: String(u.DestinationNamespace || ns || ''), DestinationName: String(u.DestinationName ?? ''),
        Datacenter: String(u.Datacenter ?? ''), LocalBindAddress: String(u.LocalBindAddress ?? ''),
        LocalBindPort: num(u.LocalBindPort) ?? 0, ConnectTimeoutMs: num(c.connect_timeout_ms),
        Protocol: typeof c.protocol === 'string' ? c.protocol.toLowerCase() : '',
        MeshGatewayMode: String((u.MeshGateway as { Mode?: string } | undefined)?.Mode || proxy.MeshGateway?.Mode || ''),
      });
    }),
  };
}

/** A namespace or partition name other than `default` (any case); undefined for `default` or none. */
function nonDefault(name: string | undefined): string | undefined {
  return name && name.toLowerCase() !== 'default' ? name : undefined;
}

/**
 * The API options naming a proxied service's tenant: none for the default one (its requests stay
 * as they were), else the namespace and partition (`default` written out, so a client-wide
 * namespace never stands in for it).
 */
export function tenancyOptions(namespace?: string, partition?: string): { namespace?: string; partition?: string } {
  if (!nonDefault(namespace) && !nonDefault(partition)) return {};
  return { namespace: namespace || 'default', partition: partition || 'default' };
}
