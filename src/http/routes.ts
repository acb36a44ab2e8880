// The whole HTTP surface in one table (Consul's http_register.go). Handlers come from the
// per-area factories in v1/; the composition root passes them in.
import { Router, type Handler } from './router.ts';
import type { aclTokenHandlers } from './v1/acl.ts';
import type { aclPolicyHandlers, aclAuthHandlers } from './v1/acl-policies.ts';
import type { explainHandlers } from './v1/explain.ts';
import type { agentAclHandlers } from './v1/agent-acl.ts';
import type { queryHandlers } from './v1/query.ts';
import type { intentionHandlers } from './v1/intentions.ts';
import type { discoveryChainHandlers } from './v1/discovery-chain.ts';
import type { peeringHandlers } from './v1/peering.ts';
import type { namespaceHandlers } from './v1/namespaces.ts';
import type { partitionHandlers } from './v1/partitions.ts';
import type { internalUiHandlers } from './v1/internal-ui.ts';
import type { UiHandlers } from './ui-server.ts';

/** Every handler the table references, grouped by area. */
export interface RouteHandlers {
  kv: { get: Handler; put: Handler; delete: Handler };
  txn: { put: Handler };
  status: { leader: Handler; peers: Handler };
  operator: {
    raftConfiguration: Handler; raftPeerDelete: Handler; transferLeader: Handler; autopilotGetConfig: Handler;
    autopilotSetConfig: Handler; autopilotHealth: Handler; autopilotState: Handler;
    /** GET /v1/operator/usage. */
    usage: Handler;
    /** GET /v1/operator/license (the open licence) and GET /v1/operator/segment (Consul Enterprise). */
    license: Handler;
    segment: Handler;
    /** POST /v1/operator/audit-hash (Consul Enterprise). */
    auditHash: Handler;
  };
  agent: { self: Handler; version: Handler };
  connect: { roots: Handler; configuration: Handler; setConfiguration: Handler };
  /** The agent's service leaf certificates. */
  agentConnect: { leaf: Handler };
  session: { create: Handler; destroy: Handler; renew: Handler; info: Handler; node: Handler; list: Handler };
  catalog: {
    register: Handler; deregister: Handler; datacenters: Handler; nodes: Handler; services: Handler;
    service: Handler; connect: Handler; node: Handler; nodeServices: Handler;
  };
  health: { node: Handler; checks: Handler; state: Handler; service: Handler; connect: Handler };
  observe: { metrics: Handler; metricsStream: Handler; monitor: Handler; host: Handler };
  event: { fire: Handler; list: Handler };
  coordinate: { datacenters: Handler; nodes: Handler; node: Handler; update: Handler };
  agentServices: {
    services: Handler; service: Handler; register: Handler; deregister: Handler; maintenance: Handler;
    healthById: Handler; healthByName: Handler;
  };
  agentChecks: {
    checks: Handler; register: Handler; deregister: Handler; pass: Handler; warn: Handler; fail: Handler;
    update: Handler; nodeMaintenance: Handler;
  };
  agentControl: { reload: Handler; leave: Handler; token: Handler };
  members: { members: Handler; join: Handler; forceLeave: Handler };
  keyring: { list: Handler; install: Handler; use: Handler; remove: Handler };
  /** /v1/config and the exports resolved from its exported-services entry (/v1/exported-services). */
  config: { apply: Handler; get: Handler; delete: Handler; exportedServices: Handler };
  gateways: { gatewayServices: Handler; ingress: Handler };
  acl: ReturnType<typeof aclTokenHandlers>;
  aclPolicies: ReturnType<typeof aclPolicyHandlers>;
  aclAuth: ReturnType<typeof aclAuthHandlers>;
  /** /v1/acl/explain (beyond Consul). */
  aclExplain: ReturnType<typeof explainHandlers>;
  /** POST /v1/acl/rules/translate (legacy rules). */
  aclTranslate: Handler;
  /** PUT /v1/agent/acl/enable (beyond Consul). */
  agentAcl: ReturnType<typeof agentAclHandlers>;
  snapshot: { save: Handler; restore: Handler };
  /** Prepared queries (/v1/query) and the internal ExecuteRemote route. */
  query: ReturnType<typeof queryHandlers>;
  /** /v1/connect/intentions* (views over service-intentions config entries). */
  intentions: ReturnType<typeof intentionHandlers>;
  /** /v1/discovery-chain/:service (compiled from the router, splitter and resolver entries). */
  discoveryChain: ReturnType<typeof discoveryChainHandlers>;
  /** /v1/peering/* and /v1/peerings (cluster peering). */
  peering: ReturnType<typeof peeringHandlers>;
  /** /v1/namespace/* and /v1/namespaces (Consul Enterprise namespaces). */
  namespaces: ReturnType<typeof namespaceHandlers>;
  /** /v1/partition/* and /v1/partitions (Consul Enterprise admin partitions). */
  partitions: ReturnType<typeof partitionHandlers>;
  /** The peer stream's internal routes (agent/peer-stream.ts). */
  peerStream: { exchange: Handler; stream: Handler; push: Handler };
  /** PUT /v1/internal/service-virtual-ip (manual virtual IPs). */
  virtualIPs: { assign: Handler };
  /** /v1/internal/ui/* (the web UI's reads) and its metrics proxy (agent-local). */
  internalUi: ReturnType<typeof internalUiHandlers> & { metricsProxy: Handler };
  /** The web UI (`/`, the content path, /robots.txt); absent: none of those routes. */
  ui?: UiHandlers;
}

