// The agent's push sinks (telemetry.statsd_address, statsite_address, dogstatsd_addr): opened
// when the agent starts, closed when it stops. Of the telemetry block only prefix_filter is
// reloadable, as in Consul (ReloadConfig calls go-metrics' UpdateFilter); sinks stay as started.
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { Telemetry } from '../telemetry/metrics.ts';
import { createPushMetrics, sinkSettings } from '../telemetry/sinks.ts';
import type { RuntimeConfig } from './config/runtime.ts';

/** Opens the configured push sinks and feeds them the agent's metrics. */
export function startTelemetrySinks(telemetry: Telemetry, config: RuntimeConfig, clock: Clock, logger: Logger): void {
  const settings = sinkSettings(config.raw.telemetry as Record<string, unknown> | undefined);
  const log = logger.child({ '@module': 'agent.telemetry' });
  for (const w of settings.warnings) log.warn(w);
  let push;
  try {
    push = createPushMetrics(settings, clock, log);
  } catch (err) {
    // A malformed address fails agent start in Consul too.
    throw new Error(`failed to initialize telemetry: ${(err as Error).message}`);
  }
  if (push) telemetry.attachPush(push);
}

/** Applies a reloaded prefix_filter to the push sinks. */
export function reloadTelemetrySinks(telemetry: Telemetry, next: RuntimeConfig): void {
  const settings = sinkSettings(next.raw.telemetry as Record<string, unknown> | undefined);
  telemetry.push?.updateFilter(settings.allowed, settings.blocked);
}

/** telemetry.metrics_prefix (default `consul`), which every metric name starts with. */
export function metricsPrefix(config: RuntimeConfig): string {
  return sinkSettings(config.raw.telemetry as Record<string, unknown> | undefined).prefix;
}
