// The JSON form of a stored proxy config (Consul's ConnectProxyConfig.MarshalJSON): fields in
// struct order, zero values left out except Mode, MeshGateway and Expose, which Go always writes.

const PROXY_ORDER = [
  'TransparentProxy', 'AccessLogs', 'DestinationServiceName', 'DestinationServiceID', 'LocalServiceAddress', 'LocalServicePort',
  'LocalServiceSocketPath', 'Mode', 'Config', 'Upstreams', 'MeshGateway', 'Expose',
];

/** A proxy config with its fields in Consul's JSON order and zero values left out (omitempty). */
export function orderProxy(p: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of PROXY_ORDER) {
    const v = p[k];
    if (k === 'Mode') out.Mode = v ?? '';
    else if (k === 'MeshGateway' || k === 'Expose') out[k] = v ?? {};
    else if (v !== undefined && v !== '' && v !== 0 && v !== false) out[k] = v;
  }
  return out;
}
