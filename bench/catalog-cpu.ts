// Agent CPU per catalog registration for one or more source trees, interleaved (kv-get-cpu.ts's
// method, for judging a change on a shared machine): each tree's bench/support/scale-agent.ts runs
// as a child (embedded store), and for `rounds` rounds each agent in turn takes `per` registrations
// (bench/catalog.ts's bodies: 10,000 nodes, 1,000 names, one slot per 10,000) over CLIENTS (64)
// keep-alive connections; the figures are the agent's main-thread and all-thread CPU over a round
// divided by its registrations, medians over the rounds; and its scavenges per 100,000
// registrations, their pause time and the bytes they promoted per registration (v8.GCProfiler over each round).
// Usage: node bench/catalog-cpu.ts [per=10000] [rounds=10] [tree...] (default: this tree)
// HEAP=DIR: V8's sampling heap profile of everything each agent allocates in its last round
// (garbage included) over one more, untimed round, in DIR/<tree index>.heapprofile (bench/support/heap-sample-top.ts lists it);
// with SURVIVORS=1, only of what survived a scavenge (what the collections copy and promote).
// AGENT_ARGS='--flag …': more node flags for each agent (e.g. --trace-gc-nvp; its lines come out as `[child]` on stderr);
// AGENT_ARGS_<k>: for the agent of tree index k only (the same tree twice compares two settings).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cpuMs, threadCpuMs, startServerProcess, pool, type ServerProcess } from './support/proc.ts';
import { RawHttpClient } from './support/raw-http.ts';

const per = Number(process.argv[2] ?? 10000);
const rounds = Number(process.argv[3] ?? 10);
const trees = process.argv.length > 4 ? process.argv.slice(4) : [path.dirname(import.meta.dirname)];
const nodes = 10000, perNode = 10, services = 1000, clients = Number(process.env.CLIENTS ?? 64);
function body(i: number): Buffer {
  const n = i % nodes;
  const slot = Math.floor(i / nodes);
  const name = `svc-${(n * perNode + slot) % services}`;
  const node = `node-${n}`;
  return Buffer.from(JSON.stringify({
    Node: node, Address: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
    Service: { ID: name, Service: name, Port: 8000 + slot, Tags: ['bench', `slot-${slot}`] },
    Check: { CheckID: `service:${name}`, Name: `${name} check`, ServiceID: name, Status: 'passing' },
  }));
}
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-catalog-cpu-'));
// PROF=DIR: each agent's --cpu-prof profile in DIR/<tree index> (PROF_INTERVAL=µs: its sampling interval).
const prof = process.env.PROF;
const profFlags = prof ? ['--cpu-prof', ...(process.env.PROF_INTERVAL ? [`--cpu-prof-interval=${process.env.PROF_INTERVAL}`] : [])] : [];
const heap = process.env.HEAP;
interface Agent { tree: string; agent: ServerProcess; client: RawHttpClient; main: number[]; all: number[]; scav: number[]; scavUs: number[]; promoted: number[]; next: number; rssMiB?: number }
const agents: Agent[] = [];
const nodeArgs = (name: string): string[] => process.env[name]?.split(' ').filter(Boolean) ?? [];

/** One round: `per` registrations into one agent, its CPU and collections over them recorded. */
async function round(a: Agent): Promise<void> {
  await a.agent.command('gcwave start');
  const t0 = threadCpuMs(a.agent.pid); const c0 = cpuMs(a.agent.pid);
  const start = a.next;
  await pool(per, clients, (i) => a.client.request('PUT', '/v1/catalog/register', body(start + i)).then(() => {}));
  a.next += per;
  const t1 = threadCpuMs(a.agent.pid); const c1 = cpuMs(a.agent.pid);
  const mk = `${a.agent.pid} `;
  const mainKey = [...t1.keys()].find((k) => k.startsWith(mk))!;
  a.main.push(((t1.get(mainKey)! - (t0.get(mainKey) ?? 0)) * 1000) / per);
  a.all.push(((c1 - c0) * 1000) / per);
  const gc = JSON.parse(await a.agent.command('gcwave stop')) as { scavenges: number; scavengeMs: number; promoted: number };
  a.scav.push((gc.scavenges * 100000) / per);
  a.scavUs.push((gc.scavengeMs * 1000) / per);
  a.promoted.push(gc.promoted / per);
}
try {
  for (const [k, tree] of trees.entries()) {
    const agent = await startServerProcess(path.join(tree, 'bench/support/scale-agent.ts'),
      ['--backend', 'embedded', '--dir', path.join(root, String(k)), '--max-conns', '0'], ['--expose-gc', ...profFlags, ...nodeArgs('AGENT_ARGS'), ...nodeArgs(`AGENT_ARGS_${k}`), ...(prof ? [`--cpu-prof-dir=${prof}/${k}`] : [])]);
    agents.push({ tree, agent, client: new RawHttpClient(agent.httpAddr, clients), main: [], all: [], scav: [], scavUs: [], promoted: [], next: 0 });
  }
  for (let r = 0; r < rounds; r++) {
    for (const a of agents) await round(a);
    process.stderr.write(`round ${r}: ${agents.map((a) => `${path.basename(a.tree)} main ${a.main.at(-1)!.toFixed(1)} all ${a.all.at(-1)!.toFixed(1)} scav ${a.scav.at(-1)!.toFixed(0)}`).join(' | ')}; load ${os.loadavg()[0].toFixed(1)}\n`);
  }
  // Each agent's resident set after its rounds (no collection forced), from /proc where there is one.
  for (const a of agents) {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.existsSync(`/proc/${a.agent.pid}/status`) ? fs.readFileSync(`/proc/${a.agent.pid}/status`, 'utf8') : '');
    if (m) a.rssMiB = Number(m[1]) / 1024;
  }
  // The heap samples in one more round each, untimed (sampling every 128 bytes costs CPU).
  if (heap) {
    for (const [k, a] of agents.entries()) {
      await a.agent.command(process.env.SURVIVORS ? 'heapsample start' : 'heapsample start all');
      await pool(per, clients, (i) => a.client.request('PUT', '/v1/catalog/register', body(a.next + i)).then(() => {}));
      a.next += per;
      await a.agent.command(`heapsample stop ${path.join(heap, `${k}.heapprofile`)}`);
    }
  }
} finally {
  for (const a of agents) { a.client.close(); await a.agent.stop(); }
  fs.rmSync(root, { recursive: true, force: true });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const a of agents) {
  console.log(`${a.tree}: agent main-thread CPU per registration median ${median(a.main).toFixed(1)} µs (rounds ${a.main.map((x) => x.toFixed(0)).join(' ')}); all threads ${median(a.all).toFixed(1)} µs; scavenges per 100k ${median(a.scav).toFixed(0)} (${median(a.scavUs).toFixed(1)} µs per registration), promoted ${median(a.promoted).toFixed(0)} B per registration${a.rssMiB ? `; RSS ${a.rssMiB.toFixed(0)} MiB` : ''}`);
}
