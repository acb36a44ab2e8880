// The ACL decision of every HTTP route, for the generated route × token test (acl-routes.test.ts):
// which permission a route needs, the concrete request that exercises it, and whether a missing
// permission denies (403) or filters the answer. A route without an entry here fails that test.

/** How one route is exercised and what ACL decision it must make. */
export interface RouteCase {
  /** The request path; `{name}` is replaced by the fixture of that name. */
  path: string;
  body?: unknown;
  /** The permission needed, `resource:access` (`key:write`); absent for open routes. */
  need?: string;
  /** The segment the permission is checked on ('' for unlabelled resources such as operator). */
  on?: string;
  /** List routes: a missing permission filters; `sees` tells whether the covered item was kept. */
  sees?: (body: any) => boolean;
  /** Rules the covering token needs beyond `need` (e.g. node read to see a service instance). */
  also?: string;
  /** Why a route needs no permission at all. */
  open?: string;
  /** Open routes that still resolve the token answer an unknown one with `ACL not found`. */
  resolves?: boolean;
  /** Routes whose answer does not depend on rules: status and text prefix per caller. */
  answers?: Record<'anonymous' | 'unknown' | 'management', [number, string]>;
  /** A missing permission on the asked-for service empties the list without the filtered header. */
  quiet?: boolean;
  /** The denial is Consul's bare `Permission denied` (acl.ErrPermissionDenied, as intention writes return it). */
  bare?: boolean;
  /** A /v1/txn write: the denial is reported per op in a 409. */
  txn?: boolean;
  /** A streamed answer, ended by the client after a moment. */
  stream?: boolean;
  /** Runs after every other route (it disturbs the agent: leave). */
  last?: boolean;
}

const has = (name: string) => (b: any) => Array.isArray(b) && b.some((x) => x.Node === name || x.Name === name || x.Service === name);
const keyed = (k: string) => (b: any) => b !== null && typeof b === 'object' && Object.hasOwn(b, k);
const nonEmpty = (b: any) => Array.isArray(b) && b.length > 0;
const NODE = 'test-node';
const v64 = Buffer.from('v').toString('base64');
/** A valid 8-dimensional network coordinate (the fixtures give n1 one). */
export const COORD = { Vec: [0.001, 0, 0, 0, 0, 0, 0, 0], Error: 0.2, Adjustment: 0, Height: 10e-6 };
const BOOTSTRAPPED: [number, string] = [403, 'Permission denied: ACL bootstrap no longer allowed'];
/** A peering token naming an acceptor nobody listens at (establish then fails after the ACL check). */
const PEERING_TOKEN = Buffer.from(JSON.stringify({
  CA: null, ManualServerAddresses: null, ServerAddresses: ['127.0.0.1:1'], ServerName: 'server.dc9.peering.x.consul',
  PeerID: '00000000-0000-0000-0000-000000000001', EstablishmentSecret: 's', Remote: { Partition: 'default', Datacenter: 'dc9' },
})).toString('base64');
const readAcl = (path: string): RouteCase => ({ path, need: 'acl:read', on: '' });
const writeAcl = (path: string, body?: unknown): RouteCase => ({ path, body, need: 'acl:write', on: '' });

