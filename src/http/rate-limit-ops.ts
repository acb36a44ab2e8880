// Which Consul RPC each HTTP route stands for, for server request rate limiting: its name (the
// `op` label), read or write, and its control-plane-request-limit category, as Consul's
// rpcRateLimitSpecs classifies the RPC the route makes. Routes that make no RPC in Consul (the
// agent's own endpoints), Status and Operator calls (but the keyring's and usage) and snapshots are not
// limited; peering routes count as Consul's gRPC peering and peer-stream methods.

/** An operation the request rate limiter counts. */
export interface RateOperation {
  /** Consul's RPC name, e.g. `KVS.Apply`. */
  name: string;
  type: 'read' | 'write';
  /** control-plane-request-limit category (`KV`, `Catalog`, …; `Internal` has none there). */
  category: string;
}

const op = (name: string, type: 'read' | 'write'): RateOperation => {
  const area = name.slice(0, name.indexOf('.'));
  return { name, type, category: CATEGORY[area] ?? area };
};
// RPC areas whose category is named differently (Consul's OperationCategory values).
const CATEGORY: Record<string, string> = { KVS: 'KV' };
const r = (name: string): RateOperation => op(name, 'read');
const w = (name: string): RateOperation => op(name, 'write');
// Routes Consul serves through its internal gRPC services (peering), limited by their full method
// names and categories in its generated gRPC table.
const PEERING = '/hashicorp.consul.internal.peering.PeeringService/';
const PEER_STREAM = '/hashicorp.consul.internal.peerstream.PeerStreamService/';
const grpc = (name: string, type: 'read' | 'write', category: string): RateOperation => ({ name, type, category });
// An RPC missing from Consul's tables gets the zero operation type, a read, and no category: it
// counts against the global read limit only.
const unlisted = (name: string): RateOperation => ({ name, type: 'read', category: '' });

