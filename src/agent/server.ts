// Server composition: the endpoints of every area over one store and replica, and the HTTP
// route table that exposes them. createAgent() owns lifecycle; this file owns wiring (endpoint
// factories in server-endpoints.ts, multi-datacenter wiring in server-federation.ts).
import { createRequire } from 'node:module';
import type { Clock } from '../clock.ts';
import type { Logger, LogHub } from '../log.ts';
import type { Telemetry } from '../telemetry/metrics.ts';
import { registerServerMetrics } from './server-metrics.ts';
import { measureEndpoints, intentionMetrics } from './endpoint-metrics.ts';
import { measureAclWrites, measureTokenResolution } from './acl-metrics.ts';
import type { Store } from '../store/index.ts';
import { Replica, catalogOf, partitionCatalog, DEFAULT_TENANCY_NAME, isDefaultEnt, tenantKey, nodeKey, checkKey } from '../state/index.ts';
import {
  KvEndpoint, TxnEndpoint, SessionEndpoint, CatalogEndpoint, HealthEndpoint,
  type EndpointDeps, type SessionHealth, type Leadership,
  serviceUsage,
} from '../endpoint/index.ts';
import { AutoEncryptEndpoint } from '../endpoint/auto-encrypt.ts';
import { ConnectCASignEndpoint } from '../endpoint/connect-ca-sign.ts';
import { CsrGate } from '../endpoint/csr-gate.ts';
import { agentConnectHandlers } from '../http/v1/agent-connect.ts';
import { LeafCertManager } from './leaf-certs.ts';
import { SharedReads, pinRecord } from '../endpoint/index.ts';
import { AclTokenReaper, ensureAclBootstrap } from '../leader/acl.ts';
import { AclSwitch, isLoopback } from './acl-enable.ts';
import { guardAgentRoutes } from './acl-guards.ts';
import { SessionTimers } from '../leader/session-ttl.ts';
import { ConnectCAIntermediateEndpoint } from '../endpoint/connect-ca-intermediate.ts';
import { buildElection, buildLeaderSide, type LeaderSide } from '../leader/duties.ts';
import type { LivenessHost } from '../leader/liveness.ts';
import { agentTlsForChecks, type TlsConfigurator } from './tls-configurator.ts';
import { ConfigEntryEndpoint } from '../endpoint/config-entries.ts';
import { CoordinateEndpoint } from '../endpoint/coordinate.ts';
import { PreparedQueryEndpoint } from '../endpoint/prepared-query.ts';
import { queryFailover } from './query-failover.ts';
import { coordinateSettings, datacenterCoordinates } from './coordinates.ts';
import { EventBuffer } from './events.ts';
import { bridgeEvents } from './event-gossip.ts';
import type { LanPool } from './lan-pool.ts';
import { poolHandlers, selfMember, serfLanStats, wanDatacentersHandler, wanStats } from './pool-routes.ts';
import type { WanPool } from './wan-pool.ts';
import type { MetricsStream } from '../telemetry/metrics-stream.ts';
import { forwardToDatacenter, type DcForwardingDeps } from './dc-forward.ts';
import { isSecondary } from './primary-forward.ts';
import { agentUi, type UiSettings } from './ui-routes.ts';
import type { PeeredReads } from '../http/v1/catalog.ts';
import { peerStreamHandlers, type PeerStreamDeps } from './peer-stream.ts';
import { PeeringLeader } from './peer-dialer.ts';
import { Forwarder, callTimeouts } from './forward.ts';
import {
  buildRoutes, kvHandlers, statusHandlers, agentSelfHandlers, agentStats,
  sessionHandlers, catalogHandlers, healthHandlers, observeHandlers, eventHandlers, type Router,
  agentLocalRoutes, agentControlHandlers,
  type RouteHandlers, type RequestConfig,
} from '../http/index.ts';
import { createLocal, type Local } from './local/index.ts';
import type { ServiceConfigSource } from './local/service-manager.ts';
import { serverCatalogTarget, replicaNodeChecks } from './local/catalog-target.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import { durationSetting } from '../duration.ts';
import { ingressSanCheck, localIngress, type IngressEntryHosts } from './ingress-leaf-sans.ts';
import {
  aclEndpoints, connectCA, keyListPolicy, kvsApplyTimer, peeringEnabled, peeringEndpoint, serverLeafCerts, snapshotEndpoint,
  type Endpoints,
} from './server-endpoints.ts';
import { federate, secondaryDatacenterCA } from './server-federation.ts';
import {
  aclRoutes, aclToolRoutes, configRoutes, connectRoutes, coordinateRoutes, discoveryChainRoutes, gatewayRoutes, intentionRoutes, internalUiRoutes, namespaceRoutes,
  operatorRoutes, partitionRoutes, peeringRoutes, queryRoutes, snapshotRoutes, txnRoutes, virtualIpRoutes,
} from './server-areas.ts';

