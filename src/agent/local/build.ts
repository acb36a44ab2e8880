// Builds the agent's local side (state, check runners, persistence, anti-entropy, tokens) over
// a catalog target, and runs its lifecycle: load registrations, first full sync, reaper.
import { createRequire } from 'node:module';
import type { Clock } from '../../clock.ts';
import type { Logger } from '../../log.ts';
import type { AliasSource, AliasCheckInfo } from '../checks/index.ts';
import type { RuntimeConfig } from '../config/runtime.ts';
import { AntiEntropy, type CatalogTarget } from './anti-entropy.ts';
import { LocalAgent } from './local-agent.ts';
import { loadRegistrations, localSettings, reloadRegistrations, type LocalSettings } from './load.ts';
import { CheckRunners } from './runners.ts';
import { LocalState } from './state.ts';
import { TokenStore } from './tokens.ts';
import type { ServiceManager, ServiceConfigSource } from './service-manager.ts';

/** What the local side needs from the composition root. */
export interface LocalDeps {
  config: RuntimeConfig;
  clock: Clock;
  random: () => number;
  logger: Logger;
  target: CatalogTarget;
  /** Checks of another node, for alias checks that name one. */
  remoteChecks: (node: string) => AliasCheckInfo[];
  /** Notifies `onChange` when another node's checks may have changed (a client watches them through a server). */
  remoteSubscribe?: (node: string, onChange: () => void) => () => void;
  clusterSize: () => number;
  /** Resolved central service config (enable_central_service_config), from the replica or a server. */
  serviceConfig?: ServiceConfigSource;
  /** enable_agent_tls_for_checks: the agent's TLS material for checks (undefined: off). */
  checkTls?: () => import('node:tls').ConnectionOptions | undefined;
}

/** The agent's local side. */
export interface Local {
  readonly agent: LocalAgent;
  readonly state: LocalState;
  readonly ae: AntiEntropy;
  readonly runners: CheckRunners;
  readonly tokens: TokenStore;
  readonly settings: LocalSettings;
  /** Loads registrations, runs the first full sync, starts the reaper. */
  start(): Promise<void>;
  /** Stops runners, timers and sync. */
  stop(): Promise<void>;
  /** Re-registers services and checks from a freshly loaded config. */
  reload(config: RuntimeConfig): Promise<void>;
}

function aliasSource(state: LocalState, nodeName: string, d: Pick<LocalDeps, 'remoteChecks' | 'remoteSubscribe'>): AliasSource {
  return {
    checks: (t) => (t.node && t.node !== nodeName ? d.remoteChecks(t.node) : state.checks()),
    serviceExists: (t) => Boolean(t.serviceID && state.service(t.serviceID)),
    subscribe: (t, onChange) => {
      const local = state.subscribe(onChange);
      const remote = t.node && t.node !== nodeName ? d.remoteSubscribe?.(t.node, onChange) : undefined;
      return () => {
        local();
        remote?.();
      };
    },
  };
}

function tokenStore(c: RuntimeConfig, persist: boolean): TokenStore {
  const t = c.acl.tokens;
  return new TokenStore({
    default: t.default, agent: t.agent, agent_recovery: t.agentRecovery, replication: t.replication,
    config_file_service_registration: t.configFileServiceRegistration, dns: t.dns,
  }, persist && c.dataDir ? c.dataDir : undefined);
}

const require = createRequire(import.meta.url);

/** Builds the local side; nothing runs until start(). */
export function createLocal(d: LocalDeps): Local {
  const { config, clock, random } = d;
  const logger = d.logger.child({ '@module': 'agent.local' });
  const settings = localSettings(config.raw);
  // Registrations persist only with a data_dir: agents without one (-dev) never load persist.ts (issue #9).
  const persistence = config.dataDir
    ? new (require('./persist.ts') as typeof import('./persist.ts')).Persistence(config.dataDir, (file, err) => logger.error({ file, err }, 'Failed decoding persisted file'))
    : undefined;
  let ae: AntiEntropy | undefined;
  const state = new LocalState({
    clock, random, nodeName: config.nodeName, partition: config.partition, checkUpdateIntervalMs: settings.checkUpdateIntervalMs,
    discardCheckOutput: settings.discardCheckOutput, triggerSync: () => ae?.trigger(),
  });
  const tokens = tokenStore(config, settings.tokenPersistence);
  ae = new AntiEntropy({
    state, target: d.target, clock, random, logger: logger.child({ '@module': 'agent.anti_entropy' }),
    nodeName: config.nodeName, intervalMs: settings.aeIntervalMs, clusterSize: d.clusterSize,
    keepServices: new Set(config.server ? ['consul'] : []), keepChecks: new Set(['serfHealth']),
    tokens: {
      agent: () => tokens.get('agent') || tokens.get('default'), user: () => tokens.get('default'),
      configFile: () => tokens.get('config_file_service_registration'),
    },
  });
  let agent: LocalAgent | undefined;
  const runners = new CheckRunners({
    state, clock, random, logger, persistence, aliasSource: aliasSource(state, config.nodeName, d),
    scripts: settings.scripts, checkOutputMaxSize: settings.checkOutputMaxSize, reapIntervalMs: settings.checkReapIntervalMs, checkTls: d.checkTls,
    reap: async (id) => {
      agent?.removeService(id);
      await agent?.syncChanges();
    },
  });
  // enable_central_service_config (on by default): proxies and gateways merge their central defaults.
  // Made (and its modules loaded) when the first proxy or gateway registers (issue #9).
  let manager: ServiceManager | undefined;
  const source = config.raw.enable_central_service_config !== false ? d.serviceConfig : undefined;
  const serviceManager = source ? () => manager ??= new (require('./service-manager.ts') as typeof import('./service-manager.ts')).ServiceManager({
    source, clock, logger, agentToken: () => tokens.get('agent') || tokens.get('default'), partition: config.partition,
  }) : undefined;
  agent = new LocalAgent({
    nodeName: config.nodeName, state, runners, ae, persistence, logger, nowSeconds: () => Math.floor(clock.now() / 1000),
    sidecarPorts: settings.sidecarPorts, serviceManager, locality: config.locality,
  });
  const local: Local = {
    agent, state, ae, runners, settings, tokens,
    async start() {
      loadRegistrations(agent, config.raw, persistence, logger);
      await ae.start();
      runners.startReaper();
    },
    async stop() {
      manager?.stopAll();
      runners.stopAll();
      state.close();
      await ae.stop();
    },
    async reload(next) {
      reloadRegistrations(agent, next.raw, persistence, logger);
      await agent.syncChanges();
    },
  };
  return local;
}
