// Agent metrics on prom-client: one registry rendered as Prometheus text and as Consul's JSON
// summary ({Timestamp, Gauges, Points, Counters, Samples}), with Consul's metric names. The
// registry is built on the first scrape: prom-client (with @opentelemetry/api, ≈80 modules) cost
// every agent start ≈30 ms before its HTTP port answered, and most agents are never scraped.
// The same events also go to the push sinks (statsd, statsite, dogstatsd) when configured.
import type * as PromClient from 'prom-client';
import type { Metric, MetricObjectWithValues, MetricValue, Registry } from 'prom-client';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../clock.ts';
import { WindowSummary } from './window-summary.ts';
import { TimerBatch } from './timer-batch.ts';
import { activeResources } from './runtime.ts';
import { watchGc } from './gc.ts';
import { PrefixFilter, type PushMetrics } from './sinks.ts';

/** How the agent's telemetry block shapes metric names and which metrics are kept. */
export interface TelemetryOptions {
  /** telemetry.metrics_prefix (default `consul`). */
  prefix?: string;
  /**
   * The hostname go-metrics puts after the prefix of gauge names: set when a sink besides the
   * in-memory one is configured and disable_hostname is not (Consul's InitTelemetry).
   */
  gaugeHostname?: string;
  /** prefix_filter and filter_default (default: everything kept). */
  filter?: { allowed: readonly string[]; blocked: readonly string[]; filterDefault: boolean };
}

/** go-metrics' ProfileInterval: gauges go to the push sinks this often. */
export const GAUGE_PUSH_INTERVAL_MS = 1_000;

/** Gauges read at scrape time (blocking queries, replica size, …). */
export type GaugeSource = () => number;

/** A metric definition, applied to the registry when it is built (or at once, once it is). */
type Define = (prom: typeof PromClient, registry: Registry) => void;

/** The agent's metric set. */
export class Telemetry {
  readonly #http: WindowSummary;
  readonly #clock: Clock;
  readonly #prefix: string;
  /** Prometheus name → Consul's dotted name (`consul_runtime_alloc_bytes` → `consul.runtime.alloc_bytes`). */
  readonly #dotted = new Map<string, string>();
  readonly #defined: Define[] = [];
  #built: { prom: typeof PromClient; registry: Registry } | undefined;
  #building: Promise<Registry> | undefined;
  /** Gauges by key (without the prefix), read again for each push. */
  readonly #gauges: { key: string[]; read: GaugeSource }[] = [];
  readonly #labeledGauges: { key: string[]; labelNames: readonly string[]; read: () => Iterable<[Record<string, string>, number]> }[] = [];
  /** Timers by Consul name, for JSON and Prometheus (`kvs.apply`). */
  readonly #timers = new Map<string, WindowSummary>();
  /** Batched timers' buffers, handed to their summaries before every read. */
  readonly #batches: TimerBatch[] = [];
  /** Counter families by Prometheus name (counterFamily). */
  readonly #families = new Map<string, (labels: Record<string, string>) => (n?: number) => void>();
  /** Batched timer families by Consul name (batchedTimerFamily). */
  readonly #timerFamilies = new Map<string, (labelValue: string) => TimerBatch>();
  #push: PushMetrics | undefined;
  #gaugeTimer: { cancel(): void } | undefined;
  readonly #gaugeHostname: string | undefined;
  readonly #filterDefault: boolean;
  #filter: PrefixFilter;
  /** Held so the process-wide GC observer (gc.ts, weak references) keeps calling it. */
  readonly #onGc: (ns: number) => void;

