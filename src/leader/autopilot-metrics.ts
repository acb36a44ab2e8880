// Consul's autopilot gauges (autopilot.healthy, autopilot.failure_tolerance): the leader works
// out the servers' health as /v1/operator/autopilot/health does, every few seconds as Consul's
// autopilot updates its state, and the gauges show the last result. Followers emit none (NaN).
import type { Clock, TimerHandle } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/index.ts';
import type { LeaderElection } from './election-types.ts';
import type { LeaderLoop } from './loops.ts';
import { health, readConfig, type AutopilotConfig } from './autopilot.ts';
import { isVoter, membershipNow } from './autopilot-loop.ts';

/** How often the leader refreshes the gauges (Consul's autopilot update interval). */
export const AUTOPILOT_METRICS_INTERVAL_MS = 2_000;

/** What the duty needs. */
export interface AutopilotMetricsDeps {
  store: Store;
  election: LeaderElection;
  clock: Clock;
  logger: Logger;
  agentConfig(): AutopilotConfig;
}

/** The leader duty refreshing the autopilot gauges, and the gauges' reads. */
export class AutopilotMetrics implements LeaderLoop {
  readonly name = 'autopilot-metrics';
  readonly #d: AutopilotMetricsDeps;
  #timer: TimerHandle | null = null;
  #last: { healthy: boolean; tolerance: number } | null = null;
  #running = false;
  /** Bumped by each start and stop: a refresh of an earlier term neither sets the gauges nor reschedules. */
  #term = 0;

  constructor(deps: AutopilotMetricsDeps) {
    this.#d = deps;
  }

  async start(): Promise<void> {
    this.#running = true;
    this.#term++;
    await this.refresh();
  }

  stop(): void {
    this.#running = false;
    this.#term++;
    this.#timer?.cancel();
    this.#timer = null;
    this.#last = null;
  }

  /** Computes the health once and schedules the next round. */
  async refresh(): Promise<void> {
    const term = this.#term;
    const current = (): boolean => this.#running && term === this.#term;
    try {
      const membership = await membershipNow(this.#d.store);
      const cfg = await readConfig(this.#d.store, this.#d.agentConfig());
      const h = health(this.#d.election, cfg, this.#d.clock.now(), (s) => isVoter(s, membership));
      if (current()) this.#last = { healthy: h.Healthy, tolerance: h.FailureTolerance };
    } catch (err) {
      this.#d.logger.debug({ err }, 'autopilot health for metrics not computed');
    }
    if (current()) this.#timer = this.#d.clock.setTimer(AUTOPILOT_METRICS_INTERVAL_MS, () => void this.refresh());
  }

  /** 1 when every server is healthy, 0 when not, NaN off the leader. */
  healthy(): number {
    return this.#last ? (this.#last.healthy ? 1 : 0) : NaN;
  }

  /** Voters that can fail without losing quorum, NaN off the leader. */
  failureTolerance(): number {
    return this.#last ? this.#last.tolerance : NaN;
  }
}
