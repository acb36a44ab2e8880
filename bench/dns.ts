// DNS benchmark: A and SRV lookups (UDP, EDNS0 4096) against Proconsul, dnsmasq and unbound serving
// the same 1,000 services × 10 instances (dnsmasq host-record/srv-host and unbound local-data, static),
// from one load generator in this process: peak qps with p50/p99 (closed loop), then p50/p99 of
// Proconsul and unbound at half unbound's peak (open loop, the latency target), from the
// Node generator and again from dnsperf (a C generator, bench/dns-perf.ts; skipped when it is not
// installed: `apt-get install dnsperf`), whose timing carries no Node event-loop jitter; then, with
// dnsperf as the client, both servers' peak (unbound's is not capped by a Node generator) and both
// paced at half of unbound's dnsperf peak, and the peak of a bare node:dgram echo (bench/udp-echo.ts: Node's
// UDP floor, no lookup), which is paced at that half too; those paced rows give the server's and
// dnsperf's CPU in cores (dnsperf shares the machine: on 2 cores its share is CPU the server does
// not have). The last line prints the Proconsul/unbound ratios.
// Each Proconsul and unbound measurement is the best of `rounds` runs, interleaved, because the
// machine may be shared. For each paced Proconsul run the agent reports its event-loop delay, GC
// pauses and CPU time, and an idle Node process its own loop delay (the machine's noise), so a
// slow tail can be told apart from a loaded machine. Usage: node bench/dns.ts [seconds=3] [concurrency=32] [rounds=3]
// (environment: PROCONSUL_BENCH_AGENT_FLAGS, PROCONSUL_BENCH_PIN, PROCONSUL_BENCH_RT, PROCONSUL_BENCH_SWEEP, below)
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { closedLoop, openLoop, type LoadResult } from './dns-load.ts';
import { dnsperfClosedLoop, dnsperfOpenLoop, hasDnsperf, processCpu } from './dns-perf.ts';

const SERVICES = 1000;
const INSTANCES = 10;
const seconds = Number(process.argv[2] ?? 3);
const concurrency = Number(process.argv[3] ?? 32);
const rounds = Number(process.argv[4] ?? 3);
/**
 * V8 flags the agent child applies at start with v8.setFlagsFromString, as the CLI agent does.
 * Unset, the child gets what `proconsul agent` sets (--semi-space-growth-factor=1 at launch,
 * bin/proconsul.js, which has no effect as a node command-line flag on Node 24, only at run time;
 * --no-parallel-scavenge once it serves, src/cli/agent.ts); set it empty for V8's defaults. The
 * child inherits the variable.
 */
process.env.PROCONSUL_BENCH_AGENT_FLAGS ??= '--semi-space-growth-factor=1 --no-parallel-scavenge';
const AGENT_FLAGS = process.env.PROCONSUL_BENCH_AGENT_FLAGS.split(' ').filter(Boolean);
/**
 * PROCONSUL_BENCH_PIN=GEN/SERVERS (taskset CPU lists, e.g. `0/1`) pins the load generators (this
 * process and dnsperf) and the servers (agent, unbound, dnsmasq, the idle probe) to separate cores,
 * so a generator's wake-ups do not preempt the server it measures. PROCONSUL_BENCH_RT=PRIO runs the
 * servers, the probe and dnsperf (not the busy-looping Node generator) under SCHED_FIFO at that
 * priority (`chrt -f`, needs root): on a machine shared with other work, both servers and the C
 * generator then run as on a quiet one, whatever the other tenants do. Both are off by default,
 * and they do not combine: a SCHED_FIFO agent held to one core starves its own helper threads
 * (its start-up never finished in a trial).
 */
/**
 * PROCONSUL_BENCH_SWEEP=RATE,... (qps) paces Proconsul, unbound and the bare echo with dnsperf at
 * each rate too (rows as at half unbound's peak): where each one's p99 crosses 2 ms on this machine.
 */
