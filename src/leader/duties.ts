// The leader side of a server, wired once: its election (shared store: etcd lease election;
// private store: itself) and the duties that run while it leads: a barrier so the replica holds
// every earlier write, cluster identity and CA root, member health, session TTL timers, CA root pruning,
// and the API gateway controller.
import { createRequire } from 'node:module';
import type { ConnectionOptions } from 'node:tls';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import { LazyManagedEtcdStore, type Store, type WatchBatch } from '../store/index.ts';
import type { Replica } from '../state/index.ts';
import type { CatalogEndpoint, ConnectCAEndpoint, EndpointDeps } from '../endpoint/index.ts';
import type { RuntimeConfig } from '../agent/config/runtime.ts';
import { CONSUL_API_VERSION } from '../version.ts';
import { ensureCAConfig, ensureCARoot, ensureClusterId } from './ca.ts';
import { caRootPruning } from './ca-prune.ts';
import { configBootstrapDuty, type ConfigBootstrapDeps } from './config-bootstrap.ts';
import { tenancyBuiltinsDuty } from './tenancy-builtins.ts';
import { tenancyReaperDuty } from './tenancy-reaper.ts';
import { apiGatewayControllerDuty } from './api-gateway-controller.ts';
import { registerSelf, SERF_CHECK_ID } from './self-register.ts';
import { SessionTimers } from './session-ttl.ts';
import { SessionRenewRelay } from './session-renew.ts';
import { LivenessListener, type LivenessHost } from './liveness.ts';
import { SoloElection, type LeaderElection, type ServerIdentity } from './election-types.ts';
import { LeaderLoops, type LeaderLoop } from './loops.ts';
import { LeaderBarrier } from './barrier.ts';
import { SERVERS_PREFIX, decodeJson, type ServerRecord } from './servers.ts';

const require = createRequire(import.meta.url);

/** What a server's leader side consists of. */
export interface LeaderSide {
  election: LeaderElection;
  loops: LeaderLoops;
  /** The TTL hooks the session endpoint calls (relays renewals from followers). */
  sessionHooks: SessionRenewRelay;
}

/** This server's identity in the election, from its configuration. */
export function serverIdentity(config: RuntimeConfig): ServerIdentity {
  const raw = config.raw as Record<string, unknown>;
  return {
    ID: config.nodeId, Node: config.nodeName, Address: `${config.advertiseAddr}:${config.ports.server}`,
    Version: CONSUL_API_VERSION, ReadReplica: raw.read_replica === true || raw.non_voting_server === true,
    Tags: { ...config.nodeMeta, role: 'consul', dc: config.datacenter, port: String(config.ports.server), id: config.nodeId },
  };
}

/** Options of buildElection. */
export interface ElectionOptions {
  ttlSeconds?: number;
  /** Where followers' liveness probes are greeted (the server port's RPC listener); absent: an ephemeral port of its own. */
  liveness?: LivenessHost;
  /** TLS options of this server's probes to the leader's server port (null: plain TCP). */
  probeTls?: () => ConnectionOptions | null;
}

/**
 * Builds the election for the store: an etcd store is shared and elects; others are private. The
 * store election's module is loaded only for an etcd store (with require: this runs in the
 * synchronous createAgent), never on a memory or embedded store's start (issue #9).
 */
export function buildElection(config: RuntimeConfig, store: Store, clock: Clock, logger: Logger, replica: Replica, o: ElectionOptions = {}): LeaderElection {
  const self = serverIdentity(config);
  if (store.kind !== 'etcd') return new SoloElection(self, clock);
  const log = logger.child({ '@module': 'agent.leader.election' });
  const liveness = o.liveness ?? new LivenessListener({ bindAddr: config.bindAddr, advertiseAddr: config.advertiseAddr, logger: log });
  const ttlSeconds = o.ttlSeconds;
  // A managed server leads only while its etcd member votes (Consul: only voters lead).
  const canLead = store instanceof LazyManagedEtcdStore ? () => store.localRole() === 'voter' : undefined;
  const { StoreElection } = require('./election.ts') as typeof import('./election.ts');
  return new StoreElection({ store, clock, logger: log, self, replica, ttlSeconds, liveness, canLead, probeTls: o.probeTls });
}