/** Builds the route table. */
export function buildRoutes(h: RouteHandlers): Router {
  return uiRoutes(aclRoutes(new Router(), h), h)
    .route('GET', '/v1/kv/*', h.kv.get)
    .route('PUT', '/v1/kv/*', h.kv.put)
    .route('DELETE', '/v1/kv/*', h.kv.delete)
    .route('PUT', '/v1/txn', h.txn.put)
    .route('GET', '/v1/snapshot', h.snapshot.save)
    .route('PUT', '/v1/snapshot', h.snapshot.restore)
    .route('PUT', '/v1/session/create', h.session.create)
    .route('PUT', '/v1/session/destroy/*', h.session.destroy)
    .route('PUT', '/v1/session/renew/*', h.session.renew)
    .route('GET', '/v1/session/info/*', h.session.info)
    .route('GET', '/v1/session/node/*', h.session.node)
    .route('GET', '/v1/session/list', h.session.list)
    .route('POST', '/v1/query', h.query.create)
    .route('GET', '/v1/query', h.query.list)
    .route('GET', '/v1/query/*', h.query.get)
    .route('PUT', '/v1/query/*', h.query.update)
    .route('DELETE', '/v1/query/*', h.query.delete)
    .route('POST', '/v1/internal/query/execute-remote', h.query.executeRemote)
    .route('PUT', '/v1/internal/service-virtual-ip', h.virtualIPs.assign)
    .route('PUT', '/v1/catalog/register', h.catalog.register)
    .route('PUT', '/v1/catalog/deregister', h.catalog.deregister)
    .route('GET', '/v1/catalog/datacenters', h.catalog.datacenters)
    .route('GET', '/v1/catalog/nodes', h.catalog.nodes)
    .route('GET', '/v1/catalog/services', h.catalog.services)
    .route('GET', '/v1/catalog/service/*', h.catalog.service)
    .route('GET', '/v1/catalog/connect/*', h.catalog.connect)
    .route('GET', '/v1/catalog/node/*', h.catalog.node)
    .route('GET', '/v1/catalog/node-services/*', h.catalog.nodeServices)
    .route('GET', '/v1/health/node/*', h.health.node)
    .route('GET', '/v1/health/checks/*', h.health.checks)
    .route('GET', '/v1/health/state/*', h.health.state)
    .route('GET', '/v1/health/service/*', h.health.service)
    .route('GET', '/v1/health/connect/*', h.health.connect)
    .route('GET', '/v1/health/ingress/*', h.gateways.ingress)
    .route('GET', '/v1/catalog/gateway-services/*', h.gateways.gatewayServices)
    .route('PUT', '/v1/config', h.config.apply)
    .route('GET', '/v1/config/*', h.config.get)
    .route('DELETE', '/v1/config/*', h.config.delete)
    .route('GET', '/v1/exported-services', h.config.exportedServices)
    .route('POST', '/v1/peering/token', h.peering.generateToken)
    .route('POST', '/v1/peering/establish', h.peering.establish)
    .route('GET', '/v1/peering/*', h.peering.read)
    .route('DELETE', '/v1/peering/*', h.peering.delete)
    .route('GET', '/v1/peerings', h.peering.list)
    .route('PUT', '/v1/namespace', h.namespaces.create)
    .route('PUT', '/v1/namespace/*', h.namespaces.update)
    .route('GET', '/v1/namespace/*', h.namespaces.read)
    .route('DELETE', '/v1/namespace/*', h.namespaces.delete)
    .route('GET', '/v1/namespaces', h.namespaces.list)
    .route('PUT', '/v1/partition', h.partitions.create)
    .route('PUT', '/v1/partition/*', h.partitions.update)
    .route('GET', '/v1/partition/*', h.partitions.read)
    .route('DELETE', '/v1/partition/*', h.partitions.delete)
    .route('GET', '/v1/partitions', h.partitions.list)
    .route('POST', '/v1/internal/peering/exchange', h.peerStream.exchange)
    .route('GET', '/v1/internal/peering/stream', h.peerStream.stream)
    .route('POST', '/v1/internal/peering/push', h.peerStream.push)
    .route('GET', '/v1/discovery-chain/*', h.discoveryChain.read)
    .route('POST', '/v1/discovery-chain/*', h.discoveryChain.read)
    .route('GET', '/v1/status/leader', h.status.leader)
    .route('GET', '/v1/status/peers', h.status.peers)
    .route('GET', '/v1/operator/raft/configuration', h.operator.raftConfiguration)
    .route('DELETE', '/v1/operator/raft/peer', h.operator.raftPeerDelete)
    .route('POST', '/v1/operator/raft/transfer-leader', h.operator.transferLeader)
    .route('GET', '/v1/operator/autopilot/configuration', h.operator.autopilotGetConfig)
    .route('PUT', '/v1/operator/autopilot/configuration', h.operator.autopilotSetConfig)
    .route('GET', '/v1/operator/autopilot/health', h.operator.autopilotHealth)
    .route('GET', '/v1/operator/autopilot/state', h.operator.autopilotState)
    .route('GET', '/v1/operator/usage', h.operator.usage)
    .route('GET', '/v1/operator/license', h.operator.license)
    .route('GET', '/v1/operator/segment', h.operator.segment)
    .route('POST', '/v1/operator/audit-hash', h.operator.auditHash)
    .route('GET', '/v1/operator/keyring', h.keyring.list)
    .route('POST', '/v1/operator/keyring', h.keyring.install)
    .route('PUT', '/v1/operator/keyring', h.keyring.use)
    .route('DELETE', '/v1/operator/keyring', h.keyring.remove)
    .route('GET', '/v1/agent/self', h.agent.self)
    .route('GET', '/v1/agent/version', h.agent.version)
    .route('GET', '/v1/agent/services', h.agentServices.services)
    .route('GET', '/v1/agent/service/*', h.agentServices.service)
    .route('PUT', '/v1/agent/service/register', h.agentServices.register)
    .route('PUT', '/v1/agent/service/deregister/*', h.agentServices.deregister)
    .route('PUT', '/v1/agent/service/maintenance/*', h.agentServices.maintenance)
    .route('GET', '/v1/agent/health/service/id/*', h.agentServices.healthById)
    .route('GET', '/v1/agent/health/service/name/*', h.agentServices.healthByName)
    .route('GET', '/v1/agent/checks', h.agentChecks.checks)
    .route('PUT', '/v1/agent/check/register', h.agentChecks.register)
    .route('PUT', '/v1/agent/check/deregister/*', h.agentChecks.deregister)
    .route('PUT', '/v1/agent/check/pass/*', h.agentChecks.pass)
    .route('PUT', '/v1/agent/check/warn/*', h.agentChecks.warn)
    .route('PUT', '/v1/agent/check/fail/*', h.agentChecks.fail)
    .route('PUT', '/v1/agent/check/update/*', h.agentChecks.update)
    .route('PUT', '/v1/agent/maintenance', h.agentChecks.nodeMaintenance)
    .route('GET', '/v1/agent/members', h.members.members)
    .route('PUT', '/v1/agent/join/*', h.members.join)
    .route('PUT', '/v1/agent/reload', h.agentControl.reload)
    .route('PUT', '/v1/agent/leave', h.agentControl.leave)
    .route('PUT', '/v1/agent/force-leave/*', h.members.forceLeave)
    .route('PUT', '/v1/agent/token/*', h.agentControl.token)
    .route('PUT', '/v1/agent/acl/enable', h.agentAcl.enable)
    .route('GET', '/v1/agent/metrics', h.observe.metrics)
    .route('GET', '/v1/agent/metrics/stream', h.observe.metricsStream)
    .route('GET', '/v1/agent/monitor', h.observe.monitor)
    .route('GET', '/v1/agent/host', h.observe.host)
    .route('PUT', '/v1/event/fire/*', h.event.fire)
    .route('GET', '/v1/event/list', h.event.list)
    .route('GET', '/v1/coordinate/datacenters', h.coordinate.datacenters)
    .route('GET', '/v1/coordinate/nodes', h.coordinate.nodes)
    .route('GET', '/v1/coordinate/node/*', h.coordinate.node)
    .route('PUT', '/v1/coordinate/update', h.coordinate.update)
    .route('GET', '/v1/connect/ca/roots', h.connect.roots)
    .route('GET', '/v1/connect/ca/configuration', h.connect.configuration)
    .route('PUT', '/v1/connect/ca/configuration', h.connect.setConfiguration)
    .route('GET', '/v1/connect/intentions', h.intentions.list)
    .route('POST', '/v1/connect/intentions', h.intentions.create)
    .route('GET', '/v1/connect/intentions/match', h.intentions.match)
    .route('GET', '/v1/connect/intentions/check', h.intentions.check)
    .route('GET', '/v1/connect/intentions/exact', h.intentions.getExact)
    .route('PUT', '/v1/connect/intentions/exact', h.intentions.putExact)
    .route('DELETE', '/v1/connect/intentions/exact', h.intentions.deleteExact)
    .route('GET', '/v1/connect/intentions/*', h.intentions.getById)
    .route('PUT', '/v1/connect/intentions/*', h.intentions.updateById)
    .route('DELETE', '/v1/connect/intentions/*', h.intentions.deleteById)
    .route('POST', '/v1/agent/connect/authorize', h.intentions.authorize)
    .route('GET', '/v1/agent/connect/ca/roots', h.connect.roots)
    .route('GET', '/v1/agent/connect/ca/leaf/*', h.agentConnect.leaf);
}