const SWEEP = (process.env.PROCONSUL_BENCH_SWEEP ?? '').split(',').filter(Boolean).map(Number);
const [GEN_CPUS, SERVER_CPUS] = (process.env.PROCONSUL_BENCH_PIN ?? '').split('/');
const RT = process.env.PROCONSUL_BENCH_RT;
if (RT && SERVER_CPUS) throw new Error('PROCONSUL_BENCH_RT and PROCONSUL_BENCH_PIN do not combine (see above)');
const RT_PREFIX = RT ? ['chrt', '-f', RT] : [];
const SERVER_PREFIX = [...(SERVER_CPUS ? ['taskset', '-c', SERVER_CPUS] : []), ...RT_PREFIX];
const DNSPERF_PREFIX = [...(GEN_CPUS ? ['taskset', '-c', GEN_CPUS] : []), ...RT_PREFIX];
const pinned = (cmd: string, args: string[]): [string, string[]] =>
  (SERVER_PREFIX.length ? [SERVER_PREFIX[0], [...SERVER_PREFIX.slice(1), cmd, ...args]] : [cmd, args]);
if (GEN_CPUS) execFileSync('taskset', ['-p', '-c', GEN_CPUS, String(process.pid)], { stdio: 'ignore' });
const ip = (s: number, i: number): string => `10.${Math.floor(s / 250)}.${s % 250}.${i + 1}`;

/** A child speaking the `stats` line protocol of dns-agent.ts and loop-probe.ts; its first line is returned as `first`. */
async function statsChild(script: string, args: string[]): Promise<{ proc: ChildProcess; first: string; stats(cmd?: string): Promise<Record<string, unknown>> }> {
  const proc = spawn(...pinned(process.execPath, [path.join(import.meta.dirname, script), ...args]), { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  const first = String((await lines.next()).value);
  const stats = async (cmd = 'stats'): Promise<Record<string, unknown>> => (proc.stdin!.write(`${cmd}\n`), JSON.parse(String((await lines.next()).value)));
  return { proc, first, stats };
}

async function startProconsul(): Promise<{ port: number; proc: ChildProcess; stats(cmd?: string): Promise<Record<string, unknown>> }> {
  const c = await statsChild('dns-agent.ts', [String(SERVICES), String(INSTANCES)]);
  return { port: Number(c.first.trim()), proc: c.proc, stats: c.stats };
}

async function startDnsmasq(port: number): Promise<ChildProcess> {
  const lines: string[] = [];
  for (let s = 0; s < SERVICES; s++) {
    for (let i = 0; i < INSTANCES; i++) {
      lines.push(`host-record=svc${s}.service.consul,${ip(s, i)}`, `host-record=n${s}-${i}.node.dc1.consul,${ip(s, i)}`);
      lines.push(`srv-host=svc${s}.service.consul,n${s}-${i}.node.dc1.consul,${8000 + i},1,1`);
    }
  }
  const conf = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dnsmasq-')), 'dnsmasq.conf');
  fs.writeFileSync(conf, `${lines.join('\n')}\n`);
  const proc = spawn(...pinned('dnsmasq', ['-k', '-C', conf, '-p', String(port), '--listen-address=127.0.0.1', '--bind-interfaces', '--no-resolv', '--no-hosts', '--cache-size=0', '--user=root']), { stdio: 'inherit' });
  await new Promise((r) => setTimeout(r, 1500));
  return proc;
}

async function startUnbound(port: number): Promise<ChildProcess> {
  const lines = ['server:', '  interface: 127.0.0.1', `  port: ${port}`, '  do-daemonize: no', '  username: ""', '  chroot: ""',
    '  directory: ""', '  pidfile: ""', '  use-syslog: no', '  num-threads: 1', '  so-rcvbuf: 4m', '  do-ip6: no', '  local-zone: "consul." static'];
  for (let s = 0; s < SERVICES; s++) {
    for (let i = 0; i < INSTANCES; i++) {
      lines.push(`  local-data: "svc${s}.service.consul. 0 IN A ${ip(s, i)}"`, `  local-data: "n${s}-${i}.node.dc1.consul. 0 IN A ${ip(s, i)}"`);
      lines.push(`  local-data: "svc${s}.service.consul. 0 IN SRV 1 1 ${8000 + i} n${s}-${i}.node.dc1.consul."`);
    }
  }
  const conf = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'unbound-')), 'unbound.conf');
  fs.writeFileSync(conf, `${lines.join('\n')}\n`);
  const proc = spawn(...pinned('unbound', ['-d', '-c', conf]), { stdio: 'inherit' });
  await new Promise((r) => setTimeout(r, 2500));
  return proc;
}

