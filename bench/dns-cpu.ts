// Agent CPU per UDP query for one or more source trees, interleaved: each tree's agent runs as a
// child of this tree's bench/dns-agent.ts (1,000 services × 10 instances, PROCONSUL_BENCH_TREE),
// and for `rounds` rounds each agent in turn answers A then SRV queries for `seconds`; the agent's
// own CPU time over the run divided by the queries answered is the figure (median over rounds).
// `load` is `peak` (32 queries outstanding) or a rate in qps (open loop). The generator is
// Debian's dnsperf when it is installed (a C client, as in bench/dns.ts, EDNS0 4096), else the
// Node open loop of dns-load.ts (rates only). On a machine with 2+ cores the agents run on the
// last core and dnsperf on the others (`taskset`), as the bench pins each server.
// Each tree may carry V8 flags for its agent (applied at run time, see dns-agent.ts) after commas
// (`.,--semi-space-growth-factor=1`; without flags an agent gets `proconsul agent`'s: that one and --no-parallel-scavenge);
// the agent's GCs per run are shown too.
// Usage: node bench/dns-cpu.ts [load=peak] [seconds=3] [rounds=3] [tree[,flag...]...] (default: this tree)
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { openLoop } from './dns-load.ts';
import { hasDnsperf } from './dns-perf.ts';

const load = process.argv[2] ?? 'peak';
const seconds = Number(process.argv[3] ?? 3);
const rounds = Number(process.argv[4] ?? 3);
const here = path.dirname(import.meta.dirname);
const trees = process.argv.length > 5 ? process.argv.slice(5) : [here];
const SERVICES = 1000;
const cores = os.availableParallelism();
const AGENT_PIN = cores > 1 ? ['taskset', '-c', String(cores - 1)] : [];
const GEN_PIN = cores > 1 ? ['taskset', '-c', `0-${cores - 2}`] : [];
const dnsperf = hasDnsperf();
if (!dnsperf && load === 'peak') throw new Error('peak runs need dnsperf (apt-get install dnsperf)');
type Gc = Record<string, { count: number; ms: number; max: number }>;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dns-cpu-'));
for (const type of ['A', 'SRV']) {
  const lines: string[] = [];
  for (let i = 0; i < 200_000; i++) lines.push(`svc${Math.floor(Math.random() * SERVICES)}.service.consul ${type}`);
  fs.writeFileSync(path.join(dir, `${type}.txt`), `${lines.join('\n')}\n`);
}

/** Queries answered by dnsperf against `port` (peak: 32 outstanding; else paced at `load` qps). */
function runDnsperf(port: number, type: string): number {
  const args = ['-s', '127.0.0.1', '-p', String(port), '-d', path.join(dir, `${type}.txt`), '-l', String(seconds), '-e', '-b', '4096', '-t', '1',
    ...(load === 'peak' ? ['-q', '32'] : ['-Q', load, '-q', '10000']), '-O', 'suppress=unexpected,congestion,sockready'];
  const r = spawnSync(GEN_PIN[0] ?? 'dnsperf', [...GEN_PIN.slice(1), ...(GEN_PIN.length ? ['dnsperf'] : []), ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`dnsperf exited with ${r.status}: ${r.stderr}`);
  return Number(/Queries completed:\s+(\d+)/.exec(r.stdout)?.[1] ?? NaN);
}

const agents = await Promise.all(trees.map(async (spec) => {
  const [dir, ...flags] = spec.split(',');
  const env = { ...process.env, PROCONSUL_BENCH_TREE: path.resolve(dir), PROCONSUL_BENCH_AGENT_FLAGS: (flags.length ? flags : ['--semi-space-growth-factor=1', '--no-parallel-scavenge']).join(' ') };
  const cmd = [...AGENT_PIN, process.execPath, path.join(here, 'bench/dns-agent.ts'), String(SERVICES), '10'];
  const proc = spawn(cmd[0], cmd.slice(1), { stdio: ['pipe', 'pipe', 'inherit'], env });
  const lines = readline.createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  const port = Number((await lines.next()).value);
  const send = async (line: string): Promise<{ cpuMs: number; gc: Gc; youngMiB: number }> => (proc.stdin!.write(`${line}\n`), JSON.parse(String((await lines.next()).value)));
  return { tree: spec, proc, port, send };
}));
const cpu: Record<string, number[]> = {};
const qps: Record<string, number[]> = {};
const gcs: Record<string, string[]> = {};
for (let r = 0; r < rounds; r++) {
  for (const a of agents) {
    for (const type of ['A', 'SRV'] as const) {
      await a.send('mark');
      const answered = dnsperf ? runDnsperf(a.port, type) : (await openLoop({ port: a.port, type, services: SERVICES, minAnswers: 10, seconds }, Number(load))).qps * seconds;
      const { cpuMs, gc } = await a.send('stats');
      const k = `${a.tree} ${type}`;
      (cpu[k] ??= []).push((cpuMs * 1000) / answered);
      (qps[k] ??= []).push(answered / seconds);
      (gcs[k] ??= []).push(Object.entries(gc).map(([kind, g]) => `${kind} ${Math.round((g.count * 1e5) / answered)}/100k ${((g.ms * 1000) / answered).toFixed(2)} µs/q max ${g.max.toFixed(1)} ms`).join(' / '));
    }
  }
}
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
console.log(`load ${load}, ${seconds} s × ${rounds} rounds, generator ${dnsperf ? 'dnsperf' : 'node'}, agent ${AGENT_PIN.join(' ') || 'unpinned'}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (const [k, xs] of Object.entries(cpu)) {
  console.log(`${k}: ${median(xs).toFixed(2)} µs/query (runs ${xs.map((x) => x.toFixed(2)).join(', ')}; qps ${qps[k].map((q) => Math.round(q)).join(', ')}); GC: ${gcs[k].join('; ')}`);
}
for (const a of agents) a.proc.kill('SIGTERM');
process.exit(0);