/** The web UI's routes: its reads under /v1/internal/ui/, and the UI itself when the agent serves one. */
function uiRoutes(r: Router, h: RouteHandlers): Router {
  const i = h.internalUi;
  r.route('GET', '/v1/internal/ui/nodes', i.nodes)
    .route('GET', '/v1/internal/ui/node/*', i.node)
    .route('GET', '/v1/internal/ui/services', i.services)
    .route('GET', '/v1/internal/ui/exported-services', i.exportedServices)
    .route('GET', '/v1/internal/ui/catalog-overview', i.catalogOverview)
    .route('GET', '/v1/internal/ui/gateway-services-nodes/*', i.gatewayServicesNodes)
    .route('GET', '/v1/internal/ui/gateway-intentions/*', i.gatewayIntentions)
    .route('GET', '/v1/internal/ui/service-topology/*', i.serviceTopology)
    .route('GET', '/v1/internal/ui/metrics-proxy/*', i.metricsProxy);
  const ui = h.ui;
  if (!ui) return r;
  r.route('GET', '/', ui.index).route('HEAD', '/', ui.index);
  if (!ui.served) return r;
  const path = ui.contentPath;
  r.route('GET', `${path}*`, ui.serve).route('HEAD', `${path}*`, ui.serve);
  if (path.length > 1) r.route('GET', path.slice(0, -1), ui.bare).route('HEAD', path.slice(0, -1), ui.bare);
  return r.route('GET', '/robots.txt', ui.robots).route('HEAD', '/robots.txt', ui.robots);
}