const pc = await startProconsul();
const probe = await statsChild('loop-probe.ts', []);
const ub = await startUnbound(pc.port + 2);
const dm = await startDnsmasq(pc.port + 1);
/** Node's UDP floor (bench/udp-echo.ts, port + 3): measured at peak with dnsperf beside the agent. */
const echo = await statsChild('udp-echo.ts', [String(pc.port + 3)]);
const withDnsperf = hasDnsperf();
const rows: string[] = [];
const summary: string[] = [];
const notes: string[] = [];
type GcStats = Record<string, { count: number; ms: number; max: number; p50?: number; p99?: number }>;
/** The paced Proconsul run, with what the agent and the idle probe saw during it. */
async function pacedProconsul(type: 'A' | 'SRV', rate: number, gen = 'node'): Promise<LoadResult> {
  await pc.stats('start');
  await probe.stats();
  const r = gen === 'node' ? await openLoop(spec(pc.port, type), rate) : await dnsperfOpenLoop(spec(pc.port, type), rate, DNSPERF_PREFIX);
  const a = await pc.stats();
  const p = await probe.stats();
  const gc = Object.values(a.gc as GcStats);
  const minor = (a.gc as GcStats).minor;
  notes.push(`${type} paced (${gen}) p99 ${r.p99.toFixed(2)} ms: agent loop lateness (20 ms timer) p99/max ${a.loopP99}/${a.loopMax} ms, ` +
    `${gc.reduce((n, g) => n + g.count, 0)} GCs (longest ${Math.max(0, ...gc.map((g) => g.max)).toFixed(1)} ms, young generation ${a.youngMiB} MiB; scavenges ${minor?.count ?? 0}, pause p50/p99/max ${minor?.p50 ?? 0}/${minor?.p99 ?? 0}/${minor?.max.toFixed(2) ?? 0} ms), agent CPU ${a.cpuMs} ms; ` +
    `idle probe loop delay p99/max ${p.loopP99}/${p.loopMax} ms`);
  return r;
}
const spec = (port: number, type: 'A' | 'SRV') => ({ port, type, services: SERVICES, minAnswers: INSTANCES, seconds });
/** `run` with the CPU the process `pid` (a server) used meanwhile, in cores over the run's `seconds`. */
async function withServerCpu(pid: number | undefined, run: () => Promise<LoadResult>): Promise<LoadResult> {
  const before = processCpu(pid);
  const r = await run();
  return { ...r, serverCores: (processCpu(pid) - before) / seconds };
}
/** A paced row's CPU figures: on 2 cores the generator's share is CPU the server does not have. */
const cores = (r: LoadResult): string => `; server ${r.serverCores?.toFixed(2)}, dnsperf ${r.genCores?.toFixed(2)} cores`;
/** Proconsul, unbound and the bare echo paced at `rate` by dnsperf, interleaved (best p99 of `rounds`), with rows. */
async function pacedThree(type: 'A' | 'SRV', rate: number): Promise<LoadResult[]> {
  const got = await best([() => withServerCpu(pc.proc.pid, () => pacedProconsul(type, rate, 'dnsperf')),
    () => withServerCpu(ub.pid, () => dnsperfOpenLoop(spec(pc.port + 2, type), rate, DNSPERF_PREFIX)),
    () => withServerCpu(echo.proc.pid, () => dnsperfOpenLoop(spec(pc.port + 3, type), rate, DNSPERF_PREFIX))], (x, y) => x.p99 < y.p99);
  const at = `paced at ${rate.toLocaleString('en')} qps (dnsperf`;
  ['proconsul', 'unbound', 'bare node:dgram echo'].forEach((name, i) => rows.push(row(type, `${name} ${at}${cores(got[i])})`, got[i])));
  return got;
}
const ms = (x: number): string => (Number.isNaN(x) ? '–' : x.toFixed(2));
const row = (type: string, name: string, r: LoadResult): string =>
  `| ${type} | ${name} | ${r.qps.toLocaleString('en')} | ${ms(r.p50)} | ${ms(r.p99)} | ${r.errors + r.lost} |`;
