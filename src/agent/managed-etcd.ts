// Composition of managed mode (`store = "managed"`): the supervised etcd member's options from
// the runtime configuration, and the autopilot duty the leader runs on its membership.
import type { RequestListener } from 'node:http';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import { LazyManagedEtcdStore, type Store } from '../store/index.ts';
import { configFromAgent } from '../leader/autopilot.ts';
import { autopilotLoop } from '../leader/autopilot-loop.ts';
import type { LeaderSide } from '../leader/duties.ts';
import type { RuntimeConfig } from './config/runtime.ts';

/** The managed store of a server (config.store.backend === 'managed'); `otherRequests` serves the rest of the server port. */
export function buildManagedStore(config: RuntimeConfig, logger: Logger, otherRequests?: RequestListener): LazyManagedEtcdStore {
  const m = config.store.managed;
  if (!m || !config.dataDir) throw new Error('store "managed" needs a data_dir');
  const raw = config.raw as { retry_join?: unknown };
  return new LazyManagedEtcdStore({
    binary: m.binary, name: config.nodeName, datacenter: config.datacenter, dataDir: config.dataDir,
    bindAddr: config.bindAddr, advertiseAddr: config.advertiseAddr, clientPort: m.clientPort, peerPort: m.peerPort,
    serverPort: config.ports.server, otherRequests,
    retryJoin: Array.isArray(raw.retry_join) ? raw.retry_join.map(String) : [],
    bootstrapExpect: config.bootstrap ? 1 : config.bootstrapExpect,
    // One namespace per datacenter, as with an external etcd.
    prefix: `/proconsul/${config.datacenter}/`, logger,
  });
}

/** Adds the autopilot duty to the leader's loops when the store is a managed cluster. */
export function addAutopilot(store: Store, leaderSide: LeaderSide, config: RuntimeConfig, clock: Clock, logger: Logger): void {
  if (!(store instanceof LazyManagedEtcdStore)) return;
  leaderSide.loops.add(autopilotLoop({
    admin: store, election: leaderSide.election, store, clock, logger,
    agentConfig: () => configFromAgent(config.raw.autopilot as Record<string, unknown> | undefined),
  }));
}
