// The composition root of a client agent (`proconsul agent` without -server): no store, replica,
// election or leader loops. It owns its node's services and checks, runs the checks, syncs them
// to the catalog through a server (anti-entropy), answers agent-local routes itself, forwards
// every other HTTP request to a server found in the LAN pool, and answers DNS under its own
// settings with the catalog data of a server (client-dns.ts).
import { agentUi, UiSettings } from './ui-routes.ts';
import fs from 'node:fs';
import { systemClock, type Clock } from '../clock.ts';
import { createLogger, LogHub, reloadLogLevel, type Logger } from '../log.ts';
import { Telemetry } from '../telemetry/metrics.ts';
import { registerAgentTlsExpiry } from '../telemetry/cert-expiry.ts';
import { dnsMetrics } from './dns-metrics.ts';
import { gossipMetrics } from './gossip-metrics.ts';
import { memberlistMetrics } from './memberlist-metrics.ts';
import { reloadTelemetrySinks, startTelemetrySinks, telemetryOptions } from './telemetry-sinks.ts';
import { MetricsStream } from '../telemetry/metrics-stream.ts';
import { agentTlsForChecks, reloadTls, startTls, TlsConfigurator } from './tls-configurator.ts';
import { AgentWatches } from './watches-lazy.ts';
import type { AutoReload } from './auto-reload.ts';
import { HttpServer, rpcRateBucket, type RequestConfig } from '../http/index.ts';
import { ClientAclResolver } from './client-acl.ts';
import { measureClientTokenLoads, tokenCacheStats } from './acl-metrics.ts';
import { RemoteNodeChecks } from './client-alias.ts';
import { DnsServer, dnsConfigFrom } from '../dns/index.ts';
import type { Leadership } from '../endpoint/index.ts';
import type { AgentBase, AgentDeps } from './agent.ts';
import { clientRoutes, inAgentPartition } from './client-routes.ts';
import { remoteDnsHandler } from './client-dns.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import { bridgeEvents } from './event-gossip.ts';
import { EventBuffer } from './events.ts';
import { REMOTE_EXEC_EVENT, agentApiCall, remoteExecDisabled, remoteExecHandler } from './remote-exec.ts';
import { Forwarder, callTimeouts } from './forward.ts';
import { clientLeafCerts, signRefusal } from './client-leaf.ts';
import type { IngressEntryHosts } from './ingress-leaf-sans.ts';
import type { AutoEncrypt } from './auto-encrypt.ts';
import { AUTO_ENCRYPT_SIGN_PATH } from './rpc-server.ts';
import { CoordinateSync, coordinateSettings } from './coordinates.ts';
import type { CoordinateUpdate } from '../endpoint/coordinate.ts';
import { LanPool } from './lan-pool.ts';
import { createLocal, type Local } from './local/index.ts';
import { remoteCatalogTarget, type ServerCall } from './local/remote-target.ts';
import { remoteServiceConfig } from './client-service-config.ts';
import { prometheusRetention } from './server.ts';
import { ServerList } from './server-list.ts';
import { translateHeaders, translatingRouter } from './translate-wan.ts';
import { configuredAuditLog } from './audit-config.ts';
import { HttpCache } from './cache/http-cache.ts';
import { DEFAULT_TENANCY_NAME, foldTenancyName } from '../state/index.ts';

/** A running (or ready to run) client agent: anti-entropy and every other request go through the servers. */
export interface ClientAgent extends AgentBase {
  /** The datacenter's servers, from gossip. */
  readonly servers: ServerList;
}

