// The agent's telemetry block applied: metric names (metrics_prefix, the hostname on gauges),
// prefix_filter, and the push sinks (statsd_address, statsite_address, dogstatsd_addr), opened
// when the agent starts and closed when it stops. Of the block only prefix_filter is reloadable,
// as in Consul (its ReloadConfig calls go-metrics' UpdateFilter); sinks stay as started.
import os from 'node:os';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { Telemetry, TelemetryOptions } from '../telemetry/metrics.ts';
import { createPushMetrics, sinkSettings, type SinkSettings } from '../telemetry/sinks.ts';
import type { Lookup } from '../telemetry/statsd.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import { prometheusRetention } from './server.ts';

function settingsOf(config: RuntimeConfig): SinkSettings {
  return sinkSettings(config.raw.telemetry as Record<string, unknown> | undefined);
}

/**
 * The registry's naming and filter. go-metrics prefixes gauges with the hostname only when a
 * sink besides the in-memory one exists (statsd, statsite, dogstatsd, circonus or Prometheus),
 * so with one of those and without disable_hostname the JSON and Prometheus gauges carry it too.
 */
export function telemetryOptions(config: RuntimeConfig, hostname = os.hostname()): TelemetryOptions {
  const s = settingsOf(config);
  const t = (config.raw.telemetry ?? {}) as Record<string, unknown>;
  const otherSink = Boolean(s.statsdAddress || s.statsiteAddress || s.dogstatsdAddr || t.circonus_api_token || t.circonus_submission_url)
    || prometheusRetention(config) > 0;
  return {
    prefix: s.prefix,
    gaugeHostname: otherSink && !s.disableHostname && hostname !== '' ? hostname : undefined,
    filter: { allowed: s.allowed, blocked: s.blocked, filterDefault: s.filterDefault },
  };
}

/**
 * Opens the configured push sinks and feeds them the agent's metrics. A dogstatsd address
 * without a port or whose host does not resolve fails agent start, as in Consul (datadog-go
 * resolves it when the client is created).
 */
export async function startTelemetrySinks(telemetry: Telemetry, config: RuntimeConfig, clock: Clock, logger: Logger, lookup?: Lookup): Promise<void> {
  const settings = settingsOf(config);
  const log = logger.child({ '@module': 'agent.telemetry' });
  for (const w of settings.warnings) log.warn(w);
  let push;
  try {
    if (settings.dogstatsdAddr) await (await import('../telemetry/dogstatsd.ts')).resolveDogstatsdAddr(settings.dogstatsdAddr, lookup);
    push = createPushMetrics(settings, clock, log);
  } catch (err) {
    throw new Error(`failed to initialize telemetry: ${(err as Error).message}`);
  }
  if (push) telemetry.attachPush(push);
}

/** Applies a reloaded prefix_filter to every sink. */
export function reloadTelemetrySinks(telemetry: Telemetry, next: RuntimeConfig): void {
  const settings = settingsOf(next);
  telemetry.updateFilter(settings.allowed, settings.blocked);
}
