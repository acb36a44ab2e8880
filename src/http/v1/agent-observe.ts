// /v1/agent/metrics, /v1/agent/metrics/stream, /v1/agent/monitor and /v1/agent/host: the agent's
// observability surfaces (metrics as Consul JSON or Prometheus text, interval summaries and log
// lines streamed, host facts).
import os from 'node:os';
import fs from 'node:fs';
import { BadRequestError } from '../../errors.ts';
import type { Telemetry } from '../../telemetry/metrics.ts';
import type { MetricsStream } from '../../telemetry/metrics-stream.ts';
import type { LogHub } from '../../log.ts';
import type { HttpResult } from '../router.ts';
import type { HttpRequest } from '../request.ts';

/** What the observability handlers need. */
export interface ObserveDeps {
  telemetry: Telemetry;
  hub: LogHub;
  /** telemetry.prometheus_retention_time in ms (Prometheus output needs it > 0). */
  prometheusRetentionMs: number;
  /** The interval summaries of /v1/agent/metrics/stream. */
  stream: MetricsStream;
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'];

function wantsPrometheus(req: HttpRequest): boolean {
  return req.query.get('format') === 'prometheus' || String(req.headers.accept ?? '').includes('application/openmetrics-text');
}

/** Host facts in gopsutil's JSON shape, as Consul's /v1/agent/host returns them. */
export function hostInfo(now: number): Record<string, unknown> {
  const total = os.totalmem();
  const free = os.freemem();
  let disk: Record<string, unknown> = {};
  try {
    const st = fs.statfsSync('/');
    const dt = st.blocks * st.bsize;
    const df = st.bavail * st.bsize;
    disk = { path: '/', fstype: '', total: dt, free: df, used: dt - df, usedPercent: dt ? ((dt - df) / dt) * 100 : 0 };
  } catch { /* no statfs: leave empty */ }
  return {
    Memory: { total, available: free, used: total - free, usedPercent: ((total - free) / total) * 100, free },
    CPU: os.cpus().map((c, i) => ({ cpu: i, modelName: c.model, mhz: c.speed, cores: 1 })),
    Host: {
      hostname: os.hostname(), uptime: Math.floor(os.uptime()), bootTime: Math.floor(now / 1000 - os.uptime()),
      os: os.platform(), platform: os.platform(), kernelVersion: os.release(), kernelArch: os.arch(),
    },
    Disk: disk,
    CollectionTime: now * 1e6,
    Errors: null,
  };
}

/** Runs `start` and waits for `signal`; then calls the unsubscribe function it returned. */
function untilAborted(signal: AbortSignal, start: () => () => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const off = start();
    const done = (): void => { off(); resolve(); };
    if (signal.aborted) done();
    else signal.addEventListener('abort', done, { once: true });
  });
}

/** Handlers for the observability routes. */
export function observeHandlers(deps: ObserveDeps) {
  return {
    async metrics(req: HttpRequest): Promise<HttpResult> {
      if (!wantsPrometheus(req)) return { body: await deps.telemetry.consulJSON() };
      if (deps.prometheusRetentionMs <= 0) {
        return { status: 415, raw: 'Prometheus is not enabled since its retention time is not positive', contentType: 'text/plain; charset=utf-8' };
      }
      return { raw: await deps.telemetry.prometheus(), contentType: 'text/plain; version=0.0.4; charset=utf-8' };
    },
    /** Each interval's summary as indented JSON, until the client leaves (Consul's AgentMetricsStream). */
    async metricsStream(): Promise<HttpResult> {
      return { stream: (write, signal) => untilAborted(signal, () => deps.stream.subscribe(write)) };
    },
    async monitor(req: HttpRequest): Promise<HttpResult> {
      const level = (req.query.get('loglevel') || 'info').toLowerCase();
      if (!LOG_LEVELS.includes(level)) throw new BadRequestError(`Unknown log level: ${level}`);
      const json = req.query.has('logjson');
      return { stream: (write, signal) => untilAborted(signal, () => deps.hub.subscribe(level, json, write)) };
    },
    async host(): Promise<HttpResult> {
      return { body: hostInfo(Date.now()) };
    },
  };
}