/** Builds a client agent; nothing is bound until start(). */
export function createClientAgent(config: RuntimeConfig, deps: AgentDeps = {}): ClientAgent {
  const clock = deps.clock ?? systemClock;
  const random = deps.random ?? Math.random;
  const hub = deps.logHub ?? new LogHub();
  const logger = deps.logger ?? createLogger({ level: config.logLevel, json: config.logJson, hub, sublevels: config.logSublevels });
  const log = logger.child({ '@module': 'agent' });
  const telemetry = new Telemetry(clock, telemetryOptions(config));
  const metricsStream = new MetricsStream(clock, () => telemetry.consulJSON(), deps.metricsStreamIntervalMs);
  const pool = new LanPool(config, { clock, logger, random, transport: deps.gossipTransport, onJoinExhausted: deps.onJoinExhausted });
  const servers = new ServerList({ datacenter: config.datacenter, random });
  const tls = new TlsConfigurator(config.datacenter);
  registerAgentTlsExpiry(telemetry, () => tls.cert(), clock);
  // limits.rpc_rate: every RPC this client makes; a reload starts a new (full) bucket, as Consul's.
  let rpcBucket = rpcRateBucket(config.limits, clock.now());
  const rpcExceeded = telemetry.counter('client.rpc.exceeded', 'RPCs refused by the limits.rpc_rate limiter');
  const rpcLimit = (): boolean => {
    if (rpcBucket.take(clock.now())) return true;
    rpcExceeded();
    return false;
  };
  const forwarder = new Forwarder({
    logger, localAddress: config.bindAddr, tls, rateLimitRetry: { clock, random, holdMs: config.rpcHoldTimeout ?? 7_000 }, rpcLimit, timeouts: callTimeouts(config),
  });
  const call: ServerCall = (method, url, token, body, signal) => forwarder.send(servers, {
    method, url, body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)),
    headers: { 'content-type': 'application/json', ...(token ? { 'x-consul-token': token } : {}) }, signal,
  });
  const token = (kind: 'agent' | 'dns') => local.tokens.get(kind) || local.tokens.get('default');
  // auto_encrypt.tls: the module (and the CSR library behind it) is loaded only when configured.
  let autoEncrypt: AutoEncrypt | null = null;
  let httpsOn = false;
  const startAutoEncrypt = async (): Promise<void> => {
    const { AutoEncrypt: Impl } = await import('./auto-encrypt.ts');
    if (stopped) return;
    autoEncrypt = new Impl({
      config, tls, token: () => token('agent'), clock, random, logger,
      // A renewed certificate reaches HTTPS connections made from then on.
      onUpdate: () => {
        const options = tls.httpsOptions();
        if (options && httpsOn) http.updateTls(options);
      },
      call: (body, secret) => forwarder.send(servers, {
        method: 'POST', url: AUTO_ENCRYPT_SIGN_PATH, body,
        headers: { 'content-type': 'application/json', ...(secret ? { 'x-consul-token': secret } : {}) },
      }),
    });
    await autoEncrypt.start();
  };
  const remoteNodes = new RemoteNodeChecks({ call, token: () => token('agent'), clock, logger: log });
  const local: Local = createLocal({
    config, clock, random, logger, target: remoteCatalogTarget(call, config, () => token('agent')),
    remoteChecks: (node) => remoteNodes.checks(node), remoteSubscribe: (node, onChange) => remoteNodes.subscribe(node, onChange),
    clusterSize: () => pool.members().length, serviceConfig: remoteServiceConfig(call),
    checkTls: agentTlsForChecks(config, tls),
  });
  const coordinateSync = new CoordinateSync({
    pool, settings: coordinateSettings(config), nodeName: config.nodeName, clock, random, logger: logger.child({ '@module': 'agent.coordinate' }),
    authz: () => undefined, endpoint: {
      // An agent in an admin partition reports its coordinate there (Consul Enterprise fills its partition in).
      update: (req) => sendCoordinate(call, config.partition ? { ...req, Partition: config.partition } : req, token('agent'), log),
    },
  });
  const events = new EventBuffer({ nodeName: config.nodeName, services: () => local.state.services() });
  if (pool.gossip) bridgeEvents(events, pool.gossip);
  pool.gossip?.on(gossipMetrics(telemetry, clock));
  if (pool.gossip) memberlistMetrics(telemetry, 'lan', pool.gossip, clock);
  const leadership: Leadership = {
    isLeader: () => false, knownLeader: () => servers.servers().length > 0, leaderAddr: () => '', peers: () => [],
  };
  // Registered with ACLs off too: Consul's Prometheus sink defines the pair on every agent.
  const cacheStats = tokenCacheStats(telemetry);
  const acl = config.acl.enabled
    ? new ClientAclResolver({ config, call, clock, logger: log, agentRecovery: () => local.tokens.get('agent_recovery'), cacheStats })
    : null;
  if (acl) measureClientTokenLoads(telemetry, acl);
  const reqCfg: RequestConfig = {
    datacenter: config.datacenter, defaultToken: config.acl.tokens.default,
    // The agent's admin partition fills a request's unnamed one (Consul's defaultMetaPartitionToAgent).
    ...(config.partition ? { partition: config.partition } : {}),
    ...(acl ? { acl: { defaultToken: () => local.tokens.get('default'), resolve: (secret: string) => acl.resolve(secret) } } : {}),
  };
  const forward = inAgentPartition(forwarder.handler(servers, {
    defaultToken: () => local.tokens.get('default'),
    discovery: { discoveryMaxStaleMs: config.discoveryMaxStale ?? 0, useCache: config.http.useCache },
  }), config.partition);
  const dnsHandler = remoteDnsHandler({
    forwarder, servers, nodeName: config.nodeName, cfg: dnsConfigFrom(config), token: () => token('dns'), logger: logger.child({ '@module': 'dns' }),
    random, now: () => clock.now(), clock,
  });
  const leafCerts = clientLeafCerts({
    forwarder, servers, datacenter: config.datacenter, agentToken: () => token('agent'), maxQueryTimeMs: config.maxQueryTime,
    clock, random, logger,
  });
  // The agent cache of `?cached` reads; with http_config.use_cache off none reaches it (http/server.ts drops the flag).
  const cache = new HttpCache({
    clock, random, send: (r) => forwarder.send(servers, r), defaultToken: () => local.tokens.get('default'),
    defaultQueryTimeMs: config.defaultQueryTime, maxQueryTimeMs: config.maxQueryTime, telemetry, entryFetch: config.cache,
  });
  // The agent's own reads of the partition's config entries name it, as forwarded requests do (inAgentPartition).
  const agentPartitionQuery = config.partition && foldTenancyName(config.partition) !== DEFAULT_TENANCY_NAME ? `?partition=${encodeURIComponent(config.partition)}` : '';
  const uiSettings = new UiSettings(config);
  const routes = clientRoutes({
    config, local, pool, events, leadership, reqCfg, clock, random, knownServers: () => servers.servers().length,
    observe: { telemetry, hub, stream: metricsStream, prometheusRetentionMs: prometheusRetention(config) },
    forward, leafCerts, cache, ui: agentUi(config, reqCfg, logger, uiSettings),
    ingressEntry: async (name, tok, ent) => {
      // The leaf's namespace (its partition is the agent's: localIngress checked it).
      const ns = ent && foldTenancyName(ent.namespace) !== DEFAULT_TENANCY_NAME ? `${agentPartitionQuery ? '&' : '?'}ns=${encodeURIComponent(ent.namespace)}` : '';
      const res = await forwarder.send(servers, { method: 'GET', url: `/v1/config/ingress-gateway/${encodeURIComponent(name)}${agentPartitionQuery}${ns}`, headers: tok ? { 'x-consul-token': tok } : {} });
      if (res.status === 404) return null;
      if (res.status !== 200) throw signRefusal(res);
      return JSON.parse(res.body.toString('utf8')) as IngressEntryHosts;
    },
    reload: () => reload(),
    leave: async () => {
      await local.stop();
      await pool.leave();
      setTimeout(() => void (deps.shutdown ?? (() => agent.stop()))(), 100);
    },
  });
  const translate = { datacenter: config.datacenter, enabled: config.translateWanAddrs === true };
  const audit = configuredAuditLog(config.raw.audit, reqCfg, clock, logger, acl ? (secret) => acl.load(secret) : undefined);
  const http = new HttpServer({
    router: translatingRouter(acl ? acl.routes(routes, reqCfg, forward) : routes, translate), logger: logger.child({ '@module': 'agent.http' }), metrics: telemetry, audit: audit ?? undefined,
    config: {
      defaultAclPolicy: config.acl.defaultPolicy, responseHeaders: { ...config.http.responseHeaders, ...translateHeaders(translate.enabled) },
      allowWriteHttpFrom: config.http.allowWriteHttpFrom, blockEndpoints: config.http.blockEndpoints, maxConnsPerClient: config.limits.httpMaxConnsPerClient, prettyAll: config.dev,
      useCache: config.http.useCache, maxHeaderBytes: config.http.maxHeaderBytes,
      allowUnprintablePaths: config.http.disableUnprintableCharFilter === true,
    },
  });
  events.handleInternal(REMOTE_EXEC_EVENT, remoteExecHandler({
    nodeName: config.nodeName, api: agentApiCall(http, () => token('agent')), logger: logger.child({ '@module': 'agent' }),
  }, remoteExecDisabled(config)));
  const dnsStart = dnsConfigFrom(config);
  const dnsMeter = dnsMetrics(telemetry, config.nodeName, [dnsStart.domain, dnsStart.altDomain]);
  const dns = new DnsServer({ handler: dnsHandler, logger: logger.child({ '@module': 'dns' }), timed: dnsMeter.timed, untimed: dnsMeter.untimed });
  const watches = new AgentWatches({ logger, addresses: () => http.addresses() });
  const readConfig = deps.reloadConfig ?? (async () => config);
  const reload = async (next?: RuntimeConfig): Promise<void> => {
    next ??= await readConfig();
    reloadLogLevel(logger, next.logLevel);
    reloadTls(tls, next, http);
    rpcBucket = rpcRateBucket(next.limits, clock.now());
    dnsHandler.reload(dnsConfigFrom(next));
    await local.reload(next);
    uiSettings.reload(next);
    reloadTelemetrySinks(telemetry, next);
    try {
      watches.reload(next);
    } catch (err) {
      throw new Error(`Failed reloading watches: ${(err as Error).message}`);
    }
  };
  let started = false;
  let stopped = false;
  let autoReload: AutoReload | undefined;
  const agent: ClientAgent = {
    config, logger, http, local, pool, servers, reload,
    leave: () => pool.leave(),
    async start() {
      if (started) return;
      started = true;
      // TLS files and rules are checked before anything binds, as Consul's agent does.
      let https = startTls(tls, config);
      await startTelemetrySinks(telemetry, config, clock, logger);
      // The agent's certificate comes first, as Consul's agent gets it before it starts; HTTPS
      // without a key pair of its own serves it.
      if (config.autoEncrypt?.tls) {
        await startAutoEncrypt();
        // Stopped while it still waited for a server to sign: open nothing (stop() has run).
        if (stopped) return;
        if (https) https = { ...https, tls: tls.httpsOptions() ?? https.tls };
      }
      await pool.start();
      if (pool.gossip) followServers(pool, servers, local, clock, log);
      await local.start();
      coordinateSync.start();
      await http.listen(config.httpAddrs);
      if (https) {
        await http.listen(config.httpsAddrs ?? [], https);
        httpsOn = true;
      }
      await dns.listen(config.dnsAddrs);
      // Joins start once the agent answers (Consul's agent command joins after the agent started).
      pool.startJoins();
      // The watches reach this agent over its own HTTP API (Consul's reloadWatches at start).
      watches.reload(config);
      // Its file watcher loads only when auto_reload_config asks for it (and not for an agent stopped meanwhile).
      const reloader = config.autoReloadConfig === true ? await import('./auto-reload.ts') : undefined;
      if (reloader && !stopped) autoReload = reloader.startAutoReload(config, { clock, logger, read: readConfig, apply: reload });
      if (config.pidFile) fs.writeFileSync(config.pidFile, String(process.pid));
      log.info({ node: config.nodeName, datacenter: config.datacenter, http: http.addresses() }, 'client agent started');
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await autoReload?.stop();
      watches.stop();
      telemetry.closePush();
      (autoEncrypt as AutoEncrypt | null)?.stop();
      await http.close();
      await audit?.close();
      await dns.close();
      dnsHandler.close();
      await local.stop();
      leafCerts.stop();
      cache.close();
      coordinateSync.stop();
      servers.stop();
      await pool.shutdown();
      forwarder.close();
      if (config.pidFile) fs.rmSync(config.pidFile, { force: true });
      log.info({}, 'agent stopped');
    },
    httpAddresses: () => http.addresses(),
    dnsAddresses: () => dns.addresses(),
  };
  return agent;
}

