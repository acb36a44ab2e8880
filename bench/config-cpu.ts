// Agent CPU per default-tenant config entry, intention and discovery chain read for one or more
// source trees, interleaved (as kv-get-cpu.ts): each tree's dev agent runs as a child (memory
// store), seeded with 40 service-intentions entries, service-defaults and a resolver; for `rounds`
// rounds each agent in turn answers `requests` GETs of each path over 16 keep-alive connections.
// The agent's CPU over a path's run divided by its GETs is the figure (median over rounds). For
// judging the namespaces change (slice 5) on the default tenant's paths on a shared machine.
// Usage: node bench/config-cpu.ts [requests=5000] [rounds=5] [tree...] (default: this tree)
import path from 'node:path';
import { cpuMs, startServerProcess, type ServerProcess } from './support/proc.ts';
import { RawHttpClient } from './support/raw-http.ts';

const requests = Number(process.argv[2] ?? 5000);
const rounds = Number(process.argv[3] ?? 5);
const here = path.dirname(import.meta.dirname);
const trees = process.argv.length > 4 ? process.argv.slice(4) : [here];
const CONNECTIONS = 16;
const PATHS = [
  '/v1/connect/intentions/match?by=destination&name=svc-7',
  '/v1/connect/intentions/check?source=svc-3&destination=svc-7',
  '/v1/config/service-defaults/svc-7',
  '/v1/discovery-chain/svc-7',
];

async function seed(client: RawHttpClient): Promise<void> {
  const put = (body: unknown) => client.request('PUT', '/v1/config', Buffer.from(JSON.stringify(body)));
  for (let i = 0; i < 40; i++) {
    await put({ Kind: 'service-defaults', Name: `svc-${i}`, Protocol: 'http' });
    await put({
      Kind: 'service-intentions', Name: `svc-${i}`,
      Sources: [{ Name: `svc-${(i + 1) % 40}`, Action: 'allow' }, { Name: `svc-${(i + 3) % 40}`, Action: 'deny' }, { Name: '*', Action: 'deny' }],
    });
  }
  await put({ Kind: 'service-resolver', Name: 'svc-7', ConnectTimeout: '3s' });
}

async function run(agent: ServerProcess, client: RawHttpClient, p: string): Promise<number> {
  const before = cpuMs(agent.pid);
  let next = 0;
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (next++ < requests) await client.request('GET', p);
  }));
  return ((cpuMs(agent.pid) - before) * 1000) / requests;
}

const agents: { tree: string; agent: ServerProcess; client: RawHttpClient; us: Map<string, number[]> }[] = [];
for (const tree of trees) {
  const agent = await startServerProcess(path.join(tree, 'bench/support/agent-process.ts'), ['--backend', 'memory'], []);
  const client = new RawHttpClient(agent.httpAddr, CONNECTIONS);
  await seed(client);
  // Warm-up: JIT and the connection pool.
  for (const p of PATHS) for (let i = 0; i < 500; i++) await client.request('GET', p);
  agents.push({ tree, agent, client, us: new Map(PATHS.map((p) => [p, []])) });
}
try {
  for (let r = 0; r < rounds; r++) for (const p of PATHS) for (const a of agents) a.us.get(p)!.push(await run(a.agent, a.client, p));
} finally {
  for (const a of agents) {
    a.client.close();
    await a.agent.stop();
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const p of PATHS) {
  for (const a of agents) console.log(`${p} ${a.tree}: agent CPU per GET ${median(a.us.get(p)!).toFixed(1)} µs (rounds: ${a.us.get(p)!.map((x) => x.toFixed(1)).join(' ')})`);
  if (agents.length > 1) console.log(`  ratio ${path.basename(agents[1].tree)}/${path.basename(agents[0].tree)}: ${(median(agents[1].us.get(p)!) / median(agents[0].us.get(p)!)).toFixed(3)}`);
}
