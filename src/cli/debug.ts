// `proconsul debug`: records a debugging bundle from the agent for -duration (agent, host and
// members once; logs and metrics throughout) and archives it as Consul's debug command does.
// Proconsul agents serve no Go pprof profiles, so the pprof target is dropped with a warning.

import fs from 'node:fs';
import { withClient } from './client-command.ts';
import { HTTP_CLIENT_FLAGS } from './http-flags.ts';
import { parseCommandFlags, type CliIO, type Command } from './io.ts';
import { formatGoDuration } from '../duration.ts';
import type { ConsulClient } from '../api/index.ts';
import {
  DEBUG_TARGETS, captureDynamic, captureRaft, captureStatic, createArchive, writeIndex, type DebugRun, type DebugUi,
} from './debug-capture.ts';

const MIN_INTERVAL_MS = 5_000;
const MIN_DURATION_MS = 10_000;
const GRACE_MS = 2_000;

/** Go's `2006-01-02T15-04-05Z0700` for a UTC instant (colons would make tar think of a remote host). */
function fileTime(d: Date): string {
  return `${d.toISOString().slice(0, 19).replace(/:/g, '-')}Z`;
}

/** Consul's PrefixedUi for debug. */
export function debugUi(io: CliIO): DebugUi {
  return {
    output: (s) => io.stdout(`==> ${s}\n`),
    info: (s) => io.stdout(`    ${s}\n`),
    error: (s) => io.stderr(`==> ${s}\n`),
    warn: (s) => io.stderr(`${s}\n`),
  };
}

/** What `prepare` settles before anything is captured. */
export interface DebugPlan {
  output: string;
  capture: string[];
  intervalMs: number;
  durationMs: number;
  /** Consul skips the min-duration/interval checks only in its own tests. */
  validateTiming: boolean;
}

/** Consul's prepare: timing checks, the agent's version, the targets, a fresh output folder; the agent version or an error text. */
export async function prepareDebug(client: ConsulClient, plan: DebugPlan, ui: DebugUi): Promise<{ version: string } | { error: string }> {
  if (plan.validateTiming) {
    if (plan.durationMs < MIN_DURATION_MS) return { error: `duration must be longer than ${formatGoDuration(MIN_DURATION_MS)}` };
    // Consul's text names the minimum duration here too.
    if (plan.intervalMs < MIN_INTERVAL_MS) return { error: `interval must be longer than ${formatGoDuration(MIN_DURATION_MS)}` };
    if (plan.durationMs < plan.intervalMs) {
      return { error: `duration (${formatGoDuration(plan.durationMs)}) must be longer than interval (${formatGoDuration(plan.intervalMs)})` };
    }
  }
  let self: Record<string, unknown>;
  try {
    self = (await client.agent.self()).data;
  } catch (err) {
    return { error: `error querying target agent: ${(err as Error).message}. verify connectivity and agent address` };
  }
  const version = (self.Config as { Version?: unknown } | undefined)?.Version;
  if (typeof version !== 'string') return { error: 'agent response did not contain version key' };
  if (plan.capture.length === 0) plan.capture.push(...DEBUG_TARGETS);
  if (plan.capture.includes('pprof')) {
    plan.capture.splice(0, plan.capture.length, ...plan.capture.filter((t) => t !== 'pprof'));
    ui.warn('[WARN] Unable to capture pprof. The target agent does not serve pprof profiles (Proconsul runs on Node.js, not Go).');
  }
  const bad = plan.capture.find((t) => !DEBUG_TARGETS.includes(t) && t !== 'cluster');
  if (bad !== undefined) return { error: `target not found: ${bad}` };
  if (fs.existsSync(plan.output)) return { error: `output directory already exists: ${plan.output}` };
  try {
    fs.mkdirSync(plan.output, { recursive: true, mode: 0o755 });
  } catch (err) {
    return { error: `could not create output directory: ${(err as Error).message}` };
  }
  return { version };
}