export type { Endpoints, AclEndpoints } from './server-endpoints.ts';

const require = createRequire(import.meta.url);
/** The `?peer=` reads' module, loaded by the first of them, not at start (issue #9); synchronous, so each read runs as before. */
const peerImports = () => require('../endpoint/peering-imports.ts') as typeof import('../endpoint/peering-imports.ts');

/** What buildServer returns. */
export interface ServerParts {
  epDeps: EndpointDeps;
  replica: Replica;
  leadership: Leadership;
  endpoints: Endpoints;
  sessionTimers: SessionTimers;
  /** The route table (requests for another datacenter forwarded when the server is in a WAN pool). */
  router: Pick<Router, 'match' | 'list'>;
  /** The agent's own services and checks with anti-entropy. */
  local: Local;
  /** The leader's expired-token reaper (started only with ACLs enabled). */
  aclReaper: AclTokenReaper;
  /** Turns ACLs on at runtime (PUT /v1/agent/acl/enable). */
  aclSwitch: AclSwitch;
  /** Election and leader duties (createAgent starts and stops them). */
  leaderSide: LeaderSide;
  /** This agent's service leaf certificates (stopped with the agent). */
  leafCerts: LeafCertManager;
  /** The agent's user events (remote exec hooks into them once the HTTP server exists). */
  events: EventBuffer;
}

/** Agent-level actions the agent routes trigger (createAgent supplies them). */
export interface AgentHooks {
  reload(): Promise<void>;
  leave(): Promise<void>;
  /** The agent's LAN gossip pool (members, join, keyring; events travel through it). */
  pool: LanPool;
  /** The server's WAN pool (datacenter listings, `?wan` membership). */
  wan?: WanPool;
  /** Where the election greets followers' liveness probes (the internal RPC listener); absent: a port of its own. */
  liveness?: LivenessHost;
  /** The bound HTTP(S) listeners as `host:port`, plain ones first (peering tokens name one). */
  httpAddresses?: () => string[];
  /** The agent's ui_config as reloads leave it (absent: as the agent started). */
  ui?: UiSettings;
  /** Counts calls to another datacenter's servers (Consul's rpc.cross-dc; forward.ts crossDcCounter). */
  crossDc?: (datacenter: string) => void;
  /** The agent's TLS settings, for its outgoing RPC (cross-datacenter forwarding, liveness probes). */
  tls?: Pick<TlsConfigurator, 'outgoingRpc' | 'serverRpc' | 'manualCaPems' | 'verifyServerHostname' | 'checkTls'>;
  /** AgentDeps.peerStreamOpenTimeoutMs. */
  peerStreamOpenTimeoutMs?: number;
}

