// The composition root: createAgent(config) builds the store, replica, endpoints and
// transports from a RuntimeConfig; start() opens the store, runs the leader's start-up duties
// and binds the listeners; stop() releases everything.
import { UiSettings } from './ui-routes.ts';
import fs from 'node:fs';
import type { RequestListener, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { systemClock, type Clock } from '../clock.ts';
import { formatGoDuration } from '../duration.ts';
import { createLogger, LogHub, reloadLogLevel, type Logger } from '../log.ts';
import { Telemetry } from '../telemetry/metrics.ts';
import { registerAgentTlsExpiry } from '../telemetry/cert-expiry.ts';
import { dnsMetrics } from './dns-metrics.ts';
import { gossipMetrics } from './gossip-metrics.ts';
import { memberlistMetrics } from './memberlist-metrics.ts';
import { tokenCacheStats } from './acl-metrics.ts';
import { reloadTelemetrySinks, startTelemetrySinks, telemetryOptions } from './telemetry-sinks.ts';
import { MetricsStream } from '../telemetry/metrics-stream.ts';
import { LazyManagedEtcdStore, type Store } from '../store/index.ts';
import type { Replica } from '../state/index.ts';
import { ensureAclBootstrap } from '../leader/acl.ts';
import { isSecondary } from './primary-forward.ts';
import type { SessionTimers } from '../leader/session-ttl.ts';
import type { LeaderSide } from '../leader/duties.ts';
import { reloadTls, startTls, TlsConfigurator } from './tls-configurator.ts';
import { AgentWatches } from './watches-lazy.ts';
import type { AutoReload } from './auto-reload.ts';
import { HttpServer, RequestRateLimiter, rpcRateBucket, type ControlPlaneLimitEntry, type HttpServerDeps } from '../http/index.ts';
import { RpcRateExceededError } from '../errors.ts';
import type { DnsHandler } from '../dns/handler.ts';
import { DnsServer, type DnsAddresses } from '../dns/server.ts';
import { dnsConfigFrom } from '../dns/config.ts';
import type { MessageHandler } from './dc-dns.ts';
import type { ServerDns } from './agent-dns.ts';
import type { Warming } from '../dns/warm.ts';
import { buildServer, serviceConfigSource, type AgentHooks, type Endpoints } from './server.ts';
import { LanPool } from './lan-pool.ts';
import { WanPool } from './wan-pool.ts';
import { translateHeaders, translatingRouter } from './translate-wan.ts';
import { HttpCache, cachingRouter, inProcessSend } from './cache/http-cache.ts';
import { MemberReconciler } from '../leader/reconcile.ts';
import type { Transport } from '../gossip/index.ts';
import type { Local } from './local/index.ts';
import { loadConfig } from './config/load.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import { addAutopilot } from './managed-etcd.ts';
import { buildStore } from './agent-store.ts';
import { applyPersistedAcl } from './acl-enable.ts';
import { CoordinateSync, coordinateSettings } from './coordinates.ts';
import { autoEncryptOnly, createRpcServer, rpcRequestCounters } from './rpc-server.ts';
import { configListRoute } from './config-replication-source.ts';
import { followConnectRoots } from './connect-trust.ts';
import { RpcListener } from './rpc-listener.ts';
import { REMOTE_EXEC_EVENT, agentApiCall, remoteExecDisabled, remoteExecHandler } from './remote-exec.ts';
import { AGENT_STARTING, crossDcCounter } from './forward.ts';
import { LivenessGreeter, livenessAddress } from '../leader/liveness.ts';
import { configuredAuditLog } from './audit-config.ts';

/** Optional overrides of what createAgent would build itself. */
export interface AgentDeps {
  clock?: Clock;
  logger?: Logger;
  store?: Store;
  random?: () => number;
  /** Live log fan-out for /v1/agent/monitor (give the same hub to the logger). */
  logHub?: LogHub;
  /** Called by PUT /v1/agent/leave after the graceful leave (default: stop()). */
  shutdown?: () => void | Promise<void>;
  /** Re-reads the configuration for PUT /v1/agent/reload (default: the same config files again). */
  reloadConfig?: () => Promise<RuntimeConfig>;
  /** Gossip transport (default: UDP+TCP sockets on the serf LAN address). */
  gossipTransport?: Transport;
  /** retry_join gave up after retry_max attempts (default: logged). */
  onJoinExhausted?: (err: Error) => void;
  /** The interval of /v1/agent/metrics/stream summaries (default: Consul's 10 s). */
  metricsStreamIntervalMs?: number;
  /** How long a peering dialer waits for an acceptor address to answer its stream request (default 10 s). */
  peerStreamOpenTimeoutMs?: number;
}

/** What server and client agents have in common. */
export interface AgentBase {
  readonly config: RuntimeConfig;
  readonly logger: Logger;
  readonly http: HttpServer;
  /** This agent's own services and checks, with anti-entropy. */
  readonly local: Local;
  /** The LAN gossip pool (no gossip node when the config has no `gossip` section). */
  readonly pool: LanPool;
  /** Leaves the gossip pool gracefully (peers see `left`, the leader deregisters the node). */
  leave(): Promise<void>;
  /**
   * Applies a reloaded configuration (PUT /v1/agent/reload, SIGHUP): TLS files read again, then
   * services and checks; without `next`, the configuration is read again as the reload route does.
   */
  reload(next?: RuntimeConfig): Promise<void>;
  /** Binds the listeners and starts (a server opens its store and runs leader start-up duties first). */
  start(): Promise<void>;
  /** Closes listeners and connections, stops checks and gossip (a server also closes its store). Idempotent. */
  stop(): Promise<void>;
  /** Bound HTTP addresses (`ip:port` or socket paths). */
  httpAddresses(): string[];
  /** Bound DNS addresses (`ip:port`) per transport; empty when ports.dns is -1. */
  dnsAddresses(): DnsAddresses;
}

/** A running (or ready to run) server agent. */
export interface Agent extends AgentBase {
  readonly store: Store;
  readonly replica: Replica;
  readonly endpoints: Endpoints;
  /** The leader's session TTL timers. */
  readonly sessionTimers: SessionTimers;
  /** The election among servers and the leader duties it starts and stops. */
  readonly leaderSide: LeaderSide;
  /** The DNS message handler (socket-free), for in-process tests and benchmarks; loaded on the first call. */
  dnsHandler(): Promise<DnsHandler>;
}

/** Builds an agent from a runtime configuration; nothing is bound until start(). */
export function createAgent(config: RuntimeConfig, deps: AgentDeps = {}): Agent {
  applyPersistedAcl(config);
  const clock = deps.clock ?? systemClock;
  const hub = deps.logHub ?? new LogHub();
  const logger = deps.logger ?? createLogger({ level: config.logLevel, json: config.logJson, hub, sublevels: config.logSublevels });
  const telemetry = new Telemetry(clock, telemetryOptions(config));
  const metricsStream = new MetricsStream(clock, () => telemetry.consulJSON(), deps.metricsStreamIntervalMs);
  const log = logger.child({ '@module': 'agent' });
  const tls = new TlsConfigurator(config.datacenter);
  registerAgentTlsExpiry(telemetry, () => tls.cert(), clock);
  // A managed store listens on the server port from the start (etcd bootstrap); the internal RPC
  // then shares its listener and answers once the replica runs.
  let rpcServe: RequestListener | null = null;
  // Its connections come through the same TLS front door as a server port of the agent's own.
  // With tls.internal_rpc's key pair and CA the etcd bootstrap between servers is TLS too, so
  // verify_incoming refuses plaintext there as anywhere; without them the bootstrap is plaintext.
  // The first connection comes once the store opens, after the TLS files are loaded.
  let front: RpcListener | null = null;
  // One set for the server port, whichever listener takes its connections.
  const rpcCounters = rpcRequestCounters(telemetry);
  // Defined on every agent as Consul's Prometheus sink defines them (0 until a token cache counts).
  tokenCacheStats(telemetry);
  const acceptConnection = (sock: Socket, server: Server): void => {
    const rpcLog = logger.child({ '@module': 'agent.rpc' });
    front ??= new RpcListener({
      server, tls, logger: rpcLog, plaintextPeers: tls.managedTls() === null, handshakeTimeoutMs: config.limits.rpcHandshakeTimeout,
      acceptConn: rpcCounters.acceptConn,
      // auto_encrypt.allow_tls: AutoEncrypt.Sign without a client certificate, once the RPC answers.
      ...(config.autoEncrypt?.allowTls ? { insecure: autoEncryptOnly((req, res) => (rpcServe ? rpcServe(req, res) : notYet(res)), rpcLog) } : {}),
    });
    front.accept(sock);
  };
  const notYet = (res: ServerResponse): void => void res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' }).end(AGENT_STARTING);
  const store: Store = deps.store ?? buildStore(config, clock, logger, (req, res) => {
    if (rpcServe) rpcServe(req, res);
    else notYet(res);
  }, acceptConnection, tls);
  const pool = new LanPool(config, {
    clock, logger, random: deps.random ?? Math.random, transport: deps.gossipTransport, onJoinExhausted: deps.onJoinExhausted,
  });
  const wan = new WanPool(config, {
    clock, logger, random: deps.random ?? Math.random, onJoinExhausted: deps.onJoinExhausted,
    instrument: (g) => {
      g.on(gossipMetrics(telemetry, clock, 'wan'));
      memberlistMetrics(telemetry, 'wan', g, clock);
    },
  });
  // The election greets followers' liveness probes on the server port: the RPC listener's bound
  // port, or ports.server where the managed store's listener serves the RPC. Without an RPC
  // listener (no pool) the election opens a port of its own.
  const liveness = config.gossip
    ? new LivenessGreeter((): string => livenessAddress(config.advertiseAddr, Number(rpc?.addresses()[0]?.split(':').pop() ?? config.ports.server)))
    : undefined;
  const watches = new AgentWatches({ logger, addresses: () => http.addresses() });
  const readConfig = deps.reloadConfig ?? (() => reloadFromSources(config));
  const reload = async (next?: RuntimeConfig): Promise<void> => {
    next ??= await readConfig();
    reloadLogLevel(logger, next.logLevel);
    reloadTls(tls, next, http);
    if (store instanceof LazyManagedEtcdStore) store.reloadTls(tls.managedTls());
    await local.reload(next);
    ui.reload(next);
    reloadTelemetrySinks(telemetry, next);
    try {
      watches.reload(next);
    } catch (err) {
      throw new Error(`Failed reloading watches: ${(err as Error).message}`);
    }
    if (next.limits.requestLimits) rateLimit.update(next.limits.requestLimits);
    rpcBucket = rpcRateBucket(next.limits, clock.now());
  };
  const ui = new UiSettings(config);
  // performance.leave_drain_time: after leaving the LAN pool a server keeps answering RPCs for a
  // while, so client agents that retry move to another server (Consul's Server.Leave).
  const drainRpc = async (): Promise<void> => {
    const ms = config.leaveDrainTime ?? 0;
    if (ms <= 0 || !config.gossip) return;
    log.info({ drain_time: formatGoDuration(ms) }, 'Waiting to drain RPC traffic');
    await new Promise<void>((resolve) => clock.setTimer(ms, resolve));
  };
  const crossDc = crossDcCounter(telemetry);
  const hooks: AgentHooks = {
    pool, wan, liveness, tls, ui, crossDc, reload: () => reload(), httpAddresses: () => http.addresses(), peerStreamOpenTimeoutMs: deps.peerStreamOpenTimeoutMs,
    leave: async () => {
      await local.stop();
      await wan.leave();
      await pool.leave();
      await drainRpc();
      await endpoints.catalog.deregister({ Node: config.nodeName });
      // Answer the request first, then shut down (Consul's Leave then ShutdownAgent): stop()
      // aborts requests still in flight, this one included, so give its answer time to go out.
      setTimeout(() => void (deps.shutdown ?? (() => agent.stop()))(), 100);
    },
  };
  const { epDeps, replica, endpoints, sessionTimers, router, local, aclReaper, leaderSide, leafCerts, events } = buildServer(
    config, store, clock, logger, deps.random ?? Math.random, { telemetry, hub, stream: metricsStream }, hooks,
  );
  pool.gossip?.on(gossipMetrics(telemetry, clock));
  if (pool.gossip) memberlistMetrics(telemetry, 'lan', pool.gossip, clock);
  if (pool.gossip) {
    leaderSide.loops.add(new MemberReconciler({
      gossip: pool.gossip, catalog: () => endpoints.catalog, replica, datacenter: config.datacenter,
      nodeName: config.nodeName, clock, logger, timers: {
        reconcile: telemetry.timer('leader.reconcile', 'Measures the time spent updating the Consul catalog from Serf member information.'),
        reconcileMember: telemetry.timer('leader.reconcileMember', 'Measures the time spent updating the Consul catalog for a single Serf member.'),
      },
    }));
  }
  addAutopilot(store, leaderSide, config, clock, logger);
  const coordinateSync = new CoordinateSync({
    pool, endpoint: endpoints.coordinate, settings: coordinateSettings(config), nodeName: config.nodeName, clock,
    random: deps.random ?? Math.random, logger: logger.child({ '@module': 'agent.coordinate' }),
    authz: () => (config.acl.enabled ? endpoints.acl.resolver.resolve(local.tokens.get('agent') || local.tokens.get('default')) : undefined),
  });
  // ACL start-up and the expired-token reaper are leader duties like the others; ACLs may also be
  // turned on later (PUT /v1/agent/acl/enable), so the duty checks the setting when it starts.
  leaderSide.loops.add({
    name: 'acl',
    start: async () => {
      if (!config.acl.enabled) return;
      // Only the primary makes built-in policies, the anonymous and initial management tokens; a
      // secondary gets them by replication (Consul's initializeACLs).
      if (!isSecondary(config)) await ensureAclBootstrap(epDeps, config.acl.tokens.initialManagement);
      aclReaper.start();
    },
    stop: () => aclReaper.stop(),
  });
  // One limiter for the requests this server serves: its HTTP API's and client agents' on the RPC port.
  // The per-source limits skip requests from this datacenter's servers (Consul's IsServer).
  const isServer = (ip: string): boolean => pool.members().some((m) => m.tags.role === 'consul' && m.addr === ip);
  const rateLimit = serverRateLimiter(config, clock, logger, telemetry, () => epDeps.leadership.isLeader(), replica, isServer);
  // limits.rpc_rate also holds a server's own calls (Consul's Server.RPC checks it before the
  // request limits): its HTTP API's, not the requests client agents send over the network.
  let rpcBucket = rpcRateBucket(config.limits, clock.now());
  const rpcExceeded = telemetry.counter('client.rpc.exceeded', 'RPCs refused by the limits.rpc_rate limiter');
  const localLimit: HttpServerDeps['rateLimit'] = {
    get active() { return rpcBucket.limited || rateLimit.active; },
    check(op, ip) {
      if (!rpcBucket.take(clock.now())) {
        rpcExceeded();
        throw new RpcRateExceededError();
      }
      rateLimit.check(op, ip);
    },
  };
  // Translation is this agent's setting: only its own HTTP listeners translate, never the RPC one.
  const translate = { datacenter: config.datacenter, enabled: config.translateWanAddrs === true };
  const audit = configuredAuditLog(config.raw.audit, {
    datacenter: config.datacenter, defaultToken: config.acl.tokens.default,
    acl: { defaultToken: () => local.tokens.get('default'), resolve: (secret: string) => endpoints.acl.resolver.resolve(secret) },
  }, clock, logger);
  // `?cached` reads answered from the agent cache, filled by this server's own reads in-process.
  const cache = new HttpCache({
    clock, random: deps.random, send: inProcessSend({ handle: (r) => http.handle(r) }), defaultToken: () => local.tokens.get('default'),
    defaultQueryTimeMs: config.defaultQueryTime, maxQueryTimeMs: config.maxQueryTime, telemetry, entryFetch: config.cache,
  });
  const http = new HttpServer({
    router: translatingRouter(cachingRouter(router, cache), translate), logger: logger.child({ '@module': 'agent.http' }), metrics: telemetry, audit: audit ?? undefined, rateLimit: localLimit,
    config: {
      // Read per request: enabling ACLs at runtime switches the policy to deny.
      get defaultAclPolicy() { return config.acl.defaultPolicy; },
      responseHeaders: { ...config.http.responseHeaders, ...translateHeaders(translate.enabled) },
      allowWriteHttpFrom: config.http.allowWriteHttpFrom, blockEndpoints: config.http.blockEndpoints, maxConnsPerClient: config.limits.httpMaxConnsPerClient,
      prettyAll: config.dev, useCache: config.http.useCache, maxHeaderBytes: config.http.maxHeaderBytes,
      allowUnprintablePaths: config.http.disableUnprintableCharFilter === true,
    },
  });
  events.handleInternal(REMOTE_EXEC_EVENT, remoteExecHandler({
    nodeName: config.nodeName, api: agentApiCall(http, () => local.tokens.get('agent') || local.tokens.get('default')), logger: logger.child({ '@module': 'agent' }),
  }, remoteExecDisabled(config)));
  const dnsCfg = dnsConfigFrom(config);
  const dnsMeter = dnsMetrics(telemetry, config.nodeName, [dnsCfg.domain, dnsCfg.altDomain]);
  // The DNS handlers (≈30 modules) load when the DNS listeners open or a question first comes.
  let serverDns: Promise<ServerDns> | undefined;
  const loadDns = (): Promise<ServerDns> => serverDns ??= import('./agent-dns.ts').then(
    (m) => m.buildServerDns({ config, dnsCfg, dnsMeter, replica, endpoints, epDeps, local, wan, tls, crossDc, clock, logger, random: deps.random ?? Math.random }),
    (err: unknown) => {
      serverDns = undefined; // the next question tries again
      throw err;
    },
  );
  const ownDns = lazyDns(loadDns, (d) => d.own);
  const dns = new DnsServer({ handler: ownDns, logger: logger.child({ '@module': 'dns' }), timed: dnsMeter.timed, untimed: dnsMeter.untimed });
  // Client agents reach servers on ports.server; an agent built without a pool (in-process
  // tests) has no clients and binds no RPC port.
  const rpc = config.gossip ? createRpcServer({
    config, router, dns: ownDns, logger, acl: endpoints.acl.resolver, tls, revision: () => replica.appliedRevision, rateLimit,
    counters: rpcCounters,
    liveness: () => liveness?.answer() ?? null,
    autoEncrypt: { sign: (args, id) => endpoints.autoEncrypt.sign(args, id), allowTls: config.autoEncrypt?.allowTls ?? false },
    connectSign: endpoints.connectSign,
    connectSignIntermediate: endpoints.connectSignIntermediate,
    serviceConfig: serviceConfigSource(endpoints, config),
    configList: configListRoute(endpoints.configEntries, (s) => endpoints.acl.resolver.resolve(s), config.maxQueryTime),
    dnsFor: (token) => lazyDns(loadDns, (d) => d.dnsFor(token)),
    // A client agent's question under its own settings and token; its recursors are its own.
    dnsWith: (token, settings, clientHostnames) => lazyDns(loadDns, (d) => d.dnsWith(token, settings, clientHostnames)),
  }) : null;
  let started = false;
  let stopped = false;
  let autoReload: AutoReload | undefined;
  let warming: Warming | undefined;
  let lastSeen: { stop(): void } | undefined;
  const trust = new AbortController();

  const agent: Agent = {
    config, logger, store, replica, http, endpoints, sessionTimers, local, leaderSide, pool, reload,
    leave: async () => {
      await wan.leave();
      await pool.leave();
      await drainRpc();
    },
    async start() {
      if (started) return;
      started = true;
      // A server stopped longer than server_rejoin_age_max refuses to start (data_dir servers only, as Consul's -dev has none).
      const dataDir = config.serverRejoinAgeMax ? config.dataDir : null;
      // Its module loads only then (issue #9).
      const metadata = dataDir ? await import('./server-metadata.ts') : undefined;
      if (dataDir) metadata!.checkServerLastSeen(dataDir, config.serverRejoinAgeMax!, clock.now());
      // TLS files and rules are checked before anything binds, as Consul's agent does.
      const https = startTls(tls, config);
      await startTelemetrySinks(telemetry, config, clock, logger);
      await store.open();
      if (dataDir) {
        fs.mkdirSync(dataDir, { recursive: true });
        lastSeen = metadata!.persistServerMetadata(dataDir, clock, (err) => log.error({ error: err.message }, 'failed to write server metadata'));
      }
      await replica.start();
      // Client certificates signed for auto_encrypt are trusted on the server port (Consul's connectCARootsMonitor).
      if (config.autoEncrypt?.allowTls) followConnectRoots(replica, tls, trust.signal);
      // Before gossip announces this server, so clients that see it can reach it.
      if (store instanceof LazyManagedEtcdStore) {
        rpcServe = (req, res) => rpc?.serveRequest(req, res);
      } else await rpc?.listenRpc();
      await pool.start();
      await wan.start(pool.gossip);
      await leaderSide.election.start();
      // The leader's duties (cluster id, CA root, ACLs, members, session TTLs) finish before
      // the listeners open, so a single server answers its first request fully set up.
      if (leaderSide.election.isLeader()) await leaderSide.loops.start();
      await local.start();
      coordinateSync.start();
      await http.listen(config.httpAddrs);
      if (https) await http.listen(config.httpsAddrs ?? [], https);
      const ownDnsReady = config.dnsAddrs.length > 0 ? await loadDns() : undefined;
      await dns.listen(config.dnsAddrs);
      // Not awaited: start() resolves as before while the first questions' answers are prepared.
      if (ownDnsReady && !stopped) warming = ownDnsReady.warm();
      // Joins start once the agent answers (Consul's agent command joins after the agent started).
      pool.startJoins();
      wan.startJoins();
      // The watches reach this agent over its own HTTP API (Consul's reloadWatches at start).
      watches.reload(config);
      // Its file watcher loads only when auto_reload_config asks for it (and not for an agent stopped meanwhile).
      const reloader = config.autoReloadConfig === true ? await import('./auto-reload.ts') : undefined;
      if (reloader && !stopped) autoReload = reloader.startAutoReload(config, { clock, logger, read: readConfig, apply: reload });
      if (config.pidFile) fs.writeFileSync(config.pidFile, String(process.pid));
      log.info({ node: config.nodeName, datacenter: config.datacenter, store: store.kind, http: http.addresses() }, 'agent started');
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await autoReload?.stop();
      warming?.stop();
      lastSeen?.stop();
      watches.stop();
      telemetry.closePush();
      await http.close();
      cache.close();
      await audit?.close();
      await dns.close();
      await local.stop();
      leafCerts.stop();
      coordinateSync.stop();
      endpoints.coordinate.stop();
      await wan.shutdown();
      await pool.shutdown();
      await leaderSide.loops.stop();
      await leaderSide.election.stop();
      // Only after the election revoked its lease: a refused server port is the followers' proof
      // that the leader's process is gone.
      await rpc?.close();
      // A managed store's server port: its connections (other servers', clients', certificate-less
      // ones) end here, or its close() would wait for every keep-alive connection to time out.
      await front?.close();
      trust.abort();
      replica.stop();
      await store.close();
      if (config.pidFile) fs.rmSync(config.pidFile, { force: true });
      log.info({}, 'agent stopped');
    },
    httpAddresses: () => http.addresses(),
    dnsAddresses: () => dns.addresses(),
    dnsHandler: async () => (await loadDns()).handler,
  };
  return agent;
}

/**
 * A message handler that answers once `load` has built the DNS handlers: until then nothing is
 * answered at once (the question goes to `handle`, which waits for the load).
 */
function lazyDns(load: () => Promise<ServerDns>, pick: (d: ServerDns) => MessageHandler): MessageHandler {
  let ready: MessageHandler | undefined;
  return {
    answerNow: (msg, transport) => ready?.answerNow(msg, transport),
    async handle(msg, transport, source, agentNode, agentDatacenter) {
      ready ??= pick(await load());
      return ready.handle(msg, transport, source, agentNode, agentDatacenter);
    },
  };
}

// The default reload: the same config files read again, with the identity this agent already
// runs under (other command-line flags are not replayed; the CLI passes its own reloadConfig).
async function reloadFromSources(config: RuntimeConfig): Promise<RuntimeConfig> {
  if ((config.configPaths ?? config.sources).length === 0) return config;
  const args = [
    // Without a data dir only -dev loads; only services and checks are taken from the result.
    ...(config.dev || !config.dataDir ? ['-dev'] : []), '-node', config.nodeName, '-bind', config.bindAddr, '-advertise', config.advertiseAddr,
    '-datacenter', config.datacenter, ...(config.dataDir ? ['-data-dir', config.dataDir] : []),
    // The paths as given (a directory gains and loses files), else the files that were read.
    ...(config.configPaths ?? config.sources).flatMap((f) => ['-config-file', f]),
  ];
  return (await loadConfig({ args, readOnly: true })).config;
}

/** The server's request rate limiter: limits.request_limits plus the control-plane-request-limit entries. */
function serverRateLimiter(
  config: RuntimeConfig, clock: Clock, logger: Logger, telemetry: Telemetry, isLeader: () => boolean, replica: Replica,
  isServer: (ip: string) => boolean,
): RequestRateLimiter {
  const exceeded = telemetry.labeledCounter('rpc.rate_limit.exceeded', 'Requests that exceeded a rate limit', ['limit_type', 'op', 'mode']);
  // Consul counts rate-limit log lines dropped from its full log buffer; pino writes every line.
  telemetry.counter('rpc.rate_limit.log_dropped', 'Rate-limit log lines dropped because the output buffer was full');
  const kind = 'control-plane-request-limit';
  return new RequestRateLimiter({
    clock, logger: logger.child({ '@module': 'agent.server.rpc-rate-limit' }), isLeader, exceeded, isServer,
    config: config.limits.requestLimits ?? { mode: 'disabled', readRate: -1, writeRate: -1 },
    entries: {
      index: () => replica.configEntries.kindIndex(kind),
      list: () => replica.configEntries.list(kind) as unknown as ControlPlaneLimitEntry[],
    },
  });
}
