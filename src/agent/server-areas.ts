// The server's HTTP areas built on their first request (issue #9): each imports its endpoint and
// handler modules then, so an agent start compiles none of them. buildServer passes the deps.
import type { EndpointDeps, HealthEndpoint, TxnEndpoint } from '../endpoint/index.ts';
import type { CoordinateHandlerDeps, RequestConfig, RouteHandlers } from '../http/index.ts';
import { lazyHandlers } from '../http/lazy-handlers.ts';
import type { IntentionEndpoint } from '../endpoint/intentions.ts';
import type { LegacyIntentionEndpoint } from '../endpoint/intentions-legacy.ts';
import type { PreparedQueryEndpoint } from '../endpoint/prepared-query.ts';
import type { ConfigEntryEndpoint } from '../endpoint/config-entries.ts';
import type { PeeringEndpoint } from '../endpoint/peering.ts';
import type { ConnectCAEndpoint } from '../endpoint/connect-ca.ts';
import type { SnapshotEndpoint } from '../endpoint/snapshot.ts';
import type { OperatorDeps } from '../http/v1/operator.ts';
import type { OperatorUsageDeps } from '../http/v1/operator-usage.ts';
import type { Store } from '../store/index.ts';
import type { AclEndpoints } from './server-endpoints.ts';
import type { AgentAclDeps } from '../http/v1/agent-acl.ts';
import type { RuntimeConfig } from './config/runtime.ts';

const INTENTION_ROUTES = [
  'list', 'create', 'match', 'check', 'getExact', 'putExact', 'deleteExact', 'getById', 'updateById', 'deleteById', 'authorize',
] as const;

/** /v1/connect/intentions* and /v1/agent/connect/authorize, over the intention endpoints made on first use. */
export function intentionRoutes(
  deps: EndpointDeps, config: RuntimeConfig, reqCfg: RequestConfig, measure: (ixns: IntentionEndpoint, legacy: LegacyIntentionEndpoint) => void,
): RouteHandlers['intentions'] {
  return lazyHandlers(INTENTION_ROUTES, async () => {
    const [{ IntentionEndpoint }, { LegacyIntentionEndpoint }, { intentionHandlers }] = await Promise.all([
      import('../endpoint/intentions.ts'), import('../endpoint/intentions-legacy.ts'), import('../http/v1/intentions.ts'),
    ]);
    const opts = { connectEnabled: config.connect.enabled };
    const ixns = new IntentionEndpoint(deps, opts);
    const legacy = new LegacyIntentionEndpoint(deps, opts);
    measure(ixns, legacy);
    return intentionHandlers(ixns, legacy, reqCfg);
  });
}

/** /v1/catalog/gateway-services/:gateway and /v1/health/ingress/:service. */
export function gatewayRoutes(deps: EndpointDeps, reqCfg: RequestConfig, health: HealthEndpoint): RouteHandlers['gateways'] {
  return lazyHandlers(['gatewayServices', 'ingress'], async () => {
    const [{ GatewayEndpoint }, { gatewayHandlers }] = await Promise.all([import('../endpoint/gateway-services.ts'), import('../http/v1/gateways.ts')]);
    return gatewayHandlers(new GatewayEndpoint(deps), reqCfg, health);
  });
}

/** /v1/discovery-chain/:service. */
export function discoveryChainRoutes(deps: EndpointDeps, reqCfg: RequestConfig): RouteHandlers['discoveryChain'] {
  return lazyHandlers(['read'], async () => {
    const [{ DiscoveryChainEndpoint }, { discoveryChainHandlers }] = await Promise.all([
      import('../endpoint/discovery-chain.ts'), import('../http/v1/discovery-chain.ts'),
    ]);
    return discoveryChainHandlers(new DiscoveryChainEndpoint(deps), reqCfg);
  });
}

const TENANCY_ROUTES = ['create', 'update', 'read', 'delete', 'list'] as const;

/** /v1/namespace/* and /v1/namespaces. */
export function namespaceRoutes(deps: EndpointDeps, reqCfg: RequestConfig): RouteHandlers['namespaces'] {
  return lazyHandlers(TENANCY_ROUTES, async () => {
    const [{ NamespaceEndpoint }, { namespaceHandlers }] = await Promise.all([import('../endpoint/namespaces.ts'), import('../http/v1/namespaces.ts')]);
    return namespaceHandlers(new NamespaceEndpoint(deps), reqCfg);
  });
}

