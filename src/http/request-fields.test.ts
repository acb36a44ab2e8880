// Every body Consul's Go client (hashicorp/consul/api) sends, with every field it can serialize
// set, is taken by the strict tables: the field lists below are the api structs' JSON names
// (json tags and omitempty as in the api source; embedded structs flattened as encoding/json does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refuseUnknownFields, refuseUnknownInList, type Shape } from './known-fields.ts';
import {
  ACL_AUTH_METHOD, ACL_BINDING_RULE, ACL_BOOTSTRAP, ACL_LOGIN, ACL_POLICY, ACL_ROLE, ACL_TOKEN, AGENT_TOKEN,
  AUTOPILOT_CONFIGURATION, CA_CONFIGURATION, CHECK_DEFINITION, CHECK_UPDATE, CONNECT_AUTHORIZE, COORDINATE_UPDATE,
  DEREGISTER_REQUEST, INTENTION, KEYRING_ARGS, PEERING_ESTABLISH, PEERING_GENERATE_TOKEN, PREPARED_QUERY, REGISTER_REQUEST,
  SERVICE_DEFINITION, TXN_OP,
} from './request-fields.ts';

type Obj = Record<string, unknown>;

/** api.AgentServiceCheck (Args is tagged ScriptArgs). */
const serviceCheck = (): Obj => ({
  CheckID: 'c', Name: 'n', ScriptArgs: ['/bin/true'], DockerContainerID: 'd', Shell: '/bin/sh', Interval: '10s', Timeout: '1s',
  TTL: '30s', HTTP: 'http://x', Header: { X: ['y'] }, Method: 'GET', Body: 'b', TCP: 'x:1', TCPUseTLS: true, UDP: 'x:2',
  Status: 'passing', Notes: 'n', TLSServerName: 's', TLSSkipVerify: true, GRPC: 'x:3', GRPCUseTLS: true, H2PING: 'x:4',
  H2PingUseTLS: true, AliasNode: 'a', AliasService: 'a', SuccessBeforePassing: 1, FailuresBeforeWarning: 1,
  FailuresBeforeCritical: 2, DeregisterCriticalServiceAfter: '90m', OSService: 'sshd',
});

/** api.Upstream. */
const upstream = (): Obj => ({
  DestinationType: 'service', DestinationPartition: 'p', DestinationNamespace: 'n', DestinationPeer: 'peer', DestinationName: 'db',
  Datacenter: 'dc2', LocalBindAddress: '127.0.0.1', LocalBindPort: 9191, LocalBindSocketPath: '/s', LocalBindSocketMode: '0600',
  Config: { connect_timeout_ms: 1 }, MeshGateway: { Mode: 'local' }, CentrallyConfigured: true,
});

/** api.AgentServiceConnectProxyConfig (MeshGateway and Expose are structs: always sent). */
const proxy = (): Obj => ({
  EnvoyExtensions: [{ Name: 'builtin/lua', Required: true, Arguments: { Script: 'x' }, ConsulVersion: '>=1', EnvoyVersion: '>=1' }],
  DestinationServiceName: 'web', DestinationServiceID: 'web-1', LocalServiceAddress: '127.0.0.1', LocalServicePort: 8080,
  LocalServiceSocketPath: '/s', Mode: 'transparent', TransparentProxy: { OutboundListenerPort: 15001, DialedDirectly: true },
  Config: { protocol: 'http' }, Upstreams: [upstream()], MeshGateway: { Mode: 'local' },
  Expose: { Checks: true, Paths: [{ ListenerPort: 21500, Path: '/health', LocalPathPort: 8080, Protocol: 'http', ParsedFromCheck: true }] },
  AccessLogs: { Enabled: true, DisableListenerLogs: true, Type: 'file', Path: '/l', JSONFormat: '{}', TextFormat: '' },
});