/** `METHOD pattern` (a prefix pattern without its `*`) → operation. */
const ROUTES: ReadonlyMap<string, RateOperation> = new Map(Object.entries({
  'PUT /v1/kv/': w('KVS.Apply'), 'DELETE /v1/kv/': w('KVS.Apply'),
  'PUT /v1/session/create': w('Session.Apply'), 'PUT /v1/session/destroy/': w('Session.Apply'),
  'PUT /v1/session/renew/': w('Session.Renew'), 'GET /v1/session/info/': r('Session.Get'),
  'GET /v1/session/node/': r('Session.NodeSessions'), 'GET /v1/session/list': r('Session.List'),
  'POST /v1/query': w('PreparedQuery.Apply'), 'GET /v1/query': r('PreparedQuery.List'),
  'PUT /v1/query/': w('PreparedQuery.Apply'), 'DELETE /v1/query/': w('PreparedQuery.Apply'),
  'POST /v1/internal/query/execute-remote': r('PreparedQuery.ExecuteRemote'),
  'PUT /v1/catalog/register': w('Catalog.Register'), 'PUT /v1/catalog/deregister': w('Catalog.Deregister'),
  'GET /v1/catalog/datacenters': r('Catalog.ListDatacenters'), 'GET /v1/catalog/nodes': r('Catalog.ListNodes'),
  'GET /v1/catalog/services': r('Catalog.ListServices'), 'GET /v1/catalog/service/': r('Catalog.ServiceNodes'),
  'GET /v1/catalog/connect/': r('Catalog.ServiceNodes'), 'GET /v1/catalog/node/': r('Catalog.NodeServices'),
  'GET /v1/catalog/node-services/': r('Catalog.NodeServiceList'), 'GET /v1/catalog/gateway-services/': r('Catalog.GatewayServices'),
  'GET /v1/health/node/': r('Health.NodeChecks'), 'GET /v1/health/checks/': r('Health.ServiceChecks'),
  'GET /v1/health/state/': r('Health.ChecksInState'), 'GET /v1/health/service/': r('Health.ServiceNodes'),
  'GET /v1/health/connect/': r('Health.ServiceNodes'), 'GET /v1/health/ingress/': r('Health.ServiceNodes'),
  'PUT /v1/config': w('ConfigEntry.Apply'), 'DELETE /v1/config/': w('ConfigEntry.Delete'),
  'GET /v1/discovery-chain/': r('DiscoveryChain.Get'), 'POST /v1/discovery-chain/': r('DiscoveryChain.Get'),
  'PUT /v1/event/fire/': w('Internal.EventFire'),
  // Listing, installing, using and removing keys are all the one Internal.KeyringOperation (a read).
  'GET /v1/operator/keyring': r('Internal.KeyringOperation'), 'POST /v1/operator/keyring': r('Internal.KeyringOperation'),
  'PUT /v1/operator/keyring': r('Internal.KeyringOperation'), 'DELETE /v1/operator/keyring': r('Internal.KeyringOperation'),
  'GET /v1/operator/usage': unlisted('Operator.Usage'),
  'GET /v1/exported-services': unlisted('/hashicorp.consul.internal.configentry.ConfigEntryService/GetResolvedExportedServices'),
  'POST /v1/peering/token': grpc(`${PEERING}GenerateToken`, 'write', 'Peering'),
  'POST /v1/peering/establish': grpc(`${PEERING}Establish`, 'write', 'Peering'),
  'GET /v1/peering/': grpc(`${PEERING}PeeringRead`, 'read', 'Peering'), 'GET /v1/peerings': grpc(`${PEERING}PeeringList`, 'read', 'Peering'),
  'DELETE /v1/peering/': grpc(`${PEERING}PeeringDelete`, 'write', 'Peering'),
  // The peer stream counts once when it opens (StreamResources), not per message.
  'POST /v1/internal/peering/exchange': grpc(`${PEER_STREAM}ExchangeSecret`, 'write', 'PeerStream'),
  'GET /v1/internal/peering/stream': grpc(`${PEER_STREAM}StreamResources`, 'read', 'PeerStream'),
  'GET /v1/coordinate/datacenters': r('Coordinate.ListDatacenters'), 'GET /v1/coordinate/nodes': r('Coordinate.ListNodes'),
  'GET /v1/coordinate/node/': r('Coordinate.Node'), 'PUT /v1/coordinate/update': w('Coordinate.Update'),
  'GET /v1/connect/ca/roots': r('ConnectCA.Roots'), 'GET /v1/connect/ca/configuration': r('ConnectCA.ConfigurationGet'),
  'PUT /v1/connect/ca/configuration': w('ConnectCA.ConfigurationSet'),
  'GET /v1/connect/intentions': r('Intention.List'), 'POST /v1/connect/intentions': w('Intention.Apply'),
  'GET /v1/connect/intentions/match': r('Intention.Match'), 'GET /v1/connect/intentions/check': r('Intention.Check'),
  'GET /v1/connect/intentions/exact': r('Intention.Get'), 'PUT /v1/connect/intentions/exact': w('Intention.Apply'),
  'DELETE /v1/connect/intentions/exact': w('Intention.Apply'), 'GET /v1/connect/intentions/': r('Intention.Get'),
  'PUT /v1/connect/intentions/': w('Intention.Apply'), 'DELETE /v1/connect/intentions/': w('Intention.Apply'),
  'GET /v1/internal/ui/nodes': r('Internal.NodeDump'), 'GET /v1/internal/ui/node/': r('Internal.NodeInfo'),
  'GET /v1/internal/ui/services': r('Internal.ServiceDump'), 'GET /v1/internal/ui/catalog-overview': r('Internal.CatalogOverview'),
  'GET /v1/internal/ui/gateway-services-nodes/': r('Internal.GatewayServiceDump'),
  'GET /v1/internal/ui/gateway-intentions/': r('Internal.GatewayIntentions'),
  'GET /v1/internal/ui/service-topology/': r('Internal.ServiceTopology'),
  'GET /v1/internal/ui/exported-services': r('Internal.ExportedServicesForPeer'),
  'PUT /v1/acl/bootstrap': r('ACL.BootstrapTokens'), 'POST /v1/acl/login': w('ACL.Login'), 'POST /v1/acl/logout': w('ACL.Logout'),
  'GET /v1/acl/replication': r('ACL.ReplicationStatus'), 'POST /v1/internal/acl/authorize': r('ACL.Authorize'),
  'GET /v1/acl/tokens': r('ACL.TokenList'), 'PUT /v1/acl/token': w('ACL.TokenSet'), 'GET /v1/acl/token/': r('ACL.TokenRead'),
  'PUT /v1/acl/token/': w('ACL.TokenSet'), 'DELETE /v1/acl/token/': w('ACL.TokenDelete'),
  'GET /v1/acl/policies': r('ACL.PolicyList'), 'PUT /v1/acl/policy': w('ACL.PolicySet'), 'GET /v1/acl/policy/': r('ACL.PolicyRead'),
  'PUT /v1/acl/policy/': w('ACL.PolicySet'), 'DELETE /v1/acl/policy/': w('ACL.PolicyDelete'), 'GET /v1/acl/policy/name/': r('ACL.PolicyRead'),
  'GET /v1/acl/roles': r('ACL.RoleList'), 'PUT /v1/acl/role': w('ACL.RoleSet'), 'GET /v1/acl/role/': r('ACL.RoleRead'),
  'PUT /v1/acl/role/': w('ACL.RoleSet'), 'DELETE /v1/acl/role/': w('ACL.RoleDelete'), 'GET /v1/acl/role/name/': r('ACL.RoleRead'),
  'GET /v1/acl/auth-methods': r('ACL.AuthMethodList'), 'PUT /v1/acl/auth-method': w('ACL.AuthMethodSet'),
  'GET /v1/acl/auth-method/': r('ACL.AuthMethodRead'), 'PUT /v1/acl/auth-method/': w('ACL.AuthMethodSet'),
  'DELETE /v1/acl/auth-method/': w('ACL.AuthMethodDelete'),
  'GET /v1/acl/binding-rules': r('ACL.BindingRuleList'), 'PUT /v1/acl/binding-rule': w('ACL.BindingRuleSet'),
  'GET /v1/acl/binding-rule/': r('ACL.BindingRuleRead'), 'PUT /v1/acl/binding-rule/': w('ACL.BindingRuleSet'),
  'DELETE /v1/acl/binding-rule/': w('ACL.BindingRuleDelete'),
  // Client agents' calls on the internal RPC port (agent/rpc-server.ts).
  'POST /v1/internal/rpc/auto-encrypt/sign': w('AutoEncrypt.Sign'), 'POST /v1/internal/rpc/connect-ca/sign': w('ConnectCA.Sign'),
  'POST /v1/internal/rpc/config/resolve-service': r('ConfigEntry.ResolveServiceConfig'),
}));

