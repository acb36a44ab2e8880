// A service's `Proxy` block (Consul's structs.ConnectProxyConfig): decoded from HTTP bodies and
// config files in any key spelling into the catalog's JSON form, and rendered as the agent API's
// api.AgentServiceConnectProxyConfig (Consul's ToAPI: empty Mode and Upstreams left out).
import type { ConnectProxyConfig, ExposeConfig, ExposePath, MeshGatewayConfig, TransparentProxyConfig, Upstream } from '../../api/proxy-types.ts';
import { bool, fold, num, str, type Folded } from './decode-keys.ts';
export { orderProxy } from '../../api/proxy-json.ts';

function opaque(f: Folded, key: string): Record<string, unknown> | undefined {
  const v = f.get(key);
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length ? v as Record<string, unknown> : undefined;
}

function list(f: Folded, key: string): unknown[] {
  const v = f.get(key);
  if (Array.isArray(v)) return v;
  return v !== null && typeof v === 'object' ? [v] : [];
}

function meshGateway(raw: unknown): MeshGatewayConfig {
  const mode = str(fold(raw), 'mode');
  return mode ? { Mode: mode } : {};
}

// Sets `key` on `out` only when `v` is not a zero value (Go's omitempty).
function put<T extends object>(out: T, key: keyof T, v: unknown): void {
  if (v !== undefined && v !== '' && v !== 0 && v !== false) (out as Record<keyof T, unknown>)[key] = v;
}

function exposePath(raw: unknown): ExposePath {
  const f = fold(raw);
  const out: ExposePath = {};
  put(out, 'ListenerPort', num(f, 'listenerport'));
  put(out, 'Path', str(f, 'path'));
  put(out, 'LocalPathPort', num(f, 'localpathport'));
  put(out, 'Protocol', str(f, 'protocol'));
  put(out, 'ParsedFromCheck', bool(f, 'parsedfromcheck'));
  return out;
}

function expose(raw: unknown): ExposeConfig {
  const f = fold(raw);
  const out: ExposeConfig = {};
  put(out, 'Checks', bool(f, 'checks'));
  const paths = list(f, 'paths');
  if (paths.length) out.Paths = paths.map(exposePath);
  return out;
}

/**
 * Decodes one upstream; the destination type defaults to `defaultType` (`service` for agent
 * registrations, as ServiceDefinition.NodeService sets it; the catalog API keeps it empty).
 */
export function decodeUpstream(raw: unknown, defaultType = 'service'): Upstream {
  const f = fold(raw);
  const out: Partial<Upstream> = { DestinationType: str(f, 'destinationtype') || defaultType };
  put(out, 'DestinationNamespace', str(f, 'destinationnamespace'));
  put(out, 'DestinationPartition', str(f, 'destinationpartition'));
  put(out, 'DestinationPeer', str(f, 'destinationpeer'));
  out.DestinationName = str(f, 'destinationname');
  out.Datacenter = str(f, 'datacenter');
  put(out, 'LocalBindAddress', str(f, 'localbindaddress'));
  put(out, 'LocalBindPort', num(f, 'localbindport'));
  put(out, 'LocalBindSocketPath', str(f, 'localbindsocketpath'));
  put(out, 'LocalBindSocketMode', str(f, 'localbindsocketmode'));
  put(out, 'Config', opaque(f, 'config'));
  out.MeshGateway = meshGateway(f.get('meshgateway'));
  put(out, 'CentrallyConfigured', bool(f, 'centrallyconfigured'));
  return out as Upstream;
}

/** Decodes a `Proxy` / `proxy` block into the catalog's ConnectProxyConfig JSON (`defaultType`: see decodeUpstream). */
export function decodeProxy(raw: unknown, defaultType = 'service'): ConnectProxyConfig {
  const f = fold(raw);
  const out: Partial<ConnectProxyConfig> = {};
  const tp = fold(f.get('transparentproxy'));
  const transparent: TransparentProxyConfig = {};
  put(transparent, 'OutboundListenerPort', num(tp, 'outboundlistenerport'));
  put(transparent, 'DialedDirectly', bool(tp, 'dialeddirectly'));
  if (Object.keys(transparent).length) out.TransparentProxy = transparent;
  put(out, 'AccessLogs', opaque(f, 'accesslogs'));
  put(out, 'DestinationServiceName', str(f, 'destinationservicename'));
  put(out, 'DestinationServiceID', str(f, 'destinationserviceid'));
  put(out, 'LocalServiceAddress', str(f, 'localserviceaddress'));
  put(out, 'LocalServicePort', num(f, 'localserviceport'));
  put(out, 'LocalServiceSocketPath', str(f, 'localservicesocketpath'));
  out.Mode = str(f, 'mode');
  put(out, 'Config', opaque(f, 'config'));
  const upstreams = list(f, 'upstreams');
  if (upstreams.length) out.Upstreams = upstreams.map((u) => decodeUpstream(u, defaultType));
  out.MeshGateway = meshGateway(f.get('meshgateway'));
  out.Expose = expose(f.get('expose'));
  return out as ConnectProxyConfig;
}

function apiUpstream(u: Upstream): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  put(out, 'DestinationType', u.DestinationType);
  put(out, 'DestinationPartition', u.DestinationPartition);
  put(out, 'DestinationNamespace', u.DestinationNamespace);
  put(out, 'DestinationPeer', u.DestinationPeer);
  out.DestinationName = u.DestinationName ?? '';
  put(out, 'Datacenter', u.Datacenter);
  put(out, 'LocalBindAddress', u.LocalBindAddress);
  put(out, 'LocalBindPort', u.LocalBindPort);
  put(out, 'LocalBindSocketPath', u.LocalBindSocketPath);
  put(out, 'LocalBindSocketMode', u.LocalBindSocketMode);
  put(out, 'Config', u.Config);
  out.MeshGateway = u.MeshGateway ?? {};
  put(out, 'CentrallyConfigured', u.CentrallyConfigured);
  return out;
}

/** The agent API's form of a stored proxy config (Consul's ConnectProxyConfig.ToAPI). */
export function agentProxy(p: Record<string, unknown>): Record<string, unknown> {
  const c = p as Partial<ConnectProxyConfig>;
  const out: Record<string, unknown> = {};
  put(out, 'DestinationServiceName', c.DestinationServiceName);
  put(out, 'DestinationServiceID', c.DestinationServiceID);
  put(out, 'LocalServiceAddress', c.LocalServiceAddress);
  put(out, 'LocalServicePort', c.LocalServicePort);
  put(out, 'LocalServiceSocketPath', c.LocalServiceSocketPath);
  put(out, 'Mode', c.Mode);
  put(out, 'TransparentProxy', c.TransparentProxy);
  put(out, 'Config', c.Config);
  if (c.Upstreams?.length) out.Upstreams = c.Upstreams.map(apiUpstream);
  out.MeshGateway = c.MeshGateway ?? {};
  out.Expose = c.Expose ?? {};
  put(out, 'AccessLogs', c.AccessLogs);
  return out;
}

/** The zero ConnectProxyConfig as the catalog stores it. */
export function defaultProxy(): Record<string, unknown> {
  return { Mode: '', MeshGateway: {}, Expose: {} };
}