/** api.AgentServiceRegistration (Check and Checks have no omitempty: sent as null when unset). */
const registration = (sidecar: boolean): Obj => ({
  Kind: 'connect-proxy', ID: 'web-1', Name: 'web', Tags: ['t'], Port: 8080, Address: '10.0.0.1', SocketPath: '/s',
  TaggedAddresses: { lan: { Address: '10.0.0.1', Port: 8080 } }, EnableTagOverride: true, Meta: { k: 'v' },
  Weights: { Passing: 2, Warning: 1 }, Check: serviceCheck(), Checks: [serviceCheck(), null], Proxy: proxy(),
  Connect: { Native: true, SidecarService: sidecar ? registration(false) : null }, Namespace: 'ns', Partition: 'default',
  Locality: { Region: 'r', Zone: 'z' },
});

/** api.HealthCheckDefinition as api.HealthCheck sends it (the *Duration fields are json:"-"). */
const definition = (): Obj => ({
  HTTP: 'h', Header: { X: ['y'] }, Method: 'GET', Body: 'b', TLSServerName: 's', TLSSkipVerify: true, TCP: 't', TCPUseTLS: true,
  UDP: 'u', GRPC: 'g', OSService: 'o', GRPCUseTLS: true, Interval: '10s', Timeout: '1s', DeregisterCriticalServiceAfter: '1m',
});

/** api.HealthCheck (a CatalogRegistration's Checks). */
const healthCheck = (): Obj => ({
  Node: 'n1', CheckID: 'c', Name: 'n', Status: 'passing', Notes: 'x', Output: 'o', ServiceID: 's', ServiceName: 's',
  ServiceTags: ['t'], Type: 'http', Namespace: 'ns', Partition: 'default', ExposedPort: 1, PeerName: 'p',
  Definition: definition(), CreateIndex: 1, ModifyIndex: 2,
});

/**
 * api.AgentService as a CatalogRegistration's Service. ContentHash and Datacenter, response-only,
 * are left out: structs.NodeService has neither, so Consul's decoder refuses them too.
 */
const agentService = (): Obj => ({
  Kind: 'connect-proxy', ID: 'web-1', Service: 'web', Tags: ['t'], Meta: { k: 'v' }, Port: 8080, Address: '10.0.0.1',
  SocketPath: '/s', TaggedAddresses: { wan: { Address: '1.2.3.4', Port: 80 } }, Weights: { Passing: 1, Warning: 1 },
  EnableTagOverride: true, CreateIndex: 1, ModifyIndex: 2, Proxy: proxy(), Connect: { Native: false, SidecarService: registration(false) },
  PeerName: 'p', Namespace: 'ns', Partition: 'default', Locality: { Region: 'r', Zone: 'z' },
});

const accepts = (body: unknown, shape: Shape): void => assert.doesNotThrow(() => refuseUnknownFields(body, shape));

test('agent service and check registration: api.AgentServiceRegistration, api.AgentCheckRegistration', () => {
  accepts(registration(true), SERVICE_DEFINITION);
  accepts({ ...registration(true), Check: null, Checks: null }, SERVICE_DEFINITION);
  // AgentCheckRegistration embeds AgentServiceCheck (its Name and Notes shadowed); its CheckID
  // is left out: structs.CheckDefinition has no such field and Consul refuses it as well.
  const { CheckID: _, ...embedded } = serviceCheck();
  accepts({ ...embedded, ID: 'c', Name: 'n', Notes: 'x', ServiceID: 'web-1', Namespace: 'ns', Partition: 'default' }, CHECK_DEFINITION);
  accepts({ Status: 'passing', Output: 'ok' }, CHECK_UPDATE);
  accepts({ Token: 't' }, AGENT_TOKEN);
  accepts({ Target: 'db', ClientCertURI: 'spiffe://x', ClientCertSerial: '01' }, CONNECT_AUTHORIZE);
});

test('catalog register and deregister: api.CatalogRegistration, api.CatalogDeregistration', () => {
  accepts({
    ID: '40e4a748-2192-161a-0510-9bf59fe950b5', Node: 'n1', Address: '10.0.0.1', TaggedAddresses: { lan: '10.0.0.1' },
    NodeMeta: { k: 'v' }, Datacenter: 'dc1', Service: agentService(),
    // api.AgentCheck: no omitempty but on the tenancy.
    Check: { Node: 'n1', CheckID: 'c', Name: 'n', Status: 'passing', Notes: '', Output: '', ServiceID: 's', ServiceName: 's', Type: 'ttl', ExposedPort: 0, Definition: definition(), Namespace: 'ns', Partition: 'default' },
    Checks: [healthCheck()], SkipNodeUpdate: true, Partition: 'default', Locality: { Region: 'r', Zone: 'z' },
  }, REGISTER_REQUEST);
  accepts({ Node: 'n1', Address: '10.0.0.1', Datacenter: 'dc1', ServiceID: 's', CheckID: 'c', Namespace: 'ns', Partition: 'default' }, DEREGISTER_REQUEST);
});

