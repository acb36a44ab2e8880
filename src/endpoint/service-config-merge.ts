// A registration merged with its central defaults (Consul's configentry.MergeServiceConfig and the
// agent's makeConfigRequest): what the registration sets wins, central config fills the rest, and
// in transparent mode the centrally configured upstreams join the registration's own.
import type { ConnectProxyConfig, ExposeConfig, Upstream } from '../api/proxy-types.ts';
import type { PeeredServiceName, ServiceConfigRequest, ServiceConfigResponse } from '../api/service-config-types.ts';
import { orderProxy } from '../api/proxy-json.ts';

/** The parts of a registration (an agent's LocalService or a catalog NodeService) the merge reads. */
export interface ProxiedService {
  Kind?: string;
  Service: string;
  /** The registration's namespace (absent or `default`: the default one). */
  Namespace?: string;
  Proxy?: Record<string, unknown>;
}

/** A registration's namespace when not the default one, else ''. */
function ownNamespace(s: ProxiedService): string {
  return s.Namespace && s.Namespace !== 'default' ? s.Namespace : '';
}

/** The admin partition of an agent's registrations when not the default one, else ''. */
function ownPartition(partition: string): string {
  return partition && partition.toLowerCase() !== 'default' ? partition : '';
}

type Obj = Record<string, unknown>;

const GATEWAYS = new Set(['mesh-gateway', 'terminating-gateway', 'ingress-gateway', 'api-gateway']);

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** True when the upstream names a service (not a prepared query). */
function serviceUpstream(u: Upstream): boolean {
  return !u.DestinationType || u.DestinationType === 'service';
}

/**
 * An upstream's identity, tenancy defaulted as Consul normalizes it: a namespace or partition not
 * named is the proxy's own (`namespace`, `partition`, Consul Enterprise), else the default one.
 */
export function upstreamId(u: Upstream, namespace = '', partition = ''): PeeredServiceName {
  return {
    ServiceName: { Name: u.DestinationName, Namespace: u.DestinationNamespace || namespace || 'default', Partition: u.DestinationPartition || partition || 'default' },
    ...(u.DestinationPeer ? { Peer: u.DestinationPeer } : {}),
  };
}

function idKey(p: PeeredServiceName): string {
  const n = p.ServiceName;
  return JSON.stringify([p.Peer ?? '', n.Partition || 'default', n.Namespace || 'default', n.Name]);
}

/**
 * The request for a registration's central defaults, or undefined when central config does not
 * apply: only sidecar proxies (a connect-proxy with a destination instance) and gateways get it.
 * `partition`: the agent's admin partition, where its registrations are (a client agent's `partition`).
 */
export function serviceConfigRequest(s: ProxiedService, partition = ''): ServiceConfigRequest | undefined {
  const p = (s.Proxy ?? {}) as Partial<ConnectProxyConfig>;
  const sidecar = s.Kind === 'connect-proxy' && Boolean(p.DestinationServiceID);
  if (!sidecar && !GATEWAYS.has(s.Kind ?? '')) return undefined;
  const ns = ownNamespace(s);
  const ap = ownPartition(partition);
  const upstreams = sidecar ? (p.Upstreams ?? []).filter(serviceUpstream).map((u) => upstreamId(u, ns, ap)) : [];
  return {
    Name: sidecar ? p.DestinationServiceName ?? '' : s.Service,
    // A registration in a namespace is resolved there (its namespace's service-defaults); the default one names none, as before.
    ...(ns ? { Namespace: ns } : {}),
    // Likewise a client agent's registrations in its partition other than default (its service-defaults and proxy-defaults).
    ...(ap ? { Partition: ap } : {}),
    ...(p.MeshGateway?.Mode ? { MeshGateway: { Mode: p.MeshGateway.Mode } } : {}),
    ...(p.Mode ? { Mode: p.Mode } : {}),
    ...(upstreams.length ? { UpstreamServiceNames: upstreams } : {}),
  };
}

// mergo.Merge without overwrite: keys the destination lacks (or holds null for) come from `src`,
// nested maps merge key by key.
function fillMap(dst: Obj | undefined, src: Obj | undefined): Obj | undefined {
  if (!src || Object.keys(src).length === 0) return dst;
  const out: Obj = { ...(dst ?? {}) };
  for (const [k, v] of Object.entries(src)) {
    if (out[k] === undefined || out[k] === null) out[k] = structuredClone(v);
    else if (isObj(out[k]) && isObj(v)) out[k] = fillMap(out[k] as Obj, v);
  }
  return out;
}