/** Runs a prepared capture to the end: static files, the dynamic ones, index, peers, archive; the exit code. */
export async function runDebug(client: ConsulClient, plan: DebugPlan, archive: boolean, ui: DebugUi, signal: AbortSignal): Promise<number> {
  const ready = await prepareDebug(client, plan, ui);
  if ('error' in ready) {
    ui.error(`Capture validation failed: ${ready.error}`);
    return 1;
  }
  const archiveName = archive ? `${plan.output}.tar.gz` : plan.output;
  ui.output('Starting debugger and capturing static information...');
  ui.info(` Agent Version: '${ready.version}'`);
  ui.info(`      Interval: '${formatGoDuration(plan.intervalMs)}'`);
  ui.info(`      Duration: '${formatGoDuration(plan.durationMs)}'`);
  ui.info(`        Output: '${archiveName}'`);
  ui.info(`       Capture: '${plan.capture.join(', ')}'`);
  const run: DebugRun = {
    client, ui, output: plan.output, targets: plan.capture, intervalMs: plan.intervalMs, durationMs: plan.durationMs + GRACE_MS, signal,
  };
  const staticErr = await captureStatic(run);
  if (staticErr) ui.warn(`Static capture failed: ${staticErr}`);
  if (run.targets.includes('metrics') || run.targets.includes('logs')) {
    await captureDynamic(run).catch((err: Error) => ui.error(`Error encountered during collection: ${err.message}`));
  }
  try {
    writeIndex(run, ready.version);
  } catch (err) {
    ui.error(`Error creating index document: ${(err as Error).message}`);
    return 1;
  }
  await captureRaft(run).catch((err: Error) => ui.warn(`Raft list peers capture failed: ${err.message}`));
  if (archive) {
    try {
      createArchive(plan.output);
    } catch (err) {
      ui.warn(`Archive creation failed: ${(err as Error).message}`);
      return 1;
    }
  }
  ui.info(`Saved debug archive: ${archiveName}`);
  return 0;
}

/** The `debug` command. */
export const debugCommand: Command = {
  name: 'debug',
  synopsis: 'Records a debugging archive for operators',
  flags: [
    { name: 'capture', kind: 'list', usage: `One or more types of information to capture. This can be used to capture a subset of information, and defaults to capturing everything available. Possible information for capture: ${DEBUG_TARGETS.join(', ')}. This can be repeated multiple times.` },
    { name: 'interval', kind: 'duration', default: 30_000, usage: 'The interval in which to capture dynamic information such as telemetry, and profiling. Defaults to 30s.' },
    { name: 'duration', kind: 'duration', default: 300_000, usage: 'The total time to record information. Defaults to 5m0s.' },
    { name: 'archive', kind: 'bool', default: true, usage: 'Boolean value for if the files should be archived and compressed. Setting this to false will skip the archive step and leave the directory of information on the current path.' },
    { name: 'output', kind: 'string', usage: 'The path to the compressed archive that will be created with the information after collection.' },
    ...HTTP_CLIENT_FLAGS,
  ],
  help: `
Usage: proconsul debug [options]

  Monitors a Consul agent for the specified period of time, recording
  information about the agent, cluster, and environment to an archive
  written to the specified path.

  If ACLs are enabled, an 'operator:read' token must be supplied in order
  to perform this operation.

  To create a debug archive in the current directory for the default
  duration and interval, capturing all information available:

      $ proconsul debug

  Flags can be used to customize the duration and interval of the
  operation.

      $ proconsul debug -interval=20s -duration=1m

  The capture flag can be specified multiple times to limit information
  retrieved.

      $ proconsul debug -capture metrics -capture agent

  By default, the archive is saved to the current directory as a .tar.gz
  file; -archive=false leaves the directory intact.

      $ proconsul debug -output=/foo/bar/my-debugging -archive=false

  Proconsul agents serve no Go pprof profiles: the pprof target is
  skipped with a warning.
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const ui = debugUi(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    if (flags.args.length > 0) {
      ui.error('debug: Too many arguments provided, expected 0');
      return 1;
    }
    const plan: DebugPlan = {
      output: String(flags.values.output || `consul-debug-${fileTime(new Date())}`),
      capture: [...((flags.values.capture as string[] | undefined) ?? [])],
      intervalMs: Number(flags.values.interval), durationMs: Number(flags.values.duration), validateTiming: true,
    };
    return withClient(flags, io, async (client) => {
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        return await runDebug(client, plan, flags.values.archive !== false, ui, stop.signal);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
  },
};