/** Wires replica, endpoints, leader timers and routes for one server. */
export function buildServer(
  config: RuntimeConfig, store: Store, clock: Clock, logger: Logger, random: () => number,
  observe: { telemetry: Telemetry; hub: LogHub; stream: MetricsStream }, hooks: AgentHooks,
): ServerParts {
  const replica = new Replica({ store, clock, logger: logger.child({ '@module': 'agent.replica' }) });
  const tls = hooks.tls;
  // Probes of a managed store's servers use its mutual TLS even without verify_outgoing.
  const managed = config.store.backend === 'managed';
  const election = buildElection(config, store, clock, logger, replica, { liveness: hooks.liveness, probeTls: tls && (() => tls.serverRpc(managed)) });
  const leadership: Leadership = election;
  const epDeps: EndpointDeps = {
    store, replica, clock, logger: logger.child({ '@module': 'agent.endpoint' }), leadership, random,
    sharedReads: new SharedReads(() => replica.appliedRevision),
    countQuery: observe.telemetry.counter('rpc.query', 'Increments when a server receives a read request, indicating the rate of new read queries.'),
    timeConsistentRead: consistentReadTimer(observe.telemetry),
    config: {
      datacenter: config.datacenter, nodeName: config.nodeName, kvMaxValueSize: config.limits.kvMaxValueSize,
      txnMaxReqLen: config.limits.txnMaxReqLen, defaultQueryTime: config.defaultQueryTime,
      maxQueryTime: config.maxQueryTime, sessionTtlMin: config.sessionTtlMin,
    },
  };
  const health: SessionHealth = {
    // Node and check named case-insensitively, as Consul's catalog indexes match them.
    // In the session's partition (absent: default): its nodes and node checks, a service check in its namespace there.
    nodeExists: (node, partition) => (partition ? partitionCatalog(replica, partition) : replica.catalog).node(node) !== undefined,
    checkStatus: (node, check, namespace, partition) => {
      const cat = namespace || partition
        ? catalogOf(replica, { partition: partition || DEFAULT_TENANCY_NAME, namespace: namespace || DEFAULT_TENANCY_NAME })
        : replica.catalog;
      const stored = cat.nodeName(node);
      return cat.checks.get(stored)?.get(cat.checkId(stored, check))?.Status ?? null;
    },
    pins: (node, checks, partition) => {
      const nodes = partition ? partitionCatalog(replica, partition) : replica.catalog;
      const stored = nodes.nodeName(node);
      const ap = partition || DEFAULT_TENANCY_NAME;
      const out = [pinRecord(tenantKey({ partition: ap, namespace: DEFAULT_TENANCY_NAME }, nodeKey(stored)), nodes.node(stored))];
      for (const { ID, Namespace } of checks) {
        const ent = { partition: ap, namespace: Namespace || DEFAULT_TENANCY_NAME };
        const cat = catalogOf(replica, ent);
        const id = cat.checkId(stored, ID);
        out.push(pinRecord(tenantKey(ent, checkKey(stored, id)), cat.checks.get(stored)?.get(id)));
      }
      return out;
    },
  };
  const sessionTimers = new SessionTimers({
    clock, logger: logger.child({ '@module': 'agent.leader' }),
    expire: (id) => endpoints.session.destroy(id),
  });
  const rpcForwarder = new Forwarder({ logger, localAddress: config.bindAddr, tls, crossDc: hooks.crossDc, timeouts: callTimeouts(config) });
  const secondaryCA = secondaryDatacenterCA(config, epDeps, hooks, rpcForwarder, () => endpoints.ca.settings(), () => local.tokens.get('replication'));
  const leaderSide = buildLeaderSide({
    config, epDeps, election, timers: sessionTimers, catalog: () => endpoints.catalog, ca: () => endpoints.ca, configEntries: () => endpoints.configEntries, gossipHealth: hooks.pool.gossip !== null,
    secondaryCA, barrierTimer: observe.telemetry.timer('leader.barrier', 'Measures the time spent waiting for the raft barrier upon gaining leadership.'),
  });
  // One CSR limit for every signing, as Consul's server-wide limiter.
  const csrGate = new CsrGate(clock);
  const endpoints: Endpoints = {
    kv: new KvEndpoint(epDeps, { enableKeyListPolicy: keyListPolicy(config), applyTimer: kvsApplyTimer(observe.telemetry) }), txn: new TxnEndpoint(epDeps), ca: connectCA(epDeps, config, secondaryCA),
    session: new SessionEndpoint(epDeps, health, leaderSide.sessionHooks),
    catalog: new CatalogEndpoint(epDeps), health: new HealthEndpoint(epDeps),
    configEntries: new ConfigEntryEndpoint(epDeps),
    acl: aclEndpoints(epDeps, config, () => local.tokens.get('agent_recovery'), () => aclSecondary?.status()),
    snapshot: snapshotEndpoint(epDeps, leaderSide, () => local),
    coordinate: new CoordinateEndpoint(epDeps, coordinateSettings(config).batching),
    autoEncrypt: new AutoEncryptEndpoint(epDeps, {
      connectEnabled: config.connect.enabled, allowTls: config.autoEncrypt?.allowTls ?? false, ca: () => endpoints.ca.settings(),
      manualCaPems: () => tls?.manualCaPems() ?? [], verifyServerHostname: () => tls?.verifyServerHostname() ?? false,
    }, csrGate),
    connectSign: new ConnectCASignEndpoint(epDeps, { connectEnabled: config.connect.enabled, ca: () => endpoints.ca.settings() }, csrGate),
    connectSignIntermediate: new ConnectCAIntermediateEndpoint(epDeps, { connectEnabled: config.connect.enabled, primaryDatacenter: config.primaryDatacenter, ca: () => endpoints.ca.settings() }),
    query: new PreparedQueryEndpoint(epDeps, {
      resolve: (secret) => endpoints.acl.resolver.resolve(secret), segment: '',
      failover: hooks.wan?.enabled ? queryFailover(hooks.wan, config, logger, tls, hooks.crossDc) : undefined,
    }),
    peering: peeringEndpoint(epDeps, config, hooks, () => election.servers(), () => election.self().Lease),
  };
  measureEndpoints(observe.telemetry, endpoints);
  measureTokenResolution(observe.telemetry, endpoints.acl);
  measureAclWrites(observe.telemetry, endpoints.acl);
  const peerStream: PeerStreamDeps = {
    epDeps, peering: endpoints.peering, clock, logger: logger.child({ '@module': 'agent.peering' }),
    remote: { Partition: 'default', Datacenter: config.datacenter }, streamOpenTimeoutMs: hooks.peerStreamOpenTimeoutMs,
  };
  if (peeringEnabled(config)) leaderSide.loops.add(new PeeringLeader(peerStream));
  const peered: PeeredReads = {
    nodes: (peer, opts, f) => peerImports().importedNodes(epDeps, peer, opts, f),
    services: (peer, opts) => peerImports().importedServices(epDeps, peer, opts),
    checks: (peer, name, opts, f) => peerImports().importedChecks(epDeps, peer, name, opts, f),
    service: (peer, name, opts, f) => peerImports().importedCatalogService(epDeps, peer, name, opts, f),
    health: (peer, name, opts, f) => peerImports().importedHealth(epDeps, peer, name, opts, f),
  };
  const reqCfg = {
    datacenter: config.datacenter, defaultToken: config.acl.tokens.default,
    // Servers are in the default partition (config validation refuses another): `partition` may only say so.
    ...(config.partition ? { partition: config.partition } : {}),
    discoveryMaxStaleMs: config.discoveryMaxStale ?? 0, useCache: config.http.useCache,
    acl: { defaultToken: () => local.tokens.get('default'), resolve: (secret: string) => endpoints.acl.resolver.resolve(secret) },
  };
  const events = new EventBuffer({
    nodeName: config.nodeName,
    services: () => [...(replica.catalog.services.get(config.nodeName)?.values() ?? [])],
  });
  if (hooks.pool.gossip) bridgeEvents(events, hooks.pool.gossip);
  const local = createLocal({
    config, clock, random, logger, target: serverCatalogTarget(endpoints.catalog, replica, config, (secret) => endpoints.acl.resolver.resolve(secret)),
    remoteChecks: replicaNodeChecks(replica), clusterSize: () => replica.catalog.nodes.size,
    serviceConfig: serviceConfigSource(endpoints, config),
    checkTls: hooks.tls ? agentTlsForChecks(config, hooks.tls) : undefined,
  });
  const aclReaper = new AclTokenReaper(epDeps, { localOnly: isSecondary(config) });
  const aclSwitch = new AclSwitch({
    config, resolver: endpoints.acl.resolver, tokens: local.tokens, logger: logger.child({ '@module': 'agent.acl' }),
    bootstrap: async () => { if (!isSecondary(config)) await ensureAclBootstrap(epDeps, config.acl.tokens.initialManagement); },
    leaderDuties: () => { if (election.isLeader()) aclReaper.start(); },
  });
  const leafCerts = serverLeafCerts(endpoints, config, clock, random, logger, (secret) => reqCfg.acl.resolve(secret));
  const localCfg = { ...reqCfg, defaultQueryTime: config.defaultQueryTime, maxQueryTime: config.maxQueryTime };
  const limits = { ...reqCfg, kvMaxValueSize: config.limits.kvMaxValueSize, txnMaxReqLen: config.limits.txnMaxReqLen };
  const dcForward: DcForwardingDeps | undefined = hooks.wan?.enabled ? {
    datacenter: config.datacenter, nodeName: config.nodeName, routes: hooks.wan, defaultToken: () => local.tokens.get('default'),
    forwarder: rpcForwarder,
  } : undefined;
  const routes = buildRoutes(guardAgentRoutes({
    kv: kvHandlers(endpoints.kv, limits),
    txn: txnRoutes(endpoints.txn, limits),
    status: statusHandlers(leadership, reqCfg),
    operator: operatorRoutes({ election, store, replica, clock, config, reqCfg }, {
      usage: (opts) => serviceUsage(epDeps, opts), reqCfg, logger: logger.child({ '@module': 'agent.operator' }),
      remotes: dcForward && hooks.wan ? { datacenters: () => hooks.wan!.datacenters(), ask: (dc, req) => forwardToDatacenter(dcForward, dc)(req) } : undefined,
    }, store),
    agent: agentSelfHandlers({
      config, leadership, member: () => selfMember(hooks.pool),
      stats: () => agentStats(config, leadership, localCounts(local), serfLanStats(hooks.pool), wanStats(hooks.wan)),
    }),
    ...poolHandlers(config, hooks.pool, reqCfg, hooks.wan),
    connect: connectRoutes(endpoints.ca, reqCfg),
    agentConnect: agentConnectHandlers(leafCerts, localCfg, ingressSanCheck({
      // The replica holds the default tenant's entries: another namespace's gateway gets only the *.ingress forms.
      isLocalIngress: localIngress(local.state), entry: async (name, _token, ent) => (isDefaultEnt(ent) ? (replica.configEntries.get('ingress-gateway', name) as IngressEntryHosts | undefined) ?? null : null),
      domain: config.domain, altDomain: config.altDomain, datacenter: config.datacenter,
    })),
    session: sessionHandlers(endpoints.session, { ...reqCfg, nodeName: config.nodeName }),
    catalog: { ...catalogHandlers(endpoints.catalog, reqCfg, peered), datacenters: wanDatacentersHandler(hooks.wan, config.datacenter) },
    health: healthHandlers(endpoints.health, reqCfg, peered),
    config: configRoutes(epDeps, endpoints.configEntries, reqCfg),
    discoveryChain: discoveryChainRoutes(epDeps, reqCfg),
    virtualIPs: virtualIpRoutes(epDeps, reqCfg),
    gateways: gatewayRoutes(epDeps, reqCfg, endpoints.health),
    observe: observeHandlers({ ...observe, prometheusRetentionMs: prometheusRetention(config) }),
    event: eventHandlers(events, { ...reqCfg, maxQueryTime: config.maxQueryTime }),
    coordinate: coordinateRoutes({
      endpoint: endpoints.coordinate, disabled: coordinateSettings(config).disabled, reqCfg,
      datacenters: () => hooks.wan?.coordinateMaps() ?? datacenterCoordinates(hooks.pool, replica, config.datacenter),
    }),
    ...agentLocalRoutes(local, localCfg, clock, random),
    agentControl: agentControlHandlers({
      config, tokens: local.tokens, reload: () => hooks.reload(), leave: () => hooks.leave(),
      tokenChanged: () => void local.ae.syncFull().catch(() => {}),
    }),
    ...aclRoutes(endpoints.acl, reqCfg),
    ...aclToolRoutes(endpoints.acl, { enable: () => aclSwitch.enable(), isLocal: isLoopback }, reqCfg),
    snapshot: snapshotRoutes(endpoints.snapshot, reqCfg),
    query: queryRoutes(endpoints.query, { ...reqCfg, nodeName: config.nodeName }),
    intentions: intentionRoutes(epDeps, config, reqCfg, intentionMetrics(observe.telemetry)),
    peering: peeringRoutes(endpoints.peering, reqCfg),
    namespaces: namespaceRoutes(epDeps, reqCfg),
    partitions: partitionRoutes(epDeps, reqCfg),
    peerStream: peerStreamHandlers(peerStream),
    ...uiParts(config, epDeps, reqCfg, logger, hooks.ui),
  }, reqCfg, config.nodeName));
  const { router, aclSecondary } = federate({
    config, epDeps, routes, dcForward, resolver: endpoints.acl.resolver, configEntries: endpoints.configEntries, replica,
    replicationToken: () => local.tokens.get('replication'), loops: leaderSide.loops, telemetry: observe.telemetry,
    otherLeader: () => (election.isLeader() ? '' : election.leaderAddr()), reqCfg, clock, logger, random,
  });
  registerServerMetrics({
    telemetry: observe.telemetry, config, replica, store, election, loops: leaderSide.loops, clock, logger, members: () => hooks.pool.members(),
  });
  return { epDeps, replica, leadership, endpoints, sessionTimers, router, local, aclReaper, aclSwitch, leaderSide, leafCerts, events };
}

