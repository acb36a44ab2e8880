// The JSON field names of the request bodies Consul decodes refusing unknown keys (lib.DecodeJSON,
// or an UnmarshalJSON calling lib.UnmarshalJSON), one table per Go struct, with the snake_case json
// tags their UnmarshalJSON adds. Consul Enterprise's Namespace/Partition are fields (its API is ours).
// Nested values are walked only where Consul's own decoding of them is strict too.
import { struct, type Shape } from './known-fields.ts';

const ENT = ['Namespace', 'Partition'];
const RAFT = ['CreateIndex', 'ModifyIndex'];

/** structs.Weights. */
const WEIGHTS = struct(['Passing', 'Warning']);
/** structs.ServiceAddress (the values of a service's TaggedAddresses). */
const SERVICE_ADDRESS = struct(['Address', 'Port']);
/** structs.Locality. */
const LOCALITY = struct(['Region', 'Zone']);

/** structs.Upstream: its UnmarshalJSON decodes strictly, with snake_case tags (IngressHosts is json:"-"). */
const UPSTREAM = struct([
  'DestinationType', 'DestinationNamespace', 'DestinationPartition', 'DestinationPeer', 'DestinationName', 'Datacenter',
  'LocalBindAddress', 'LocalBindPort', 'LocalBindSocketPath', 'LocalBindSocketMode', 'Config', 'MeshGateway', 'CentrallyConfigured',
  'destination_type', 'destination_partition', 'destination_namespace', 'destination_peer', 'destination_name',
  'local_bind_address', 'local_bind_port', 'local_bind_socket_path', 'local_bind_socket_mode', 'mesh_gateway',
]);

/** structs.ConnectProxyConfig: strict at its own level and in its upstreams (envoy_extensions has no snake tag). */
const PROXY = struct([
  'EnvoyExtensions', 'DestinationServiceName', 'DestinationServiceID', 'LocalServiceAddress', 'LocalServicePort',
  'LocalServiceSocketPath', 'Mode', 'Config', 'Upstreams', 'MeshGateway', 'Expose', 'TransparentProxy', 'AccessLogs',
  'destination_service_name', 'destination_service_id', 'local_service_address', 'local_service_port',
  'local_service_socket_path', 'mesh_gateway', 'transparent_proxy', 'access_logs',
], { Upstreams: ['list', UPSTREAM] });

/** The check fields CheckType and CheckDefinition share, with their UnmarshalJSON's snake_case tags. */
const CHECK_COMMON = [
  'Name', 'Status', 'Notes', 'ScriptArgs', 'HTTP', 'H2PING', 'H2PingUseTLS', 'Header', 'Method', 'Body', 'DisableRedirects',
  'TCP', 'TCPUseTLS', 'UDP', 'Interval', 'AliasNode', 'AliasService', 'DockerContainerID', 'Shell', 'GRPC', 'GRPCUseTLS',
  'OSService', 'TLSServerName', 'TLSSkipVerify', 'Timeout', 'TTL', 'SuccessBeforePassing', 'FailuresBeforeWarning',
  'FailuresBeforeCritical', 'DeregisterCriticalServiceAfter', 'OutputMaxSize', 'ServiceID',
  'args', 'script_args', 'deregister_critical_service_after', 'docker_container_id', 'tls_server_name', 'tls_skip_verify',
  'grpc_use_tls', 'h2ping_use_tls', 'service_id',
];

/** structs.CheckType, a service definition's `Check`/`Checks` (no ID, Token or tenancy: CheckID names it). */
export const CHECK_TYPE = struct([...CHECK_COMMON, 'CheckID', 'ProxyHTTP', 'ProxyGRPC']);

/** structs.CheckDefinition, the /v1/agent/check/register body (ID names it; no CheckID). */
export const CHECK_DEFINITION = struct([...CHECK_COMMON, 'ID', 'Token', 'disable_redirects', ...ENT]);

/** structs.ServiceConnect: its UnmarshalJSON is plain json.Unmarshal (lenient), but a sidecar is a strict ServiceDefinition. */
const SERVICE_CONNECT = struct(['Native', 'SidecarService', 'sidecar_service', 'PeerMeta'],
  { SidecarService: () => SERVICE_DEFINITION, sidecar_service: () => SERVICE_DEFINITION }, true);

/** structs.ServiceDefinition, the /v1/agent/service/register body (`Ports` is a newer Consul's field). */
export const SERVICE_DEFINITION: Shape = struct([
  'Kind', 'ID', 'Name', 'Tags', 'Address', 'TaggedAddresses', 'Meta', 'Port', 'Ports', 'SocketPath', 'Check', 'Checks',
  'Weights', 'Token', 'EnableTagOverride', 'Locality', 'Proxy', 'Connect', 'enable_tag_override', 'tagged_addresses', ...ENT,
], {
  Check: CHECK_TYPE, Checks: ['list', CHECK_TYPE], Weights: WEIGHTS, TaggedAddresses: ['map', SERVICE_ADDRESS],
  tagged_addresses: ['map', SERVICE_ADDRESS], Locality: LOCALITY, Proxy: PROXY, Connect: SERVICE_CONNECT,
});

