// Timer samples held in preallocated arrays and handed to their summary in bulk: a hot path (one
// DNS question) records a duration and the monotonic time it ended, two typed-array stores and
// no allocation, map lookup or wall-clock read; the batch goes to the summary when it is full or
// before the metrics are read (scrape, JSON, push tick), each sample keeping the time it ended.

/** Samples per batch: at 100 k questions a second, a hand-off every 10 ms. */
export const TIMER_BATCH_SIZE = 1024;

/** Receives `n` samples: durations (ms) and when each ended (performance.now() ms). */
export type TimerBatchSink = (ms: Float64Array, at: Float64Array, n: number) => void;

/** A fixed-size buffer of timer samples (see above). */
export class TimerBatch {
  readonly #ms = new Float64Array(TIMER_BATCH_SIZE);
  readonly #at = new Float64Array(TIMER_BATCH_SIZE);
  #n = 0;
  readonly #sink: TimerBatchSink;

  constructor(sink: TimerBatchSink) {
    this.#sink = sink;
  }

  /** Records one sample: `ms` long, ended at `at` (performance.now()). */
  add(ms: number, at: number): void {
    const i = this.#n;
    this.#ms[i] = ms;
    this.#at[i] = at;
    if ((this.#n = i + 1) === TIMER_BATCH_SIZE) this.flush();
  }

  /** Hands the samples held to the sink. */
  flush(): void {
    const n = this.#n;
    if (n === 0) return;
    this.#n = 0;
    this.#sink(this.#ms, this.#at, n);
  }
}
