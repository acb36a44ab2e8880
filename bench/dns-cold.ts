// DNS in the first seconds after an agent starts (issue #5): for each source tree in turn, a
// restarted agent child (bench/dns-agent.ts over an embedded store holding 1,000 services × 10
// instances, registered by a first child; PROCONSUL_BENCH_COLD_FRESH=1: a new dev agent registering
// them after its start) is sent a paced stream of A and
// SRV questions (alternating, random services, UDP with EDNS0 4096) from the moment it prints its
// DNS port, and each reply's latency is bucketed by when its question was sent: p50/p99/max per
// 100 ms, then the first 100 ms / 500 ms / 1 s and the rest. Trees alternate start by start, so
// their figures come from the same minutes on a shared machine. Each start also reports the agent's
// CPU time (the process's and its main thread's) and GC pauses over the run (from its first question to 0.5 s after the last): the work,
// which a loaded machine changes less than the latencies.
// Usage: node bench/dns-cold.ts [rate=5000] [seconds=3] [starts=5] [tree...] (default: this tree;
// another tree is a checkout of an older commit with node_modules linked). PROCONSUL_BENCH_COLD_BUCKETS=1
// also prints every 100 ms bucket of each start; PROCONSUL_BENCH_COLD_NODE_ARGS (space-separated) are
// node's arguments for the agent children (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import dnsPacket from 'dns-packet';

const rate = Number(process.argv[2] ?? 5000);
const seconds = Number(process.argv[3] ?? 3);
const starts = Number(process.argv[4] ?? 5);
const here = path.dirname(import.meta.dirname);
const trees = process.argv.length > 5 ? process.argv.slice(5) : [here];
const SERVICES = 1000;
/** PROCONSUL_BENCH_COLD_DELAY_MS: how long after the agent's start the first question goes (default 0: at once). */
const DELAY_MS = Number(process.env.PROCONSUL_BENCH_COLD_DELAY_MS ?? 0);
const OPT = { type: 'OPT', name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] };
const WINDOWS: [string, number, number][] = [['0-100 ms', 0, 100], ['0-500 ms', 0, 500], ['0-1 s', 0, 1000], ['1 s-end', 1000, Infinity]];

/** Latencies (ms) of replies to questions sent in [from, to) ms after the first. */
type Sample = { at: Float64Array; lat: Float64Array; n: number; lost: number; cpuMs?: number; mainCpuMs?: number; gcMs?: number };

/** Paces `rate` questions a second at `port` for `seconds`; per question its send offset and latency (NaN: no reply). */
async function paced(port: number): Promise<Sample> {
  const total = Math.round(rate * seconds);
  if (total > 65536) throw new Error('at most 65,536 questions a run (one id each)');
  const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  const queries = [0, 1].map((t) => Array.from({ length: SERVICES }, (_, i) =>
    dnsPacket.encode({ type: 'query', id: 0, questions: [{ type: t ? 'SRV' : 'A', name: `svc${i}.service.consul` }], additionals: [OPT as never] })));
  const sent = new Float64Array(total);
  const lat = new Float64Array(total).fill(NaN);
  sock.on('message', (msg) => {
    const id = msg.readUInt16BE(0);
    if (id < total && Number.isNaN(lat[id])) lat[id] = performance.now() - sent[id];
  });
  let next = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
      while (next < due) {
        const q = Buffer.from(queries[next & 1][Math.floor(Math.random() * SERVICES)]);
        q.writeUInt16BE(next, 0);
        sent[next] = performance.now();
        sock.send(q, port, '127.0.0.1');
        next++;
      }
      if (next < total) setImmediate(tick);
      else resolve();
    };
    tick();
  });
  await new Promise((r) => setTimeout(r, 500));
  sock.close();
  const at = sent.map((t) => t - t0);
  return { at, lat, n: total, lost: lat.filter(Number.isNaN).length };
}

/** p50/p99/max (ms) of the replies to questions sent in [from, to) ms; lost ones count as the worst. */
function stats(s: Sample, from: number, to: number): { p50: number; p99: number; max: number; n: number; lost: number } {
  const xs: number[] = [];
  let lost = 0;
  for (let i = 0; i < s.n; i++) {
    if (s.at[i] < from || s.at[i] >= to) continue;
    if (Number.isNaN(s.lat[i])) lost++;
    else xs.push(s.lat[i]);
  }
  xs.sort((a, b) => a - b);
  const q = (p: number): number => (lost > 0 && Math.floor(xs.length * p) >= xs.length - lost ? Infinity : xs[Math.min(xs.length - 1, Math.floor((xs.length + lost) * p))] ?? NaN);
  return { p50: q(0.5), p99: q(0.99), max: lost > 0 ? Infinity : xs[xs.length - 1] ?? NaN, n: xs.length + lost, lost };
}