const KVS_GET = r('KVS.Get');
const KVS_LIST = r('KVS.List');
const KVS_KEYS = r('KVS.ListKeys');
const CONFIG_LIST = r('ConfigEntry.List');
const CONFIG_GET = r('ConfigEntry.Get');
const QUERY_GET = r('PreparedQuery.Get');
const QUERY_EXECUTE = r('PreparedQuery.Execute');
const QUERY_EXPLAIN = r('PreparedQuery.Explain');
const TOKEN_CLONE = r('ACL.TokenClone');
/**
 * A transaction is Txn.Read when all its operations read, else Txn.Apply: only its body says
 * which, so PUT /v1/txn is not counted at dispatch; its handler counts it (HttpRequest.countRpc).
 */
export const TXN_READ = r('Txn.Read');
export const TXN_APPLY = w('Txn.Apply');

/** The operation a routed request stands for, or null when Consul does not rate-limit it. */
export function operationFor(method: string, pattern: string, rest: string, query: URLSearchParams): RateOperation | null {
  if (method === 'GET' || method === 'HEAD') {
    // Routes whose RPC depends on the path tail or the query.
    if (pattern === '/v1/kv/') return query.has('keys') ? KVS_KEYS : query.has('recurse') ? KVS_LIST : KVS_GET;
    if (pattern === '/v1/config/') return rest.includes('/') ? CONFIG_GET : CONFIG_LIST;
    if (pattern === '/v1/query/') return rest.endsWith('/execute') ? QUERY_EXECUTE : rest.endsWith('/explain') ? QUERY_EXPLAIN : QUERY_GET;
  }
  // Cloning a token is Consul's ACL.TokenClone, which its table counts as a read.
  if (method === 'PUT' && pattern === '/v1/acl/token/' && rest.endsWith('/clone')) return TOKEN_CLONE;
  return ROUTES.get(`${method === 'HEAD' ? 'GET' : method} ${pattern}`) ?? null;
}