/** The ACL routes (Consul's /v1/acl/* and /v1/internal/acl/authorize). */
function aclRoutes(r: Router, h: RouteHandlers): Router {
  const { acl, aclPolicies: p, aclAuth: a } = h;
  return r
    .route('PUT', '/v1/acl/bootstrap', acl.bootstrap)
    .route('POST', '/v1/acl/login', acl.login)
    .route('POST', '/v1/acl/logout', acl.logout)
    .route('POST', '/v1/acl/oidc/auth-url', acl.oidcAuthURL)
    .route('POST', '/v1/acl/oidc/callback', acl.oidcCallback)
    .route('GET', '/v1/acl/replication', acl.replication)
    .route('POST', '/v1/acl/rules/translate', h.aclTranslate)
    .route('GET', '/v1/acl/explain', h.aclExplain.get)
    .route('POST', '/v1/acl/explain', h.aclExplain.post)
    .route('GET', '/v1/acl/tokens', acl.list)
    .route('PUT', '/v1/acl/token', acl.create)
    .route('GET', '/v1/acl/token/*', acl.get)
    .route('PUT', '/v1/acl/token/*', acl.put)
    .route('DELETE', '/v1/acl/token/*', acl.delete)
    .route('GET', '/v1/acl/policies', p.policies)
    .route('PUT', '/v1/acl/policy', p.createPolicy)
    .route('GET', '/v1/acl/policy/*', p.policy)
    .route('PUT', '/v1/acl/policy/*', p.updatePolicy)
    .route('DELETE', '/v1/acl/policy/*', p.deletePolicy)
    .route('GET', '/v1/acl/policy/name/*', p.policy)
    .route('GET', '/v1/acl/roles', p.roles)
    .route('PUT', '/v1/acl/role', p.createRole)
    .route('GET', '/v1/acl/role/*', p.role)
    .route('PUT', '/v1/acl/role/*', p.updateRole)
    .route('DELETE', '/v1/acl/role/*', p.deleteRole)
    .route('GET', '/v1/acl/role/name/*', p.role)
    .route('GET', '/v1/acl/auth-methods', a.methods)
    .route('PUT', '/v1/acl/auth-method', a.createMethod)
    .route('GET', '/v1/acl/auth-method/*', a.method)
    .route('PUT', '/v1/acl/auth-method/*', a.updateMethod)
    .route('DELETE', '/v1/acl/auth-method/*', a.deleteMethod)
    .route('GET', '/v1/acl/binding-rules', a.rules)
    .route('PUT', '/v1/acl/binding-rule', a.createRule)
    .route('GET', '/v1/acl/binding-rule/*', a.rule)
    .route('PUT', '/v1/acl/binding-rule/*', a.updateRule)
    .route('DELETE', '/v1/acl/binding-rule/*', a.deleteRule)
    .route('GET', '/v1/acl/templated-policies', acl.templatedPolicies)
    .route('GET', '/v1/acl/templated-policy/name/*', acl.templatedPolicy)
    .route('POST', '/v1/acl/templated-policy/preview/*', acl.previewTemplatedPolicy)
    .route('POST', '/v1/internal/acl/authorize', acl.authorize);
}