/** Starts a fresh agent of `tree`, runs the paced stream against it, stops it. */
async function coldRun(tree: string): Promise<Sample> {
  const nodeArgs = (process.env.PROCONSUL_BENCH_COLD_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const { proc, port, lines } = await agentChild(tree, nodeArgs);
  // The agent's CPU time and GC pauses over the run (dns-agent.ts's `mark`), first asked for with the first question.
  const said = async (cmd: string): Promise<Record<string, unknown>> => (proc.stdin!.write(`${cmd}\n`), JSON.parse(String((await lines.next()).value)));
  const marked = said('mark');
  if (DELAY_MS > 0) await new Promise((r) => setTimeout(r, DELAY_MS));
  const s = await paced(port);
  await marked;
  const stats = await said('stats') as { cpuMs: number; mainCpuMs: number; gc: Record<string, { ms: number }> };
  await stopChild(proc);
  return { ...s, cpuMs: stats.cpuMs, mainCpuMs: stats.mainCpuMs, gcMs: Object.values(stats.gc).reduce((n, g) => n + g.ms, 0) };
}

/** An agent child of `tree` and its DNS port, over DATA unless PROCONSUL_BENCH_COLD_FRESH is set. */
async function agentChild(tree: string, nodeArgs: string[] = []): Promise<{ proc: ChildProcess; port: number; lines: AsyncIterator<string> }> {
  const data = process.env.PROCONSUL_BENCH_COLD_FRESH ? {} : { PROCONSUL_BENCH_DNS_DATA: DATA };
  const proc = spawn(process.execPath, [...nodeArgs, path.join(here, 'bench/dns-agent.ts'), String(SERVICES), '10'], {
    stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, PROCONSUL_BENCH_TREE: tree, ...data },
  });
  const lines = readline.createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  return { proc, port: Number(String((await lines.next()).value).trim()), lines };
}

async function stopChild(proc: ChildProcess): Promise<void> {
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
}

const DATA = fs.mkdtempSync(path.join(os.tmpdir(), 'dns-cold-'));
process.on('exit', () => fs.rmSync(DATA, { recursive: true, force: true }));
// The first child registers the catalog the restarted ones find.
if (!process.env.PROCONSUL_BENCH_COLD_FRESH) await stopChild((await agentChild(here)).proc);

const fmt = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : 'lost');
const all = new Map<string, Sample[]>(trees.map((t) => [t, []]));
for (let i = 0; i < starts; i++) {
  for (const tree of trees) {
    const s = await coldRun(tree);
    all.get(tree)!.push(s);
    const cells = WINDOWS.map(([name, a, b]) => { const x = stats(s, a, b); return `${name} p50 ${fmt(x.p50)} p99 ${fmt(x.p99)} max ${fmt(x.max)}`; });
    console.log(`${path.basename(tree)} start ${i + 1}: ${cells.join(' | ')}${s.lost ? ` | lost ${s.lost}` : ''} | agent CPU ${s.cpuMs} ms (main thread ${s.mainCpuMs}), GC ${s.gcMs!.toFixed(0)} ms`);
    if (process.env.PROCONSUL_BENCH_COLD_BUCKETS) {
      for (let b = 0; b * 100 < seconds * 1000; b++) {
        const x = stats(s, b * 100, (b + 1) * 100);
        console.log(`  ${b * 100}-${(b + 1) * 100} ms: n ${x.n} p50 ${fmt(x.p50)} p99 ${fmt(x.p99)} max ${fmt(x.max)}`);
      }
    }
  }
}
// Per tree and window: the median over starts of each start's p99 and max.
const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`\npaced ${rate.toLocaleString('en')} qps A/SRV for ${seconds} s from the first moment, ${starts} starts per tree: median over starts of p99 / max (ms)`);
for (const [tree, samples] of all) {
  const cells = WINDOWS.map(([name, a, b]) => `${name} ${fmt(median(samples.map((s) => stats(s, a, b).p99)))} / ${fmt(median(samples.map((s) => stats(s, a, b).max)))}`);
  console.log(`${path.basename(tree)}: ${cells.join(' | ')} | agent CPU ${median(samples.map((s) => s.cpuMs!))} ms (main thread ${median(samples.map((s) => s.mainCpuMs!))}), GC ${median(samples.map((s) => s.gcMs!)).toFixed(0)} ms`);
}