/** structs.NodeService, a catalog registration's `Service` (LocallyRegisteredAsSidecar is json:"-"). */
const NODE_SERVICE = struct([
  'Kind', 'ID', 'Service', 'Tags', 'Address', 'TaggedAddresses', 'Meta', 'Port', 'Ports', 'SocketPath', 'Weights',
  'EnableTagOverride', 'Locality', 'Proxy', 'Connect', 'PeerName', ...ENT, ...RAFT,
], { Weights: WEIGHTS, TaggedAddresses: ['map', SERVICE_ADDRESS], Locality: LOCALITY, Proxy: PROXY, Connect: SERVICE_CONNECT });

/** structs.HealthCheck; its Definition (HealthCheckDefinition) decodes with plain json.Unmarshal, so is not walked. */
const HEALTH_CHECK = struct([
  'Node', 'CheckID', 'Name', 'Status', 'Notes', 'Output', 'ServiceID', 'ServiceName', 'ServiceTags', 'Type', 'Interval',
  'Timeout', 'ExposedPort', 'PeerName', 'Definition', ...ENT, ...RAFT,
]);

/** structs.RegisterRequest, the /v1/catalog/register body (WriteRequest's Token and RaftIndex included). */
export const REGISTER_REQUEST = struct([
  'Datacenter', 'ID', 'Node', 'Address', 'TaggedAddresses', 'NodeMeta', 'Service', 'Check', 'Checks', 'Locality',
  'SkipNodeUpdate', 'PeerName', 'Token', ...ENT, ...RAFT,
], { Service: NODE_SERVICE, Check: HEALTH_CHECK, Checks: ['list', HEALTH_CHECK], Locality: LOCALITY });

/** structs.DeregisterRequest: its UnmarshalJSON explicitly allows the obsolete Address. */
export const DEREGISTER_REQUEST = struct(['Datacenter', 'Node', 'ServiceID', 'CheckID', 'PeerName', 'Token', 'Address', ...ENT]);

/** agent.checkUpdate, the /v1/agent/check/update body. */
export const CHECK_UPDATE = struct(['Status', 'Output']);
/** api.AgentToken, the /v1/agent/token/* body. */
export const AGENT_TOKEN = struct(['Token']);

/** structs.CoordinateUpdateRequest with serf's Coordinate. */
export const COORDINATE_UPDATE = struct(['Datacenter', 'Node', 'Segment', 'Coord', 'Token', ...ENT],
  { Coord: struct(['Vec', 'Error', 'Adjustment', 'Height']) });

/** agent.keyringArgs, the /v1/operator/keyring body. */
export const KEYRING_ARGS = struct(['Key', 'Token', 'RelayFactor', 'LocalOnly']);

/** api.AutopilotConfiguration, the /v1/operator/autopilot/configuration body. */
export const AUTOPILOT_CONFIGURATION = struct([
  'CleanupDeadServers', 'LastContactThreshold', 'MaxTrailingLogs', 'MinQuorum', 'ServerStabilizationTime',
  'RedundancyZoneTag', 'DisableUpgradeMigration', 'UpgradeVersionTag', ...RAFT,
]);

/** structs.CAConfiguration, the /v1/connect/ca/configuration body (Config and State are free maps). */
export const CA_CONFIGURATION = struct(['ClusterID', 'Provider', 'Config', 'State', 'ForceWithoutCrossSigning', 'force_without_cross_signing', ...RAFT]);

/** structs.ConnectAuthorizeRequest, the /v1/agent/connect/authorize body. */
export const CONNECT_AUTHORIZE = struct(['Target', 'ClientCertURI', 'ClientCertSerial', ...ENT]);

/** api.PeeringGenerateTokenRequest and api.PeeringEstablishRequest (lib.DecodeJSON, 'Body decoding failed'). */
export const PEERING_GENERATE_TOKEN = struct(['PeerName', 'Partition', 'Meta', 'ServerExternalAddresses']);
export const PEERING_ESTABLISH = struct(['PeerName', 'PeeringToken', 'Partition', 'Meta']);

/** api.TxnOp and its KV operation (api.KVTxnOp); the catalog operations' inner structs are not walked. */
export const TXN_OP = struct(['KV', 'Node', 'Service', 'Check', 'Session'],
  { KV: struct(['Verb', 'Key', 'Value', 'Flags', 'Index', 'Session', ...ENT]) });

// ACL bodies: each type's UnmarshalJSON (where it has one) calls lib.UnmarshalJSON, strict at every level.
const LINK = struct(['ID', 'Name']);
const SERVICE_IDENTITY = struct(['ServiceName', 'Datacenters']);
const NODE_IDENTITY = struct(['NodeName', 'Datacenter']);
// structs.ACLTemplatedPolicy also carries TemplateID (json omitempty), which Consul's decoder takes.
const TEMPLATED_POLICY = struct(['TemplateID', 'TemplateName', 'TemplateVariables', 'Datacenters'], { TemplateVariables: struct(['Name']) });
const IDENTITIES = {
  ServiceIdentities: ['list', SERVICE_IDENTITY], NodeIdentities: ['list', NODE_IDENTITY], TemplatedPolicies: ['list', TEMPLATED_POLICY],
} as const;

