// Wire types of a compiled discovery chain (Consul's structs.CompiledDiscoveryChain and its
// nodes and targets), with Consul's JSON field names, in the order Consul writes them.

/** One config entry as the compiler reads it (the stored JSON: canonical top-level fields). */
export type ChainEntry = Record<string, unknown> & { Kind: string; Name: string };

/** Where the compiler reads config entries; each lookup may also register a watch. */
export interface ChainEntries {
  /**
   * The entry of `kind` named `name`, if any, in the namespace and partition given (the chain's
   * for entries of the chain's own tenant; partition-level kinds are read from the partition).
   */
  get(kind: string, name: string, namespace?: string, partition?: string): ChainEntry | undefined;
}

/** What to compile and how (Consul's discoverychain.CompileRequest). */
export interface CompileRequest {
  serviceName: string;
  /** The datacenter the chain is evaluated in (targets without an explicit one use it). */
  datacenter: string;
  /** The cluster's trust domain, for the targets' SNI. */
  trustDomain: string;
  namespace?: string;
  partition?: string;
  overrideProtocol?: string;
  /** Milliseconds; 0 or absent for none. */
  overrideConnectTimeoutMs?: number;
  overrideMeshGateway?: { Mode?: string };
  entries: ChainEntries;
}

/** A target's mesh gateway setting; `{}` when the mode is the default. */
export interface MeshGatewayConfig { Mode?: string }

/** A resolver subset as a target carries it; `{}` for none. */
export interface TargetSubset { Filter?: string; OnlyPassing?: boolean }

/** A place the chain can send traffic (Consul's DiscoveryTarget). */
export interface DiscoveryTarget {
  ConnectTimeout?: string;
  ID: string;
  Service: string;
  ServiceSubset?: string;
  Namespace: string;
  Partition: string;
  Datacenter: string;
  MeshGateway: MeshGatewayConfig;
  Subset: TargetSubset;
  TransparentProxy: { DialedDirectly?: boolean };
  External?: boolean;
  SNI: string;
  Name: string;
}

/** A compiled resolver (Consul's DiscoveryResolver); ConnectTimeout is a Go duration string. */
export interface DiscoveryResolver {
  ConnectTimeout?: string;
  Default?: boolean;
  /** Nanoseconds, as Go's time.Duration marshals without a custom encoder. */
  RequestTimeout?: number;
  Target: string;
  Failover?: { Targets?: string[]; Policy?: unknown };
}

/** A compiled route: the route's definition and the node it leads to. */
export interface DiscoveryRoute { Definition: Record<string, unknown>; NextNode: string }

/** A compiled split leg: its definition, effective weight and the node it leads to. */
export interface DiscoverySplit { Definition: Record<string, unknown>; Weight: number; NextNode: string }

/** One node of the chain graph, keyed `<Type>:<Name>` in Nodes. */
export interface DiscoveryGraphNode {
  Type: 'router' | 'splitter' | 'resolver';
  Name: string;
  Routes?: DiscoveryRoute[];
  Splits?: DiscoverySplit[];
  Resolver?: DiscoveryResolver;
  LoadBalancer?: unknown;
}

/** The compiled chain as GET /v1/discovery-chain/:service answers it under `Chain`. */
export interface CompiledDiscoveryChain {
  ServiceName: string;
  Namespace: string;
  Partition: string;
  Datacenter: string;
  CustomizationHash?: string;
  Default?: boolean;
  Protocol?: string;
  ServiceMeta?: Record<string, string>;
  EnvoyExtensions?: unknown[];
  StartNode?: string;
  Nodes?: Record<string, DiscoveryGraphNode>;
  Targets?: Record<string, DiscoveryTarget>;
  AutoVirtualIPs?: string[];
  ManualVirtualIPs?: string[];
}

/** A config entry graph that cannot be compiled (Consul's ConfigEntryGraphError). */
export class ChainGraphError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChainGraphError';
  }
}
