// A Prometheus summary whose observe() is O(1): each label set keeps a cumulative count and sum
// and, per age bucket of its sliding window, a fixed-size reservoir sample (Vitter's algorithm R)
// of the observations; quantiles are computed from the live buckets only when scraped. It stands
// in for prom-client's Summary (maxAgeSeconds/ageBuckets), which pushes every observation into
// one t-digest per age bucket — six per HTTP request — and exports the same values to its registry.
import type { Clock } from '../clock.ts';

/** The shape prom-client's Registry reads from a metric (`get()` and the fields it names). */
export interface SummaryExport {
  name: string;
  help: string;
  type: 'summary';
  values: { labels: Record<string, string | number>; value: number; metricName?: string }[];
  aggregator: 'sum';
}

/** Settings of a window summary. */
export interface WindowSummaryOptions {
  name: string;
  help: string;
  /** Label names, in the order `observe` receives their values (none: a single unlabelled series). */
  labelNames: readonly [string, string] | readonly [string] | readonly [];
  percentiles: readonly number[];
  /** The sliding window the quantiles cover. */
  maxAgeSeconds: number;
  /** How many buckets the window rotates through. */
  ageBuckets: number;
  /** Samples kept per bucket (more observations are sampled uniformly). */
  reservoir?: number;
  clock: Clock;
  /** Uniform [0, 1) source for the reservoir (injectable for tests). */
  random?: () => number;
}

/** One age bucket: a reservoir of samples and how many observations it has seen. */
interface Bucket {
  samples: Float64Array;
  seen: number;
  /** Start of this bucket's time slot (ms). */
  start: number;
}

interface Series {
  labels: Record<string, string>;
  count: number;
  sum: number;
  buckets: Bucket[];
  /** Index of the bucket observations go into. */
  current: number;
}

/** A sliding-window summary with two labels and O(1) observations. */
export class WindowSummary {
  readonly name: string;
  readonly help: string;
  readonly type = 'summary' as const;
  readonly aggregator = 'sum' as const;
  readonly #opts: WindowSummaryOptions;
  readonly #slotMs: number;
  readonly #size: number;
  readonly #random: () => number;
  /** First label value → second label value → series. */
  readonly #series = new Map<string, Map<string, Series>>();

  constructor(opts: WindowSummaryOptions) {
    this.#opts = opts;
    this.name = opts.name;
    this.help = opts.help;
    this.#slotMs = (opts.maxAgeSeconds * 1000) / opts.ageBuckets;
    this.#size = opts.reservoir ?? 256;
    this.#random = opts.random ?? Math.random;
  }

  /** Records one observation for the label values (a, b). */
  observe(a: string, b: string, value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    let byB = this.#series.get(a);
    if (!byB) this.#series.set(a, byB = new Map());
    let s = byB.get(b);
    if (!s) byB.set(b, s = this.#newSeries(a, b));
    s.count++;
    s.sum += value;
    this.#keep(this.#rotate(s, this.#opts.clock.now()), value);
  }

  /**
   * Records `n` observations made earlier for the label values (a, b): `values[i]` made at wall
   * time `ats[i]` (ms, in the order made). Each goes to the age bucket of its time; one older
   * than every live bucket counts in _count and _sum only.
   */
  observeBatch(a: string, b: string, values: Float64Array, ats: Float64Array, n: number): void {
    let byB = this.#series.get(a);
    if (!byB) this.#series.set(a, byB = new Map());
    let s = byB.get(b);
    if (!s) byB.set(b, s = this.#newSeries(a, b, n > 0 ? ats[0] : this.#opts.clock.now()));
    for (let i = 0; i < n; i++) {
      const value = values[i];
      if (!Number.isFinite(value)) continue;
      s.count++;
      s.sum += value;
      const bucket = this.#bucketAt(s, ats[i]);
      if (bucket) this.#keep(bucket, value);
    }
  }

  /** Adds a value to a bucket's reservoir. */
  #keep(bucket: Bucket, value: number): void {
    const seen = ++bucket.seen;
    if (seen <= this.#size) bucket.samples[seen - 1] = value;
    else {
      const j = Math.floor(this.#random() * seen);
      if (j < this.#size) bucket.samples[j] = value;
    }
  }

  /**
   * The bucket of time `at`: the current one, a newer slot (rotating to it), or an older one that
   * holds that slot; an older slot no bucket holds goes to the current bucket while the window
   * still covers it (its age then counts from the current slot), else to none.
   */
  #bucketAt(s: Series, at: number): Bucket | undefined {
    const cur = s.buckets[s.current];
    if (at >= cur.start) return this.#rotate(s, at);
    for (const b of s.buckets) if (at >= b.start && at < b.start + this.#slotMs) return b;
    return at > cur.start + this.#slotMs - this.#opts.maxAgeSeconds * 1000 ? cur : undefined;
  }

  #newSeries(a: string, b: string, at = this.#opts.clock.now()): Series {
    const names = this.#opts.labelNames;
    const start = this.#slotStart(at);
    const buckets: Bucket[] = [];
    for (let i = 0; i < this.#opts.ageBuckets; i++) buckets.push({ samples: new Float64Array(this.#size), seen: 0, start: -Infinity });
    buckets[0].start = start;
    const labels: Record<string, string> = names.length === 2 ? { [names[0]]: a, [names[1]]: b } : names.length === 1 ? { [names[0]]: a } : {};
    return { labels, count: 0, sum: 0, buckets, current: 0 };
  }

  #slotStart(now: number): number {
    return now - (now % this.#slotMs);
  }

  /** Moves the series to the bucket of the current time slot, emptying the one it reuses. */
  #rotate(s: Series, now: number): Bucket {
    const cur = s.buckets[s.current];
    if (now < cur.start + this.#slotMs) return cur;
    s.current = (s.current + 1) % s.buckets.length;
    const next = s.buckets[s.current];
    next.seen = 0;
    next.start = this.#slotStart(now);
    return next;
  }

  /** Quantile over the samples of the buckets still inside the window, weighted by what each saw. */
  #quantiles(s: Series): number[] {
    const now = this.#opts.clock.now();
    const horizon = now - this.#opts.maxAgeSeconds * 1000;
    const values: number[] = [];
    const weights: number[] = [];
    let total = 0;
    for (const b of s.buckets) {
      if (b.seen === 0 || b.start + this.#slotMs <= horizon) continue;
      const kept = Math.min(b.seen, this.#size);
      const w = b.seen / kept;
      for (let i = 0; i < kept; i++) { values.push(b.samples[i]); weights.push(w); }
      total += b.seen;
    }
    if (values.length === 0) return this.#opts.percentiles.map(() => 0);
    const order = values.map((_, i) => i).sort((x, y) => values[x] - values[y]);
    return this.#opts.percentiles.map((q) => {
      const target = q * total;
      let acc = 0;
      for (const i of order) {
        acc += weights[i];
        if (acc >= target) return values[i];
      }
      return values[order[order.length - 1]];
    });
  }

  /** The metric as prom-client's Registry reads it: quantiles, then _sum and _count, per label set. */
  get(): Promise<SummaryExport> {
    const values: SummaryExport['values'] = [];
    for (const byB of this.#series.values()) {
      for (const s of byB.values()) {
        const qs = this.#quantiles(s);
        this.#opts.percentiles.forEach((quantile, i) => values.push({ labels: { quantile, ...s.labels }, value: qs[i] }));
        values.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
        values.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count });
      }
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  /** Forgets every series (prom-client's reset()). */
  reset(): void {
    this.#series.clear();
  }
}
