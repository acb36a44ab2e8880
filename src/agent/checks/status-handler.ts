// Consul's StatusHandler: consecutive-result thresholds (success_before_passing,
// failures_before_warning, failures_before_critical) between a runner and the agent's state.
import type { Logger } from '../../log.ts';
import type { CheckStatus, UpdateFn } from './types.ts';

/** Thresholds and the sink for reported statuses. */
export interface StatusHandlerOptions {
  checkID: string;
  successBeforePassing?: number;
  /** Defaults to failuresBeforeCritical when 0 or unset, as Consul's agent defaults it. */
  failuresBeforeWarning?: number;
  failuresBeforeCritical?: number;
  update: UpdateFn;
  logger: Logger;
}

/** Filters raw check results through the consecutive-result counters. */
export interface StatusHandler {
  /** Feeds one raw result; forwards it (or a warning) once its threshold is reached. */
  report(status: CheckStatus, output: string): void;
}

/**
 * Creates a status handler. Counters start at their thresholds so the first result is applied at
 * once; passing and warning both count as success, and each side resets the other's counter.
 */
export function createStatusHandler(opts: StatusHandlerOptions): StatusHandler {
  const successBeforePassing = opts.successBeforePassing ?? 0;
  const failuresBeforeCritical = opts.failuresBeforeCritical ?? 0;
  const failuresBeforeWarning = opts.failuresBeforeWarning || failuresBeforeCritical;
  let successes = successBeforePassing;
  let failures = failuresBeforeCritical;
  const log = opts.logger;
  const check = opts.checkID;
  return {
    report(status, output) {
      if (status === 'passing' || status === 'warning') {
        successes++;
        failures = 0;
        if (successes >= successBeforePassing) {
          log.debug({ check, status }, 'Check status updated');
          opts.update(status, output);
          return;
        }
        log.warn({ check, status, success_count: successes, success_threshold: successBeforePassing },
          'Check passed but has not reached success threshold');
        return;
      }
      failures++;
      successes = 0;
      if (failures >= failuresBeforeCritical) {
        log.warn({ check }, 'Check is now critical');
        opts.update(status, output);
        return;
      }
      if (failures >= failuresBeforeWarning) {
        log.warn({ check }, 'Check is now warning');
        opts.update('warning', output);
        return;
      }
      log.warn({ check, status, failure_count: failures, warning_threshold: failuresBeforeWarning,
        failure_threshold: failuresBeforeCritical }, 'Check failed but has not reached warning/failure threshold');
    },
  };
}
