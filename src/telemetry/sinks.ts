// go-metrics' Metrics front for the push sinks Consul configures from `telemetry`: the
// metrics_prefix and (for gauges) hostname put before each key, prefix_filter's longest-prefix
// rules with filter_default, and a fan-out to the statsd, statsite, dogstatsd and Circonus sinks.
import os from 'node:os';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import { durationSetting } from '../duration.ts';
import { createRequire } from 'node:module';
import type { Label, MetricSink } from './sink.ts';

// Each sink's module loads only when the configuration names it: most agents push to none (issue #9).
const require = createRequire(import.meta.url);
const statsite = () => require('./statsite.ts') as typeof import('./statsite.ts');
const statsd = () => require('./statsd.ts') as typeof import('./statsd.ts');
const dogstatsd = () => require('./dogstatsd.ts') as typeof import('./dogstatsd.ts');
const circonus = () => require('./circonus.ts') as typeof import('./circonus.ts');

/** circonus-gometrics' default submission interval. */
export const CIRCONUS_INTERVAL_MS = 10_000;

/** The telemetry settings the push sinks read. */
export interface SinkSettings {
  prefix: string;
  disableHostname: boolean;
  filterDefault: boolean;
  allowed: string[];
  blocked: string[];
  statsdAddress?: string;
  statsiteAddress?: string;
  dogstatsdAddr?: string;
  dogstatsdTags: string[];
  /** circonus_submission_url: a Circonus check's trap (metric management off). */
  circonusSubmissionUrl?: string;
  /** circonus_submission_interval in ms (default 10 s). */
  circonusIntervalMs: number;
  /** circonus_api_token: check management through the Circonus API, which is not built. */
  circonusApiToken?: string;
  /** prefix_filter rules that were skipped, with Consul's warning for each. */
  warnings: string[];
}

/** Reads the `telemetry` block (as merged from config files) into sink settings. */
export function sinkSettings(raw: Record<string, unknown> | undefined): SinkSettings {
  const t = raw ?? {};
  const str = (k: string): string | undefined => (typeof t[k] === 'string' && t[k] !== '' ? t[k] : undefined);
  const strings = (k: string): string[] => (Array.isArray(t[k]) ? (t[k] as unknown[]).map(String) : []);
  const { allowed, blocked, warnings } = parsePrefixFilter(strings('prefix_filter'));
  // Consul blocks its pre-1.9 `consul.consul.*` names (telemetry.enable_deprecated_names, which
  // Proconsul does not accept, would allow them).
  blocked.push('consul.consul');
  return {
    prefix: str('metrics_prefix') ?? 'consul', disableHostname: t.disable_hostname === true,
    filterDefault: t.filter_default !== false, allowed, blocked,
    statsdAddress: str('statsd_address'), statsiteAddress: str('statsite_address'), dogstatsdAddr: str('dogstatsd_addr'),
    dogstatsdTags: strings('dogstatsd_tags'), warnings,
    circonusSubmissionUrl: str('circonus_submission_url'), circonusApiToken: str('circonus_api_token'),
    circonusIntervalMs: durationSetting(str('circonus_submission_interval'), CIRCONUS_INTERVAL_MS),
  };
}

/** Splits prefix_filter rules into allowed (`+x`) and blocked (`-x`) prefixes, as Consul's config builder does. */
export function parsePrefixFilter(rules: readonly string[]): { allowed: string[]; blocked: string[]; warnings: string[] } {
  const allowed: string[] = [];
  const blocked: string[] = [];
  const warnings: string[] = [];
  for (const rule of rules) {
    if (rule === '') warnings.push('Cannot have empty filter rule in prefix_filter');
    else if (rule[0] === '+') allowed.push(rule.slice(1));
    else if (rule[0] === '-') blocked.push(rule.slice(1));
    else warnings.push(`Filter rule must begin with either '+' or '-': ${JSON.stringify(rule)}`);
  }
  return { allowed, blocked, warnings };
}

/** A prefix filter: the longest matching prefix decides (blocked wins a tie), else the default. */
export class PrefixFilter {
  readonly #rules: { prefix: string; allow: boolean }[];
  readonly #default: boolean;

  constructor(allowed: readonly string[], blocked: readonly string[], filterDefault: boolean) {
    this.#rules = [...allowed.map((prefix) => ({ prefix, allow: true })), ...blocked.map((prefix) => ({ prefix, allow: false }))];
    this.#default = filterDefault;
  }

  /** Whether a metric with this dotted name is sent. */
  allows(name: string): boolean {
    let best: { prefix: string; allow: boolean } | undefined;
    for (const r of this.#rules) {
      if (name.startsWith(r.prefix) && (!best || r.prefix.length >= best.prefix.length)) best = r;
    }
    return best ? best.allow : this.#default;
  }
}

