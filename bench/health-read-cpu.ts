// Agent CPU per `GET /v1/health/service/<name>?passing` (the default path: no `?sg=`) for one or
// more source trees, interleaved as kv-get-cpu.ts does: each tree's dev agent runs as a child
// (bench/support/agent-process.ts, memory store) holding one service of INSTANCES (10) instances
// on as many nodes, each with a passing check; for `rounds` rounds each agent in turn answers
// `requests` reads over 16 keep-alive connections; the figure is the agent's CPU over a round
// divided by its reads (median over rounds). HEALTH_CPU_QUERY=… replaces `passing` (e.g. `sg=g`).
// Usage: node bench/health-read-cpu.ts [requests=20000] [rounds=7] [tree...] (default: this tree)
import path from 'node:path';
import { cpuMs, startServerProcess, type ServerProcess } from './support/proc.ts';
import { RawHttpClient } from './support/raw-http.ts';

const requests = Number(process.argv[2] ?? 20_000);
const rounds = Number(process.argv[3] ?? 7);
const here = path.dirname(import.meta.dirname);
const trees = process.argv.length > 4 ? process.argv.slice(4) : [here];
const CONNECTIONS = 16;
const INSTANCES = Number(process.env.INSTANCES ?? 10);
const QUERY = process.env.HEALTH_CPU_QUERY ?? 'passing';
const PATH = `/v1/health/service/web?${QUERY}`;

async function run(agent: ServerProcess, client: RawHttpClient): Promise<number> {
  const before = cpuMs(agent.pid);
  let next = 0;
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (next++ < requests) await client.request('GET', PATH);
  }));
  return ((cpuMs(agent.pid) - before) * 1000) / requests;
}

async function register(client: RawHttpClient): Promise<void> {
  for (let i = 0; i < INSTANCES; i++) {
    const body = {
      Node: `node-${i}`, Address: `10.0.0.${i + 1}`, Service: { ID: 'web', Service: 'web', Port: 80 },
      Check: { CheckID: 'alive', Name: 'alive', ServiceID: 'web', Status: 'passing' },
    };
    await client.request('PUT', '/v1/catalog/register', Buffer.from(JSON.stringify(body)));
  }
}

const agents: { tree: string; agent: ServerProcess; client: RawHttpClient; us: number[] }[] = [];
for (const tree of trees) {
  const agent = await startServerProcess(path.join(tree, 'bench/support/agent-process.ts'), ['--backend', 'memory']);
  const client = new RawHttpClient(agent.httpAddr, CONNECTIONS);
  await register(client);
  // Warm-up: JIT and the connection pool.
  for (let i = 0; i < 2000; i++) await client.request('GET', PATH);
  agents.push({ tree, agent, client, us: [] });
}
try {
  for (let r = 0; r < rounds; r++) for (const a of agents) a.us.push(await run(a.agent, a.client));
} finally {
  for (const a of agents) {
    a.client.close();
    await a.agent.stop();
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const a of agents) console.log(`${a.tree}: agent CPU per GET ${PATH} ${median(a.us).toFixed(1)} µs (rounds: ${a.us.map((x) => x.toFixed(1)).join(' ')})`);
if (agents.length > 1) console.log(`ratio ${path.basename(agents[1].tree)}/${path.basename(agents[0].tree)}: ${(median(agents[1].us) / median(agents[0].us)).toFixed(3)}`);
