// What `proconsul debug` records, in Consul's bundle layout: agent.json, host.json and
// members.json once, consul.log (TRACE monitor) and metrics.json (the metrics stream) for the
// duration, index.json and listpeers.json at the end, then the folder as <output>.tar.gz.

import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ApiError, type ConsulClient } from '../api/index.ts';
import { formatGoDuration } from '../duration.ts';
import { writeTar, type TarEntry } from '../snapshot/index.ts';
import { columnize } from './catalog-columns.ts';
import { raftConfiguration } from './operator-api.ts';

/** The capture targets Consul knows, in its default order; `cluster` is the old name of `members`. */
export const DEBUG_TARGETS = ['metrics', 'logs', 'pprof', 'host', 'agent', 'members'];

/** Consul's debug UI: Output as `==> `, Info as four spaces, Error as `==> ` on stderr, Warn bare on stderr. */
export interface DebugUi {
  output(s: string): void;
  info(s: string): void;
  error(s: string): void;
  warn(s: string): void;
}

/** One capture run. */
export interface DebugRun {
  client: ConsulClient;
  ui: DebugUi;
  /** The folder being filled (the archive is this plus .tar.gz). */
  output: string;
  targets: string[];
  intervalMs: number;
  /** Including Consul's two-second grace. */
  durationMs: number;
  /** Aborted by SIGINT/SIGTERM: collection stops and what was captured is still archived. */
  signal: AbortSignal;
}