/** Wiring for the leader duties. */
export interface LeaderSideDeps {
  config: RuntimeConfig;
  epDeps: EndpointDeps;
  election: LeaderElection;
  timers: SessionTimers;
  catalog: () => CatalogEndpoint;
  /** The CA settings the root is made with (the stored CA configuration). */
  ca: () => ConnectCAEndpoint;
  /** Where config_entries.bootstrap is written (absent: not bootstrapped, as in tests without the endpoint). */
  configEntries?: ConfigBootstrapDeps['entries'];
  /** Gossip reconciles every member's serfHealth (leader/reconcile.ts); server records then only add their own node. */
  gossipHealth?: boolean;
  /** A secondary datacenter's CA (leader/ca-secondary.ts): it replicates the primary's roots instead of making one. */
  secondaryCA?: { loop(): LeaderLoop };
  /** Consul's leader.barrier timer, in ms (leader/barrier.ts). */
  barrierTimer?: (ms: number) => void;
}

/** Wires the leader duties to the election; the duties run only while it leads. */
export function buildLeaderSide(d: LeaderSideDeps): LeaderSide {
  const { config, epDeps, election, timers } = d;
  const { store, replica, clock, logger } = epDeps;
  const sessionHooks = new SessionRenewRelay({ store, replica, timers, logger, isLeader: () => election.isLeader() });
  const members = membersDuty(d);
  const loops = new LeaderLoops({ clock, logger: logger.child({ sub: 'leader' }) })
    .add(new LeaderBarrier({ store, replica, clock, logger: logger.child({ sub: 'leader' }), timer: d.barrierTimer }))
    .add({
      name: 'cluster',
      start: async () => {
        const clusterId = await ensureClusterId(epDeps);
        if (config.connect.enabled && !d.secondaryCA) {
          await ensureCAConfig(epDeps, config.connect);
          await ensureCARoot(epDeps, clusterId, d.ca());
        }
      },
      stop: () => undefined,
    })
    .add(tenancyBuiltinsDuty({ store, replica }))
    .add(tenancyReaperDuty({ store, replica, logger: logger.child({ sub: 'tenancy' }) }))
    .add(members.loop)
    .add({ name: 'session-ttl', start: async () => timers.start(replica.sessions.all()), stop: () => timers.stop() });
  if (d.configEntries) loops.add(configBootstrapDuty({ config, replica, entries: d.configEntries }));
  if (d.secondaryCA) loops.add(d.secondaryCA.loop());
  if (config.connect.enabled) loops.add(caRootPruning(epDeps, () => d.ca().settings()));
  loops.add(apiGatewayControllerDuty({ store, replica, clock, logger: logger.child({ sub: 'leader.api-gateway' }) }));
  election.onBatch((b) => {
    sessionHooks.observe(b);
    members.observe(b);
  });
  loops.follow(election);
  return { election, loops, sessionHooks };
}

/** Member reconciliation: this server's own node, and serfHealth of servers that come and go. */
function membersDuty(d: LeaderSideDeps): { loop: LeaderLoop; observe(b: WatchBatch): void } {
  let running = false;
  const health = (s: ServerRecord, alive: boolean) => d.catalog().register({
    Node: s.Node, Address: s.Address.slice(0, s.Address.lastIndexOf(':')), SkipNodeUpdate: true,
    Check: {
      CheckID: SERF_CHECK_ID, Name: 'Serf Health Status', Status: alive ? 'passing' : 'critical',
      Output: alive ? 'Agent alive and reachable' : 'Agent not live or unreachable',
    },
  }).catch((err) => d.epDeps.logger.warn({ err, node: s.Node }, 'member health not reconciled'));
  const known = new Map<string, ServerRecord>(d.election.servers().map((s) => [s.Node, s]));
  return {
    loop: {
      name: 'members',
      start: async () => {
        running = true;
        await registerSelf(d.catalog(), d.config);
      },
      stop: () => { running = false; },
    },
    observe(b) {
      for (const ev of b.events) {
        if (!ev.kv.key.startsWith(SERVERS_PREFIX)) continue;
        const node = ev.kv.key.slice(SERVERS_PREFIX.length);
        const rec = ev.type === 'put' ? decodeJson<ServerRecord>(ev.kv.value) : known.get(node);
        if (ev.type === 'put' && rec) known.set(node, rec);
        else known.delete(node);
        const registered = d.epDeps.replica.catalog.nodes.has(node);
        if (!running || !rec || node === d.config.nodeName || !registered || d.gossipHealth) continue;
        if (ev.type === 'delete' || ev.kv.version === 1) void health(rec, ev.type === 'put');
      }
    },
  };
}
