// The metrics summaries /v1/agent/metrics/stream sends (go-metrics' InmemSink.Stream): one
// summary per finished interval, rendered once and written to every listener. A single timer
// runs while anyone listens, aligned to interval boundaries as go-metrics' intervals are; the
// last listener leaving cancels it, so idle agents and closed connections keep no timers.
import type { Clock, TimerHandle } from '../clock.ts';

/** Go's time.Duration of go-metrics' default in-memory interval (Consul's 10 s). */
export const METRICS_STREAM_INTERVAL_MS = 10_000;

/** What the stream renders: the summary Consul's JSON metrics endpoint returns. */
export type SummarySource = () => Promise<Record<string, unknown>>;

/** Fans interval summaries out to streaming clients. */
export class MetricsStream {
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #summary: SummarySource;
  readonly #listeners = new Set<(chunk: string) => void>();
  #timer: TimerHandle | undefined;

  constructor(clock: Clock, summary: SummarySource, intervalMs = METRICS_STREAM_INTERVAL_MS) {
    this.#clock = clock;
    this.#summary = summary;
    this.#intervalMs = intervalMs;
  }

  /** Listeners now. */
  get size(): number {
    return this.#listeners.size;
  }

  /** Whether the interval timer is armed (only while someone listens). */
  get ticking(): boolean {
    return this.#timer !== undefined;
  }

  /** Calls `write` with each interval's summary (indented JSON and a newline) until the returned function is called. */
  subscribe(write: (chunk: string) => void): () => void {
    // A listener of its own: subscribing the same function twice must not share one entry.
    const listener = (chunk: string): void => write(chunk);
    this.#listeners.add(listener);
    this.#arm();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#disarm();
    };
  }

  #arm(): void {
    if (this.#timer) return;
    const now = this.#clock.now();
    const next = (Math.floor(now / this.#intervalMs) + 1) * this.#intervalMs;
    this.#timer = this.#clock.setTimer(next - now, () => {
      this.#timer = undefined;
      void this.#emit();
      if (this.#listeners.size > 0) this.#arm();
    });
  }

  #disarm(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  async #emit(): Promise<void> {
    if (this.#listeners.size === 0) return;
    let chunk: string;
    try {
      chunk = `${JSON.stringify(await this.#summary(), null, 4)}\n`;
    } catch {
      return; // a summary that cannot be rendered is skipped, as go-metrics' encoder error ends only that write
    }
    for (const l of [...this.#listeners]) l(chunk);
  }
}
