// The route table of a client agent: the same table servers use (http/routes.ts), with the
// agent-local areas Consul answers on the agent itself (self, members, join/leave, local
// services and checks, tokens, reload, metrics, monitor, host, user events) handled here and
// every other route forwarded to a server.
import type { Clock } from '../clock.ts';
import type { Leadership } from '../endpoint/index.ts';
import {
  buildRoutes, agentSelfHandlers, agentStats, observeHandlers, eventHandlers, agentLocalRoutes,
  agentControlHandlers, agentConnectHandlers, QUERY_AGENT_HEADER, type LeafSource, sourceAddr, type Handler, type HttpRequest, type RequestConfig, type RouteHandlers, type Router, type ObserveDeps,
} from '../http/index.ts';
import { guardAgentRoutes } from './acl-guards.ts';
import type { EventBuffer } from './events.ts';
import type { LanPool } from './lan-pool.ts';
import type { Local } from './local/index.ts';
import { poolHandlers, selfMember, serfLanStats } from './pool-routes.ts';
import { localCounts } from './server.ts';
import { isQueryExecute, type CacheTypeName, type HttpCache } from './cache/http-cache.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import type { UiHandlers } from '../http/ui-server.ts';
import { DEFAULT_TENANCY_NAME, foldTenancyName, type EnterpriseMeta } from '../state/index.ts';
import { ingressSanCheck, localIngress, type IngressEntryHosts } from './ingress-leaf-sans.ts';

/** What the client's local handlers use. */
export interface ClientRouteDeps {
  config: RuntimeConfig;
  local: Local;
  pool: LanPool;
  events: EventBuffer;
  observe: ObserveDeps;
  /** A client never leads; it knows a leader when it knows a server. */
  leadership: Leadership;
  /** How many servers the client knows (agent/self Stats.consul.known_servers). */
  knownServers: () => number;
  reqCfg: RequestConfig;
  /** Answers by forwarding to a server, naming the agent's partition (inAgentPartition). */
  forward: Handler;
  /** This agent's service leaf certificates. */
  leafCerts: LeafSource;
  /** The agent cache answering `?cached` reads (absent: they are forwarded like others). */
  cache?: HttpCache;
  /** Reads an ingress-gateway entry from the servers (the leaf's `dns-san` check; absent: none is allowed). */
  /** The ingress-gateway entry `name` in the agent's partition and `ent`'s namespace (absent: the default one). */
  ingressEntry?: (name: string, token: string, ent?: EnterpriseMeta) => Promise<IngressEntryHosts | null>;
  reload(): Promise<void>;
  leave(): Promise<void>;
  clock: Clock;
  random: () => number;
  /** The web UI and its metrics proxy (agent-local); absent: the UI routes are not served. */
  ui?: { ui: UiHandlers; metricsProxy: Handler };
}

// Every handler of a forwarded area is the forwarder, whatever the route table asks for, except
// the few `own` ones that adjust the request first.
function forwarded<T>(forward: Handler, own: Record<string, Handler> = {}): T {
  return new Proxy({}, { get: (_t, key) => (typeof key === 'string' ? own[key] ?? forward : undefined) }) as T;
}

/**
 * Prepared query reads as this agent asks them (Consul's client fills in Agent and Source before
 * the RPC): `_agent` means this node, and `_ip` the address that asked this agent.
 */
export function queryFromThisAgent(forward: Handler, nodeName: string): Handler {
  return (req: HttpRequest) => {
    // The server reads the address this agent parsed (Consul ships it as Source.Ip); with none, it sees this agent's.
    const { 'x-forwarded-for': _xff, ...headers } = req.headers;
    const ip = sourceAddr(req);
    return forward({ ...req, signal: req.signal, body: (limit, tooLarge) => req.body(limit, tooLarge), headers: { ...headers, [QUERY_AGENT_HEADER]: nodeName, ...(ip ? { 'x-forwarded-for': ip } : {}) } });
  };
}

/**
 * Catalog and health reads as this agent asks them: `?near=_agent` names this node, as Consul's
 * parseSource rewrites it on the agent before the RPC (a server would sort from its own node).
 */
export function nearThisAgent(forward: Handler, nodeName: string): Handler {
  return (req: HttpRequest) => {
    if (req.query.get('near') !== '_agent') return forward(req);
    const query = new URLSearchParams(req.query);
    query.set('near', nodeName);
    // Without a raw target the forwarder rebuilds it from the path and this query.
    return forward({ ...req, signal: req.signal, body: (limit, tooLarge) => req.body(limit, tooLarge), query, url: undefined });
  };
}

/**
 * Requests as a client agent in an admin partition forwards them: one naming no partition (no
 * `?partition`, no X-Consul-Partition) names the agent's, as Consul Enterprise's agent fills its
 * partition into a request's unnamed one before the RPC (defaultMetaPartitionToAgent), so the
 * servers act there rather than in the token's or the default partition. A written object's own
 * Partition still wins on the server, as it does over any query parameter. An agent in the default
 * partition forwards every request unchanged (the handler itself is answered).
 */
export function inAgentPartition(forward: Handler, partition: string | undefined): Handler {
  if (!partition || foldTenancyName(partition) === DEFAULT_TENANCY_NAME) return forward;
  return (req: HttpRequest) => {
    if (req.query.get('partition')) return forward(req);
    const named = req.headers['x-consul-partition'];
    if (typeof named === 'string' && named !== '') return forward(req);
    // An empty ?partition= names none, and Go reads the first value: it is replaced, not followed.
    const query = new URLSearchParams(req.query);
    query.set('partition', partition);
    // Without a raw target the forwarder rebuilds it from the path and this query.
    return forward({ ...req, signal: req.signal, body: (limit, tooLarge) => req.body(limit, tooLarge), query, url: undefined });
  };
}

