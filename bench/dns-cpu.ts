// Agent CPU per UDP query for one or more source trees, interleaved: each tree's bench/dns-agent.ts
// (1,000 services × 10 instances) runs as a child, and for `rounds` rounds each agent in turn gets
// an open-loop run of A then SRV queries at `rate` qps for `seconds`; the agent's own CPU time over
// the run divided by the queries answered is the figure (median over rounds). A fixed rate keeps
// the per-query cost comparable (no batching differences from a saturated socket).
// Each tree may carry V8 flags for its agent (applied at run time, see dns-agent.ts) after commas (`.,--semi-space-growth-factor=1`);
// the agent's young/old GC count, total and longest pause per run are shown too.
// Usage: node bench/dns-cpu.ts [rate=20000] [seconds=3] [rounds=3] [tree[,flag...]...] (default: this tree)
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { openLoop } from './dns-load.ts';

const rate = Number(process.argv[2] ?? 20000);
const seconds = Number(process.argv[3] ?? 3);
const rounds = Number(process.argv[4] ?? 3);
const trees = process.argv.length > 5 ? process.argv.slice(5) : [path.dirname(import.meta.dirname)];
type Gc = Record<string, { count: number; ms: number; max: number }>;

const agents = await Promise.all(trees.map(async (spec) => {
  const [dir, ...flags] = spec.split(',');
  const tree = spec;
  const env = { ...process.env, PROCONSUL_BENCH_AGENT_FLAGS: flags.join(' ') };
  const proc = spawn(process.execPath, [path.join(path.resolve(dir), 'bench/dns-agent.ts'), '1000', '10'], { stdio: ['pipe', 'pipe', 'inherit'], env });
  const lines = readline.createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  const port = Number((await lines.next()).value);
  const stats = async (): Promise<{ cpuMs: number; gc: Gc; youngMiB: number }> => (proc.stdin!.write('stats\n'), JSON.parse(String((await lines.next()).value)));
  return { tree, proc, port, stats };
}));
const cpu: Record<string, number[]> = {};
const gcs: Record<string, string[]> = {};
for (let r = 0; r < rounds; r++) {
  for (const a of agents) {
    for (const type of ['A', 'SRV'] as const) {
      await a.stats();
      const res = await openLoop({ port: a.port, type, services: 1000, minAnswers: 10, seconds }, rate);
      const { cpuMs, gc, youngMiB } = await a.stats();
      const answered = res.qps * seconds;
      (cpu[`${a.tree} ${type}`] ??= []).push((cpuMs * 1000) / answered);
      (gcs[`${a.tree} ${type}`] ??= []).push(Object.entries(gc).map(([k, g]) => `${k} ${g.count}× ${g.ms.toFixed(1)} ms max ${g.max.toFixed(1)}`).join(' / ') + ` (young ${youngMiB} MiB)`);
    }
  }
}
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
for (const [k, xs] of Object.entries(cpu)) {
  console.log(`${k}: ${median(xs).toFixed(2)} µs/query (runs ${xs.map((x) => x.toFixed(2)).join(', ')}); GCs per run: ${gcs[k].join('; ')}`);
}
for (const a of agents) a.proc.kill('SIGTERM');
process.exit(0);
