// A C load generator for bench/dns.ts: Debian's dnsperf (`apt-get install dnsperf`, 2.10), paced
// with `-Q rate` and up to 10,000 queries outstanding (so it stays an open loop: a slow server
// does not slow the sender), EDNS0 on (`-e`, 4096-byte payload), one random `svc<N>.service.consul`
// per query from a pre-drawn file. dnsperf 2.10 has no latency histogram, so it runs with `-v`,
// which prints one line per reply (`> NOERROR name type seconds`, `> T ...` on a timeout) into a
// file; percentiles are taken from those lines afterwards, so the timing is C's (dnsperf's own
// send and receive threads), not a Node event loop's. A reply later than the 1 s timeout is lost,
// and so is every query still in flight when the input ends (dnsperf 2.10 stops then without
// waiting): a server with a standing queue shows it as lost queries (≈ 2,436 when a 4 MiB socket
// buffer is full), which p50/p99 leave out, as the Node generator's do.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LoadResult, LoadSpec } from './dns-load.ts';

/** Whether dnsperf is on PATH (the bench skips its rows when it is not). */
export function hasDnsperf(): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => fs.existsSync(path.join(d, 'dnsperf')));
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dnsperf-'));

/** Writes `count` random questions of the spec's type to a dnsperf input file; returns its path. */
function queryFile(spec: LoadSpec, count: number): string {
  const file = path.join(dir, `${spec.type}.txt`);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) lines.push(`svc${Math.floor(Math.random() * spec.services)}.service.consul ${spec.type}`);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** CPU time (user + system, all threads) a live process has used so far, in seconds; NaN once it is gone. */
export function processCpu(pid: number | undefined): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime (fields 14 and 15) in clock ticks, 100 a second on Linux.
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

/**
 * Runs dnsperf (through `prefix`, commands that exec it, so the pid is dnsperf's) with `args`;
 * resolves with its standard output, written to a file, and, when `sampleMs` is given, the cores
 * it used over its first `sampleMs` (read from /proc then: its usage is gone once it exits).
 */
async function run(prefix: string[], args: string[], limitMs: number, sampleMs = 0): Promise<{ text: string; cores: number }> {
  const out = path.join(dir, 'out.txt');
  const fd = fs.openSync(out, 'w');
  const [cmd, ...rest] = [...prefix, 'dnsperf', ...args, '-e', '-t', '1', '-b', '4096', '-O', 'suppress=unexpected,congestion,sockready'];
  const proc = spawn(cmd, rest, { stdio: ['ignore', fd, 'inherit'] });
  let cores = NaN;
  const timer = sampleMs > 0 ? setTimeout(() => (cores = processCpu(proc.pid) / (sampleMs / 1000)), sampleMs) : null;
  // dnsperf 2.10 sometimes never ends a run, both threads spinning (seen twice in 2026-11-27's
  // trials, once under nice -20, once under SCHED_FIFO): past `limitMs` it is killed and the
  // replies it printed are taken, the rest counted lost.
  let hung = false;
  const guard = setTimeout(() => (hung = true, proc.kill('SIGKILL')), limitMs);
  const code = await new Promise<number | null>((r) => proc.on('exit', r));
  clearTimeout(guard);
  if (timer) clearTimeout(timer);
  fs.closeSync(fd);
  if (hung) process.stderr.write(`dnsperf killed after ${limitMs} ms (hung): ${rest.join(' ')}\n`);
  else if (code !== 0) throw new Error(`dnsperf exited with ${code}`);
  return { text: fs.readFileSync(out, 'utf8'), cores };
}

/** How long a run of `spec` may take before dnsperf is taken for hung: a slow server stretches it (below), not this far. */
const limit = (spec: LoadSpec): number => spec.seconds * 4000 + 10_000;

/**
 * Keeps `concurrency` queries outstanding for `spec.seconds` (`-q`, no rate limit): the server's
 * peak as a C client sees it. Latencies are dnsperf's average only (no `-v`: printing a line per
 * reply would slow the generator at this rate), so p50 and p99 are NaN.
 */
export async function dnsperfClosedLoop(spec: LoadSpec, concurrency: number, prefix: string[] = []): Promise<LoadResult> {
  const { text } = await run(prefix, ['-s', '127.0.0.1', '-p', String(spec.port), '-d', queryFile(spec, 100_000), '-l', String(spec.seconds), '-q', String(concurrency)], limit(spec));
  const num = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
  const completed = num(/Queries completed:\s+(\d+)/);
  const noerror = num(/NOERROR (\d+)/);
  return { qps: Math.round(num(/Queries per second:\s+([\d.]+)/)), p50: NaN, p99: NaN, errors: completed - (Number.isNaN(noerror) ? 0 : noerror), lost: num(/Queries lost:\s+(\d+)/) };
}

/**
 * Sends `rate` queries per second for `spec.seconds` with dnsperf; latencies from its per-reply
 * lines, and the cores dnsperf itself used (`genCores`, over 90 % of the run): on a small machine
 * the generator's share is CPU the server does not have. `prefix` runs it through other commands
 * (e.g. `['taskset', '-c', '0']`).
 */
export async function dnsperfOpenLoop(spec: LoadSpec, rate: number, prefix: string[] = []): Promise<LoadResult> {
  const total = Math.round(rate * spec.seconds);
  const { text, cores } = await run(prefix, ['-s', '127.0.0.1', '-p', String(spec.port), '-d', queryFile(spec, total), '-n', '1', '-Q', String(rate), '-q', '10000', '-v'], limit(spec), spec.seconds * 900);
  const lat: number[] = [];
  let errors = 0;
  let lost = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('> ')) continue;
    const f = line.split(' ');
    if (f[1] === 'T') lost++;
    else {
      if (f[1] !== 'NOERROR') errors++;
      lat.push(Number(f[f.length - 1]) * 1000);
    }
  }
  lat.sort((a, b) => a - b);
  const sent = lat.length + lost;
  // dnsperf stops sending while 10,000 queries are outstanding, so an overloaded server stretches
  // the run past `spec.seconds`: the rate answered is over dnsperf's own run time.
  const runTime = Number(/Run time \(s\):\s+([\d.]+)/.exec(text)?.[1] ?? spec.seconds);
  return { qps: Math.round(lat.length / Math.max(runTime, spec.seconds)), p50: lat[Math.floor(lat.length * 0.5)] ?? NaN, p99: lat[Math.floor(lat.length * 0.99)] ?? NaN, errors, lost: Math.max(lost, total - sent), genCores: cores };
}
