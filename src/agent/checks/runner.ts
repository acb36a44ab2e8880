// createCheckRunner: validates a definition, applies the agent's defaults (minimum interval,
// output cap, FailuresBeforeWarning) and wires the right probe to the schedule and status handler.
// Each kind's probe module is imported on its first run, so an agent loads only the kinds it runs
// (most start with none: ten modules, child_process and dns/promises off every agent start).
import type { Clock } from '../../clock.ts';
import { BadRequestError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { createAliasRunner, type AliasSource } from './alias.ts';
import type { CommandRunner } from './command.ts';
import { goDuration } from './output.ts';
import { periodic, type Lifecycle } from './schedule.ts';
import type { ProbeResult } from './script.ts';
import { createStatusHandler } from './status-handler.ts';
import { createTtlRunner, type TtlControl } from './ttl.ts';
import {
  checkKind, MIN_INTERVAL_MS, outputMaxSize, validateCheckType,
  type CheckKind, type CheckStatus, type CheckType, type UpdateFn,
} from './types.ts';

/** A running check of any kind. */
export interface CheckRunner extends Lifecycle {
  readonly kind: CheckKind;
  /** The interval actually used (raised to the 1s minimum); 0 for TTL and alias checks. */
  readonly intervalMs: number;
}

/** A TTL check runner: also takes the application's reports. */
export interface TtlCheckRunner extends CheckRunner, TtlControl {
  readonly kind: 'ttl';
}

/** Everything a runner depends on. */
export interface CheckRunnerDeps {
  clock: Clock;
  logger: Logger;
  /** Stagger source in [0, 1); default Math.random. */
  random?: () => number;
  /** Receives the initial status, then every reported status. */
  update: UpdateFn;
  /** Required for alias checks. */
  aliasSource?: AliasSource;
  /** Runs script, docker and systemctl commands; default spawns real processes. */
  commandRunner?: CommandRunner;
  /** Script and docker checks are refused unless true (Consul's enable_script_checks). */
  enableScriptChecks?: boolean;
  /** The agent's check_output_max_size (default 4096). */
  checkOutputMaxSize?: number;
  /** Extra CA certificates (PEM) trusted by TLS checks. */
  tlsCA?: string;
  /** enable_agent_tls_for_checks: the agent's CAs, key pair and default server name for HTTP, TCP, gRPC and H2PING checks. */
  agentTls?: import('node:tls').ConnectionOptions;
}

/** Narrows a runner to the TTL kind. */
export function isTtlRunner(runner: CheckRunner): runner is TtlCheckRunner {
  return runner.kind === 'ttl';
}

function checkDefinition(def: CheckType, deps: CheckRunnerDeps): CheckKind {
  const invalid = validateCheckType(def);
  if (invalid) throw new BadRequestError(invalid);
  const kind = checkKind(def);
  if (!kind) throw new BadRequestError('Check type is not valid');
  if ((kind === 'script' || kind === 'docker') && !deps.enableScriptChecks) {
    throw new BadRequestError("Scripts are disabled on this agent; to enable, configure 'enable_script_checks' or 'enable_local_script_checks' to true");
  }
  return kind;
}

type Probe = (signal: AbortSignal) => Promise<ProbeResult>;

/** A probe built on its first run, once `load` has imported its module. */
function lazyProbe(load: () => Promise<Probe>): Probe {
  let probe: Promise<Probe> | undefined;
  return async (signal) => (await (probe ??= load()))(signal);
}

/** The default command runner (real processes), its module imported on the first command. */
function lazyProcessRunner(clock: Clock): CommandRunner {
  let runner: Promise<CommandRunner> | undefined;
  return async (file, args, opts) => (await (runner ??= import('./command.ts').then((m) => m.processRunner(clock))))(file, args, opts);
}

function probeFor(kind: CheckKind, def: CheckType, deps: CheckRunnerDeps, maxOutput: number): Probe {
  const { clock, tlsCA: ca, agentTls } = deps;
  const runCommand = deps.commandRunner ?? lazyProcessRunner(clock);
  switch (kind) {
    case 'http': return lazyProbe(async () => (await import('./http.ts')).httpProbe(def, { clock, maxOutput, ca, agentTls }));
    case 'tcp': return lazyProbe(async () => (await import('./tcp.ts')).tcpProbe(def, { clock, ca, agentTls }));
    case 'udp': return lazyProbe(async () => (await import('./udp.ts')).udpProbe(def, { clock }));
    case 'grpc': return lazyProbe(async () => (await import('./grpc.ts')).grpcProbe(def, { clock, ca, agentTls }));
    case 'h2ping': return lazyProbe(async () => (await import('./h2ping.ts')).h2pingProbe(def, { clock, ca, agentTls }));
    case 'docker': return lazyProbe(async () => (await import('./docker.ts')).dockerProbe(def, { runCommand, maxOutput }));
    case 'os_service': return lazyProbe(async () => (await import('./os-service.ts')).osServiceProbe(def, runCommand));
    case 'script': return lazyProbe(async () => (await import('./script.ts')).scriptProbe(def, { runCommand, maxOutput }));
    default: throw new Error(`no probe for ${kind} checks`);
  }
}

function polledInterval(def: CheckType, checkID: string, logger: Logger): number {
  const interval = def.Interval ?? 0;
  if (interval >= MIN_INTERVAL_MS) return interval;
  logger.warn({ check: checkID, minimum_interval: goDuration(MIN_INTERVAL_MS) }, 'check has interval below minimum');
  return MIN_INTERVAL_MS;
}

function lifecycleFor(kind: CheckKind, def: CheckType, deps: CheckRunnerDeps, checkID: string, logger: Logger): Lifecycle & Partial<TtlControl> & { intervalMs: number } {
  const maxOutput = outputMaxSize(def, deps.checkOutputMaxSize);
  if (kind === 'ttl') {
    return { ...createTtlRunner({ checkID, ttlMs: def.TTL ?? 0, maxOutput, clock: deps.clock, logger, update: deps.update }), intervalMs: 0 };
  }
  if (kind === 'alias') {
    if (!deps.aliasSource) throw new Error('alias checks need an aliasSource');
    const target = { node: def.AliasNode ?? '', serviceID: def.AliasService ?? '' };
    return { ...createAliasRunner({ target, source: deps.aliasSource, clock: deps.clock, update: deps.update }), intervalMs: 0 };
  }
  const intervalMs = polledInterval(def, checkID, logger);
  const probe = probeFor(kind, def, deps, maxOutput);
  const handler = createStatusHandler({
    checkID, successBeforePassing: def.SuccessBeforePassing, failuresBeforeWarning: def.FailuresBeforeWarning,
    failuresBeforeCritical: def.FailuresBeforeCritical, update: deps.update, logger,
  });
  const loop = periodic({
    clock: deps.clock, intervalMs, random: deps.random ?? Math.random, logger,
    run: async (signal) => {
      const r = await probe(signal);
      if (!signal.aborted) handler.report(r.status, r.output);
    },
  });
  return { ...loop, intervalMs };
}

/**
 * Builds the runner for a check definition. Throws BadRequestError with Consul's text for an
 * invalid definition or disabled script checks. The first start() reports the initial status
 * (def.Status, default critical, empty output) before any probe runs.
 */
export function createCheckRunner(def: CheckType, deps: CheckRunnerDeps): CheckRunner {
  const kind = checkDefinition(def, deps);
  const checkID = def.CheckID || def.Name || '';
  const logger = deps.logger.child({ '@module': 'agent.checks' });
  const inner = lifecycleFor(kind, def, deps, checkID, logger);
  const initial: CheckStatus = def.Status ?? 'critical';
  let started = false;
  return {
    ...inner,
    kind,
    start() {
      if (!started) deps.update(initial, '');
      started = true;
      inner.start();
    },
    stop: () => inner.stop(),
  };
}


