// The config entry kinds Consul knows (agent/structs/config_entry*.go): each kind's fields in
// Go struct order (the JSON order Consul writes) and the zero values Consul always renders.
import type { Shape } from './config-entry-decode.ts';

const TPROXY: Shape = { OutboundListenerPort: 0, DialedDirectly: 0 };
const MESH_GATEWAY: Shape = { Mode: 0 };
const EXPOSE: Shape = { Checks: 0, Paths: [{ ListenerPort: 0, Path: 0, LocalPathPort: 0, Protocol: 0 }] };
const PASSIVE_HEALTH: Shape = { Interval: 0, MaxFailures: 0, EnforcingConsecutive5xx: 0, MaxEjectionPercent: 0, BaseEjectionTime: 0 };
const UPSTREAM: Shape = {
  Name: 0, Peer: 0, EnvoyListenerJSON: 0, EnvoyClusterJSON: 0, Protocol: 0, ConnectTimeoutMs: 0,
  Limits: { MaxConnections: 0, MaxPendingRequests: 0, MaxConcurrentRequests: 0 }, PassiveHealthCheck: PASSIVE_HEALTH,
  MeshGateway: MESH_GATEWAY, BalanceOutboundConnections: 0,
};
const ACCESS_LOGS: Shape = { Enabled: 0, DisableListenerLogs: 0, Type: 0, Path: 0, JSONFormat: 0, TextFormat: 0 };
const SDS: Shape = { ClusterName: 0, CertResource: 0 };
const GATEWAY_TLS: Shape = { Enabled: 0, SDS, TLSMinVersion: 0, TLSMaxVersion: 0, CipherSuites: 'list' };
const INGRESS_SERVICE: Shape = {
  Name: 0, Hosts: 'list', TLS: { SDS }, RequestHeaders: 'any', ResponseHeaders: 'any', MaxConnections: 0,
  MaxPendingRequests: 0, MaxConcurrentRequests: 0, PassiveHealthCheck: PASSIVE_HEALTH, Meta: 'map',
};
const PARENT: Shape = { Kind: 0, Name: 0, SectionName: 0 };
const COMMON_TAIL: Shape = { Meta: 'map' };
/** An http-route's request header change (HTTPHeaderFilter). */
const HEADER_FILTER: Shape = { Add: 'map', Remove: 'list', Set: 'map' };
/** An http-route rule's or service's request filters (HTTPFilters). */
const HTTP_FILTERS: Shape = {
  Headers: [HEADER_FILTER], URLRewrite: { Path: 0 },
  RetryFilter: { NumRetries: 0, RetryOn: 'list', RetryOnStatusCodes: 'list', RetryOnConnectFailure: 0 },
  // time.Duration fields without a custom marshaller: integer nanoseconds in Consul's JSON.
  TimeoutFilter: { RequestTimeout: 'duration', IdleTimeout: 'duration' }, JWT: 'any',
};
const RESPONSE_FILTERS: Shape = { Headers: [HEADER_FILTER] };
/** An http-route's match (HTTPMatch). */
const HTTP_MATCH: Shape = {
  Headers: [{ Match: 0, Name: 0, Value: 0 }], Method: 0, Path: { Match: 0, Value: 0 }, Query: [{ Match: 0, Name: 0, Value: 0 }],
};
/** The mesh entry's HTTP block (MeshHTTPConfig). */
const MESH_HTTP: Shape = {
  SanitizeXForwardedClientCert: 'bool',
  Incoming: {
    RequestNormalization: { InsecureDisablePathNormalization: 'bool', MergeSlashes: 'bool', PathWithEscapedSlashesAction: 0, HeadersWithUnderscoresAction: 0 },
  },
};
/** A ReadWriteRatesConfig (control-plane-request-limit categories). */
const RATES: Shape = { ReadRate: 0, WriteRate: 0 };

