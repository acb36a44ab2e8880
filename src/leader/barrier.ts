// Leader duty: the barrier (Consul's raft Barrier in its leader loop). On gaining leadership, and
// again every reconcile interval while it leads, the server reads the store's current revision
// (linearizably with etcd) and waits until its replica has applied it, so the duties after it act
// on every earlier write. Each barrier that completes is timed as Consul's leader.barrier.
import { performance } from 'node:perf_hooks';
import type { Clock, TimerHandle } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/index.ts';
import type { Replica } from '../state/index.ts';
import type { LeaderLoop } from './loops.ts';
import { RECONCILE_INTERVAL_MS } from './reconcile.ts';

/** What the barrier reads and reports to. */
export interface BarrierDeps {
  store: Pick<Store, 'currentRevision'>;
  replica: Pick<Replica, 'waitFor'>;
  clock: Clock;
  logger: Logger;
  /** Consul's leader.barrier timer, in ms (absent: not timed). */
  timer?: (ms: number) => void;
  /** Between barriers while leading (default: Consul's reconcile_interval). */
  intervalMs?: number;
}

/** The barrier duty: first of the leader's duties, so a failed barrier keeps the others from starting. */
export class LeaderBarrier implements LeaderLoop {
  readonly name = 'barrier';
  readonly #d: BarrierDeps;
  #timer: TimerHandle | null = null;
  #running = false;
  /** Bumped by each stop: a barrier from an earlier leadership never schedules the next one. */
  #term = 0;

  constructor(deps: BarrierDeps) {
    this.#d = deps;
  }

  async start(): Promise<void> {
    await this.barrier();
    this.#running = true;
    this.#schedule();
  }

  stop(): void {
    this.#running = false;
    this.#term++;
    this.#timer?.cancel();
    this.#timer = null;
  }

  /**
   * One barrier: resolves once the replica holds every write committed before it began. One that
   * leadership ended during is not timed, as Consul's barrier fails when leadership is lost.
   */
  async barrier(): Promise<void> {
    const term = this.#term;
    const t0 = performance.now();
    await this.#d.replica.waitFor(await this.#d.store.currentRevision());
    if (this.#term === term) this.#d.timer?.(performance.now() - t0);
  }

  #schedule(): void {
    const term = this.#term;
    const current = () => this.#running && this.#term === term;
    this.#timer = this.#d.clock.setTimer(this.#d.intervalMs ?? RECONCILE_INTERVAL_MS, () => {
      if (!current()) return;
      // Consul logs a failed barrier and waits for the next interval; one cut short by the end of
      // leadership (or of the agent) is not a failure. A barrier still running when leadership
      // ended and came back leaves the scheduling to the new leadership's loop.
      this.barrier().catch((err: unknown) => { if (current()) this.#d.logger.error({ error: (err as Error).message }, 'failed to wait for barrier'); })
        .finally(() => { if (current()) this.#schedule(); });
    });
  }
}
