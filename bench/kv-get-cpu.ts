// Agent CPU per KV GET for one or more source trees, interleaved: each tree's dev agent runs as a
// child (its bench/support/agent-process.ts, memory store), and for `rounds` rounds each agent in
// turn answers `requests` GETs of one key over 16 keep-alive connections; the agent's own CPU time
// over the run divided by the GETs is the figure (median over rounds). For judging a change on a
// shared machine by CPU per operation rather than wall-clock throughput.
// Usage: node bench/kv-get-cpu.ts [requests=20000] [rounds=5] [tree...] (default: this tree)
// KV_CPU_METHOD=PUT measures PUTs of the key instead (256-byte values alternating, so each PUT writes).
// KV_CPU_BACKEND=etcd runs each agent on its own single-member etcd (test/support/etcd.ts) instead
// of the memory store; KV_CPU_PROF=DIR writes each agent's --cpu-prof profile into DIR.
import path from 'node:path';
import { cpuMs, startServerProcess, type ServerProcess } from './support/proc.ts';
import { RawHttpClient } from './support/raw-http.ts';
import { startEtcd, type EtcdCluster } from '../test/support/etcd.ts';

const requests = Number(process.argv[2] ?? 20_000);
const rounds = Number(process.argv[3] ?? 5);
const here = path.dirname(import.meta.dirname);
const trees = process.argv.length > 4 ? process.argv.slice(4) : [here];
const CONNECTIONS = 16;
const METHOD = process.env.KV_CPU_METHOD === 'PUT' ? 'PUT' : 'GET';
const BACKEND = process.env.KV_CPU_BACKEND === 'etcd' ? 'etcd' : 'memory';
const PROF = process.env.KV_CPU_PROF;
const VALUES = [Buffer.alloc(256, 'v'), Buffer.alloc(256, 'w')];

async function run(agent: ServerProcess, client: RawHttpClient): Promise<number> {
  const before = cpuMs(agent.pid);
  let next = 0;
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (next++ < requests) await client.request(METHOD, '/v1/kv/bench-key', METHOD === 'PUT' ? VALUES[next & 1] : undefined);
  }));
  return ((cpuMs(agent.pid) - before) * 1000) / requests;
}

const agents: { tree: string; agent: ServerProcess; client: RawHttpClient; etcd: EtcdCluster | null; us: number[] }[] = [];
for (const tree of trees) {
  const etcd = BACKEND === 'etcd' ? await startEtcd(1) : null;
  const args = ['--backend', BACKEND, ...(etcd ? ['--endpoints', etcd.endpoints.join(',')] : [])];
  const agent = await startServerProcess(path.join(tree, 'bench/support/agent-process.ts'), args, PROF ? ['--cpu-prof', `--cpu-prof-dir=${PROF}`] : []);
  const client = new RawHttpClient(agent.httpAddr, CONNECTIONS);
  await client.request('PUT', '/v1/kv/bench-key', Buffer.alloc(256, 'v'));
  // Warm-up: JIT and the connection pool.
  for (let i = 0; i < 2000; i++) await client.request('GET', '/v1/kv/bench-key');
  agents.push({ tree, agent, client, etcd, us: [] });
}
try {
  for (let r = 0; r < rounds; r++) for (const a of agents) a.us.push(await run(a.agent, a.client));
} finally {
  for (const a of agents) {
    a.client.close();
    await a.agent.stop();
    await a.etcd?.stop();
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const a of agents) console.log(`${a.tree} (${BACKEND}): agent CPU per ${METHOD} ${median(a.us).toFixed(1)} µs (rounds: ${a.us.map((x) => x.toFixed(1)).join(' ')})`);
if (agents.length > 1) console.log(`ratio ${path.basename(agents[1].tree)}/${path.basename(agents[0].tree)}: ${(median(agents[1].us) / median(agents[0].us)).toFixed(3)}`);
