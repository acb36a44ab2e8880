// Wire types of the catalog and health APIs, with Consul's exact JSON names. Shared by the
// replica tables, the endpoints, the HTTP handlers and the API client.

/** Where a node or service runs (Consul's structs.Locality); empty parts are left out, as its JSON omits them. */
export interface Locality {
  Region?: string;
  Zone?: string;
}

/** A catalog node (Consul's structs.Node / api.Node). */
export interface Node {
  ID: string;
  Node: string;
  Address: string;
  Datacenter: string;
  TaggedAddresses: Record<string, string> | null;
  Meta: Record<string, string> | null;
  PeerName?: string;
  /** Absent when the node has none. */
  Locality?: Locality;
  CreateIndex: number;
  ModifyIndex: number;
}

/** A service address with its port (TaggedAddresses values). */
export interface ServiceAddress {
  Address: string;
  Port: number;
}

/** Load-balancing weights of a service instance. */
export interface Weights {
  Passing: number;
  Warning: number;
}

/** A service instance registered on a node (Consul's structs.NodeService). */
export interface NodeService {
  Kind?: string;
  ID: string;
  Service: string;
  Tags: string[] | null;
  Address: string;
  TaggedAddresses?: Record<string, ServiceAddress> | null;
  Meta: Record<string, string> | null;
  Port: number;
  SocketPath?: string;
  Weights: Weights;
  EnableTagOverride: boolean;
  Proxy?: Record<string, unknown>;
  Connect?: Record<string, unknown>;
  PeerName?: string;
  Datacenter?: string;
  Namespace?: string;
  Partition?: string;
  /** Absent when the service has none. */
  Locality?: Locality;
  CreateIndex: number;
  ModifyIndex: number;
}

/** The definition a check was registered with, as the catalog keeps it. */
export interface HealthCheckDefinition {
  HTTP?: string;
  TLSServerName?: string;
  TLSSkipVerify?: boolean;
  Header?: Record<string, string[]>;
  Method?: string;
  Body?: string;
  DisableRedirects?: boolean;
  TCP?: string;
  TCPUseTLS?: boolean;
  UDP?: string;
  H2PING?: string;
  H2PingUseTLS?: boolean;
  GRPC?: string;
  GRPCUseTLS?: boolean;
  OSService?: string;
  Interval?: string;
  Timeout?: string;
  DeregisterCriticalServiceAfter?: string;
  ScriptArgs?: string[] | null;
  AliasNode?: string;
  AliasService?: string;
  TTL?: string;
}

/** A health check in the catalog (Consul's structs.HealthCheck). */
export interface HealthCheck {
  Node: string;
  CheckID: string;
  Name: string;
  Status: 'passing' | 'warning' | 'critical' | 'maintenance' | string;
  Notes: string;
  Output: string;
  ServiceID: string;
  ServiceName: string;
  ServiceTags: string[];
  Type: string;
  Interval: string;
  Timeout: string;
  ExposedPort: number;
  Definition: HealthCheckDefinition;
  Namespace?: string;
  Partition?: string;
  PeerName?: string;
  CreateIndex: number;
  ModifyIndex: number;
}

/** `GET /v1/catalog/service/:name` entries: node and service flattened. */
export interface ServiceNode {
  ID: string;
  Node: string;
  Address: string;
  Datacenter: string;
  TaggedAddresses: Record<string, string> | null;
  NodeMeta: Record<string, string> | null;
  ServiceKind: string;
  ServiceID: string;
  ServiceName: string;
  ServiceTags: string[];
  ServiceAddress: string;
  ServiceTaggedAddresses?: Record<string, ServiceAddress>;
  ServiceWeights: Weights;
  ServiceMeta: Record<string, string>;
  ServicePort: number;
  ServiceSocketPath: string;
  ServiceEnableTagOverride: boolean;
  ServiceProxy: Record<string, unknown>;
  ServiceConnect: Record<string, unknown>;
  /** null when the service has none (Consul's field has no omitempty). */
  ServiceLocality: Locality | null;
  PeerName?: string;
  CreateIndex: number;
  ModifyIndex: number;
}

/** `GET /v1/health/service/:name` entries. */
export interface CheckServiceNode {
  Node: Node;
  Service: NodeService;
  Checks: HealthCheck[];
}

/** The body of `PUT /v1/catalog/register`. */
export interface RegisterRequest {
  ID?: string;
  Node: string;
  Address: string;
  Datacenter?: string;
  TaggedAddresses?: Record<string, string>;
  NodeMeta?: Record<string, string>;
  Service?: Partial<NodeService>;
  Check?: Partial<HealthCheck>;
  Checks?: Partial<HealthCheck>[];
  SkipNodeUpdate?: boolean;
  /** The node's locality. */
  Locality?: Locality;
}

/** The body of `PUT /v1/catalog/deregister`. */
export interface DeregisterRequest {
  Node: string;
  ServiceID?: string;
  CheckID?: string;
  Datacenter?: string;
  /** Consul Enterprise: the namespace of the service or check. */
  Namespace?: string;
  Partition?: string;
}
