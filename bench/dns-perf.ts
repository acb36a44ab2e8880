// A C load generator for bench/dns.ts: Debian's dnsperf (`apt-get install dnsperf`, 2.10), paced
// with `-Q rate` and up to 10,000 queries outstanding (so it stays an open loop: a slow server
// does not slow the sender), EDNS0 on (`-e`, 4096-byte payload), one random `svc<N>.service.consul`
// per query from a pre-shuffled file. dnsperf 2.10 has no latency histogram, so it runs with `-v`,
// which prints one line per reply (`> NOERROR name type seconds`, `> T ...` on a timeout) into a
// file; percentiles are taken from those lines afterwards, so the generator's timing is C's
// (its own send and receive threads), not a Node event loop's.
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

/**
 * Sends `rate` queries per second for `spec.seconds` with dnsperf; latencies from its per-reply
 * lines. With `cpus` (a taskset list) dnsperf runs pinned to those cores.
 */
export async function dnsperfOpenLoop(spec: LoadSpec, rate: number, cpus?: string): Promise<LoadResult> {
  const total = Math.round(rate * spec.seconds);
  const queries = path.join(dir, `${spec.type}.txt`);
  const lines: string[] = [];
  for (let i = 0; i < total; i++) lines.push(`svc${Math.floor(Math.random() * spec.services)}.service.consul ${spec.type}`);
  fs.writeFileSync(queries, `${lines.join('\n')}\n`);
  const out = path.join(dir, 'out.txt');
  const fd = fs.openSync(out, 'w');
  const args = ['-s', '127.0.0.1', '-p', String(spec.port), '-d', queries, '-n', '1', '-Q', String(rate),
    '-q', '10000', '-t', '1', '-e', '-v', '-b', '4096'];
  const proc = spawn(cpus ? 'taskset' : 'dnsperf', cpus ? ['-c', cpus, 'dnsperf', ...args] : args, { stdio: ['ignore', fd, 'inherit'] });
  const code = await new Promise<number | null>((r) => proc.on('exit', r));
  fs.closeSync(fd);
  if (code !== 0) throw new Error(`dnsperf exited with ${code}`);
  const lat: number[] = [];
  let errors = 0;
  let lost = 0;
  for (const line of fs.readFileSync(out, 'utf8').split('\n')) {
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
  return { qps: Math.round(lat.length / spec.seconds), p50: lat[Math.floor(lat.length * 0.5)] ?? NaN, p99: lat[Math.floor(lat.length * 0.99)] ?? NaN, errors, lost: Math.max(lost, total - sent) };
}
