// Startup: `proconsul agent -dev` from spawn to the first 200 on /v1/status/leader (median of N),
// against a reference measured by the same harness: a bare `node -e` HTTP server from spawn to
// its first 200 (Node's own start-up floor on this machine), each with the CPU its main thread had
// used by then (Linux /proc: schedstat's ns, else 10 ms ticks; on a shared machine the steadier figure, since wall time
// also counts waiting for a core). Then `createAgent(config).start()`
// in this process (modules already loaded), median of N. Targets: ≤ 300 ms CLI, ≤ 50 ms
// in-process. Every port is a free ephemeral one so other agents on the machine never collide.
//
//   npx node bench/startup.ts              # 10 runs each (~15 s)
//   npx node bench/startup.ts --runs 3     # smoke run
//   --prof DIR   also writes --cpu-prof profiles of the CLI runs into DIR
//   --bin2 FILE  also times another launcher (e.g. an installed package's bin/proconsul.js),
//                alternated with this checkout's
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createAgent } from '../src/index.ts';
import { silentLogger } from '../src/log.ts';
import { devConfig } from '../test/support/agent.ts';
import { freePort } from '../test/support/etcd.ts';
import { quantile, sleep } from './support/proc.ts';
import { describeCosts, machineCosts } from './support/machine-probe.ts';

const { values: opts } = parseArgs({
  options: { runs: { type: 'string', default: '10' }, quick: { type: 'boolean', default: false }, prof: { type: 'string' }, bin2: { type: 'string' } },
});
const runs = opts.quick ? 3 : Number(opts.runs);
const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'proconsul.js');
const REFERENCE = 'require("http").createServer((q, s) => s.end("\\"ok\\"")).listen(Number(process.argv[1]), "127.0.0.1")';

/** One GET; resolves with the status, or 0 when the connection failed. */
function status(port: number, p: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('error', () => resolve(0));
  });
}

/**
 * CPU ms the main thread of `pid` has used: from /proc's schedstat (run time in ns) where the kernel
 * keeps it, else utime + stime from /proc's stat (10 ms ticks); NaN where neither is readable.
 */