/** Go's time.Time String of a UTC instant: `2006-01-02 15:04:05.999999999 +0000 UTC`. */
export function goTimeString(d: Date): string {
  const iso = d.toISOString();
  const frac = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac ? `.${frac}` : ''} +0000 UTC`;
}

/** Writes `content` as Go's json.MarshalIndent with a tab. */
function writeJSON(file: string, content: unknown): void {
  fs.writeFileSync(file, JSON.stringify(content ?? null, null, '\t'), { mode: 0o644 });
}

/** agent.json, host.json and members.json (the WAN pool, as Consul asks); the errors joined, or null. */
export async function captureStatic(r: DebugRun): Promise<string | null> {
  const errs: string[] = [];
  const one = async (target: string, file: string, get: () => Promise<unknown>) => {
    if (!r.targets.includes(target) && !(target === 'members' && r.targets.includes('cluster'))) return;
    let data: unknown = null;
    try {
      data = await get();
    } catch (err) {
      errs.push((err as Error).message);
    }
    writeJSON(path.join(r.output, file), data);
  };
  await one('host', 'host.json', async () => (await r.client.json({ method: 'GET', path: '/v1/agent/host' })).data);
  await one('agent', 'agent.json', async () => (await r.client.agent.self()).data);
  await one('members', 'members.json', async () => (await r.client.agent.members(true)).data);
  return errs.length ? errs.join('; ') : null;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Consul's interval loop: a capture at once and one per interval until the duration ends.
 * Without pprof there is nothing to capture per interval; the lines still mark the cadence.
 * Throws when interrupted, as Consul's loop does.
 */
async function captureInterval(r: DebugRun, until: number): Promise<void> {
  let count = 0;
  r.ui.output(`Beginning capture interval ${goTimeString(new Date())} (${count})`);
  r.ui.output(`Capture successful ${goTimeString(new Date())} (${count})`);
  for (;;) {
    const next = Math.min(r.intervalMs, until - Date.now());
    await sleep(Math.max(0, next), r.signal);
    if (r.signal.aborted) throw new Error('stopping collection due to shutdown signal');
    if (Date.now() >= until) return;
    count++;
    r.ui.output(`Capture successful ${goTimeString(new Date())} (${count})`);
  }
}

/** consul.log: every agent log line at TRACE until the duration ends or the run is interrupted. */
async function captureLogs(r: DebugRun, stop: AbortSignal): Promise<void> {
  const fd = fs.openSync(path.join(r.output, 'consul.log'), 'w', 0o644);
  try {
    const lines = await r.client.agent.monitor('TRACE', false, { signal: stop });
    for await (const line of lines) fs.writeSync(fd, `${line}\n`);
  } catch (err) {
    // Ending the capture aborts the stream; only a failure before that is an error.
    if (!stop.aborted) throw err;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * metrics.json: the agent's metrics stream (one indented document per interval) until the
 * duration ends; an agent without /v1/agent/metrics/stream is read each interval instead.
 */
async function captureMetrics(r: DebugRun, stop: AbortSignal): Promise<void> {
  const fd = fs.openSync(path.join(r.output, 'metrics.json'), 'w', 0o644);
  try {
    try {
      const res = await r.client.stream({ method: 'GET', path: '/v1/agent/metrics/stream', options: { signal: stop } });
      for await (const chunk of res) fs.writeSync(fd, chunk as Buffer);
      return;
    } catch (err) {
      if (stop.aborted || !(err instanceof ApiError) || (err.statusCode !== 404 && err.statusCode !== 405)) throw err;
    }
    while (!stop.aborted) {
      const m = (await r.client.json({ method: 'GET', path: '/v1/agent/metrics', options: { signal: stop } })).data;
      fs.writeSync(fd, `${JSON.stringify(m, null, 4)}\n`);
      await sleep(r.intervalMs, stop);
    }
  } catch (err) {
    // Ending the capture aborts the stream; only a failure before that is an error.
    if (!stop.aborted) throw err;
  } finally {
    fs.closeSync(fd);
  }
}

/** The interval loop, logs and metrics side by side for the duration; rejects with the first failure. */
export async function captureDynamic(r: DebugRun): Promise<void> {
  const until = Date.now() + r.durationMs;
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), r.durationMs);
  const onAbort = (): void => stop.abort();
  r.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const jobs: Promise<void>[] = [captureInterval(r, until)];
    if (r.targets.includes('logs')) jobs.push(captureLogs(r, stop.signal));
    if (r.targets.includes('metrics')) jobs.push(captureMetrics(r, stop.signal));
    const results = await Promise.allSettled(jobs);
    const failed = results.find((x) => x.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  } finally {
    clearTimeout(timer);
    stop.abort();
    r.signal.removeEventListener('abort', onAbort);
  }
}

/** index.json: Consul's debugIndex (protocol version 1). */
export function writeIndex(r: DebugRun, agentVersion: string): void {
  writeJSON(path.join(r.output, 'index.json'), {
    Version: 1, AgentVersion: agentVersion, Interval: formatGoDuration(r.intervalMs), Duration: formatGoDuration(r.durationMs), Targets: r.targets,
  });
}

/** listpeers.json: the Raft configuration as Consul's debug table (commit index and how far each server trails). */
export async function captureRaft(r: DebugRun): Promise<void> {
  let reply: Awaited<ReturnType<typeof raftConfiguration>>;
  try {
    reply = await raftConfiguration(r.client, false);
  } catch (err) {
    throw new Error(`Failed to retrieve raft configuration: ${(err as Error).message}`);
  }
  const leaderIndex = reply.Servers.find((s) => s.Leader)?.LastIndex ?? 0;
  const rows = [['Node', 'ID', 'Address', 'State', 'Voter', 'RaftProtocol', 'Commit Index', 'Trails Leader By']];
  for (const s of reply.Servers) {
    const trails = leaderIndex - (s.LastIndex ?? 0);
    const by = s.Leader ? '-' : trails === 1 ? '1 commit' : `${trails} commits`;
    rows.push([s.Node, s.ID, s.Address, s.Leader ? 'leader' : 'follower', String(s.Voter), s.ProtocolVersion || '<=1', String(s.LastIndex ?? 0), by]);
  }
  fs.writeFileSync(path.join(r.output, 'listpeers.json'), columnize(rows), { mode: 0o644 });
}

/** Every folder and file under `dir` in filepath.Walk's lexical order, named from the folder's base name. */
function walk(dir: string, name: string, out: TarEntry[]): void {
  const st = fs.statSync(dir);
  out.push({ name, data: Buffer.alloc(0), dir: true, mode: st.mode & 0o777, mtimeMs: st.mtimeMs });
  for (const entry of fs.readdirSync(dir).sort()) {
    const full = path.join(dir, entry);
    const s = fs.statSync(full);
    if (s.isDirectory()) walk(full, `${name}/${entry}`, out);
    else if (s.isFile()) out.push({ name: `${name}/${entry}`, data: fs.readFileSync(full), mode: s.mode & 0o777, mtimeMs: s.mtimeMs });
  }
}

/** Writes <output>.tar.gz (through a temp file renamed into place) and removes the folder. */
export function createArchive(output: string): void {
  const archive = `${output}.tar.gz`;
  const entries: TarEntry[] = [];
  walk(output, path.basename(output), entries);
  const tmp = `${archive}.tmp${process.pid}`;
  try {
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      fs.writeSync(fd, gzipSync(writeTar(entries)));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, archive);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.rmSync(output, { recursive: true, force: true });
}