test('transactions: api.TxnOps with every KV field, and the catalog operations\' structs', () => {
  assert.doesNotThrow(() => refuseUnknownInList([
    { KV: { Verb: 'cas', Key: 'k', Value: 'dg==', Flags: 1, Index: 2, Session: 's', Namespace: 'ns', Partition: 'default' } },
    { Node: { Verb: 'set', Node: { ID: 'x', Node: 'n1', Address: 'a', Datacenter: 'dc1', TaggedAddresses: {}, Meta: {}, CreateIndex: 0, ModifyIndex: 0 } } },
    { Service: { Verb: 'set', Node: 'n1', Service: agentService() } },
    { Check: { Verb: 'set', Check: healthCheck() } },
    { Session: { Verb: 'delete', Session: { ID: 's' } } },
  ], TXN_OP));
});

test('ACL bodies: api.ACLToken, ACLRole, ACLPolicy, ACLBindingRule, ACLAuthMethod, ACLLoginParams, BootstrapRequest', () => {
  const identities = {
    ServiceIdentities: [{ ServiceName: 'web', Datacenters: ['dc1'] }], NodeIdentities: [{ NodeName: 'n1', Datacenter: 'dc1' }],
    TemplatedPolicies: [{ TemplateName: 'builtin/service', TemplateVariables: { Name: 'api' }, Datacenters: ['dc1'] }],
  };
  const links = [{ ID: 'i', Name: 'n' }];
  accepts({
    CreateIndex: 1, ModifyIndex: 2, AccessorID: 'a', SecretID: 's', Description: 'd', Policies: links, Roles: links, ...identities,
    Local: true, AuthMethod: 'm', ExpirationTTL: 3600000000000, ExpirationTime: '2030-01-01T00:00:00Z',
    CreateTime: '0001-01-01T00:00:00Z', Hash: 'aGFzaA==', Namespace: 'ns', Partition: 'default', AuthMethodNamespace: 'ns',
  }, ACL_TOKEN);
  accepts({ ID: 'i', Name: 'r', Description: 'd', Policies: links, ...identities, Hash: 'aA==', CreateIndex: 1, ModifyIndex: 2, Namespace: 'ns', Partition: 'default' }, ACL_ROLE);
  accepts({ ID: 'i', Name: 'p', Description: 'd', Rules: '', Datacenters: ['dc1'], Hash: 'aA==', CreateIndex: 1, ModifyIndex: 2, Namespace: 'ns', Partition: 'default' }, ACL_POLICY);
  accepts({
    ID: 'i', Description: 'd', AuthMethod: 'm', Selector: 's', BindType: 'templated-policy', BindName: 'builtin/service',
    BindVars: { Name: 'api' }, CreateIndex: 1, ModifyIndex: 2, Namespace: 'ns', Partition: 'default',
  }, ACL_BINDING_RULE);
  accepts({
    Name: 'm', Type: 'jwt', DisplayName: 'M', Description: 'd', MaxTokenTTL: '1h', TokenLocality: 'local', Config: { BoundIssuer: 'x' },
    CreateIndex: 1, ModifyIndex: 2, NamespaceRules: [{ Selector: 's', BindNamespace: 'b' }], Namespace: 'ns', Partition: 'default',
  }, ACL_AUTH_METHOD);
  accepts({ AuthMethod: 'm', BearerToken: 'jwt', Meta: { k: 'v' } }, ACL_LOGIN);
  accepts({ BootstrapSecret: 's' }, ACL_BOOTSTRAP);
});

