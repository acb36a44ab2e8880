// Composition of managed mode (`store = "managed"`): the supervised etcd member's options from
// the runtime configuration, the autopilot duty the leader runs on its membership, and every
// server's side of it: joining as the etcd learner when autopilot calls it in.
import type { RequestListener } from 'node:http';
import type { Clock, TimerHandle } from '../clock.ts';
import type { Logger } from '../log.ts';
import { LazyManagedEtcdStore, type ManagedEtcdOptions, type Store } from '../store/index.ts';
import { configFromAgent } from '../leader/autopilot.ts';
import { autopilotLoop, JOIN_KEY, type JoinRequest } from '../leader/autopilot-loop.ts';
import { decodeJson } from '../leader/servers.ts';
import type { LeaderSide } from '../leader/duties.ts';
import type { LeaderLoop } from '../leader/loops.ts';
import type { RuntimeConfig } from './config/runtime.ts';

/** How a managed store shares the agent's server port and TLS. */
export interface ManagedShare {
  /** Serves the rest of the server port. */
  otherRequests?: RequestListener;
  /** Takes the server port's connections first (the TLS front door). */
  acceptConnection?: ManagedEtcdOptions['acceptConnection'];
  /** The servers' TLS (etcd peers and clients, the bootstrap), read when the store opens. */
  tls?: ManagedEtcdOptions['tls'];
  /** How store requests wait out an etcd election (performance.rpc_hold_timeout). */
  hold?: ManagedEtcdOptions['hold'];
}

/** The managed store of a server (config.store.backend === 'managed'). */
export function buildManagedStore(config: RuntimeConfig, logger: Logger, share: ManagedShare = {}): LazyManagedEtcdStore {
  const { otherRequests, acceptConnection, tls, hold } = share;
  const m = config.store.managed;
  if (!m || !config.dataDir) throw new Error('store "managed" needs a data_dir');
  const raw = config.raw as { retry_join?: unknown; read_replica?: unknown; non_voting_server?: unknown };
  return new LazyManagedEtcdStore({
    binary: m.binary, name: config.nodeName, datacenter: config.datacenter, dataDir: config.dataDir,
    bindAddr: config.bindAddr, advertiseAddr: config.advertiseAddr, clientPort: m.clientPort, peerPort: m.peerPort,
    serverPort: config.ports.server, otherRequests, acceptConnection, tls, hold,
    retryJoin: Array.isArray(raw.retry_join) ? raw.retry_join.map(String) : [],
    bootstrapExpect: config.bootstrap ? 1 : config.bootstrapExpect,
    readReplica: raw.read_replica === true || raw.non_voting_server === true,
    // One namespace per datacenter, as with an external etcd.
    prefix: `/proconsul/${config.datacenter}/`, logger,
  });
}

/**
 * Adds the autopilot duty to the leader's loops when the store is a managed cluster, and has
 * this server join as the etcd learner when autopilot names it in `autopilot/join`.
 */
export function addAutopilot(store: Store, leaderSide: LeaderSide, config: RuntimeConfig, clock: Clock, logger: Logger): void {
  if (!(store instanceof LazyManagedEtcdStore)) return;
  const log = logger.child({ sub: 'autopilot' });
  // The latest call; etcd may refuse a member for a moment (reconfiguring): try again while it stands.
  let called: JoinRequest | null = null;
  let trying = false;
  const tryJoin = () => {
    if (trying || called?.Node !== config.nodeName || clock.now() - called.At > 20_000) return;
    // Called while our own removal is still being noticed: try again once we are a client.
    if (store.localRole() !== 'client') return void clock.setTimer(1000, tryJoin);
    trying = true;
    store.joinAsLearner().catch((err: unknown) => {
      log.warn({ err }, 'joining the etcd cluster as its learner failed; retrying');
      clock.setTimer(2000, tryJoin);
    }).finally(() => { trying = false; });
  };
  leaderSide.election.onBatch((b) => {
    for (const ev of b.events) {
      if (ev.kv.key !== JOIN_KEY) continue;
      called = ev.type === 'put' ? decodeJson<JoinRequest>(ev.kv.value) : null;
      tryJoin();
    }
  });
  leaderSide.loops.add(etcdLeadership(store, clock, log));
  leaderSide.loops.add(autopilotLoop({
    admin: store, election: leaderSide.election, store, clock, logger,
    agentConfig: () => configFromAgent(config.raw.autopilot as Record<string, unknown> | undefined),
  }));
}

/** How often the leader checks that etcd's Raft leader is its own member. */
const ETCD_LEADERSHIP_CHECK_MS = 2000;

/**
 * The leader duty that keeps etcd's Raft leadership on the Proconsul leader's own member (etcd
 * elects its leader independently): checked when leadership starts and every 2 s while it lasts.
 */
function etcdLeadership(store: LazyManagedEtcdStore, clock: Clock, log: Logger): LeaderLoop {
  let timer: TimerHandle | null = null;
  // Each term of leadership runs its own chain of checks; a stopped term's chain ends.
  let term = 0;
  const check = async (t: number) => {
    try {
      await store.leadEtcd();
    } catch (err) {
      log.debug({ err }, 'moving etcd leadership to this server failed; will retry');
    }
    if (t === term) timer = clock.setTimer(ETCD_LEADERSHIP_CHECK_MS, () => void check(t));
  };
  return {
    name: 'etcd-leadership',
    start: async () => void check(++term),
    stop: () => {
      term++;
      timer?.cancel();
      timer = null;
    },
  };
}