// The first full sync usually runs before the pool has found a server; a server appearing when
// none was known syncs at once instead of waiting for the failed sync's retry interval.
function followServers(pool: LanPool, servers: ServerList, local: Local, clock: Clock, log: Logger): void {
  servers.follow(pool.gossip!);
  let syncing = false;
  // A server that just joined may still be starting (no leader yet): retry briefly.
  const sync = async (): Promise<void> => {
    syncing = true;
    for (let attempt = 1; attempt <= FIRST_SYNC_ATTEMPTS && servers.servers().length > 0; attempt++) {
      try {
        await local.ae.syncFull();
        break;
      } catch (err) {
        log.warn({ error: (err as Error).message, attempt }, 'full sync after a server joined failed');
        await new Promise((r) => clock.setTimer(FIRST_SYNC_RETRY_MS, () => r(undefined)));
      }
    }
    syncing = false;
  };
  pool.gossip!.on((e) => {
    if (e.type !== 'member-join' && e.type !== 'member-update') return;
    if (e.member.tags.role !== 'consul' || servers.servers().length !== 1 || syncing) return;
    log.info({ server: e.member.name }, 'adding server; syncing local state');
    void sync();
  });
}

// The client's coordinate goes to the servers as Consul's agent sends it (Coordinate.Update).
function sendCoordinate(call: ServerCall, req: CoordinateUpdate, token: string, log: Logger): void {
  call('PUT', '/v1/coordinate/update', token, req).then((res) => {
    if (res.status === 403) log.warn({}, 'Coordinate update blocked by ACLs');
    else if (res.status >= 300) log.error({ error: res.body.toString('utf8').trim() }, 'Coordinate update error');
  }, (err: Error) => log.error({ error: err.message }, 'Coordinate update error'));
}

const FIRST_SYNC_ATTEMPTS = 15;
const FIRST_SYNC_RETRY_MS = 2000;