/** Runs `runs` interleaved, `rounds` times; keeps each one's best result by `better`. */
async function best(runs: (() => Promise<LoadResult>)[], better: (x: LoadResult, y: LoadResult) => boolean): Promise<LoadResult[]> {
  const out: LoadResult[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const [i, run] of runs.entries()) {
      const got = await run();
      if (!out[i] || better(got, out[i])) out[i] = got;
    }
  }
  return out;
}
for (const type of ['A', 'SRV'] as const) {
  const b = await closedLoop(spec(pc.port + 1, type), concurrency);
  const [a, c] = await best([() => closedLoop(spec(pc.port, type), concurrency), () => closedLoop(spec(pc.port + 2, type), concurrency)], (x, y) => x.qps > y.qps);
  rows.push(row(type, 'proconsul', a), row(type, 'dnsmasq', b), row(type, 'unbound', c));
  rows.push(`| ${type} | ratio proconsul/dnsmasq ${(a.qps / b.qps).toFixed(2)}, proconsul/unbound ${(a.qps / c.qps).toFixed(2)} | | | | |`);
  const half = Math.round(c.qps / 2);
  const [pa, pc2] = await best([() => pacedProconsul(type, half), () => openLoop(spec(pc.port + 2, type), half)], (x, y) => x.p99 < y.p99);
  rows.push(row(type, `proconsul paced at ${half.toLocaleString('en')} qps`, pa), row(type, `unbound paced at ${half.toLocaleString('en')} qps`, pc2));
  let perf = '';
  if (withDnsperf) {
    const [da, du] = await best([() => pacedProconsul(type, half, 'dnsperf'), () => dnsperfOpenLoop(spec(pc.port + 2, type), half, DNSPERF_PREFIX)], (x, y) => x.p99 < y.p99);
    rows.push(row(type, `proconsul paced at ${half.toLocaleString('en')} qps (dnsperf)`, da), row(type, `unbound paced at ${half.toLocaleString('en')} qps (dnsperf)`, du));
    // The same two measurements with dnsperf as the client: its peak for unbound is not capped by a Node generator.
    const [xa, xu, xe] = await best([() => dnsperfClosedLoop(spec(pc.port, type), concurrency, DNSPERF_PREFIX), () => dnsperfClosedLoop(spec(pc.port + 2, type), concurrency, DNSPERF_PREFIX),
      () => dnsperfClosedLoop(spec(pc.port + 3, type), concurrency, DNSPERF_PREFIX)], (x, y) => x.qps > y.qps);
    rows.push(row(type, 'proconsul peak (dnsperf)', xa), row(type, 'unbound peak (dnsperf)', xu), row(type, 'bare node:dgram echo peak (dnsperf), no lookup', xe));
    // At half unbound's dnsperf peak, the bare echo too: the floor any server on node:dgram's main thread has here.
    const cHalf = Math.round(xu.qps / 2);
    const [ha, hu, he] = await pacedThree(type, cHalf);
    for (const rate of SWEEP) await pacedThree(type, rate);
    perf = `; dnsperf: p99 ${da.p99.toFixed(2)} ms at ${half.toLocaleString('en')} qps (unbound ${du.p99.toFixed(2)} ms), peak ratio ${(xa.qps / xu.qps).toFixed(2)} (of a bare node:dgram echo ${(xa.qps / xe.qps).toFixed(2)}), ` +
      `p99 ${ha.p99.toFixed(2)} ms at half its unbound peak ${cHalf.toLocaleString('en')} qps (unbound ${hu.p99.toFixed(2)} ms, bare echo ${he.p99.toFixed(2)} ms, lost ${ha.lost} vs ${hu.lost})`;
  }
  summary.push(`${type} ${(a.qps / c.qps).toFixed(2)} (p99 ${pa.p99.toFixed(2)} ms at ${half.toLocaleString('en')} qps, unbound ${pc2.p99.toFixed(2)} ms${perf})`);
}
console.log(`${SERVICES} services × ${INSTANCES} instances, UDP+EDNS0 4096, ${concurrency} outstanding, ${seconds}s per run, best of ${rounds}, ${os.cpus().length} cores ${os.cpus()[0].model}; ` +
  `agent flags: ${AGENT_FLAGS.join(' ') || 'none'}; pinning ${process.env.PROCONSUL_BENCH_PIN ?? 'none'}; SCHED_FIFO ${RT ?? 'no'}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log('| type | server | qps | p50 ms | p99 ms | short/err/lost |\n|---|---|---:|---:|---:|---:|');
console.log(rows.join('\n'));
if (!withDnsperf) notes.push('dnsperf not installed (apt-get install dnsperf): no C-generator rows');
console.log(notes.map((n) => `- ${n}`).join('\n'));
console.log(`ratio proconsul/unbound: ${summary.join(', ')}; target >= 0.50 with p99 < 2 ms at half unbound's qps`);
pc.proc.kill('SIGTERM');
probe.proc.stdin!.end();
dm.kill('SIGTERM');
ub.kill('SIGTERM');
echo.proc.stdin!.end();
