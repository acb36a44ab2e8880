// The injectable clock: TTLs, lock-delay, check intervals and timeouts read time through it,
// so tests can drive time by hand instead of sleeping.

/** A cancellable timer handle. */
export interface TimerHandle {
  cancel(): void;
}

/** Wall-clock time and timers. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds. Timers never keep the process alive. */
  setTimer(ms: number, fn: () => void): TimerHandle;
}

/** setTimeout's longest delay (≈24.8 days): Node runs a longer one after 1 ms. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** The real clock backed by Date.now and unref'd timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    if (ms > MAX_TIMEOUT_MS) return longTimer(ms, fn);
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

/** A timer past setTimeout's range (a long-lived certificate's renewal), re-armed in steps. */
function longTimer(ms: number, fn: () => void): TimerHandle {
  let t: NodeJS.Timeout;
  const arm = (left: number): void => {
    t = left > MAX_TIMEOUT_MS ? setTimeout(() => arm(left - MAX_TIMEOUT_MS), MAX_TIMEOUT_MS) : setTimeout(fn, left);
    t.unref();
  };
  arm(ms);
  return { cancel: () => clearTimeout(t) };
}

/** A manual clock for tests: time moves only when `advance()` is called. */
export class ManualClock implements Clock {
  #now: number;
  #timers = new Map<number, { at: number; fn: () => void; id: number }>();
  #nextId = 1;

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const id = this.#nextId++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn, id });
    return { cancel: () => { this.#timers.delete(id); } };
  }

  /** Moves time forward, firing due timers in deadline order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let due: { at: number; fn: () => void; id: number } | undefined;
      for (const t of this.#timers.values()) {
        if (t.at <= target && (!due || t.at < due.at || (t.at === due.at && t.id < due.id))) due = t;
      }
      if (!due) break;
      this.#timers.delete(due.id);
      this.#now = Math.max(this.#now, due.at);
      due.fn();
    }
    this.#now = target;
  }
}
