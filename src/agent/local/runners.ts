// The running checks of this agent: one runner per check (src/agent/checks), results fed into
// the local state, TTL reports with their persisted state, and Consul's reaper of services
// whose check stayed critical past deregister_critical_service_after.
import { createRequire } from 'node:module';
import type { Clock, TimerHandle } from '../../clock.ts';
import { InternalError, ProconsulError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { AliasSource, CheckRunner, CheckStatus, CheckType } from '../checks/index.ts';
import type { Persistence } from './persist.ts';
import { checkKeyOf, localKey, type ConfigSource, type LocalCheck, type LocalState } from './state.ts';

const require = createRequire(import.meta.url);
/** The check runners (src/agent/checks), loaded by the first check to run, not by a start (issue #9). */
let checksModule: typeof import('../checks/index.ts') | undefined;
const checks = () => checksModule ??= require('../checks/index.ts') as typeof import('../checks/index.ts');

/** Consul's check_deregister_interval_min: the shortest effective deregister_critical_service_after. */
export const DEREGISTER_MIN_MS = 60_000;

/** What the runners need. */
export interface RunnersOptions {
  state: LocalState;
  clock: Clock;
  random: () => number;
  logger: Logger;
  persistence?: Persistence;
  aliasSource: AliasSource;
  /** enable_script_checks (remote and local) / enable_local_script_checks (local only). */
  scripts: { remote: boolean; local: boolean };
  checkOutputMaxSize: number;
  /** check_reap_interval (30s). */
  reapIntervalMs: number;
  /** Deregisters a service whose check stayed critical too long. */
  reap: (serviceId: string) => Promise<void>;
  /** enable_agent_tls_for_checks: the agent's TLS material for checks, read as each check starts (undefined: off). */
  checkTls?: () => import('node:tls').ConnectionOptions | undefined;
}

/** Starts, stops and reports to check runners. */
export class CheckRunners {
  readonly #o: RunnersOptions;
  readonly #runners = new Map<string, CheckRunner>();
  readonly #reapAfter = new Map<string, number>();
  readonly #ttlOf = new Map<string, number>();
  #reapTimer: TimerHandle | undefined;

  constructor(opts: RunnersOptions) {
    this.#o = opts;
  }

  /**
   * Runs `type` for `check`, replacing a previous runner. `keep` is a status to keep instead
   * of the definition's initial one (a re-registration or a restored TTL state).
   */
  run(check: LocalCheck, type: CheckType, source: ConfigSource, keep?: { Status: string; Output: string }): void {
    const { state, clock, logger } = this.#o;
    // Keyed as the local state keys it (the ID, with its namespace outside the default one).
    const id = checkKeyOf(check);
    this.stop(id);
    if (source === 'remote' && !this.#o.scripts.remote && isScript(type)) {
      throw new InternalError("Scripts are disabled on this agent from remote calls; to enable, configure 'enable_script_checks' to true");
    }
    let skipInitial = keep !== undefined;
    const { createCheckRunner, isTtlRunner } = checks();
    let runner: CheckRunner;
    try {
      runner = createCheckRunner({ ...type, CheckID: id, Name: check.Name, Status: check.Status as CheckStatus }, {
        clock, logger, random: this.#o.random, aliasSource: this.#o.aliasSource,
        enableScriptChecks: source === 'local' ? this.#o.scripts.local : this.#o.scripts.remote,
        checkOutputMaxSize: this.#o.checkOutputMaxSize, agentTls: this.#o.checkTls?.(),
        update: (status, output) => {
          if (skipInitial) skipInitial = false;
          else state.updateCheck(id, status, output);
        },
      });
    } catch (err) {
      throw err instanceof ProconsulError ? new InternalError(err.message, { cause: err }) : err;
    }
    this.#runners.set(id, runner);
    if (type.TTL) this.#ttlOf.set(id, type.TTL);
    runner.start();
    if (keep && isTtlRunner(runner)) runner.update(keep.Status as CheckStatus, keep.Output);
    const after = type.DeregisterCriticalServiceAfter ?? 0;
    if (after > 0) this.#reapAfter.set(id, Math.max(after, DEREGISTER_MIN_MS));
    else this.#reapAfter.delete(id);
  }

  /** Stops a check's runner, if any. */
  stop(id: string): void {
    this.#runners.get(id)?.stop();
    this.#runners.delete(id);
    this.#reapAfter.delete(id);
    this.#ttlOf.delete(id);
  }

  /** Stops every runner and the reaper. */
  stopAll(): void {
    for (const id of [...this.#runners.keys()]) this.stop(id);
    this.#reapTimer?.cancel();
    this.#reapTimer = undefined;
  }

  /** Number of TTL and polling runners, for agent/self stats. */
  counts(): { ttl: number; monitors: number } {
    const all = [...this.#runners.values()];
    const ttl = all.filter((r) => r.kind === 'ttl').length;
    return { ttl, monitors: all.filter((r) => r.kind === 'script').length };
  }

  /** Consul's updateTTLCheck: reports to a TTL check and persists its state until it would expire. */
  updateTTL(id: string, status: CheckStatus, output: string): void {
    const runner = this.#runners.get(id);
    if (!runner || !checks().isTtlRunner(runner)) throw new InternalError(`CheckID ${JSON.stringify(id)} does not have associated TTL`);
    const stored = runner.update(status, output);
    const ttl = this.#ttlOf.get(id) ?? 0;
    this.#o.persistence?.saveCheckState({
      CheckID: id, Status: status, Output: stored, Expires: Math.floor((this.#o.clock.now() + ttl) / 1000),
    });
  }

  /** Starts the reaper loop. */
  startReaper(): void {
    const tick = (): void => {
      this.#reapTimer = this.#o.clock.setTimer(this.#o.reapIntervalMs, () => {
        void this.reapOnce().finally(() => { if (this.#reapTimer) tick(); });
      });
    };
    this.#reapTimer?.cancel();
    tick();
  }

  /** One reaper pass: removes each service with a check critical longer than its timeout. */
  async reapOnce(): Promise<void> {
    const { state, clock } = this.#o;
    const reaped = new Set<string>();
    for (const [id, timeout] of this.#reapAfter) {
      const check = state.check(id);
      const since = state.criticalSince(id);
      const service = check?.ServiceID ? localKey(check.ServiceID, check.Namespace) : '';
      if (!service || since === undefined || reaped.has(service)) continue;
      if (clock.now() - since <= timeout) continue;
      reaped.add(service);
      this.#o.logger.info({ service: check!.ServiceID, check: id }, "deregistered service with critical health due to exceeding health check's 'deregister_critical_service_after' timeout");
      await this.#o.reap(service);
    }
  }
}

function isScript(t: CheckType): boolean {
  return Boolean((t.ScriptArgs && t.ScriptArgs.length) || (t.Args && t.Args.length) || t.Script);
}