/** A key's full name and prefix_filter verdict, as of one filter generation. */
interface KeyEntry {
  full: string[];
  allowed: boolean;
  gen: number;
}

/** Metric events to the configured push sinks. */
export class PushMetrics {
  readonly #sinks: MetricSink[];
  readonly #prefix: string;
  readonly #hostname: string | undefined;
  readonly #filterDefault: boolean;
  #filter: PrefixFilter;
  /**
   * Full keys and verdicts by the caller's key array (callers pass the same module-level array
   * on every event), so an event builds no name and runs no filter; a reload bumps #gen.
   */
  readonly #keys = new WeakMap<readonly string[], KeyEntry>();
  readonly #gaugeKeys = new WeakMap<readonly string[], KeyEntry>();
  #gen = 0;

  constructor(settings: SinkSettings, sinks: MetricSink[], hostname = os.hostname()) {
    this.#sinks = sinks;
    this.#prefix = settings.prefix;
    this.#hostname = settings.disableHostname || hostname === '' ? undefined : hostname;
    this.#filterDefault = settings.filterDefault;
    this.#filter = new PrefixFilter(settings.allowed, settings.blocked, settings.filterDefault);
  }

  /** Replaces the prefix rules (the part of telemetry Consul's reload applies). */
  updateFilter(allowed: readonly string[], blocked: readonly string[]): void {
    this.#filter = new PrefixFilter(allowed, blocked, this.#filterDefault);
    this.#gen += 1;
  }

  /** A gauge's value; its key carries the hostname after the prefix unless disable_hostname is set. */
  setGauge(key: readonly string[], value: number, labels: readonly Label[] = NO_LABELS): void {
    const e = this.#entry(this.#gaugeKeys, key, this.#hostname);
    if (e.allowed) for (const s of this.#sinks) s.setGauge(e.full, value, labels);
  }

  /** A counter increment. */
  incrCounter(key: readonly string[], value: number, labels: readonly Label[] = NO_LABELS): void {
    const e = this.#entry(this.#keys, key, undefined);
    if (e.allowed) for (const s of this.#sinks) s.incrCounter(e.full, value, labels);
  }

  /** A timer sample in milliseconds. */
  addSample(key: readonly string[], ms: number, labels: readonly Label[] = NO_LABELS): void {
    const e = this.#entry(this.#keys, key, undefined);
    if (e.allowed) for (const s of this.#sinks) s.addSample(e.full, ms, labels);
  }

  close(): void {
    for (const s of this.#sinks) s.close();
  }

  #entry(cache: WeakMap<readonly string[], KeyEntry>, key: readonly string[], hostname: string | undefined): KeyEntry {
    const hit = cache.get(key);
    if (hit && hit.gen === this.#gen) return hit;
    const head = hostname === undefined ? [] : [hostname];
    const full = this.#prefix === '' ? [...head, ...key] : [this.#prefix, ...head, ...key];
    // The sinks get this same array on every event, so they can cache by it too.
    const e = { full: hit && hit.full.join('.') === full.join('.') ? hit.full : full, allowed: this.#filter.allows(full.join('.')), gen: this.#gen };
    cache.set(key, e);
    return e;
  }
}

const NO_LABELS: readonly Label[] = [];

/** The push sinks the settings name (none: undefined), as Consul's InitTelemetry builds them. */
export function createPushMetrics(settings: SinkSettings, clock: Clock, log: Logger, hostname = os.hostname()): PushMetrics | undefined {
  const sinks: MetricSink[] = [];
  if (settings.statsiteAddress) sinks.push(new (statsite().StatsiteSink)(settings.statsiteAddress, clock, log.child({ sink: 'statsite' })));
  if (settings.statsdAddress) sinks.push(new (statsd().StatsdSink)(settings.statsdAddress, clock, log.child({ sink: 'statsd' })));
  if (settings.dogstatsdAddr) {
    sinks.push(new (dogstatsd().DogStatsdSink)(settings.dogstatsdAddr, hostname, settings.dogstatsdTags, clock, log.child({ sink: 'dogstatsd' })));
  }
  if (settings.circonusSubmissionUrl) {
    sinks.push(new (circonus().CirconusSink)(settings.circonusSubmissionUrl, settings.circonusIntervalMs, clock, log.child({ sink: 'circonus' })));
  } else if (settings.circonusApiToken) {
    log.warn('Circonus check management through its API (circonus_api_token) is not built: set circonus_submission_url');
  }
  return sinks.length ? new PushMetrics(settings, sinks, hostname) : undefined;
}
