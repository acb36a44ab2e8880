// The polling loop every interval check shares: a random first delay within one interval, then
// one run at a time with `interval` between the end of a run and the start of the next.
import type { Clock, TimerHandle } from '../../clock.ts';
import type { Logger } from '../../log.ts';

/** The start/stop surface every runner exposes. */
export interface Lifecycle {
  /** Begins running (idempotent). */
  start(): void;
  /** Stops scheduling and aborts a run in flight; its result is dropped. */
  stop(): void;
}

/** What the loop needs: timing, the stagger source and the probe itself. */
export interface PeriodicOptions {
  clock: Clock;
  intervalMs: number;
  random: () => number;
  logger: Logger;
  /** One probe; resolves when done. `signal` aborts when the runner stops. */
  run(signal: AbortSignal): Promise<void>;
}

/** Creates the polling loop (Consul's `lib.RandomStagger` then `time.After(interval)` loop). */
export function periodic(opts: PeriodicOptions): Lifecycle {
  let timer: TimerHandle | undefined;
  let abort: AbortController | undefined;
  let running = false;

  const tick = (): void => {
    timer = undefined;
    const ctl = new AbortController();
    abort = ctl;
    opts.run(ctl.signal)
      .catch((err: unknown) => opts.logger.error({ err }, 'check run failed'))
      .finally(() => {
        if (abort === ctl) abort = undefined;
        if (running && !ctl.signal.aborted) timer = opts.clock.setTimer(opts.intervalMs, tick);
      });
  };

  return {
    start() {
      if (running) return;
      running = true;
      timer = opts.clock.setTimer(Math.floor(opts.random() * opts.intervalMs), tick);
    },
    stop() {
      running = false;
      timer?.cancel();
      timer = undefined;
      abort?.abort();
      abort = undefined;
    },
  };
}
