// The leader's duties as one unit: started in order when this server gains leadership, stopped
// in reverse when it loses it, never interleaved. A failed start stops what did start and
// retries while leadership lasts (Consul's establishLeadership / revokeLeadership).
import type { Clock, TimerHandle } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { LeaderElection } from './election-types.ts';

/** One leader duty (a loop or a one-shot step at leadership start). */
export interface LeaderLoop {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void> | void;
}

/**
 * A leader loop that runs `run` in the background while this server leads: a start aborts the
 * previous run's signal and starts a new one, a stop aborts it (the run returns at its next check).
 */
export function backgroundLoop(name: string, run: (signal: AbortSignal) => Promise<void>): LeaderLoop {
  let stopper: AbortController | null = null;
  return {
    name,
    start: async () => {
      stopper?.abort();
      const c = new AbortController();
      stopper = c;
      void run(c.signal);
    },
    stop: () => {
      stopper?.abort();
      stopper = null;
    },
  };
}

/** Dependencies of the loop set. */
export interface LeaderLoopsDeps {
  clock: Clock;
  logger: Logger;
  /** Delay before retrying a failed start (default 1 s). */
  retryMs?: number;
}

/** Every leader duty of a server, run only while it leads. */
export class LeaderLoops {
  readonly #d: LeaderLoopsDeps;
  readonly #loops: LeaderLoop[] = [];
  #started: LeaderLoop[] = [];
  #queue: Promise<void> = Promise.resolve();
  #wanted = false;
  #retry: TimerHandle | null = null;

  constructor(deps: LeaderLoopsDeps) {
    this.#d = deps;
  }

  /** Adds a duty (the hook for future loops); it runs from the next leadership start. */
  add(loop: LeaderLoop): this {
    this.#loops.push(loop);
    return this;
  }

  /** Starts on gaining leadership and stops on losing it. */
  follow(election: LeaderElection): void {
    election.onLeadership((leader) => void (leader ? this.start() : this.stop()));
  }

  /** Whether the duties are (meant to be) running. */
  get running(): boolean {
    return this.#wanted;
  }

  /** Names of the duties that are running now. */
  active(): string[] {
    return this.#started.map((l) => l.name);
  }

  /** Starts every duty in order; resolves when done (or failed and scheduled for retry). */
  start(): Promise<void> {
    this.#wanted = true;
    return this.#enqueue(() => this.#startAll());
  }

  /** Stops every running duty in reverse order. */
  stop(): Promise<void> {
    this.#wanted = false;
    this.#retry?.cancel();
    this.#retry = null;
    return this.#enqueue(() => this.#stopAll());
  }

  #enqueue(step: () => Promise<void>): Promise<void> {
    this.#queue = this.#queue.then(step, step);
    return this.#queue;
  }

  async #startAll(): Promise<void> {
    let started = 0;
    for (const loop of this.#loops) {
      if (!this.#wanted) return;
      if (this.#started.includes(loop)) continue;
      try {
        await loop.start();
        this.#started.push(loop);
        started++;
      } catch (err) {
        this.#d.logger.error({ err, loop: loop.name }, 'leader duty failed to start; retrying');
        await this.#stopAll();
        this.#scheduleRetry();
        return;
      }
    }
    // A start while they already run (the agent awaits the start that leadership began) says nothing.
    if (started > 0) this.#d.logger.info({ loops: this.active() }, 'leader duties running');
  }

  async #stopAll(): Promise<void> {
    for (const loop of this.#started.reverse()) {
      try {
        await loop.stop();
      } catch (err) {
        this.#d.logger.warn({ err, loop: loop.name }, 'leader duty failed to stop cleanly');
      }
    }
    this.#started = [];
  }

  #scheduleRetry(): void {
    this.#retry?.cancel();
    this.#retry = this.#d.clock.setTimer(this.#d.retryMs ?? 1000, () => {
      this.#retry = null;
      if (this.#wanted) void this.#enqueue(() => this.#startAll());
    });
  }
}