/** /v1/partition/* and /v1/partitions. */
export function partitionRoutes(deps: EndpointDeps, reqCfg: RequestConfig): RouteHandlers['partitions'] {
  return lazyHandlers(TENANCY_ROUTES, async () => {
    const [{ PartitionEndpoint }, { partitionHandlers }] = await Promise.all([import('../endpoint/partitions.ts'), import('../http/v1/partitions.ts')]);
    return partitionHandlers(new PartitionEndpoint(deps), reqCfg);
  });
}

const ACL_TOKEN_ROUTES = [
  'bootstrap', 'list', 'create', 'get', 'put', 'delete', 'login', 'oidcAuthURL', 'oidcCallback', 'logout', 'replication',
  'templatedPolicies', 'templatedPolicy', 'previewTemplatedPolicy', 'authorize',
] as const;
const ACL_POLICY_ROUTES = ['policies', 'createPolicy', 'policy', 'updatePolicy', 'deletePolicy', 'roles', 'createRole', 'role', 'updateRole', 'deleteRole'] as const;
const ACL_AUTH_ROUTES = ['methods', 'createMethod', 'method', 'updateMethod', 'deleteMethod', 'rules', 'createRule', 'rule', 'updateRule', 'deleteRule'] as const;

/** /v1/acl/*: tokens (with login, logout and the templated policies), policies and roles, auth methods and binding rules. */
export function aclRoutes(acl: AclEndpoints, reqCfg: RequestConfig): Pick<RouteHandlers, 'acl' | 'aclPolicies' | 'aclAuth'> {
  return {
    acl: lazyHandlers(ACL_TOKEN_ROUTES, async () => (await import('../http/v1/acl.ts')).aclTokenHandlers(acl, reqCfg)),
    aclPolicies: lazyHandlers(ACL_POLICY_ROUTES, async () => (await import('../http/v1/acl-policies.ts')).aclPolicyHandlers(acl.policies, reqCfg)),
    aclAuth: lazyHandlers(ACL_AUTH_ROUTES, async () => (await import('../http/v1/acl-policies.ts')).aclAuthHandlers(acl.auth, reqCfg)),
  };
}

/** /v1/query/* and the internal ExecuteRemote route, over the server's prepared query endpoint. */
export function queryRoutes(ep: PreparedQueryEndpoint, cfg: RequestConfig & { nodeName: string }): RouteHandlers['query'] {
  return lazyHandlers(['create', 'list', 'get', 'update', 'delete', 'executeRemote'], async () => (await import('../http/v1/query.ts')).queryHandlers(ep, cfg));
}

const OPERATOR_ROUTES = [
  'raftConfiguration', 'raftPeerDelete', 'transferLeader', 'autopilotGetConfig', 'autopilotSetConfig', 'autopilotHealth', 'autopilotState',
  'usage', 'license', 'segment', 'auditHash',
] as const;

/** /v1/operator/* but the keyring: Raft and autopilot, usage, licence, segments and the audit hash. */
export function operatorRoutes(d: OperatorDeps, usage: OperatorUsageDeps, store: Store): RouteHandlers['operator'] {
  return lazyHandlers(OPERATOR_ROUTES, async () => {
    const [raft, u, license, segment, audit, { auditHash }] = await Promise.all([
      import('../http/v1/operator.ts'), import('../http/v1/operator-usage.ts'), import('../http/v1/operator-license.ts'),
      import('../http/v1/operator-segment.ts'), import('../http/v1/operator-audit.ts'), import('../endpoint/audit-hash.ts'),
    ]);
    return {
      ...raft.operatorHandlers(d), usage: u.operatorUsageHandler(usage), license: license.operatorLicenseHandler(d.reqCfg),
      segment: segment.operatorSegmentHandler(d.reqCfg), auditHash: audit.operatorAuditHashHandler(d.reqCfg, (input) => auditHash(store, input)),
    };
  });
}