/** The decision table, keyed `METHOD pattern` exactly as the route table lists routes. */
export const ROUTE_CASES: Record<string, RouteCase> = {
  'GET /v1/kv/*': { path: '/v1/kv/app/db', need: 'key:read', on: 'app/db' },
  'PUT /v1/kv/*': { path: '/v1/kv/app/db', body: 'v2', need: 'key:write', on: 'app/db' },
  'DELETE /v1/kv/*': { path: '/v1/kv/app/gone', need: 'key:write', on: 'app/gone' },
  'PUT /v1/txn': { path: '/v1/txn', body: [{ KV: { Verb: 'set', Key: 'app/db', Value: v64 } }], need: 'key:write', on: 'app/db', txn: true },
  'PUT /v1/session/create': { path: '/v1/session/create', body: { Node: NODE, Checks: [] }, need: 'session:write', on: NODE },
  'PUT /v1/session/destroy/*': { path: '/v1/session/destroy/{session1}', need: 'session:write', on: NODE },
  'PUT /v1/session/renew/*': { path: '/v1/session/renew/{session2}', need: 'session:write', on: NODE },
  'GET /v1/session/info/*': { path: '/v1/session/info/{session3}', need: 'session:read', on: NODE, sees: nonEmpty },
  'GET /v1/session/node/*': { path: `/v1/session/node/${NODE}`, need: 'session:read', on: NODE, sees: nonEmpty },
  'GET /v1/session/list': { path: '/v1/session/list', need: 'session:read', on: NODE, sees: nonEmpty },
  'POST /v1/query': { path: '/v1/query', body: { Name: 'acl-q-new', Service: { Service: 'api' } }, need: 'query:write', on: 'acl-q-new' },
  'GET /v1/query': { path: '/v1/query', need: 'query:read', on: 'acl-q', sees: has('acl-q') },
  // Executing needs no query rule (the name is the secret); the instances are filtered by the caller's service and node rules.
  'GET /v1/query/*': { path: '/v1/query/acl-q/execute', need: 'service:read', on: 'api', also: 'node "n1" { policy = "read" }', sees: (b) => b?.Nodes?.length > 0 },
  'PUT /v1/query/*': { path: '/v1/query/{query}', body: { Name: 'acl-q', Service: { Service: 'api', IgnoreCheckIDs: ['n1-check', 'api-check'] } }, need: 'query:write', on: 'acl-q' },
  'DELETE /v1/query/*': { path: '/v1/query/{queryDel}', need: 'query:write', on: 'acl-q-del' },
  'POST /v1/internal/query/execute-remote': {
    path: '/v1/internal/query/execute-remote', body: { Query: { Name: 'r', Service: { Service: 'api', IgnoreCheckIDs: ['n1-check', 'api-check'] } }, Limit: 0 },
    need: 'service:read', on: 'api', also: 'node "n1" { policy = "read" }', sees: (b) => b?.Nodes?.length > 0,
  },
  'PUT /v1/catalog/register': { path: '/v1/catalog/register', body: { Node: 'n1', Address: '10.0.0.9' }, need: 'node:write', on: 'n1' },
  'PUT /v1/catalog/deregister': { path: '/v1/catalog/deregister', body: { Node: 'gone-node' }, need: 'node:write', on: 'gone-node' },
  'GET /v1/catalog/datacenters': { path: '/v1/catalog/datacenters', open: 'datacenter names are public (Consul)' },
  'GET /v1/catalog/nodes': { path: '/v1/catalog/nodes', need: 'node:read', on: 'n1', sees: has('n1') },
  'GET /v1/catalog/services': { path: '/v1/catalog/services', need: 'service:read', on: 'api', sees: keyed('api') },
  'GET /v1/catalog/service/*': { path: '/v1/catalog/service/api', need: 'service:read', on: 'api', also: 'node "n1" { policy = "read" }', sees: nonEmpty },
  'GET /v1/catalog/connect/*': {
    path: '/v1/catalog/connect/api', need: 'service:read', on: 'api', sees: nonEmpty, quiet: true,
    also: 'service "api-proxy" { policy = "read" }\nnode "n1" { policy = "read" }',
  },
  'GET /v1/catalog/node/*': { path: '/v1/catalog/node/n1', need: 'node:read', on: 'n1', sees: (b) => b?.Node?.Node === 'n1' },
  'GET /v1/catalog/node-services/*': { path: '/v1/catalog/node-services/n1', need: 'node:read', on: 'n1', sees: (b) => b?.Node?.Node === 'n1' },
  'GET /v1/health/node/*': { path: '/v1/health/node/n1', need: 'node:read', on: 'n1', sees: nonEmpty },
  'GET /v1/health/checks/*': { path: '/v1/health/checks/api', need: 'service:read', on: 'api', also: 'node "n1" { policy = "read" }', sees: nonEmpty },
  'GET /v1/health/state/*': { path: '/v1/health/state/any', need: 'node:read', on: 'n1', also: 'service "api" { policy = "read" }', sees: has('n1') },
  'GET /v1/health/service/*': { path: '/v1/health/service/api', need: 'service:read', on: 'api', also: 'node "n1" { policy = "read" }', sees: nonEmpty },
  'GET /v1/health/connect/*': {
    path: '/v1/health/connect/api', need: 'service:read', on: 'api', sees: nonEmpty, quiet: true,
    also: 'service "api-proxy" { policy = "read" }\nnode "n1" { policy = "read" }',
  },
  'GET /v1/health/ingress/*': {
    path: '/v1/health/ingress/api', need: 'service:read', on: 'api', sees: nonEmpty, quiet: true, also: 'service "igw" { policy = "read" }\nnode "n1" { policy = "read" }',
  },
  'GET /v1/catalog/gateway-services/*': { path: '/v1/catalog/gateway-services/igw', need: 'service:read', on: 'igw', also: 'service "api" { policy = "read" }' },
  'PUT /v1/config': { path: '/v1/config', body: { Kind: 'service-defaults', Name: 'web2', Protocol: 'http' }, need: 'service:write', on: 'web2' },
  'GET /v1/config/*': { path: '/v1/config/service-defaults/web', need: 'service:read', on: 'web' },
  'DELETE /v1/config/*': { path: '/v1/config/service-defaults/web-del', need: 'service:write', on: 'web-del' },
  'GET /v1/exported-services': { path: '/v1/exported-services', need: 'mesh:read', on: '' },
  'GET /v1/internal/ui/nodes': { path: '/v1/internal/ui/nodes', need: 'node:read', on: 'n1', sees: has('n1') },
  // Consul filters the NodeInfo away, then answers the empty dump with a bare 404.
  'GET /v1/internal/ui/node/*': { path: '/v1/internal/ui/node/n1', open: 'an unreadable node is hidden (404), not denied', resolves: true },
  'GET /v1/internal/ui/services': { path: '/v1/internal/ui/services', need: 'service:read', on: 'api', also: 'node "n1" { policy = "read" }', sees: has('api') },
  'GET /v1/internal/ui/exported-services': {
    path: '/v1/internal/ui/exported-services?peer=acl-peer', open: 'lists only the exports the token may read (Consul needs no rule)', resolves: true,
  },
  // Consul's Internal.AssignManualServiceVIPs checks mesh:write (not service:write on the service); api has a VIP through api-proxy.
  'PUT /v1/internal/service-virtual-ip': { path: '/v1/internal/service-virtual-ip', body: { Service: 'api', ManualVIPs: ['10.96.0.10'] }, need: 'mesh:write', on: '' },
  'GET /v1/internal/ui/catalog-overview': { path: '/v1/internal/ui/catalog-overview', need: 'operator:read', on: '' },
  'GET /v1/internal/ui/gateway-services-nodes/*': {
    path: '/v1/internal/ui/gateway-services-nodes/igw', need: 'service:read', on: 'igw', also: 'service "api" { policy = "read" }\nnode "n1" { policy = "read" }',
  },
  'GET /v1/internal/ui/gateway-intentions/*': { path: '/v1/internal/ui/gateway-intentions/igw', need: 'service:read', on: 'igw' },
  'GET /v1/internal/ui/service-topology/*': { path: '/v1/internal/ui/service-topology/api?kind=', need: 'service:read', on: 'api' },
  // This agent configures no metrics backend: Consul answers that before looking at the token.
  'GET /v1/internal/ui/metrics-proxy/*': {
    path: '/v1/internal/ui/metrics-proxy/api/v1/query',
    answers: { anonymous: [404, 'Metrics proxy is not enabled'], unknown: [404, 'Metrics proxy is not enabled'], management: [404, 'Metrics proxy is not enabled'] },
  },
  'GET /': { path: '/', open: "the index redirects to the UI (Consul's Index reads no token)" },
  'HEAD /': { path: '/', open: "the index redirects to the UI (Consul's Index reads no token)" },
  'GET /ui': { path: '/ui', open: 'redirects to the UI' },
  'HEAD /ui': { path: '/ui', open: 'redirects to the UI' },
  'GET /ui/*': { path: '/ui/', open: 'the UI files are public, as in Consul' },
  'HEAD /ui/*': { path: '/ui/', open: 'the UI files are public, as in Consul' },
  'GET /robots.txt': { path: '/robots.txt', open: 'served from the UI files' },
  'HEAD /robots.txt': { path: '/robots.txt', open: 'served from the UI files' },
  'POST /v1/peering/token': { path: '/v1/peering/token', body: { PeerName: 'acl-peer' }, need: 'peering:write', on: '' },
  // A well-formed token whose acceptor cannot be reached: allowed callers get the exchange's 500.
  'POST /v1/peering/establish': { path: '/v1/peering/establish', body: { PeerName: 'acl-dialer', PeeringToken: PEERING_TOKEN }, need: 'peering:write', on: '' },
  'GET /v1/peering/*': { path: '/v1/peering/acl-peer', need: 'peering:read', on: '' },
  'DELETE /v1/peering/*': { path: '/v1/peering/acl-gone', need: 'peering:write', on: '' },
  'GET /v1/peerings': { path: '/v1/peerings', need: 'peering:read', on: '' },
  'PUT /v1/namespace': { path: '/v1/namespace', body: { Name: 'acl-ns-new' }, need: 'operator:write', on: '' },
  'PUT /v1/namespace/*': { path: '/v1/namespace/acl-ns', body: { Description: 'd' }, need: 'operator:write', on: '' },
  'GET /v1/namespace/*': { path: '/v1/namespace/acl-ns', need: 'operator:read', on: '' },
  'DELETE /v1/namespace/*': { path: '/v1/namespace/acl-ns-gone', need: 'operator:write', on: '' },
  'GET /v1/namespaces': { path: '/v1/namespaces', need: 'operator:read', on: '', sees: has('acl-ns') },
  'PUT /v1/partition': { path: '/v1/partition', body: { Name: 'acl-part-new' }, need: 'operator:write', on: '' },
  'PUT /v1/partition/*': { path: '/v1/partition/acl-part', body: { Description: 'd' }, need: 'operator:write', on: '' },
  // A non-anonymous token reads its own (default) partition: the case reads another one.
  'GET /v1/partition/*': { path: '/v1/partition/acl-part', need: 'operator:read', on: '' },
  'DELETE /v1/partition/*': { path: '/v1/partition/acl-part-gone', need: 'operator:write', on: '' },
  'GET /v1/partitions': { path: '/v1/partitions', need: 'operator:read', on: '', sees: has('acl-part') },
  'POST /v1/internal/peering/exchange': {
    path: '/v1/internal/peering/exchange', body: { PeerID: 'none', EstablishmentSecret: 'x' },
    answers: { anonymous: [403, 'invalid peering establishment secret'], unknown: [403, 'invalid peering establishment secret'], management: [403, 'invalid peering establishment secret'] },
  },
  'GET /v1/internal/peering/stream': {
    path: '/v1/internal/peering/stream',
    answers: { anonymous: [404, 'peering not found'], unknown: [404, 'peering not found'], management: [404, 'peering not found'] },
  },
  'POST /v1/internal/peering/push': {
    path: '/v1/internal/peering/push', body: { Type: 'heartbeat' },
    answers: { anonymous: [403, 'invalid peering stream secret'], unknown: [403, 'invalid peering stream secret'], management: [403, 'invalid peering stream secret'] },
  },
  'GET /v1/discovery-chain/*': { path: '/v1/discovery-chain/web', need: 'service:read', on: 'web' },
  'POST /v1/discovery-chain/*': { path: '/v1/discovery-chain/web', body: { OverrideProtocol: 'http' }, need: 'service:read', on: 'web' },
  'GET /v1/status/leader': { path: '/v1/status/leader', open: 'leader address is public (Consul)' },
  'GET /v1/status/peers': { path: '/v1/status/peers', open: 'peer addresses are public (Consul)' },
  'GET /v1/operator/raft/configuration': { path: '/v1/operator/raft/configuration', need: 'operator:read', on: '' },
  'DELETE /v1/operator/raft/peer': { path: '/v1/operator/raft/peer?id=no-such-server', need: 'operator:write', on: '' },
  'POST /v1/operator/raft/transfer-leader': { path: '/v1/operator/raft/transfer-leader?id=no-such-server', need: 'operator:write', on: '' },
  'GET /v1/operator/autopilot/configuration': { path: '/v1/operator/autopilot/configuration', need: 'operator:read', on: '' },
  'PUT /v1/operator/autopilot/configuration': {
    path: '/v1/operator/autopilot/configuration', body: { CleanupDeadServers: true }, need: 'operator:write', on: '',
  },
  'GET /v1/operator/autopilot/health': { path: '/v1/operator/autopilot/health', need: 'operator:read', on: '' },
  'GET /v1/operator/autopilot/state': { path: '/v1/operator/autopilot/state', need: 'operator:read', on: '' },
  'GET /v1/operator/usage': { path: '/v1/operator/usage', need: 'operator:read', on: '' },
  'GET /v1/operator/segment': { path: '/v1/operator/segment', need: 'operator:read', on: '' },
  'POST /v1/operator/audit-hash': { path: '/v1/operator/audit-hash', body: { Input: 'x' }, need: 'operator:read', on: '' },
  'GET /v1/operator/license': { path: '/v1/operator/license', open: 'Consul Enterprise reads the licence without ACLs' },
  'GET /v1/operator/keyring': { path: '/v1/operator/keyring', need: 'keyring:read', on: '' },
  'POST /v1/operator/keyring': { path: '/v1/operator/keyring', body: { Key: 'x' }, need: 'keyring:write', on: '' },
  'PUT /v1/operator/keyring': { path: '/v1/operator/keyring', body: { Key: 'x' }, need: 'keyring:write', on: '' },
  'DELETE /v1/operator/keyring': { path: '/v1/operator/keyring', body: { Key: 'x' }, need: 'keyring:write', on: '' },
  'GET /v1/agent/self': { path: '/v1/agent/self', need: 'agent:read', on: NODE },
  'GET /v1/agent/version': { path: '/v1/agent/version', open: 'the version is public (Consul)' },
  'GET /v1/agent/services': { path: '/v1/agent/services', need: 'service:read', on: 'web', sees: keyed('web') },
  'GET /v1/agent/service/*': { path: '/v1/agent/service/web', need: 'service:read', on: 'web' },
  'PUT /v1/agent/service/register': { path: '/v1/agent/service/register', body: { Name: 'web3' }, need: 'service:write', on: 'web3' },
  'PUT /v1/agent/service/deregister/*': { path: '/v1/agent/service/deregister/gone', need: 'service:write', on: 'gone' },
  'PUT /v1/agent/service/maintenance/*': { path: '/v1/agent/service/maintenance/web?enable=false', need: 'service:write', on: 'web' },
  'GET /v1/agent/health/service/id/*': { path: '/v1/agent/health/service/id/web', need: 'service:read', on: 'web' },
  'GET /v1/agent/health/service/name/*': { path: '/v1/agent/health/service/name/web', need: 'service:read', on: 'web' },
  'GET /v1/agent/checks': { path: '/v1/agent/checks', need: 'service:read', on: 'web', sees: keyed('ttl-pass') },
  'PUT /v1/agent/check/register': { path: '/v1/agent/check/register', body: { Name: 'c-new', TTL: '30s', ServiceID: 'web' }, need: 'service:write', on: 'web' },
  'PUT /v1/agent/check/deregister/*': { path: '/v1/agent/check/deregister/ttl-dereg', need: 'service:write', on: 'web' },
  'PUT /v1/agent/check/pass/*': { path: '/v1/agent/check/pass/ttl-pass', need: 'service:write', on: 'web' },
  'PUT /v1/agent/check/warn/*': { path: '/v1/agent/check/warn/ttl-warn', need: 'service:write', on: 'web' },
  'PUT /v1/agent/check/fail/*': { path: '/v1/agent/check/fail/ttl-fail', need: 'service:write', on: 'web' },
  'PUT /v1/agent/check/update/*': { path: '/v1/agent/check/update/ttl-update', body: { Status: 'passing' }, need: 'service:write', on: 'web' },
  'PUT /v1/agent/maintenance': { path: '/v1/agent/maintenance?enable=false', need: 'node:write', on: NODE },
  'GET /v1/agent/members': { path: '/v1/agent/members', need: 'node:read', on: NODE, sees: has(NODE) },
  'PUT /v1/agent/join/*': { path: '/v1/agent/join/127.0.0.1:1', need: 'agent:write', on: NODE },
  // Without a data dir a reload drops API-registered services, so it runs after the agent routes.
  'PUT /v1/agent/reload': { path: '/v1/agent/reload', need: 'agent:write', on: NODE, last: true },
  'PUT /v1/agent/leave': { path: '/v1/agent/leave', need: 'agent:write', on: NODE, last: true },
  'PUT /v1/agent/force-leave/*': { path: '/v1/agent/force-leave/no-such-node', need: 'operator:write', on: '' },
  // Turns ACLs on from the agent's own host (acl-init-runtime.test.ts); once they are on it changes nothing.
  'PUT /v1/agent/acl/enable': { path: '/v1/agent/acl/enable', open: 'a no-op once ACLs are on; loopback callers only' },
  'PUT /v1/agent/token/*': { path: '/v1/agent/token/replication', body: { Token: 'r' }, need: 'acl:write', on: '' },
  'GET /v1/agent/metrics': { path: '/v1/agent/metrics', need: 'agent:read', on: NODE },
  'GET /v1/agent/monitor': { path: '/v1/agent/monitor', need: 'agent:read', on: NODE, stream: true },
  'GET /v1/agent/metrics/stream': { path: '/v1/agent/metrics/stream', need: 'agent:read', on: NODE, stream: true },
  'GET /v1/agent/host': { path: '/v1/agent/host', need: 'operator:read', on: '' },
  'PUT /v1/event/fire/*': { path: '/v1/event/fire/deploy', need: 'event:write', on: 'deploy' },
  'GET /v1/event/list': { path: '/v1/event/list', need: 'event:read', on: 'deploy', sees: has('deploy') },
  'GET /v1/coordinate/datacenters': { path: '/v1/coordinate/datacenters', open: 'Consul\'s Coordinate.ListDatacenters checks no ACL' },
  'GET /v1/coordinate/nodes': { path: '/v1/coordinate/nodes', need: 'node:read', on: 'n1', sees: has('n1') },
  'GET /v1/coordinate/node/*': { path: '/v1/coordinate/node/n1', need: 'node:read', on: 'n1' },
  'PUT /v1/coordinate/update': { path: '/v1/coordinate/update', body: { Node: 'n1', Coord: COORD }, need: 'node:write', on: 'n1' },
  // The CA configuration needs operator:write even to read, as in Consul since CVE-2020-28053 (it can hold the CA's private key).
  'GET /v1/connect/ca/configuration': { path: '/v1/connect/ca/configuration', need: 'operator:write', on: '' },
  'PUT /v1/connect/ca/configuration': {
    path: '/v1/connect/ca/configuration', body: { Provider: 'consul', Config: { LeafCertTTL: '72h' } }, need: 'operator:write', on: '',
  },
  'GET /v1/connect/intentions': {
    path: '/v1/connect/intentions', need: 'intention:read', on: 'ixn-dst',
    sees: (b: any) => Array.isArray(b) && b.some((x) => x.DestinationName === 'ixn-dst'),
  },
  'GET /v1/connect/intentions/match': { path: '/v1/connect/intentions/match?by=destination&name=ixn-dst', need: 'intention:read', on: 'ixn-dst' },
  // Check answers only allow/deny, so it needs service:read on the destination, not intentions:read.
  'GET /v1/connect/intentions/check': { path: '/v1/connect/intentions/check?source=ixn-src&destination=ixn-dst', need: 'service:read', on: 'ixn-dst' },
  'GET /v1/connect/intentions/exact': { path: '/v1/connect/intentions/exact?source=ixn-src&destination=ixn-dst', need: 'intention:read', on: 'ixn-dst', bare: true },
  'PUT /v1/connect/intentions/exact': {
    path: '/v1/connect/intentions/exact?source=ixn-src2&destination=ixn-dst', body: { Action: 'deny' }, need: 'intention:write', on: 'ixn-dst', bare: true,
  },
  'DELETE /v1/connect/intentions/exact': { path: '/v1/connect/intentions/exact?source=ixn-gone&destination=ixn-dst', need: 'intention:write', on: 'ixn-dst', bare: true },
  'POST /v1/connect/intentions': {
    path: '/v1/connect/intentions', body: { SourceName: 'lsrc', DestinationName: 'ixn-legacy2', Action: 'allow' }, need: 'intention:write', on: 'ixn-legacy2', bare: true,
  },
  'GET /v1/connect/intentions/*': { path: '/v1/connect/intentions/{ixn}', need: 'intention:read', on: 'ixn-legacy', bare: true },
  'PUT /v1/connect/intentions/*': {
    path: '/v1/connect/intentions/{ixn}', body: { SourceName: 'lsrc', DestinationName: 'ixn-legacy', Action: 'deny' }, need: 'intention:write', on: 'ixn-legacy', bare: true,
  },
  'DELETE /v1/connect/intentions/*': { path: '/v1/connect/intentions/{ixnDel}', need: 'intention:write', on: 'ixn-legacy-del', bare: true },
  'POST /v1/agent/connect/authorize': {
    path: '/v1/agent/connect/authorize', body: { Target: 'api', ClientCertURI: 'spiffe://11111111-2222-3333-4444-555555555555.consul/ns/default/dc/dc1/svc/web' },
    need: 'service:write', on: 'api',
  },
  // Roots are public as in Consul, but a token that is sent is still resolved (Consul ignores it).
  'GET /v1/connect/ca/roots': { path: '/v1/connect/ca/roots', open: 'CA roots are public', resolves: true },
  'GET /v1/agent/connect/ca/roots': { path: '/v1/agent/connect/ca/roots', open: 'CA roots are public', resolves: true },
  'GET /v1/agent/connect/ca/leaf/*': { path: '/v1/agent/connect/ca/leaf/web', need: 'service:write', on: 'web' },
  // Saving or restoring the whole state is management-only (Consul's Snapshot: acl:write).
  'GET /v1/snapshot': { path: '/v1/snapshot', need: 'acl:write', on: '' },
  'PUT /v1/snapshot': { path: '/v1/snapshot', body: 'not a snapshot', need: 'acl:write', on: '' },
  ...ACL_CASES(),
};