function fillExpose(dst: ExposeConfig | undefined, src: ExposeConfig): ExposeConfig {
  const out: ExposeConfig = { ...(dst ?? {}) };
  if (!out.Checks && src.Checks) out.Checks = true;
  if (!out.Paths?.length && src.Paths?.length) out.Paths = structuredClone(src.Paths);
  return out;
}

function mergeUpstreams(p: Partial<ConnectProxyConfig>, d: ServiceConfigResponse, namespace: string, partition: string): Upstream[] | undefined {
  const remote = new Map<string, Upstream>();
  for (const u of d.UpstreamConfigs ?? []) {
    const n = u.Upstream.ServiceName;
    const gw = isObj(u.Config.mesh_gateway) && typeof u.Config.mesh_gateway.Mode === 'string' ? u.Config.mesh_gateway.Mode : '';
    remote.set(idKey(u.Upstream), {
      DestinationType: '', DestinationNamespace: n.Namespace || 'default', DestinationPartition: n.Partition || 'default',
      ...(u.Upstream.Peer ? { DestinationPeer: u.Upstream.Peer } : {}),
      DestinationName: n.Name, Datacenter: '', Config: u.Config, MeshGateway: gw ? { Mode: gw } : {}, CentrallyConfigured: true,
    });
  }
  const local = new Set<string>();
  const upstreams = (p.Upstreams ?? []).map((u) => {
    if (!serviceUpstream(u)) return u;
    const key = idKey(upstreamId(u, namespace, partition));
    local.add(key);
    const r = remote.get(key);
    if (!r) return u;
    const merged: Upstream = { ...u, MeshGateway: u.MeshGateway?.Mode ? u.MeshGateway : { ...r.MeshGateway } };
    const config = fillMap(u.Config, r.Config) ?? {};
    // A peer's protocol is its own business: the local cluster's defaults never set it.
    if (u.DestinationPeer) {
      if (u.Config?.protocol !== undefined) config.protocol = u.Config.protocol;
      else delete config.protocol;
    }
    // The resolved gateway mode is folded into MeshGateway above; the opaque copy is not final.
    delete config.mesh_gateway;
    if (Object.keys(config).length) merged.Config = config;
    else delete merged.Config;
    return merged;
  });
  if (p.Mode === 'transparent') for (const [key, r] of remote) if (!local.has(key)) upstreams.push(r);
  return upstreams.length ? upstreams : undefined;
}

/**
 * The registration with its central defaults merged in (the registration itself is left as is);
 * `partition` as serviceConfigRequest's.
 */
export function mergeServiceConfig<S extends ProxiedService>(d: ServiceConfigResponse | undefined, s: S, partition = ''): S {
  if (!d) return s;
  const p = structuredClone((s.Proxy ?? {}) as Partial<ConnectProxyConfig>);
  const config = fillMap(p.Config, d.ProxyConfig);
  if (config && Object.keys(config).length) p.Config = config;
  p.Expose = fillExpose(p.Expose, d.Expose ?? {});
  const logs = fillMap(p.AccessLogs, d.AccessLogs);
  if (logs && Object.keys(logs).length) p.AccessLogs = logs;
  if (!p.MeshGateway?.Mode && d.MeshGateway?.Mode) p.MeshGateway = { Mode: d.MeshGateway.Mode };
  if (!p.Mode && d.Mode) p.Mode = d.Mode;
  const tp = { ...(p.TransparentProxy ?? {}) };
  if (!tp.OutboundListenerPort && d.TransparentProxy?.OutboundListenerPort) tp.OutboundListenerPort = d.TransparentProxy.OutboundListenerPort;
  if (!tp.DialedDirectly && d.TransparentProxy?.DialedDirectly) tp.DialedDirectly = true;
  if (Object.keys(tp).length) p.TransparentProxy = tp;
  p.Upstreams = mergeUpstreams(p, d, ownNamespace(s), ownPartition(partition));
  return { ...s, Proxy: orderProxy(p as Obj) };
}