/** /v1/config/* and /v1/exported-services, over the server's config entry endpoint. */
export function configRoutes(deps: EndpointDeps, entries: ConfigEntryEndpoint, reqCfg: RequestConfig): RouteHandlers['config'] {
  return lazyHandlers(['apply', 'get', 'delete', 'exportedServices'], async () => {
    const [{ configHandlers }, { exportedServicesHandler }, { resolvedExportedServices }] = await Promise.all([
      import('../http/v1/config.ts'), import('../http/v1/exported-services.ts'), import('../endpoint/exported-services.ts'),
    ]);
    return { ...configHandlers(entries, reqCfg), exportedServices: exportedServicesHandler((opts) => resolvedExportedServices(deps, opts), reqCfg) };
  });
}

/** /v1/peering/* and /v1/peerings. */
export function peeringRoutes(ep: PeeringEndpoint, reqCfg: RequestConfig): RouteHandlers['peering'] {
  return lazyHandlers(['generateToken', 'establish', 'read', 'delete', 'list'], async () => (await import('../http/v1/peering.ts')).peeringHandlers(ep, reqCfg));
}

/** GET and PUT /v1/snapshot. */
export function snapshotRoutes(ep: SnapshotEndpoint, reqCfg: RequestConfig): RouteHandlers['snapshot'] {
  return lazyHandlers(['save', 'restore'], async () => (await import('../http/v1/snapshot.ts')).snapshotHandlers(ep, reqCfg));
}

/** /v1/connect/ca/roots and /v1/connect/ca/configuration (the agent's roots route too). */
export function connectRoutes(ca: ConnectCAEndpoint, reqCfg: RequestConfig): RouteHandlers['connect'] {
  return lazyHandlers(['roots', 'configuration', 'setConfiguration'], async () => (await import('../http/v1/connect.ts')).connectHandlers(ca, reqCfg));
}

const INTERNAL_UI_ROUTES = [
  'nodes', 'node', 'services', 'catalogOverview', 'gatewayServicesNodes', 'gatewayIntentions', 'serviceTopology', 'exportedServices',
] as const;

/** The web UI's reads under /v1/internal/ui/ (their endpoint and views are nine modules of their own). */
export function internalUiRoutes(deps: EndpointDeps, config: RuntimeConfig, reqCfg: RequestConfig): Omit<RouteHandlers['internalUi'], 'metricsProxy'> {
  return lazyHandlers(INTERNAL_UI_ROUTES, async () => {
    const [{ InternalUiEndpoint }, { internalUiHandlers }] = await Promise.all([import('../endpoint/internal-ui.ts'), import('../http/v1/internal-ui.ts')]);
    return internalUiHandlers(new InternalUiEndpoint(deps, { domain: config.domain, altDomain: config.altDomain }), reqCfg);
  });
}

/** PUT /v1/txn. */
export function txnRoutes(ep: TxnEndpoint, limits: RequestConfig & { kvMaxValueSize: number; txnMaxReqLen: number }): RouteHandlers['txn'] {
  return lazyHandlers(['put'], async () => (await import('../http/v1/txn.ts')).txnHandlers(ep, limits));
}

/** /v1/coordinate/*. */
export function coordinateRoutes(d: CoordinateHandlerDeps): RouteHandlers['coordinate'] {
  return lazyHandlers(['datacenters', 'nodes', 'node', 'update'], async () => (await import('../http/v1/coordinate.ts')).coordinateHandlers(d));
}

/** The ACL routes no other area loads: /v1/acl/explain, /v1/acl/rules/translate and PUT /v1/agent/acl/enable. */
export function aclToolRoutes(acl: AclEndpoints, agentAcl: AgentAclDeps, reqCfg: RequestConfig): Pick<RouteHandlers, 'aclExplain' | 'aclTranslate' | 'agentAcl'> {
  const explain = lazyHandlers(['get', 'post'], async () => (await import('../http/v1/explain.ts')).explainHandlers(acl.explain, reqCfg));
  const translate = lazyHandlers(['translate'], async () => ({ translate: (await import('../http/v1/acl-translate.ts')).translateHandler(reqCfg) }));
  const enable = lazyHandlers(['enable'], async () => (await import('../http/v1/agent-acl.ts')).agentAclHandlers(agentAcl, reqCfg));
  return { aclExplain: explain, aclTranslate: translate.translate, agentAcl: enable };
}

/** PUT /v1/internal/service-virtual-ip. */
export function virtualIpRoutes(deps: EndpointDeps, reqCfg: RequestConfig): RouteHandlers['virtualIPs'] {
  return lazyHandlers(['assign'], async () => (await import('../http/v1/internal-vips.ts')).internalVipHandlers(deps, reqCfg));
}
