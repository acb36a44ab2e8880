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