  constructor(clock: Clock, opts: TelemetryOptions = {}) {
    this.#clock = clock;
    this.#prefix = opts.prefix ?? 'consul';
    this.#gaugeHostname = opts.gaugeHostname;
    this.#filterDefault = opts.filter?.filterDefault ?? true;
    this.#filter = new PrefixFilter(opts.filter?.allowed ?? [], opts.filter?.blocked ?? [], this.#filterDefault);
    // Quantiles over the last minute, computed at scrape time: observe() runs on every request.
    // Samples are in milliseconds, as go-metrics' MeasureSince hands every sink (Prometheus too).
    const http = new WindowSummary({
      name: this.#name('api.http'), help: 'Samples how long it takes to service the given HTTP request for the given verb and path.', labelNames: ['method', 'path'],
      percentiles: [0.5, 0.9, 0.99], maxAgeSeconds: 60, ageBuckets: 6, clock,
    });
    this.#http = http;
    this.#define((_prom, registry) => registry.registerMetric(http as unknown as Metric));
    const mem = (field: 'heapUsed' | 'rss' | 'heapTotal') => () => process.memoryUsage()[field];
    this.gauge('runtime.alloc_bytes', 'Heap bytes in use', mem('heapUsed'));
    this.gauge('runtime.sys_bytes', 'Resident set size in bytes', mem('rss'));
    this.gauge('runtime.heap_objects', 'V8 heap size in bytes (Node exposes no object count)', mem('heapTotal'));
    // Go reports GC pauses in nanoseconds as plain samples (go-metrics' EmitRuntimeStats).
    const pause = this.timer('runtime.gc_pause_ns', 'Number of nanoseconds consumed by stop-the-world garbage collection (GC) pauses since Consul started.');
    this.#onGc = pause;
    const gc = watchGc(pause);
    this.gauge('runtime.total_gc_pause_ns', 'The cumulative nanoseconds consumed by stop-the-world garbage collection pauses.', () => gc.pauseNs);
    this.gauge('runtime.total_gc_runs', 'The number of completed garbage collection cycles.', () => gc.runs);
    this.gauge('runtime.num_goroutines', "The event loop's active resources (Node's count of concurrent work)", activeResources);
  }

