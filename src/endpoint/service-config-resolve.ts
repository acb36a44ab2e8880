// A proxy's or gateway's defaults from central config (Consul's configentry.ComputeResolvedServiceConfig):
// proxy-defaults `global` first, then the service-defaults of the service, and for each upstream
// the protocol and mesh gateway mode resolved from both plus the UpstreamConfig defaults/overrides.
import type { ExposeConfig, MeshGatewayConfig } from '../api/proxy-types.ts';
import type { OpaqueUpstreamConfig, PeeredServiceName, ServiceConfigRequest, ServiceConfigResponse } from '../api/service-config-types.ts';

type Obj = Record<string, unknown>;

/** The config entries the resolution reads (stored entries, Consul's field names). */
export interface ResolveEntries {
  proxyDefaults(): Obj | undefined;
  /** A service's service-defaults, in its namespace and partition (absent: the registration's). */
  serviceDefaults(name: string, namespace?: string, partition?: string): Obj | undefined;
}

const WILDCARD = '*';

function obj(v: unknown): Obj | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Obj : undefined;
}

function gatewayMode(v: unknown): string {
  const m = obj(v)?.Mode;
  return typeof m === 'string' ? m : '';
}

/** Consul's UpstreamConfig.MergeInto: only set fields reach the opaque map. */
function mergeUpstreamInto(cfg: Obj, dst: Obj): void {
  const s = (k: string) => (typeof cfg[k] === 'string' && cfg[k] !== '' ? cfg[k] : undefined);
  if (s('EnvoyListenerJSON')) dst.envoy_listener_json = cfg.EnvoyListenerJSON;
  if (s('EnvoyClusterJSON')) dst.envoy_cluster_json = cfg.EnvoyClusterJSON;
  if (s('Protocol')) dst.protocol = cfg.Protocol;
  if (typeof cfg.ConnectTimeoutMs === 'number' && cfg.ConnectTimeoutMs !== 0) dst.connect_timeout_ms = cfg.ConnectTimeoutMs;
  if (gatewayMode(cfg.MeshGateway)) dst.mesh_gateway = { Mode: gatewayMode(cfg.MeshGateway) };
  const limits = obj(cfg.Limits);
  if (limits && Object.keys(limits).length) dst.limits = limits;
  const passive = obj(cfg.PassiveHealthCheck);
  if (passive && Object.keys(passive).length) dst.passive_health_check = passive;
  if (s('BalanceOutboundConnections')) dst.balance_outbound_connections = cfg.BalanceOutboundConnections;
}

/** The map key of an upstream identity (tenancy defaulted, as Consul normalizes it). */
export function peeredKey(p: PeeredServiceName): string {
  const n = p.ServiceName;
  return JSON.stringify([p.Peer ?? '', n.Partition || 'default', n.Namespace || 'default', n.Name]);
}

function tproxy(v: unknown): { OutboundListenerPort?: number; DialedDirectly?: boolean } {
  const t = obj(v) ?? {};
  const out: { OutboundListenerPort?: number; DialedDirectly?: boolean } = {};
  if (typeof t.OutboundListenerPort === 'number' && t.OutboundListenerPort) out.OutboundListenerPort = t.OutboundListenerPort;
  if (t.DialedDirectly === true) out.DialedDirectly = true;
  return out;
}

function expose(v: unknown): ExposeConfig {
  const e = obj(v) ?? {};
  const out: ExposeConfig = {};
  if (e.Checks === true) out.Checks = true;
  if (Array.isArray(e.Paths) && e.Paths.length) out.Paths = structuredClone(e.Paths) as ExposeConfig['Paths'];
  return out;
}

function nonEmpty(v: unknown): Obj | undefined {
  const o = obj(v);
  if (!o) return undefined;
  const kept = Object.fromEntries(Object.entries(o).filter(([, x]) => x !== '' && x !== false && x !== 0 && x !== null && x !== undefined));
  return Object.keys(kept).length ? kept : undefined;
}

// The proxy-defaults part: the reply's base and what every upstream inherits from it.
function applyProxyDefaults(reply: ServiceConfigResponse, pd: Obj, wildcard: Obj): string {
  reply.ProxyConfig = structuredClone(obj(pd.Config) ?? {});
  reply.Mode = typeof pd.Mode === 'string' ? pd.Mode : '';
  reply.TransparentProxy = tproxy(pd.TransparentProxy);
  reply.MeshGateway = gatewayMode(pd.MeshGateway) ? { Mode: gatewayMode(pd.MeshGateway) } : {};
  reply.Expose = expose(pd.Expose);
  const logs = nonEmpty(pd.AccessLogs);
  if (logs) reply.AccessLogs = logs;
  if (reply.ProxyConfig.mesh_gateway !== undefined) wildcard.mesh_gateway = reply.ProxyConfig.mesh_gateway;
  if (reply.MeshGateway.Mode) wildcard.mesh_gateway = { ...reply.MeshGateway };
  // The global protocol reaches named upstreams only, never the wildcard (Consul keeps the
  // discovery chain's protocol authoritative for upstreams a transparent proxy infers).
  const p = reply.ProxyConfig.protocol;
  return typeof p === 'string' ? p : '';
}

