// Start-up and reload of the agent's registrations (Consul's loadServices/loadChecks): the
// `services`/`checks` of the config files first, then what the API persisted in the data dir
// (config wins on an ID clash), and the agent settings that tune local state and sync.
import { createRequire } from 'node:module';
import { parseGoDuration } from '../../cli/flags.ts';
import type { Logger } from '../../log.ts';
import type { LocalAgent } from './local-agent.ts';
import type { Persistence } from './persist.ts';
import { checkKeyOf, serviceKeyOf, type LocalCheck } from './state.ts';
import type { SidecarPorts } from './sidecar.ts';
import { multiError } from '../config/error.ts';

const require = createRequire(import.meta.url);

/** Decoding and checking of configured registrations (4 modules), loaded only when the config has some (issue #9). */
function definitions() {
  return {
    ...require('./definition.ts') as typeof import('./definition.ts'), ...require('./sidecar.ts') as typeof import('./sidecar.ts'),
    ...require('./validate.ts') as typeof import('./validate.ts'), ...require('./proxy-validate.ts') as typeof import('./proxy-validate.ts'),
  };
}

/** Agent settings read from the merged config (`raw`, snake_case). */
export interface LocalSettings {
  aeIntervalMs: number;
  checkUpdateIntervalMs: number;
  checkReapIntervalMs: number;
  discardCheckOutput: boolean;
  scripts: { remote: boolean; local: boolean };
  checkOutputMaxSize: number;
  tokenPersistence: boolean;
  /** ports.sidecar_min_port … sidecar_max_port. */
  sidecarPorts: SidecarPorts;
}

function dur(v: unknown, fallback: number): number {
  if (typeof v !== 'string') return fallback;
  return parseGoDuration(v) ?? fallback;
}

/** Reads the local-state settings from the raw config, with Consul's defaults. */
export function localSettings(raw: Record<string, unknown>): LocalSettings {
  const acl = (raw.acl ?? {}) as Record<string, unknown>;
  const remote = raw.enable_script_checks === true;
  const ports = (raw.ports ?? {}) as Record<string, unknown>;
  const port = (v: unknown, fallback: number) => (typeof v === 'number' ? v : fallback);
  return {
    aeIntervalMs: dur(raw.ae_interval, 60_000),
    checkUpdateIntervalMs: dur(raw.check_update_interval, 300_000),
    checkReapIntervalMs: dur(raw.check_reap_interval, 30_000),
    discardCheckOutput: raw.discard_check_output === true,
    scripts: { remote, local: remote || raw.enable_local_script_checks === true },
    checkOutputMaxSize: typeof raw.check_output_max_size === 'number' ? raw.check_output_max_size : 4096,
    tokenPersistence: acl.enable_token_persistence === true,
    sidecarPorts: { min: port(ports.sidecar_min_port, 21000), max: port(ports.sidecar_max_port, 21255) },
  };
}

function list(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  return v && typeof v === 'object' ? [v] : [];
}

function loadConfigEntries(agent: LocalAgent, raw: Record<string, unknown>, snapshot: Map<string, LocalCheck>): void {
  const services = [...list(raw.services), ...list(raw.service)];
  const checks = [...list(raw.checks), ...list(raw.check)];
  if (services.length === 0 && checks.length === 0) return;
  const { decodeCheck, decodeService, proxyModeProblems, serviceProblems, sidecarFromDefinition } = definitions();
  for (const s of services) {
    const def = decodeService(s);
    const name = JSON.stringify(def.service.Service);
    // Modes are checked while the config is built, before any registration (Consul's builder).
    const modes = [...proxyModeProblems(def.service.Proxy), ...proxyModeProblems(def.sidecar?.def.service.Proxy)];
    if (modes.length) throw new Error(multiError(modes));
    const problems = serviceProblems(def, false);
    if (problems.length) throw new Error(`service ${name}: ${multiError(problems)}`);
    let sidecar;
    try {
      sidecar = sidecarFromDefinition(def, def.token);
    } catch (err) {
      throw new Error(`Failed to validate sidecar for service ${name}: ${(err as Error).message}`, { cause: err });
    }
    try {
      agent.addService(def, { source: 'local', persist: false, token: def.token, snapshot });
    } catch (err) {
      throw new Error(`Failed to register service ${name}: ${(err as Error).message}`, { cause: err });
    }
    if (!sidecar) continue;
    try {
      agent.addService(sidecar.def, { source: 'local', persist: false, token: sidecar.token, snapshot });
    } catch (err) {
      throw new Error(`Failed to register sidecar for service ${name}: ${(err as Error).message}`, { cause: err });
    }
  }
  for (const c of checks) {
    const def = decodeCheck(c);
    try {
      agent.addCheck(agent.healthCheck(def), def.type, { source: 'local', persist: false, token: def.Token, snapshot });
    } catch (err) {
      throw new Error(`Failed to register check '${def.Name}': ${(err as Error).message}`, { cause: err });
    }
  }
}

function loadPersisted(agent: LocalAgent, p: Persistence, logger: Logger, snapshot: Map<string, LocalCheck>): void {
  for (const ps of p.services()) {
    if (agent.state.service(serviceKeyOf(ps.Service))) {
      logger.debug({ service: ps.Service.ID }, 'service exists, not restoring from file');
      p.purgeService(serviceKeyOf(ps.Service));
      continue;
    }
    agent.addService({ service: ps.Service, checks: [], token: ps.Token }, { source: ps.Source, persist: false, token: ps.Token, snapshot });
  }
  for (const pc of p.checks()) {
    const id = checkKeyOf(pc.Check);
    if (agent.state.check(id)) {
      p.purgeCheck(id);
      continue;
    }
    // A restored check starts critical so an unhealthy service stays out of the pool.
    const check = { ...pc.Check, Status: 'critical', Output: '' };
    try {
      agent.addCheck(check, pc.ChkType, { source: pc.Source, persist: false, token: pc.Token, snapshot });
    } catch (err) {
      logger.warn({ check: id, err }, 'Failed to restore check');
      p.purgeCheck(id);
    }
  }
}

/** Registers the config-file and persisted services and checks; `snapshot` keeps statuses across a reload. */
export function loadRegistrations(
  agent: LocalAgent, raw: Record<string, unknown>, p: Persistence | undefined, logger: Logger,
  snapshot = new Map<string, LocalCheck>(),
): void {
  loadConfigEntries(agent, raw, snapshot);
  if (p) loadPersisted(agent, p, logger, snapshot);
}

/** Consul's reload of services and checks: drop everything from memory, then load again. */
export function reloadRegistrations(agent: LocalAgent, raw: Record<string, unknown>, p: Persistence | undefined, logger: Logger): void {
  const snapshot = new Map(agent.state.checks('*').map((c) => [checkKeyOf(c), c]));
  agent.unloadAll();
  loadRegistrations(agent, raw, p, logger, snapshot);
}