test('operator, coordinate, Connect CA and peering bodies', () => {
  accepts({
    CleanupDeadServers: true, LastContactThreshold: '200ms', MaxTrailingLogs: 250, MinQuorum: 3, ServerStabilizationTime: '10s',
    RedundancyZoneTag: 'zone', DisableUpgradeMigration: false, UpgradeVersionTag: '', CreateIndex: 1, ModifyIndex: 2,
  }, AUTOPILOT_CONFIGURATION);
  accepts({ Key: 'k' }, KEYRING_ARGS);
  accepts({ Node: 'n1', Segment: '', Partition: 'default', Coord: { Vec: [0, 0], Error: 1.5, Adjustment: 0, Height: 1e-5 } }, COORDINATE_UPDATE);
  accepts({ Provider: 'consul', Config: { LeafCertTTL: '72h' }, State: { k: 'v' }, ForceWithoutCrossSigning: true, CreateIndex: 1, ModifyIndex: 2 }, CA_CONFIGURATION);
  accepts({ PeerName: 'p', Partition: 'default', Meta: { k: 'v' }, ServerExternalAddresses: ['1.2.3.4:8502'] }, PEERING_GENERATE_TOKEN);
  accepts({ PeerName: 'p', PeeringToken: 't', Partition: 'default', Meta: { k: 'v' } }, PEERING_ESTABLISH);
});

test('intentions: api.Intention with L7 permissions (api.IntentionPermission, its HTTP headers and JWT providers)', () => {
  const jwt = { Providers: [{ Name: 'okta', VerifyClaims: [{ Path: ['perms', 'role'], Value: 'admin' }] }] };
  const header = { Name: 'x', Present: true, Exact: 'e', Prefix: 'p', Suffix: 's', Contains: 'c', Regex: 'r', Invert: true, IgnoreCase: true };
  accepts({
    ID: 'i', Description: 'd', SourceNS: 'default', SourceName: 'web', DestinationNS: 'default', DestinationName: 'db',
    SourcePartition: 'default', DestinationPartition: 'default', SourcePeer: 'p', SourceSamenessGroup: 'g', SourceType: 'consul',
    Action: 'allow', DefaultAddr: '10.0.0.1', DefaultPort: 443, Meta: { k: 'v' }, Precedence: 9,
    // time.Time fields without omitempty: always sent, the zero time included.
    CreatedAt: '0001-01-01T00:00:00Z', UpdatedAt: '2030-01-01T00:00:00Z', Hash: 'aA==', CreateIndex: 1, ModifyIndex: 2,
    Permissions: [{ Action: 'deny', HTTP: { PathExact: '/a', PathPrefix: '/b', PathRegex: '/c', Header: [header], Methods: ['GET'] }, JWT: jwt }, null],
  }, INTENTION);
  // structs.Intention has a JWT requirement of its own, which the api struct does not send.
  accepts({ SourceName: 'web', DestinationName: 'db', JWT: jwt }, INTENTION);
});

test('prepared queries: api.PreparedQueryDefinition with every ServiceQuery, failover, template and DNS field', () => {
  accepts({
    ID: 'q', Name: 'n', Session: 's', Token: 't', DNS: { TTL: '10s' }, Template: { Type: 'name_prefix_match', Regexp: '^x$', RemoveEmptyTags: true },
    Service: {
      Service: 'web', SamenessGroup: 'g', Namespace: 'ns', Partition: 'default', Near: '_agent', IgnoreCheckIDs: ['c'], OnlyPassing: true,
      Tags: ['t'], NodeMeta: { k: 'v' }, ServiceMeta: { k: 'v' }, Connect: true, Peer: 'p',
      Failover: { NearestN: 2, Datacenters: ['dc2'], Targets: [{ Peer: 'p', Datacenter: 'dc3', Partition: 'default', Namespace: 'ns' }] },
    },
  }, PREPARED_QUERY);
  // What the list and get answers carry back (structs.PreparedQuery's RaftIndex) is taken on update.
  accepts({ ID: 'q', Service: { Service: 'web', Failover: { NearestN: 0, Datacenters: null, Targets: null } }, CreateIndex: 1, ModifyIndex: 2 }, PREPARED_QUERY);
});