/** structs.ACLToken (ExpirationTTL and Hash through its UnmarshalJSON; AuthMethodNamespace is Enterprise's). */
export const ACL_TOKEN = struct([
  'AccessorID', 'SecretID', 'Description', 'Policies', 'Roles', 'ServiceIdentities', 'NodeIdentities', 'TemplatedPolicies',
  'Local', 'AuthMethod', 'AuthMethodNamespace', 'ExpirationTime', 'ExpirationTTL', 'CreateTime', 'Hash', ...ENT, ...RAFT,
], { Policies: ['list', LINK], Roles: ['list', LINK], ...IDENTITIES });

/** structs.ACLPolicy. */
export const ACL_POLICY = struct(['ID', 'Name', 'Description', 'Rules', 'Datacenters', 'Hash', ...ENT, ...RAFT]);

/** structs.ACLRole. */
export const ACL_ROLE = struct(['ID', 'Name', 'Description', 'Policies', 'ServiceIdentities', 'NodeIdentities', 'TemplatedPolicies', 'Hash', ...ENT, ...RAFT],
  { Policies: ['list', LINK], ...IDENTITIES });

/** structs.ACLBindingRule. */
export const ACL_BINDING_RULE = struct(['ID', 'Description', 'AuthMethod', 'Selector', 'BindType', 'BindName', 'BindVars', ...ENT, ...RAFT],
  { BindVars: struct(['Name']) });

/** structs.ACLAuthMethod (Config is a free map; NamespaceRules is Enterprise's). */
export const ACL_AUTH_METHOD = struct(['Name', 'Type', 'DisplayName', 'Description', 'MaxTokenTTL', 'TokenLocality', 'Config', 'NamespaceRules', ...ENT, ...RAFT],
  { NamespaceRules: ['list', struct(['Selector', 'BindNamespace'])] });

/** structs.ACLLoginParams. */
export const ACL_LOGIN = struct(['AuthMethod', 'BearerToken', 'Meta', ...ENT]);
/** api.BootstrapRequest. */
export const ACL_BOOTSTRAP = struct(['BootstrapSecret']);
/** structs.ACLAuthorizationRequest, each element of the /v1/internal/acl/authorize body. */
export const ACL_AUTHORIZATION = struct(['Resource', 'Segment', 'Access', ...ENT]);

// Intentions: structs.Intention.UnmarshalJSON calls lib.UnmarshalJSON, so the intention and every
// struct under it (none has an UnmarshalJSON of its own) refuse unknown keys.
/** structs.IntentionJWTRequirement, with its providers and their claim checks. */
const JWT_REQUIREMENT = struct(['Providers'],
  { Providers: ['list', struct(['Name', 'VerifyClaims'], { VerifyClaims: ['list', struct(['Path', 'Value'])] })] });
/** structs.IntentionHTTPPermission and its header matches (IntentionHTTPHeaderPermission). */
const HTTP_PERMISSION = struct(['PathExact', 'PathPrefix', 'PathRegex', 'Header', 'Methods'], {
  Header: ['list', struct(['Name', 'Present', 'Exact', 'Prefix', 'Suffix', 'Contains', 'Regex', 'Invert', 'IgnoreCase'])],
});

/** structs.Intention, the body of the intention writes (CreatedAt/UpdatedAt and Hash are read as strings, then dropped). */
export const INTENTION = struct([
  'ID', 'Description', 'SourceNS', 'SourceName', 'DestinationNS', 'DestinationName', 'SourcePartition', 'DestinationPartition',
  'SourcePeer', 'SourceSamenessGroup', 'SourceType', 'Action', 'Permissions', 'JWT', 'DefaultAddr', 'DefaultPort', 'Meta',
  'Precedence', 'CreatedAt', 'UpdatedAt', 'Hash', ...RAFT,
], { Permissions: ['list', struct(['Action', 'HTTP', 'JWT'], { HTTP: HTTP_PERMISSION, JWT: JWT_REQUIREMENT })], JWT: JWT_REQUIREMENT });

/** structs.ServiceQuery with its failover options and targets (each embeds acl.EnterpriseMeta). */
const SERVICE_QUERY = struct([
  'Service', 'SamenessGroup', 'Failover', 'OnlyPassing', 'IgnoreCheckIDs', 'Near', 'Tags', 'NodeMeta', 'ServiceMeta', 'Connect',
  'Peer', ...ENT,
], { Failover: struct(['NearestN', 'Datacenters', 'Targets'], { Targets: ['list', struct(['Peer', 'Datacenter', ...ENT])] }) });

/** structs.PreparedQuery, the /v1/query create and update body (decodeBody: strict at every level). */
export const PREPARED_QUERY = struct(['ID', 'Name', 'Session', 'Token', 'Template', 'Service', 'DNS', ...RAFT], {
  Template: struct(['Type', 'Regexp', 'RemoveEmptyTags']), Service: SERVICE_QUERY, DNS: struct(['TTL']),
});