/** Resolved central service config from this server's replica, under the caller's token. */
export function serviceConfigSource(endpoints: Pick<Endpoints, 'configEntries' | 'acl'>, config: RuntimeConfig): ServiceConfigSource {
  return {
    resolve: async (req, token, index, signal, waitMs) => {
      const opts = {
        minIndex: index, waitMs: Math.min(waitMs || config.maxQueryTime, config.maxQueryTime), consistency: 'default' as const,
        token, authz: endpoints.acl.resolver.resolve(token), signal,
      };
      const { value, meta } = await endpoints.configEntries.resolveServiceConfig(req, opts);
      return { value, index: meta.index };
    },
  };
}

/** The web UI's reads (answered here) and the UI itself with its metrics proxy. */
function uiParts(config: RuntimeConfig, deps: EndpointDeps, reqCfg: RequestConfig, logger: Logger, live?: UiSettings): Pick<RouteHandlers, 'internalUi' | 'ui'> {
  const { ui, metricsProxy } = agentUi(config, reqCfg, logger, live);
  return { internalUi: { ...internalUiRoutes(deps, config, reqCfg), metricsProxy }, ui };
}

/** telemetry.prometheus_retention_time in ms (0 when unset), read from the merged config. */
export function prometheusRetention(config: RuntimeConfig): number {
  const t = (config.raw.telemetry as Record<string, unknown> | undefined)?.prometheus_retention_time;
  return durationSetting(t, 0);
}

/** Counts of the agent's own services and checks for agent/self Stats. */
export function localCounts(local: Local): { services: number; checks: number; ttlChecks: number } {
  // Every namespace's (Consul counts its whole local state).
  const checks = local.state.checks('*');
  return { services: local.state.services('*').length, checks: checks.length, ttlChecks: checks.filter((c) => c.Type === 'ttl').length };
}

/**
 * Consul's rpc.consistentRead: each wait a consistent read makes, here the Store's current
 * revision (a linearizable read with etcd) and the replica catching up with it, in place of
 * Raft's VerifyLeader; batched, as `?consistent` reads can be frequent.
 */
function consistentReadTimer(t: Telemetry): (ms: number, at: number) => void {
  const batch = t.batchedTimer('rpc.consistentRead', 'Measures the time spent confirming that a consistent read can be performed.');
  return (ms, at) => batch.add(ms, at);
}
