// Wire types of a service's resolved central configuration (Consul's structs.ServiceConfigRequest
// and ServiceConfigResponse, the ConfigEntry.ResolveServiceConfig RPC): what an agent asks the
// servers about a proxy or gateway it registers, and the defaults it merges into its Proxy.
import type { ExposeConfig, MeshGatewayConfig, TransparentProxyConfig } from './proxy-types.ts';

/** An upstream's identity: a service name (with its tenancy) and the peer it lives in, if any. */
export interface PeeredServiceName {
  ServiceName: { Name: string; Namespace?: string; Partition?: string };
  Peer?: string;
}

/** What the agent asks about one proxy or gateway registration. */
export interface ServiceConfigRequest {
  /** The service whose service-defaults apply: a sidecar's destination, else the service itself. */
  Name: string;
  /** Consul Enterprise: the registration's namespace and partition (absent: default). */
  Namespace?: string;
  Partition?: string;
  /** The registration's own Proxy.MeshGateway (it outranks central upstream defaults). */
  MeshGateway?: MeshGatewayConfig;
  /** The registration's own Proxy.Mode. */
  Mode?: string;
  /** The registration's service-type upstreams. */
  UpstreamServiceNames?: PeeredServiceName[];
}

/** The resolved central configuration of one upstream. */
export interface OpaqueUpstreamConfig {
  Upstream: PeeredServiceName;
  Config: Record<string, unknown>;
}

/** The defaults resolved from proxy-defaults `global` and the service-defaults involved. */
export interface ServiceConfigResponse {
  ProxyConfig?: Record<string, unknown>;
  UpstreamConfigs?: OpaqueUpstreamConfig[];
  MeshGateway: MeshGatewayConfig;
  Expose: ExposeConfig;
  TransparentProxy: TransparentProxyConfig;
  Mode: string;
  AccessLogs?: Record<string, unknown>;
  Meta?: Record<string, string>;
}