  /** The prom-client registry holding every metric, built on first use. */
  registry(): Promise<Registry> {
    this.#building ??= import('prom-client').then((prom) => {
      const registry = new prom.Registry();
      for (const define of this.#defined) define(prom, registry);
      this.#built = { prom, registry };
      return registry;
    });
    return this.#building;
  }

  /**
   * Registers a gauge computed on each scrape. A read of NaN means not emitted by this agent now
   * (a leader-only gauge on a follower): Prometheus shows NaN, as Consul's pre-declared gauges
   * do until set, and the JSON summary and push sinks leave it out.
   */
  gauge(name: string, help: string, read: GaugeSource): void {
    const prom = this.#name(this.#gaugeHostname === undefined ? name : `${this.#gaugeHostname}.${name}`);
    this.#gauges.push({ key: name.split('.'), read });
    this.#define((p, registry) => new p.Gauge({ name: prom, help, registers: [registry], collect() { this.set(read()); } }));
  }

  /** Registers a gauge with labels, its series (label values → value) read on each scrape. */
  labeledGauge<L extends string>(name: string, help: string, labelNames: readonly L[], read: () => Iterable<[Record<L, string>, number]>): void {
    const prom = this.#name(this.#gaugeHostname === undefined ? name : `${this.#gaugeHostname}.${name}`);
    const key = name.split('.');
    this.#labeledGauges.push({ key, labelNames, read });
    this.#define((p, registry) => new p.Gauge({
      name: prom, help, labelNames: [...labelNames], registers: [registry],
      collect() {
        this.reset();
        for (const [labels, v] of read()) this.set(labels, v);
      },
    }));
  }

  /** Registers a counter; returns its increment function. */
  counter(name: string, help: string): (n?: number) => void {
    const prom = this.#name(name);
    let count = 0;
    // The count lives here, so increments before the registry exists are kept; a scrape reads it.
    this.#define((p, registry) => new p.Counter({ name: prom, help, registers: [registry], collect() { this.reset(); this.inc(count); } }));
    const key = name.split('.');
    return (n = 1) => {
      if (n < 0) throw new Error('It is not possible to decrease a counter');
      count += n;
      this.#push?.incrCounter(key, n);
    };
  }

  /** Registers a counter with labels; returns its increment function, one count per label set. */
  labeledCounter<L extends string>(name: string, help: string, labelNames: readonly L[]): (labels: Record<L, string>) => void {
    const prom = this.#name(name);
    const counts = new Map<string, { labels: Record<L, string>; n: number }>();
    this.#define((p, registry) => new p.Counter({
      name: prom, help, labelNames: [...labelNames], registers: [registry],
      collect() {
        this.reset();
        for (const c of counts.values()) this.inc(c.labels, c.n);
      },
    }));
    const pushKey = name.split('.');
    return (labels) => {
      this.#push?.incrCounter(pushKey, 1, labelNames.map((l) => ({ name: l, value: labels[l] })));
      const key = labelNames.map((l) => labels[l]).join('\u0000');
      const c = counts.get(key);
      if (c) c.n += 1;
      else counts.set(key, { labels: { ...labels }, n: 1 });
    };
  }

  /**
   * Registers a counter with labels (once per name: a second call returns the same family) and
   * returns a binder: each label set bound once gives an increment function that, on a hot path,
   * adds to its own count without building a key or allocating.
   */
  counterFamily<L extends string>(name: string, help: string, labelNames: readonly L[]): (labels: Record<L, string>) => (n?: number) => void {
    // Keyed as Prometheus spells the name: names that differ only in characters it forbids
    // ('serf.events.a-b', 'serf.events.a.b') are one metric there, and a second registration would throw.
    const cacheKey = `${this.#prefix}.${name}`.replace(/[^a-zA-Z0-9_:]/g, '_');
    const known = this.#families.get(cacheKey);
    if (known) return known as (labels: Record<L, string>) => (n?: number) => void;
    const prom = this.#name(name);
    const bound: { labels: Record<L, string>; n: number }[] = [];
    this.#define((p, registry) => new p.Counter({
      name: prom, help, labelNames: [...labelNames], registers: [registry],
      collect() {
        this.reset();
        for (const c of bound) if (c.n > 0) this.inc(c.labels, c.n);
      },
    }));
    const key = name.split('.');
    const bind = (labels: Record<L, string>) => {
      const c = { labels: { ...labels }, n: 0 };
      bound.push(c);
      const pushLabels = labelNames.map((l) => ({ name: l, value: labels[l] }));
      return (n = 1) => {
        c.n += n;
        this.#push?.incrCounter(key, n, pushLabels);
      };
    };
    this.#families.set(cacheKey, bind as (labels: Record<string, string>) => (n?: number) => void);
    return bind;
  }

  /**
   * Registers a batched timer with one label (once per name) and returns a binder: each label
   * value bound gives its own TimerBatch (see batchedTimer) feeding the one summary.
   */
  batchedTimerFamily(name: string, help: string, labelName: string): (labelValue: string) => TimerBatch {
    const known = this.#timerFamilies.get(name);
    if (known) return known;
    const s = new WindowSummary({
      name: this.#name(name), help, labelNames: [labelName], percentiles: [0.5, 0.9, 0.99], maxAgeSeconds: 60, ageBuckets: 6, clock: this.#clock,
    });
    this.#define((_prom, registry) => registry.registerMetric(s as unknown as Metric));
    const key = name.split('.');
    const bind = (labelValue: string): TimerBatch => {
      const labels = [{ name: labelName, value: labelValue }];
      const batch = new TimerBatch((ms, at, n) => {
        const wall = this.#clock.now() - performance.now();
        for (let i = 0; i < n; i++) at[i] += wall;
        s.observeBatch(labelValue, '', ms, at, n);
        const push = this.#push;
        if (push) for (let i = 0; i < n; i++) push.addSample(key, ms[i], labels);
      });
      this.#batches.push(batch);
      return batch;
    };
    this.#timerFamilies.set(name, bind);
    return bind;
  }

  #define(define: Define): void {
    this.#defined.push(define);
    if (this.#built) define(this.#built.prom, this.#built.registry);
  }

  /** Maps a Consul metric name (`runtime.alloc_bytes`) to its Prometheus name, remembering both. */
  #name(dotted: string): string {
    const full = `${this.#prefix}.${dotted}`;
    // go-metrics' Prometheus sink: characters Prometheus forbids in names become '_'.
    const prom = full.replace(/[^a-zA-Z0-9_:]/g, '_');
    this.#dotted.set(prom, full);
    return prom;
  }

  /** Records one HTTP request (Consul's consul.api.http with method and path labels). */
  observe(method: string, path: string, seconds: number): void {
    const ms = seconds * 1000;
    this.#http.observe(method, path, ms);
    this.#push?.addSample(HTTP_KEY, ms, [{ name: 'method', value: method }, { name: 'path', value: path }]);
  }

  /** Registers an unlabelled timer (`kvs.apply`); returns its record function, taking milliseconds. */
  timer(name: string, help: string): (ms: number) => void {
    let summary = this.#timers.get(name);
    if (!summary) {
      const s = new WindowSummary({
        name: this.#name(name), help, labelNames: [], percentiles: [0.5, 0.9, 0.99], maxAgeSeconds: 60, ageBuckets: 6, clock: this.#clock,
      });
      this.#timers.set(name, summary = s);
      this.#define((_prom, registry) => registry.registerMetric(s as unknown as Metric));
    }
    const s = summary;
    const key = name.split('.');
    return (ms) => {
      s.observe('', '', ms);
      this.#push?.addSample(key, ms);
    };
  }

  /** Registers a timer with one or two labels (`dns.domain_query` by node); returns its record function, taking milliseconds. */
  labeledTimer(name: string, help: string, labelNames: readonly [string] | readonly [string, string]): (ms: number, a: string, b?: string) => void {
    const s = new WindowSummary({
      name: this.#name(name), help, labelNames, percentiles: [0.5, 0.9, 0.99], maxAgeSeconds: 60, ageBuckets: 6, clock: this.#clock,
    });
    this.#define((_prom, registry) => registry.registerMetric(s as unknown as Metric));
    const key = name.split('.');
    return (ms, a, b = '') => {
      s.observe(a, b, ms);
      const push = this.#push;
      if (push) push.addSample(key, ms, labelNames.length === 2 ? [{ name: labelNames[0], value: a }, { name: labelNames[1], value: b }] : [{ name: labelNames[0], value: a }]);
    };
  }

  /**
   * Registers a timer, unlabelled or with one label whose value is fixed (`dns.domain_query` for
   * this node), and returns its batch: `add(ms, at)` with `at` the performance.now() reading the
   * sample ended at. Samples reach the summary and the push sinks in bulk, at the latest on the
   * next read or push tick, each in the window slot of the time it was taken.
   */
  batchedTimer(name: string, help: string, labelName?: string, labelValue = ''): TimerBatch {
    const s = new WindowSummary({
      name: this.#name(name), help, labelNames: labelName === undefined ? [] : [labelName], percentiles: [0.5, 0.9, 0.99], maxAgeSeconds: 60, ageBuckets: 6, clock: this.#clock,
    });
    this.#define((_prom, registry) => registry.registerMetric(s as unknown as Metric));
    const key = name.split('.');
    const labels = labelName === undefined ? undefined : [{ name: labelName, value: labelValue }];
    const batch = new TimerBatch((ms, at, n) => {
      // performance.now() readings become wall-clock times: now less how long ago each was.
      const wall = this.#clock.now() - performance.now();
      for (let i = 0; i < n; i++) at[i] += wall;
      s.observeBatch(labelValue, '', ms, at, n);
      const push = this.#push;
      if (push) for (let i = 0; i < n; i++) push.addSample(key, ms[i], labels);
    });
    this.#batches.push(batch);
    return batch;
  }

  #flushBatches(): void {
    for (const b of this.#batches) b.flush();
  }

  /** Sends every event from now on to the push sinks too, and their gauges once a second. */
  attachPush(push: PushMetrics): void {
    this.#push = push;
    const tick = (): void => {
      this.#gaugeTimer = this.#clock.setTimer(GAUGE_PUSH_INTERVAL_MS, tick);
      this.#flushBatches();
      for (const g of this.#gauges) {
        // A gauge that cannot be read is skipped this round; a throw here would end the process.
        let v: number;
        try {
          v = g.read();
        } catch {
          continue;
        }
        if (!Number.isNaN(v)) push.setGauge(g.key, v);
      }
      for (const g of this.#labeledGauges) {
        try {
          for (const [labels, v] of g.read()) push.setGauge(g.key, v, g.labelNames.map((l) => ({ name: l, value: labels[l] })));
        } catch {
          continue;
        }
      }
    };
    this.#gaugeTimer = this.#clock.setTimer(GAUGE_PUSH_INTERVAL_MS, tick);
  }

  /** The push sinks attached (undefined: none configured). */
  get push(): PushMetrics | undefined {
    return this.#push;
  }

  /** Stops pushing: buffered lines go out and the sinks close. */
  closePush(): void {
    this.#gaugeTimer?.cancel();
    this.#gaugeTimer = undefined;
    this.#push?.close();
    this.#push = undefined;
  }

  /** Replaces the prefix_filter rules (reloadable in Consul; filter_default is not), for every sink. */
  updateFilter(allowed: readonly string[], blocked: readonly string[]): void {
    this.#filter = new PrefixFilter(allowed, blocked, this.#filterDefault);
    this.#push?.updateFilter(allowed, blocked);
  }

  /** Prometheus text exposition of the metrics prefix_filter keeps. */
  async prometheus(): Promise<string> {
    const registry = await this.registry();
    this.#flushBatches();
    const kept = registry.getMetricsAsArray().filter((m) => this.#filter.allows(this.#dotted.get(m.name) ?? m.name));
    // prom-client's own layout: one block per metric, a blank line between them.
    const blocks = await Promise.all(kept.map((m) => registry.getSingleMetricAsString(m.name)));
    return `${blocks.join('\n\n')}\n`;
  }

  /** Consul's JSON metrics summary, rendered from the same registry. */
  async consulJSON(): Promise<Record<string, unknown>> {
    const registry = await this.registry();
    this.#flushBatches();
    const metrics = (await registry.getMetricsAsJSON()) as MetricObjectWithValues<MetricValue<string>>[];
    const out = { Timestamp: goTimestamp(this.#clock.now()), Gauges: [] as unknown[], Points: [] as unknown[], Counters: [] as unknown[], Samples: [] as unknown[] };
    for (const m of metrics) {
      const name = this.#dotted.get(m.name) ?? m.name;
      if (!this.#filter.allows(name)) continue;
      // prom-client's typings say enum, its JSON carries the type's name.
      const type = String(m.type as unknown);
      if (type === 'gauge') for (const v of m.values) if (!Number.isNaN(v.value)) out.Gauges.push({ Name: name, Value: v.value, Labels: v.labels });
      if (type === 'counter') {
        for (const v of m.values) out.Counters.push({ Name: name, Count: v.value, Rate: v.value / 10, Sum: v.value, Min: 1, Max: 1, Mean: 1, Stddev: 0, Labels: v.labels });
      }
      if (type === 'summary') out.Samples.push(...summarySamples(name, m.values));
    }
    return out;
  }
}

const HTTP_KEY = ['api', 'http'];

function summarySamples(name: string, values: MetricValue<string>[]): unknown[] {
  const byLabels = new Map<string, { labels: Record<string, unknown>; count: number; sum: number; max: number; min: number }>();
  for (const v of values) {
    const { quantile, ...labels } = v.labels as Record<string, unknown>;
    const key = JSON.stringify(labels);
    const row = byLabels.get(key) ?? { labels, count: 0, sum: 0, max: 0, min: Infinity };
    const metric = (v as { metricName?: string }).metricName ?? '';
    if (metric.endsWith('_count')) row.count = v.value;
    else if (metric.endsWith('_sum')) row.sum = v.value;
    else if (quantile !== undefined) { row.max = Math.max(row.max, v.value); row.min = Math.min(row.min, v.value); }
    byLabels.set(key, row);
  }
  return [...byLabels.values()].filter((r) => r.count > 0).map((r) => ({
    // Samples are kept in milliseconds, as Consul reports them; Rate is per second over its 10 s interval.
    Name: name, Count: r.count, Sum: r.sum, Min: Number.isFinite(r.min) ? r.min : 0, Max: r.max,
    Mean: r.sum / r.count, Rate: r.sum / 10, Stddev: 0, Labels: r.labels,
  }));
}

/** Go's time.Time String() in UTC without sub-seconds: `2006-01-02 15:04:05 +0000 UTC`. */
function goTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC');
}
