// Child process of bench/dns.ts: an in-process dev agent with DNS on 127.0.0.1:0 and
// `services` × `instances` registered through the catalog endpoint; prints the DNS port.
// A `start` line on stdin starts measuring (answered with `{}`); the next `stats` line is answered
// with one JSON line on stdout about the time since: event-loop lateness (p50/p99/max ms, how much
// later than due a 20 ms timer fired), CPU time (ms; the process's and the main thread's), and garbage collections (count, total and
// longest pause ms per kind), to see what stalls the loop during a paced run, and stops measuring.
// The monitor runs only between the two (never during the peak runs: a real agent does not pay it),
// and at 20 ms: a 1 ms timer cost the agent ≈ 45 ms of CPU a second paced at 30k qps (0.05 cores,
// a third of its CPU above a bare echo's there), enough to push it into SCHED_FIFO's throttling.
// A `mark` line does the same as `start` without the loop-delay monitor (CPU and GCs only, for
// bench/dns-cpu.ts). PROCONSUL_BENCH_AGENT_FLAGS (space-separated V8 flags) are applied with
// v8.setFlagsFromString before the agent's modules load; PROCONSUL_BENCH_TREE runs the agent of
// another source tree (a `git archive` of an older commit) under this script.
// PROCONSUL_BENCH_DNS_DATA (below) makes it a restarted agent (bench/dns-cold.ts).
import path from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import readline from 'node:readline';
import v8 from 'node:v8';

for (const flag of (process.env.PROCONSUL_BENCH_AGENT_FLAGS ?? '').split(' ').filter(Boolean)) v8.setFlagsFromString(flag);
// Imported after the flags, as bin/proconsul.js imports the CLI: loading the agent's modules
// already grows the young generation, and --semi-space-growth-factor=1 then keeps that size.
const tree = process.env.PROCONSUL_BENCH_TREE || path.dirname(import.meta.dirname);
const { startDevAgent } = await import(path.join(path.resolve(tree), 'test/support/agent.ts')) as typeof import('../test/support/agent.ts');
const [services, instances] = process.argv.slice(2).map(Number);
// PROCONSUL_BENCH_DNS_DATA=DIR: an embedded store in DIR, registered into only when it does not hold the
// services yet, so a later agent over DIR starts as a restarted one does, the catalog already there.
const dataDir = process.env.PROCONSUL_BENCH_DNS_DATA;
const stored = dataDir ? { dataDir, store: { backend: 'embedded' as const } } : {};
const dev = await startDevAgent({ config: { dnsAddrs: [{ kind: 'tcp', host: '127.0.0.1', port: 0 }], ...stored } });
const registered = dataDir !== undefined && dev.agent.replica.catalog.serviceIndex.has(`svc${services - 1}`);
for (let s = 0; s < (registered ? 0 : services); s++) {
  for (let i = 0; i < instances; i++) {
    const ip = `10.${Math.floor(s / 250)}.${s % 250}.${i + 1}`;
    await dev.agent.endpoints.catalog.register({ Node: `n${s}-${i}`, Address: ip, Service: { ID: `svc${s}-${i}`, Service: `svc${s}`, Port: 8000 + i } } as never);
  }
}

const GC_KINDS: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb' };
const LOOP_MS = 20;
const loop = monitorEventLoopDelay({ resolution: LOOP_MS });
let gc: Record<string, { count: number; ms: number; max: number; pauses?: number[]; p50?: number; p99?: number }> = {};
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = GC_KINDS[((e as unknown as { detail?: { kind?: number } }).detail)?.kind ?? 0] ?? 'other';
    const g = (gc[kind] ??= { count: 0, ms: 0, max: 0 });
    g.count++;
    g.ms += e.duration;
    g.max = Math.max(g.max, e.duration);
    (g.pauses ??= []).push(e.duration);
  }
}).observe({ entryTypes: ['gc'] });

let cpu = process.cpuUsage();
let mainCpu = process.threadCpuUsage();
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'start' || line.trim() === 'mark') {
    loop.reset();
    if (line.trim() === 'start') loop.enable();
    gc = {};
    cpu = process.cpuUsage();
    mainCpu = process.threadCpuUsage();
    process.stdout.write('{}\n');
    return;
  }
  if (line.trim() !== 'stats') return;
  const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
  // The histogram holds the timer's whole intervals: the lateness is what exceeds LOOP_MS.
  const late = (ns: number): number => Math.max(0, Math.round((ms(ns) - LOOP_MS) * 100) / 100);
  const used = process.cpuUsage(cpu);
  const usedMain = process.threadCpuUsage(mainCpu);
  // Each kind's pause p50/p99 (ms) replaces its list of pauses.
  for (const g of Object.values(gc)) {
    const sorted = g.pauses!.sort((a, b) => a - b);
    g.p50 = Math.round(sorted[Math.floor(sorted.length / 2)] * 100) / 100;
    g.p99 = Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] * 100) / 100;
    delete g.pauses;
  }
  const young = v8.getHeapSpaceStatistics().find((sp) => sp.space_name === 'new_space')?.space_size ?? 0;
  const out = { youngMiB: Math.round(young / 104857.6) / 10, loopP50: late(loop.percentile(50)), loopP99: late(loop.percentile(99)), loopMax: late(loop.max), cpuMs: Math.round((used.user + used.system) / 1000), mainCpuMs: Math.round((usedMain.user + usedMain.system) / 1000), gc };
  loop.disable();
  process.stdout.write(`${JSON.stringify(out)}\n`);
});
process.stdout.write(`${dev.agent.dnsAddresses().udp[0].split(':').pop()}\n`);
process.on('SIGTERM', () => void dev.stop().then(() => process.exit(0)));
