// Wire types of a Connect proxy registration (Consul's structs.ConnectProxyConfig / Upstream /
// ExposeConfig and their api twins), with Consul's JSON names. The catalog keeps the structs
// form; the agent's /v1/agent/service* answers render the api form from it.

/** How upstream traffic uses mesh gateways (`""`, `none`, `local`, `remote`). */
export interface MeshGatewayConfig {
  Mode?: string;
}

/** Transparent-proxy settings of a proxy instance. */
export interface TransparentProxyConfig {
  OutboundListenerPort?: number;
  DialedDirectly?: boolean;
}

/** One HTTP path exposed through the proxy outside the mesh. */
export interface ExposePath {
  ListenerPort?: number;
  Path?: string;
  LocalPathPort?: number;
  Protocol?: string;
  ParsedFromCheck?: boolean;
}

/** Which paths (or all check paths) the proxy exposes. */
export interface ExposeConfig {
  Checks?: boolean;
  Paths?: ExposePath[];
}

/** One upstream of a proxy (Consul's structs.Upstream). */
export interface Upstream {
  DestinationType: string;
  DestinationNamespace?: string;
  DestinationPartition?: string;
  DestinationPeer?: string;
  DestinationName: string;
  Datacenter: string;
  LocalBindAddress?: string;
  LocalBindPort?: number;
  LocalBindSocketPath?: string;
  LocalBindSocketMode?: string;
  Config?: Record<string, unknown>;
  MeshGateway: MeshGatewayConfig;
  CentrallyConfigured?: boolean;
}

/** A proxy's configuration as the catalog stores it (Consul's structs.ConnectProxyConfig JSON). */
export interface ConnectProxyConfig {
  TransparentProxy?: TransparentProxyConfig;
  AccessLogs?: Record<string, unknown>;
  DestinationServiceName?: string;
  DestinationServiceID?: string;
  LocalServiceAddress?: string;
  LocalServicePort?: number;
  LocalServiceSocketPath?: string;
  Mode: string;
  Config?: Record<string, unknown>;
  Upstreams?: Upstream[];
  MeshGateway: MeshGatewayConfig;
  Expose: ExposeConfig;
}