// The service-defaults of the service itself.
function applyServiceDefaults(reply: ServiceConfigResponse, sd: Obj, wildcard: Obj): void {
  const e = expose(sd.Expose);
  if (e.Checks) reply.Expose.Checks = true;
  if (e.Paths) reply.Expose.Paths = e.Paths;
  const mode = gatewayMode(sd.MeshGateway);
  if (mode) {
    reply.MeshGateway = { Mode: mode };
    wildcard.mesh_gateway = { Mode: mode };
  }
  const t = tproxy(sd.TransparentProxy);
  if (t.OutboundListenerPort) reply.TransparentProxy.OutboundListenerPort = t.OutboundListenerPort;
  if (t.DialedDirectly) reply.TransparentProxy.DialedDirectly = true;
  if (typeof sd.Mode === 'string' && sd.Mode) reply.Mode = sd.Mode;
  const conf = reply.ProxyConfig ?? {};
  if (typeof sd.Protocol === 'string' && sd.Protocol) conf.protocol = sd.Protocol;
  if (typeof sd.BalanceInboundConnections === 'string' && sd.BalanceInboundConnections) conf.balance_inbound_connections = sd.BalanceInboundConnections;
  for (const [field, key] of [['MaxInboundConnections', 'max_inbound_connections'], ['LocalConnectTimeoutMs', 'local_connect_timeout_ms'], ['LocalRequestTimeoutMs', 'local_request_timeout_ms']]) {
    if (typeof sd[field] === 'number' && (sd[field] as number) > 0) conf[key] = sd[field];
  }
  if (Object.keys(conf).length) reply.ProxyConfig = conf;
  const meta = obj(sd.Meta);
  if (meta && Object.keys(meta).length) reply.Meta = meta as Record<string, string>;
}

/** Resolves the defaults of one registration from the config entries (ComputeResolvedServiceConfig). */
export function computeResolvedServiceConfig(req: ServiceConfigRequest, entries: ResolveEntries): ServiceConfigResponse {
  const reply: ServiceConfigResponse = { MeshGateway: {}, Expose: {}, TransparentProxy: {}, Mode: '' };
  const wildcard: Obj = {};
  const pd = entries.proxyDefaults();
  const globalProtocol = pd ? applyProxyDefaults(reply, pd, wildcard) : '';
  const sd = entries.serviceDefaults(req.Name);
  if (sd) applyServiceDefaults(reply, sd, wildcard);
  const args = req.UpstreamServiceNames ?? [];
  const transparent = req.Mode === 'transparent' || reply.Mode === 'transparent';
  if (args.length === 0 && !transparent) return reply;

  const seen = new Map<string, PeeredServiceName>();
  for (const u of args) seen.set(peeredKey(u), u);
  const overrides = new Map<string, Obj>();
  const resolved = new Map<string, { id: PeeredServiceName; config: Obj }>();
  const wildcardId: PeeredServiceName = { ServiceName: { Name: WILDCARD } };
  const upstreamConfig = obj(sd?.UpstreamConfig);
  let defaults: Obj | undefined;
  for (const o of Array.isArray(upstreamConfig?.Overrides) ? upstreamConfig.Overrides as Obj[] : []) {
    if (typeof o.Name !== 'string' || !o.Name) continue;
    const id: PeeredServiceName = { ServiceName: { Name: o.Name }, ...(o.Peer ? { Peer: String(o.Peer) } : {}) };
    seen.set(peeredKey(id), id);
    overrides.set(peeredKey(id), o);
  }
  if (upstreamConfig && obj(upstreamConfig.Defaults)) {
    defaults = { ...obj(upstreamConfig.Defaults)! };
    if (!gatewayMode(defaults.MeshGateway) && reply.MeshGateway.Mode) defaults.MeshGateway = { ...reply.MeshGateway };
    mergeUpstreamInto(defaults, wildcard);
    resolved.set(peeredKey(wildcardId), { id: wildcardId, config: wildcard });
  }
  const own: MeshGatewayConfig | undefined = req.MeshGateway?.Mode ? { Mode: req.MeshGateway.Mode } : undefined;
  if (own) wildcard.mesh_gateway = own;
  if (Object.keys(wildcard).length) resolved.set(peeredKey(wildcardId), { id: wildcardId, config: wildcard });

  // Overrides written without a peer apply to peered upstreams of the same name too, unless
  // some override names a peer (Consul's legacy matching).
  const legacy = ![...overrides.values()].some((o) => o.Peer);
  for (const [key, id] of seen) {
    const cfg: Obj = {};
    if (globalProtocol) cfg.protocol = globalProtocol;
    Object.assign(cfg, structuredClone(wildcard));
    const upstreamDefaults = entries.serviceDefaults(id.ServiceName.Name, id.ServiceName.Namespace, id.ServiceName.Partition);
    if (typeof upstreamDefaults?.Protocol === 'string' && upstreamDefaults.Protocol) cfg.protocol = upstreamDefaults.Protocol;
    if (reply.MeshGateway.Mode) cfg.mesh_gateway = { ...reply.MeshGateway };
    if (defaults) mergeUpstreamInto(defaults, cfg);
    if (own) cfg.mesh_gateway = own;
    if (legacy && id.Peer) {
      const peerless = overrides.get(peeredKey({ ServiceName: id.ServiceName }));
      if (peerless) mergeUpstreamInto(peerless, cfg);
    }
    const override = overrides.get(key);
    if (override) mergeUpstreamInto(override, cfg);
    if (Object.keys(cfg).length) resolved.set(key, { id, config: cfg });
  }
  if (resolved.size === 0) return reply;
  const list: OpaqueUpstreamConfig[] = [...resolved.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, r]) => ({ Upstream: r.id, Config: r.config }));
  reply.UpstreamConfigs = list;
  return reply;
}
