// Validation of a proxy's or gateway's `Proxy` block (the proxy and gateway parts of Consul's
// NodeService.ValidateForAgent and Upstream.Validate), with Consul's texts.
import type { ConnectProxyConfig, Upstream } from '../../api/proxy-types.ts';
import { joinHostPort } from '../../host-port.ts';
import type { LocalService } from './definition.ts';

const GATEWAYS = new Set(['mesh-gateway', 'terminating-gateway', 'ingress-gateway', 'api-gateway']);
const EXPOSE_PROTOCOLS = ['http', 'http2'];

function upstreamProblem(u: Upstream): string | undefined {
  if (u.DestinationType !== 'service' && u.DestinationType !== 'prepared_query' && u.DestinationType !== '') {
    return `unknown upstream destination type: ${JSON.stringify(u.DestinationType)}`;
  }
  if (!u.DestinationName) return 'upstream destination name cannot be empty';
  if (u.DestinationName === '*' && !u.CentrallyConfigured) return 'upstream destination name cannot be a wildcard';
  if (u.DestinationPeer && u.Datacenter) return 'upstream cannot specify both destination peer and datacenter';
  if (!u.CentrallyConfigured && !u.LocalBindPort && !u.LocalBindSocketPath) return 'upstream local bind port or local socket path must be defined and nonzero';
  if (!u.CentrallyConfigured && u.LocalBindPort && u.LocalBindSocketPath) return 'only one of upstream local bind port or local socket path can be defined and nonzero';
  return undefined;
}

// Consul's UpstreamKey.String.
function upstreamKey(u: Upstream): string {
  const q = JSON.stringify;
  return `[type=${q(u.DestinationType)}, name=${q(u.DestinationName)}, partition=${q(u.DestinationPartition ?? '')}, `
    + `namespace=${q(u.DestinationNamespace ?? '')}, peer=${q(u.DestinationPeer ?? '')}, datacenter=${q(u.Datacenter ?? '')}]`;
}

function bindAddress(u: Upstream): string {
  if (!u.LocalBindPort && !u.LocalBindAddress && u.LocalBindSocketPath) return u.LocalBindSocketPath;
  return joinHostPort(u.LocalBindAddress || '127.0.0.1', u.LocalBindPort ?? 0);
}

function upstreamsProblems(upstreams: Upstream[]): string[] {
  const out: string[] = [];
  const keys = new Set<string>();
  const binds = new Set<string>();
  for (const u of upstreams) {
    const problem = upstreamProblem(u);
    if (problem) {
      out.push(problem);
      continue;
    }
    const key = upstreamKey(u);
    if (keys.has(key)) {
      out.push(`upstreams cannot contain duplicates of ${key}`);
      continue;
    }
    keys.add(key);
    const addr = bindAddress(u);
    if (binds.has(addr) && !u.CentrallyConfigured) {
      out.push(`upstreams cannot contain duplicates by local bind address and port or unix path; ${JSON.stringify(addr)} is specified twice`);
      continue;
    }
    binds.add(addr);
  }
  return out;
}

function exposeProblems(p: ConnectProxyConfig): string[] {
  const out: string[] = [];
  const listeners = new Set<number>();
  for (const path of p.Expose?.Paths ?? []) {
    const port = path.ListenerPort ?? 0;
    if (!path.Path) out.push('expose.paths: empty path exposed');
    if (listeners.has(port)) out.push('expose.paths: duplicate listener ports exposed');
    listeners.add(port);
    if (port <= 0 || port > 65535) out.push(`expose.paths: invalid listener port: ${port}`);
    const protocol = (path.Protocol ?? '').toLowerCase();
    if (protocol && !EXPOSE_PROTOCOLS.includes(protocol)) {
      out.push(`protocol '${protocol}' not supported for path: ${path.Path ?? ''}, must be in: [${EXPOSE_PROTOCOLS.join(' ')}]`);
    }
  }
  return out;
}

function gatewayProblems(s: LocalService, p: Partial<ConnectProxyConfig>, hasSidecar: boolean): string[] {
  const out: string[] = [];
  const k = s.Kind;
  if (!s.Port && k !== 'ingress-gateway' && k !== 'api-gateway') out.push(`Port must be non-zero for a ${k}`);
  if (hasSidecar) out.push(`A ${k} cannot have a sidecar service defined`);
  for (const f of ['DestinationServiceName', 'DestinationServiceID', 'LocalServiceAddress', 'LocalServicePort', 'LocalServiceSocketPath'] as const) {
    if (p[f]) out.push(`The Proxy.${f} configuration is invalid for a ${k}`);
  }
  if (p.Upstreams?.length) out.push(`The Proxy.Upstreams configuration is invalid for a ${k}`);
  return out;
}

/** The proxy and gateway problems of a service (empty for a typical service). */
export function proxyProblems(s: LocalService, hasSidecar: boolean): string[] {
  const p = (s.Proxy ?? {}) as Partial<ConnectProxyConfig>;
  if (GATEWAYS.has(s.Kind ?? '')) return gatewayProblems(s, p, hasSidecar);
  if (s.Kind !== 'connect-proxy') return [];
  const out: string[] = [];
  const dest = p.DestinationServiceName ?? '';
  if (dest.trim() === '') out.push('Proxy.DestinationServiceName must be non-empty for Connect proxy services');
  if (dest === '*') out.push('Proxy.DestinationServiceName must not be a wildcard for Connect proxy services');
  if (s.Connect?.Native === true) out.push('A Proxy cannot also be Connect Native, only typical services');
  out.push(...upstreamsProblems(p.Upstreams ?? []), ...exposeProblems(p as ConnectProxyConfig));
  return out;
}

const PROXY_MODES = ['', 'direct', 'transparent'];
const MESH_GATEWAY_MODES = ['', 'none', 'local', 'remote'];

/**
 * The proxy and mesh gateway modes a config file's `proxy` block may name (Consul's config
 * builder: ValidateProxyMode and ValidateMeshGatewayMode, on the proxy and each upstream).
 */
export function proxyModeProblems(proxy: Record<string, unknown> | undefined): string[] {
  if (!proxy) return [];
  const p = proxy as Partial<ConnectProxyConfig>;
  const out: string[] = [];
  const mode = p.Mode ?? '';
  if (!PROXY_MODES.includes(mode)) out.push(`Invalid Proxy Mode: ${JSON.stringify(mode)}`);
  for (const gw of [p.MeshGateway, ...(p.Upstreams ?? []).map((u) => u.MeshGateway)]) {
    const m = gw?.Mode ?? '';
    if (!MESH_GATEWAY_MODES.includes(m)) out.push(`Invalid Mesh Gateway Mode: ${JSON.stringify(m)}`);
  }
  return out;
}