/** Session create without a Node is for this agent's node (Consul's agent fills it in before the RPC). */
export function sessionOnThisNode(forward: Handler, nodeName: string): Handler {
  return async (req: HttpRequest) => {
    const raw = await req.body();
    let body: unknown = raw.length ? undefined : {};
    try {
      body ??= JSON.parse(raw.toString('utf8'));
    } catch {
      // The server reports the malformed body in its words.
    }
    const obj = body as Record<string, unknown> | undefined;
    const named = !obj || typeof obj !== 'object' || Array.isArray(obj) || Object.keys(obj).some((k) => k.toLowerCase() === 'node');
    const sent = named ? raw : Buffer.from(JSON.stringify({ ...obj, Node: nodeName }));
    return forward({ ...req, signal: req.signal, body: async () => sent });
  };
}

/** Consul's client Stats: no raft or WAN sections; `consul` names the known servers instead of a leader. */
function clientStats(s: Record<string, Record<string, string>>, knownServers: number): Record<string, Record<string, string>> {
  const { raft: _raft, serf_wan: _wan, ...rest } = s;
  return { ...rest, consul: { acl: s.consul.acl, known_servers: String(knownServers), server: 'false' } };
}

/** The client agent's route table. */
export function clientRoutes(d: ClientRouteDeps): Router {
  const { config, local, reqCfg, forward } = d;
  const f = <K extends keyof RouteHandlers>(): RouteHandlers[K] => forwarded<RouteHandlers[K]>(forward);
  const near = nearThisAgent(forward, config.nodeName);
  // `?cached` reads of the types Consul's agent caches (Consul's agent/cache-types).
  // A `?cached` read is sent by the cache itself, so it names the agent's partition before reaching it (`forward` already does).
  const cached = (type: CacheTypeName, applies?: (req: HttpRequest) => boolean): Handler =>
    (d.cache ? inAgentPartition(d.cache.handler(type, forward, applies), config.partition) : forward);
  const nearCached = (type: CacheTypeName): Handler => nearThisAgent(cached(type), config.nodeName);
  const catalog = forwarded<RouteHandlers['catalog']>(near, {
    services: nearCached('catalog_list_services'), service: nearCached('catalog_services'), connect: nearCached('catalog_services'),
    datacenters: cached('catalog_datacenters'),
  });
  const health = forwarded<RouteHandlers['health']>(near, { service: nearCached('health_services'), connect: nearCached('health_services') });
  const handlers: RouteHandlers = {
    kv: f<'kv'>(), txn: f<'txn'>(), status: f<'status'>(), operator: f<'operator'>(), connect: f<'connect'>(),
    session: forwarded<RouteHandlers['session']>(forward, { create: sessionOnThisNode(forward, config.nodeName) }), catalog, health, config: f<'config'>(),
    gateways: forwarded<RouteHandlers['gateways']>(forward, { ingress: nearCached('health_services') }),
    coordinate: f<'coordinate'>(), keyring: f<'keyring'>(), acl: f<'acl'>(), aclPolicies: f<'aclPolicies'>(),
    aclAuth: f<'aclAuth'>(), aclExplain: f<'aclExplain'>(), aclTranslate: forward, agentAcl: f<'agentAcl'>(), snapshot: f<'snapshot'>(),
    intentions: f<'intentions'>(), discoveryChain: forwarded<RouteHandlers['discoveryChain']>(forward, { read: cached('compiled_discovery_chain') }), peering: f<'peering'>(), peerStream: f<'peerStream'>(),
    namespaces: f<'namespaces'>(), partitions: f<'partitions'>(), virtualIPs: f<'virtualIPs'>(),
    internalUi: forwarded<RouteHandlers['internalUi']>(forward, d.ui ? { metricsProxy: d.ui.metricsProxy } : {}), ui: d.ui?.ui,
    query: forwarded<RouteHandlers['query']>(forward, { get: queryFromThisAgent(cached('prepared_query', isQueryExecute), config.nodeName) }),
    agent: agentSelfHandlers({
      config, leadership: d.leadership, member: () => selfMember(d.pool),
      stats: () => clientStats(agentStats(config, d.leadership, localCounts(local), serfLanStats(d.pool)), d.knownServers()),
    }),
    members: poolHandlers(config, d.pool, reqCfg).members,
    observe: observeHandlers(d.observe),
    event: eventHandlers(d.events, { ...reqCfg, maxQueryTime: config.maxQueryTime }),
    ...agentLocalRoutes(local, { ...reqCfg, defaultQueryTime: config.defaultQueryTime, maxQueryTime: config.maxQueryTime }, d.clock, d.random),
    agentConnect: agentConnectHandlers(d.leafCerts, { ...reqCfg, defaultQueryTime: config.defaultQueryTime, maxQueryTime: config.maxQueryTime }, ingressSanCheck({
      isLocalIngress: localIngress(local.state, config.partition), entry: async (name, token, ent) => (d.ingressEntry ? d.ingressEntry(name, token, ent) : null),
      domain: config.domain, altDomain: config.altDomain, datacenter: config.datacenter,
    })),
    agentControl: agentControlHandlers({
      config, tokens: local.tokens, reload: d.reload, leave: d.leave,
      tokenChanged: () => void local.ae.syncFull().catch(() => {}),
    }),
  };
  return buildRoutes(guardAgentRoutes(handlers, reqCfg, config.nodeName));
}
