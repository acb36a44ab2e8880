// TTL checks (Consul's CheckTTL): passive; the application reports through pass/warn/fail/update,
// each report re-arms the TTL, and a missed TTL turns the check critical with Consul's text.
import type { Clock, TimerHandle } from '../../clock.ts';
import type { Logger } from '../../log.ts';
import { truncateHead } from './output.ts';
import type { Lifecycle } from './schedule.ts';
import type { CheckStatus, UpdateFn } from './types.ts';

/** The reporting surface of a TTL check (what /v1/agent/check/pass|warn|fail|update call). */
export interface TtlControl {
  /** Sets status and output, re-arms the TTL; returns the stored (possibly truncated) output. */
  update(status: CheckStatus, output: string): string;
  /** update('passing', output). */
  pass(output?: string): string;
  /** update('warning', output). */
  warn(output?: string): string;
  /** update('critical', output). */
  fail(output?: string): string;
}

/** What a TTL runner needs. */
export interface TtlRunnerOptions {
  checkID: string;
  ttlMs: number;
  maxOutput: number;
  clock: Clock;
  logger: Logger;
  update: UpdateFn;
}

/** Creates a TTL runner; the TTL starts counting at start(). */
export function createTtlRunner(opts: TtlRunnerOptions): Lifecycle & TtlControl {
  let timer: TimerHandle | undefined;
  let running = false;
  let lastOutput = '';

  const expired = (): void => {
    timer = undefined;
    opts.logger.warn({ check: opts.checkID }, 'Check missed TTL, is now critical');
    const output = lastOutput === '' ? 'TTL expired' : `TTL expired (last output before timeout follows): ${lastOutput}`;
    opts.update('critical', output);
  };
  const arm = (): void => {
    timer?.cancel();
    timer = running ? opts.clock.setTimer(opts.ttlMs, expired) : undefined;
  };
  const update = (status: CheckStatus, output: string): string => {
    opts.logger.debug({ check: opts.checkID, status }, 'Check status updated');
    const stored = truncateHead(output, opts.maxOutput);
    opts.update(status, stored);
    lastOutput = stored;
    arm();
    return stored;
  };
  return {
    start() {
      if (running) return;
      running = true;
      arm();
    },
    stop() {
      running = false;
      timer?.cancel();
      timer = undefined;
    },
    update,
    pass: (output = '') => update('passing', output),
    warn: (output = '') => update('warning', output),
    fail: (output = '') => update('critical', output),
  };
}