function ACL_CASES(): Record<string, RouteCase> {
  return {
    'PUT /v1/acl/bootstrap': { path: '/v1/acl/bootstrap', answers: { anonymous: BOOTSTRAPPED, unknown: BOOTSTRAPPED, management: BOOTSTRAPPED } },
    'POST /v1/acl/login': { path: '/v1/acl/login', body: { AuthMethod: 'no-such-method', BearerToken: 'x' }, open: 'the bearer token is the credential' },
    // A token logs only itself out, and only one that a login created (Consul's ACL.Logout).
    'POST /v1/acl/logout': {
      path: '/v1/acl/logout',
      answers: { anonymous: [403, 'ACL not found'], unknown: [403, 'ACL not found'], management: [403, 'Permission denied'] },
    },
    'POST /v1/acl/oidc/auth-url': { path: '/v1/acl/oidc/auth-url', body: { AuthMethod: 'no-such-method', RedirectURI: 'http://x/cb' }, open: 'starts a login' },
    'POST /v1/acl/oidc/callback': { path: '/v1/acl/oidc/callback', body: { AuthMethod: 'no-such-method', State: 's', Code: 'c' }, open: 'finishes a login' },
    'GET /v1/acl/replication': { path: '/v1/acl/replication', open: 'replication status is public (Consul)' },
    'POST /v1/acl/rules/translate': readAcl('/v1/acl/rules/translate'),
    // A token may explain its own decisions; POST with another token's secret needs acl:read (acl-explain.test.ts).
    'GET /v1/acl/explain': { path: '/v1/acl/explain?resource=key:app/db&access=read', open: 'explains the caller\'s own token', resolves: true },
    'POST /v1/acl/explain': { path: '/v1/acl/explain', body: { Resource: 'key:app/db', Access: 'read' }, open: 'explains the caller\'s own token', resolves: true },
    'GET /v1/acl/tokens': readAcl('/v1/acl/tokens'),
    'PUT /v1/acl/token': writeAcl('/v1/acl/token', { Description: 'new' }),
    'GET /v1/acl/token/*': readAcl('/v1/acl/token/{token}'),
    'PUT /v1/acl/token/*': writeAcl('/v1/acl/token/{token}', { Description: 'changed' }),
    'DELETE /v1/acl/token/*': writeAcl('/v1/acl/token/{token}'),
    'GET /v1/acl/policies': readAcl('/v1/acl/policies'),
    'PUT /v1/acl/policy': writeAcl('/v1/acl/policy', { Name: 'p-new', Rules: '' }),
    'GET /v1/acl/policy/*': readAcl('/v1/acl/policy/{policy}'),
    'PUT /v1/acl/policy/*': writeAcl('/v1/acl/policy/{policy}', { Name: 'victim-policy', Description: 'changed' }),
    'DELETE /v1/acl/policy/*': writeAcl('/v1/acl/policy/{policy}'),
    'GET /v1/acl/policy/name/*': readAcl('/v1/acl/policy/name/global-management'),
    'GET /v1/acl/roles': readAcl('/v1/acl/roles'),
    'PUT /v1/acl/role': writeAcl('/v1/acl/role', { Name: 'r-new' }),
    'GET /v1/acl/role/*': readAcl('/v1/acl/role/{role}'),
    'PUT /v1/acl/role/*': writeAcl('/v1/acl/role/{role}', { Name: 'victim-role', Description: 'changed' }),
    'DELETE /v1/acl/role/*': writeAcl('/v1/acl/role/{role}'),
    'GET /v1/acl/role/name/*': readAcl('/v1/acl/role/name/victim-role'),
    'GET /v1/acl/auth-methods': readAcl('/v1/acl/auth-methods'),
    'PUT /v1/acl/auth-method': writeAcl('/v1/acl/auth-method', { Name: 'm-new', Type: 'jwt', Config: { JWTValidationPubKeys: ['{pem}'] } }),
    'GET /v1/acl/auth-method/*': readAcl('/v1/acl/auth-method/victim-method'),
    'PUT /v1/acl/auth-method/*': writeAcl('/v1/acl/auth-method/victim-method', { Name: 'victim-method', Type: 'jwt', Description: 'changed', Config: { JWTValidationPubKeys: ['{pem}'] } }),
    'DELETE /v1/acl/auth-method/*': writeAcl('/v1/acl/auth-method/victim-method'),
    'GET /v1/acl/binding-rules': readAcl('/v1/acl/binding-rules'),
    'PUT /v1/acl/binding-rule': writeAcl('/v1/acl/binding-rule', { AuthMethod: 'keep-method', BindType: 'service', BindName: 'x' }),
    'GET /v1/acl/binding-rule/*': readAcl('/v1/acl/binding-rule/{rule}'),
    'PUT /v1/acl/binding-rule/*': writeAcl('/v1/acl/binding-rule/{rule}', { AuthMethod: 'keep-method', BindType: 'service', BindName: 'y' }),
    'DELETE /v1/acl/binding-rule/*': writeAcl('/v1/acl/binding-rule/{rule}'),
    'GET /v1/acl/templated-policies': readAcl('/v1/acl/templated-policies'),
    'GET /v1/acl/templated-policy/name/*': readAcl('/v1/acl/templated-policy/name/builtin/service'),
    'POST /v1/acl/templated-policy/preview/*': { ...readAcl('/v1/acl/templated-policy/preview/builtin/service'), body: { Name: 'web' } },
    'POST /v1/internal/acl/authorize': {
      path: '/v1/internal/acl/authorize', body: [{ Resource: 'key', Segment: 'app/db', Access: 'read' }],
      open: 'answers for the caller\'s own token', resolves: true,
    },
  };
}
