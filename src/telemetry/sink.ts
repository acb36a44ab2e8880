// The push side of go-metrics: the sink interface the statsd, statsite and dogstatsd sinks
// implement, and Go's number formats their lines use.

/** A metric label (go-metrics' Label). */
export interface Label {
  name: string;
  value: string;
}

/** A destination for metric events (go-metrics' MetricSink); calls never block nor throw. */
export interface MetricSink {
  setGauge(key: readonly string[], value: number, labels: readonly Label[]): void;
  incrCounter(key: readonly string[], value: number, labels: readonly Label[]): void;
  addSample(key: readonly string[], value: number, labels: readonly Label[]): void;
  /** Sends what is buffered and releases sockets and timers. */
  close(): void;
}

/** go-metrics' flushInterval: buffered lines go out at least this often. */
export const FLUSH_INTERVAL_MS = 100;

/** How long a sink discards metrics after a connection or write error before reconnecting. */
export const RECONNECT_WAIT_MS = 5_000;

/** go-metrics' queue length: lines waiting past this are dropped rather than held. */
export const MAX_QUEUED_LINES = 4096;

/** Replaces ':' and ' ' with '_' (go-metrics' flattenKey and datadog sanitize). */
export function sanitize(s: string): string {
  return s.replace(/[: ]/g, '_');
}

/** Go's `%f` of a float32 (`strconv.FormatFloat(v, 'f', 6, 32)`): six decimals, never an exponent. */
export function goFixed6(value: number): string {
  const v = Math.fround(value);
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  // float32 values this large are integers; toFixed switches to exponent form at 1e21.
  if (Math.abs(v) >= 1e21) return `${BigInt(v).toString()}.000000`;
  return v.toFixed(6);
}

/** Go's `strconv.FormatFloat(v, 'f', -1, 64)`: the shortest decimal that reads back as v, never an exponent. */
export function goShortest(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  const s = String(v);
  const e = s.indexOf('e');
  if (e < 0) return s;
  const sign = s.startsWith('-') ? '-' : '';
  const mantissa = s.slice(sign.length, e);
  const exp = Number(s.slice(e + 1));
  const dot = mantissa.indexOf('.');
  const digits = mantissa.replace('.', '');
  const point = (dot < 0 ? mantissa.length : dot) + exp;
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** Names cached past this many are built per event instead (label values from an unbounded set). */
const MAX_CACHED_NAMES = 4096;

interface NameNode<T> {
  value?: T;
  next?: Map<string, NameNode<T>>;
}

/**
 * A sink's formatted name per key array and label values: the same few names repeat on every
 * event, so each is built (joined, sanitized) once. Keys are the arrays PushMetrics hands out;
 * a key always comes with the same label names, so the values alone tell its names apart.
 */
export class NameCache<T> {
  readonly #build: (key: readonly string[], labels: readonly Label[]) => T;
  readonly #byKey = new WeakMap<readonly string[], NameNode<T>>();
  #count = 0;

  constructor(build: (key: readonly string[], labels: readonly Label[]) => T) {
    this.#build = build;
  }

  /** The formatted name of this key with these labels' values. */
  get(key: readonly string[], labels: readonly Label[]): T {
    let node: NameNode<T> | undefined = this.#byKey.get(key);
    if (!node) {
      if (this.#count >= MAX_CACHED_NAMES) return this.#build(key, labels);
      this.#byKey.set(key, node = {});
    }
    for (const l of labels) {
      let n: NameNode<T> | undefined = node.next?.get(l.value);
      if (!n) {
        if (this.#count >= MAX_CACHED_NAMES) return this.#build(key, labels);
        (node.next ??= new Map()).set(l.value, n = {});
      }
      node = n;
    }
    if (node.value === undefined) {
      node.value = this.#build(key, labels);
      this.#count += 1;
    }
    return node.value;
  }
}