/** Every kind Consul CE accepts plus the Enterprise kinds Proconsul opens, with its fields. */
export const KIND_SHAPES: Readonly<Record<string, Shape>> = {
  'service-defaults': {
    Kind: 0, Name: 0, Protocol: 0, Mode: 0, TransparentProxy: TPROXY, MutualTLSMode: 0, MeshGateway: MESH_GATEWAY,
    Expose: EXPOSE, ExternalSNI: 0, UpstreamConfig: { Overrides: [UPSTREAM], Defaults: UPSTREAM },
    Destination: { Addresses: 'list', Port: 0 }, MaxInboundConnections: 0, LocalConnectTimeoutMs: 0,
    LocalRequestTimeoutMs: 0, BalanceInboundConnections: 0, RateLimits: 'any', EnvoyExtensions: 'any', ...COMMON_TAIL,
  },
  'proxy-defaults': {
    Kind: 0, Name: 0, Config: 'map', Mode: 0, TransparentProxy: TPROXY, MutualTLSMode: 0, MeshGateway: MESH_GATEWAY,
    Expose: EXPOSE, AccessLogs: ACCESS_LOGS, EnvoyExtensions: 'any', FailoverPolicy: 'any', PrioritizeByLocality: 'any',
    ...COMMON_TAIL,
  },
  'service-router': { Kind: 0, Name: 0, Routes: [{ Match: 'any', Destination: 'any' }], ...COMMON_TAIL },
  'service-splitter': {
    Kind: 0, Name: 0,
    Splits: [{ Weight: 0, Service: 0, ServiceSubset: 0, Namespace: 0, Partition: 0, RequestHeaders: 'any', ResponseHeaders: 'any' }], ...COMMON_TAIL,
  },
  'service-resolver': {
    Kind: 0, Name: 0, DefaultSubset: 0, Subsets: 'any', Redirect: 'any', Failover: 'any', ConnectTimeout: 0,
    RequestTimeout: 0, PrioritizeByLocality: 'any', LoadBalancer: 'any', ...COMMON_TAIL,
  },
  'ingress-gateway': {
    Kind: 0, Name: 0, TLS: GATEWAY_TLS, Listeners: [{ Port: 0, Protocol: 0, TLS: GATEWAY_TLS, Services: [INGRESS_SERVICE] }],
    Defaults: { MaxConnections: 0, MaxPendingRequests: 0, MaxConcurrentRequests: 0, PassiveHealthCheck: PASSIVE_HEALTH },
    ...COMMON_TAIL,
  },
  'terminating-gateway': {
    Kind: 0, Name: 0, Services: [{ Name: 0, CAFile: 0, CertFile: 0, KeyFile: 0, SNI: 0 }], ...COMMON_TAIL,
  },
  'service-intentions': {
    Kind: 0, Name: 0,
    Sources: [{
      Name: 0, Peer: 0, Partition: 0, Namespace: 0, SamenessGroup: 0, Action: 0, Permissions: 'any', Precedence: 0, Type: 0, Description: 0,
      LegacyID: 0, LegacyMeta: 'map', LegacyCreateTime: 0, LegacyUpdateTime: 0,
    }],
    JWT: 'any', ...COMMON_TAIL,
  },
  mesh: {
    Kind: 0, Name: 0, TransparentProxy: { MeshDestinationsOnly: 0 }, AllowEnablingPermissiveMutualTLS: 0,
    ValidateClusters: 0, TLS: 'any', HTTP: MESH_HTTP, Peering: { PeerThroughMeshGateways: 0 }, ...COMMON_TAIL,
  },
  'exported-services': {
    Kind: 0, Name: 0, Services: [{ Name: 0, Namespace: 0, Consumers: [{ Partition: 0, Peer: 0, SamenessGroup: 0 }] }], ...COMMON_TAIL,
  },
  'sameness-group': { Kind: 0, Name: 0, DefaultForFailover: 0, IncludeLocal: 0, Members: [{ Partition: 0, Peer: 0 }], ...COMMON_TAIL },
  'api-gateway': {
    Kind: 0, Name: 0,
    Listeners: [{
      Name: 0, Hostname: 0, Port: 0, Protocol: 0, TLS: { Certificates: [PARENT], MaxVersion: 0, MinVersion: 0, CipherSuites: 'list' },
      Override: 'any', Default: 'any',
    }],
    Status: 'any', ...COMMON_TAIL,
  },
  'bound-api-gateway': { Kind: 0, Name: 0, Listeners: 'any', Services: 'any', ...COMMON_TAIL },
  'http-route': {
    Kind: 0, Name: 0, Parents: [PARENT],
    Rules: [{ Filters: HTTP_FILTERS, ResponseFilters: RESPONSE_FILTERS, Matches: [HTTP_MATCH], Services: [{ Name: 0, Weight: 0, Filters: HTTP_FILTERS, ResponseFilters: RESPONSE_FILTERS }] }],
    Hostnames: 'list', ...COMMON_TAIL, Status: 'any',
  },
  'tcp-route': { Kind: 0, Name: 0, Parents: [PARENT], Services: [{ Name: 0 }], ...COMMON_TAIL, Status: 'any' },
  'file-system-certificate': { Kind: 0, Name: 0, Certificate: 0, PrivateKey: 0, ...COMMON_TAIL },
  'inline-certificate': { Kind: 0, Name: 0, Certificate: 0, PrivateKey: 0, ...COMMON_TAIL },
  // Consul's RateLimitIPConfigEntry: each category is a ReadWriteRatesConfig.
  'control-plane-request-limit': {
    Kind: 0, Name: 0, Mode: 0, ReadRate: 0, WriteRate: 0, ACL: RATES, Catalog: RATES, ConfigEntry: RATES,
    ConnectCA: RATES, Coordinate: RATES, DiscoveryChain: RATES, ServerDiscovery: RATES, Health: RATES, Intention: RATES,
    KV: RATES, Tenancy: RATES, PreparedQuery: RATES, Session: RATES, Txn: RATES, ...COMMON_TAIL,
  },
  'jwt-provider': {
    Kind: 0, Name: 0, JSONWebKeySet: 'any', Issuer: 0, Audiences: 'list', Locations: 'any', Forwarding: 'any',
    ClockSkewSeconds: 0, CacheConfig: 'any', ...COMMON_TAIL,
  },
};