function mainThreadCpuMs(pid: number | undefined): number {
  try {
    return Number(fs.readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    // no schedstat (kernel without CONFIG_SCHED_INFO): the tick counts below
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10; // utime + stime in USER_HZ (100) ticks
  } catch {
    return Number.NaN;
  }
}

const cpuAt200 = new Map<string, number[]>();

/** Spawns `args` and returns ms from spawn to the first 200 on `p` (polled every 2 ms), then kills it. */
async function timeToFirst200(args: string[], port: number, p: string, series: string): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}`);
      if ((await status(port, p)) === 200) {
        const ms = performance.now() - t0;
        cpuAt200.set(series, [...(cpuAt200.get(series) ?? []), mainThreadCpuMs(child.pid)]);
        return ms;
      }
      if (performance.now() - t0 > 30_000) throw new Error(`${args.join(' ')}: no 200 within 30 s`);
      await sleep(2);
    }
  } finally {
    // SIGTERM, not SIGKILL, so a --cpu-prof run writes its profile.
    child.kill('SIGTERM');
    await exited;
  }
}

async function cliArgs(port: number, run: number, bin = BIN): Promise<string[]> {
  const ports = ['-dns-port', '-grpc-port', '-grpc-tls-port', '-serf-lan-port', '-serf-wan-port', '-server-port'];
  const flags: string[] = [];
  // DNS on a port of its own, as `agent -dev` serves it (8600 by default): its modules are part of a start.
  for (const f of ports) flags.push(f, String(f.startsWith('-grpc') ? -1 : await freePort()));
  const prof = opts.prof ? ['--cpu-prof', `--cpu-prof-dir=${opts.prof}`, `--cpu-prof-name=cli-${run}.cpuprofile`] : [];
  return [...prof, bin, 'agent', '-dev', '-node', `startup-${run}`, '-bind', '127.0.0.1', '-client', '127.0.0.1', '-http-port', String(port), ...flags, '-log-level', 'error'];
}

async function inProcess(): Promise<{ build: number; start: number }> {
  const t0 = performance.now();
  const agent = createAgent(devConfig({ nodeName: 'startup', logLevel: 'error' }), { logger: silentLogger() });
  const t1 = performance.now();
  await agent.start();
  const t2 = performance.now();
  await agent.stop();
  return { build: t1 - t0, start: t2 - t1 };
}

const median = (xs: number[]) => quantile([...xs].sort((a, b) => a - b), 0.5);
const fmt = (n: number) => n.toFixed(1);
const loadBefore = os.loadavg()[0];
const cli: number[] = [];
const ref: number[] = [];
const cli2: number[] = [];
// Interleaved so a burst of load from elsewhere hits both series alike.
for (let i = 0; i < runs; i++) {
  const p1 = await freePort();
  ref.push(await timeToFirst200(['-e', REFERENCE, String(p1)], p1, '/v1/status/leader', 'ref'));
  const p2 = await freePort();
  cli.push(await timeToFirst200(await cliArgs(p2, i), p2, '/v1/status/leader', 'cli'));
  if (opts.bin2) {
    const p3 = await freePort();
    cli2.push(await timeToFirst200(await cliArgs(p3, i, path.resolve(opts.bin2)), p3, '/v1/status/leader', 'cli2'));
  }
  process.stderr.write(`[run ${i + 1}] node -e http server ${fmt(ref.at(-1)!)} ms, proconsul agent -dev ${fmt(cli.at(-1)!)} ms` +
    `${opts.bin2 ? `, --bin2 ${fmt(cli2.at(-1)!)} ms` : ''}\n`);
}
const built: number[] = [];
const started: number[] = [];
const total: number[] = [];
for (let i = 0; i < runs; i++) {
  const r = await inProcess();
  built.push(r.build);
  started.push(r.start);
  total.push(r.build + r.start);
}

let pairedNote = '';
const row = (name: string, xs: number[]) => `| ${name} | ${fmt(median(xs))} | ${fmt(Math.min(...xs))} | ${fmt(Math.max(...xs))} |`;
console.log(`\nStartup bench: ${runs} runs each; node ${process.version}, ${os.cpus().length} CPUs; ` +
  `1-min load average ${loadBefore.toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} after; machine: ${describeCosts(machineCosts())}.`);
console.log('| measure | median ms | min ms | max ms |');
console.log('|:--|--:|--:|--:|');
console.log(row('`proconsul agent -dev` → first 200 on /v1/status/leader', cli));
console.log(row('reference: `node -e` http server → first 200', ref));
if (opts.bin2) console.log(row('--bin2 `agent -dev` → first 200 on /v1/status/leader', cli2));
if (!cpuAt200.get('cli')!.some(Number.isNaN)) {
  console.log(row('`proconsul agent -dev`: main-thread CPU at the first 200', cpuAt200.get('cli')!));
  console.log(row('reference: main-thread CPU at the first 200', cpuAt200.get('ref')!));
  if (opts.bin2) {
    console.log(row('--bin2 `agent -dev`: main-thread CPU at the first 200', cpuAt200.get('cli2')!));
    const a = cpuAt200.get('cli')!;
    const paired = a.map((x, i) => x - cpuAt200.get('cli2')![i]);
    console.log(row('paired per run: main-thread CPU, this checkout − --bin2', paired));
    // On a loaded machine min and max are outliers; the quartiles say whether the median is separable from 0.
    const sorted = [...paired].sort((x, y) => x - y);
    pairedNote = `paired main-thread CPU, this checkout − --bin2: q1 ${fmt(quantile(sorted, 0.25))}, q3 ${fmt(quantile(sorted, 0.75))} ms; ` +
      `this checkout lower in ${paired.filter((d) => d < 0).length} of ${paired.length} runs`;
  }
}
console.log(row('in-process createAgent(config)', built));
console.log(row('in-process agent.start()', started));
console.log(row('in-process createAgent(config).start() total', total));
if (pairedNote) console.log(`\n${pairedNote}`);
const cliMed = median(cli);
const inMed = median(total);
console.log(`\ntarget: CLI ${fmt(cliMed)} ms (≤ 300 ${cliMed <= 300 ? 'met' : 'MISSED'}), of which ${fmt(cliMed - median(ref))} ms above bare Node; ` +
  `in-process ${fmt(inMed)} ms (≤ 50 ${inMed <= 50 ? 'met' : 'MISSED'})`);
console.log(`ratio: proconsul agent -dev / bare node http server time to first 200 = ${(cliMed / median(ref)).toFixed(2)}; ` +
  `CLI ${fmt(cliMed)} ms (target ≤ 300), in-process ${fmt(inMed)} ms (target ≤ 50)`);
