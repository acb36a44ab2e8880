// go-metrics' CirconusSink over circonus-gometrics, for a check given by its submission URL
// (telemetry.circonus_submission_url; metric management off): counters, gauges and
// log-linear histograms gathered per interval (circonus_submission_interval, default 10 s) and
// PUT as JSON to the check's trap. Names join the key with backticks. Check management through
// the Circonus API (circonus_api_token alone) is not built.
import type { Clock, TimerHandle } from '../clock.ts';
import type { Logger } from '../log.ts';
import { NameCache, type Label, type MetricSink } from './sink.ts';

/** Sends one payload; resolves to the HTTP status. */
export type TrapSubmit = (url: string, body: string) => Promise<number>;

/** The metric name: key and label values joined with '`', spaces made '_' (go-metrics' circonus flattenKey). */
export function circonusName(key: readonly string[], labels: readonly Label[]): string {
  return [...key, ...labels.map((l) => l.value)].join('`').replaceAll(' ', '_');
}

/**
 * circonusllhist's bin of a value: two significant digits and a power of ten (`val` in 10..99,
 * negative for negative values; 0 is its own bin). Returns the bin's lower bound.
 */
export function histogramBin(v: number): number | undefined {
  if (!Number.isFinite(v)) return undefined;
  if (v === 0) return 0;
  const sign = v < 0 ? -1 : 1;
  const d = Math.abs(v);
  let exp = Math.floor(Math.log10(d));
  if (exp < -128 || exp > 127) return exp < 0 ? 0 : undefined;
  // Go's table holds the float64 literals 1e±n, which 10 ** n does not always equal.
  let val = sign * Math.floor((d / pow10(exp)) * 10 + 1e-13);
  if (Math.abs(val) === 100) {
    val /= 10;
    exp += 1;
  }
  if (Math.abs(val) < 10 || Math.abs(val) > 99) return undefined;
  return (val / 10) * pow10(exp);
}

function pow10(exp: number): number {
  return Number(`1e${exp}`);
}

/** Go's `%3.1e`: one decimal, an exponent of at least two digits (`1.2e+00`). */
export function goExp1(v: number): string {
  const [m, e] = v.toExponential(1).split('e');
  const n = Number(e);
  return `${m}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
}

/** A histogram's bins as circonusllhist's DecStrings: `H[1.2e+00]=3`, lowest bin first. */
export function decStrings(bins: ReadonlyMap<number, number>): string[] {
  return [...bins.entries()].sort((a, b) => a[0] - b[0]).map(([v, n]) => `H[${goExp1(v)}]=${n}`);
}

/** Submits to a Circonus HTTPTRAP check by its submission URL. */
export class CirconusSink implements MetricSink {
  readonly #url: string;
  readonly #log: Logger;
  readonly #submit: TrapSubmit;
  #counters = new Map<string, number>();
  #gauges = new Map<string, number>();
  #histograms = new Map<string, Map<number, number>>();
  #timer: TimerHandle | undefined;
  #closed = false;
  readonly #names = new NameCache(circonusName);

  constructor(url: string, intervalMs: number, clock: Clock, log: Logger, submit: TrapSubmit = httpSubmit) {
    this.#url = url;
    this.#log = log;
    this.#submit = submit;
    const tick = (): void => {
      this.flush();
      if (!this.#closed) this.#timer = clock.setTimer(intervalMs, tick);
    };
    // circonus-gometrics submits on a ticker only for a positive interval.
    if (intervalMs > 0) this.#timer = clock.setTimer(intervalMs, tick);
  }

  setGauge(key: readonly string[], value: number, labels: readonly Label[]): void {
    // SetGauge(name, int64(val)).
    this.#gauges.set(this.#names.get(key, labels), Math.trunc(Math.fround(value)));
  }

  incrCounter(key: readonly string[], value: number, labels: readonly Label[]): void {
    const name = this.#names.get(key, labels);
    this.#counters.set(name, (this.#counters.get(name) ?? 0) + Math.max(0, Math.trunc(Math.fround(value))));
  }

  addSample(key: readonly string[], value: number, labels: readonly Label[]): void {
    const bin = histogramBin(Math.fround(value));
    if (bin === undefined) return;
    const name = this.#names.get(key, labels);
    let h = this.#histograms.get(name);
    if (!h) this.#histograms.set(name, h = new Map());
    h.set(bin, (h.get(bin) ?? 0) + 1);
  }

  /** The interval's metrics as the trap's JSON (names sorted, as Go marshals a map), resetting them. */
  payload(): Record<string, { _type: string; _value: unknown }> {
    const out: Record<string, { _type: string; _value: unknown }> = {};
    for (const [n, v] of this.#counters) out[n] = { _type: 'L', _value: v };
    for (const [n, v] of this.#gauges) out[n] = { _type: 'l', _value: v };
    for (const [n, h] of this.#histograms) out[n] = { _type: 'n', _value: decStrings(h) };
    this.#counters = new Map();
    this.#gauges = new Map();
    this.#histograms = new Map();
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /** Submits what was gathered since the last submission (nothing when nothing was). */
  flush(): void {
    const body = this.payload();
    if (Object.keys(body).length === 0) return;
    this.#submit(this.#url, JSON.stringify(body)).then((status) => {
      if (status >= 300) this.#log.error({ status }, 'Error submitting metrics to Circonus');
    }, (err: unknown) => this.#log.error({ error: (err as Error).message }, 'Error submitting metrics to Circonus'));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#timer?.cancel();
    this.flush();
  }
}

/** PUT with circonus-gometrics' headers; the response body is read and dropped. */
async function httpSubmit(url: string, body: string): Promise<number> {
  const res = await fetch(url, {
    method: 'PUT', body, headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, signal: AbortSignal.timeout(30_000),
  });
  await res.arrayBuffer();
  return res.status;
}