/** Zero values Consul renders for fields without `omitempty` (struct-typed fields and nil slices). */
export const KIND_DEFAULTS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  'service-defaults': { Protocol: '', TransparentProxy: {}, MeshGateway: {}, Expose: {} },
  'proxy-defaults': { Config: null, TransparentProxy: {}, MeshGateway: {}, Expose: {}, AccessLogs: {} },
  'service-router': { Routes: null },
  'service-splitter': { Splits: null },
  'ingress-gateway': { TLS: { Enabled: false }, Listeners: null },
  'terminating-gateway': { Services: null },
  'service-intentions': { Sources: null },
  mesh: { TransparentProxy: { MeshDestinationsOnly: false } },
  'exported-services': { Services: null },
  'api-gateway': { Listeners: null, Status: { Conditions: null } },
  'bound-api-gateway': { Listeners: null, Services: null },
  'http-route': { Parents: null, Rules: null, Hostnames: null, Status: { Conditions: null } },
  'tcp-route': { Services: null, Parents: null, Status: { Conditions: null } },
  'file-system-certificate': { Certificate: '', PrivateKey: '' },
  'inline-certificate': { Certificate: '', PrivateKey: '' },
  'control-plane-request-limit': { Mode: '', ReadRate: 0, WriteRate: 0 },
};

/** Kinds whose entry has exactly one allowed name. */
export const FIXED_NAMES: Readonly<Record<string, string>> = { 'proxy-defaults': 'global', mesh: 'mesh' };
