// KV throughput and latency: PUT and GET (default and ?stale) over real HTTP on loopback against
// an agent in a child process, side by side with the same operations on a Store in this process
// (the ceiling the HTTP layer can reach), for the `embedded` backend and the `etcd` backend (agent
// on a single-member etcd); plus the reference a user of raw etcd gets: the same PUT and GET
// through the `etcd3` client against a single member and a 3-member cluster. 1/16/64/256 clients,
// 256-byte values. Embedded stores are prefilled with 100,000 revisions so the watch history is
// full, as in a long-running agent. etcd data dirs sit beside the embedded store (--dir), so both
// pay the same disk's fsync. A second ceiling runs in the same bench: a bare node:http server in a
// child process (bench/support/bare-http.ts) answering GET with a fixed KV-shaped body and PUT with
// `true`, driven by the same client, so HTTP/bare says how much of Node's own HTTP ceiling the agent
// reaches; the agent's and the bare server's CPU µs per request come from /proc. The last line is
// the headline ratio against the targets.
//
//   npx node bench/kv.ts                 # ~5 min: 3 s per cell after 0.5 s warm-up
//   npx node bench/kv.ts --quick         # ~30 s smoke run (1/64/256 clients, 0.3 s cells)
//   options: --clients 1,16,64,256  --backends embedded,etcd[,memory]  --no-etcd3
//            --duration MS  --warmup MS  --dir DIR (stores and etcd data; default the OS temp dir)
//            --prof-agent (CPU-profile the agent child)  --prefill N  --history-limit N  --no-bare
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MemoryStore, type Store } from '../src/store/index.ts';
import { EtcdStore } from '../src/store/etcd/etcd.ts';
import { EmbeddedStore } from '../src/store/embedded/embedded.ts';
import { startEtcd, type EtcdCluster } from '../test/support/etcd.ts';
import { etcdKvOps } from './support/etcd-kv.ts';
import { KEYS, VALUE_SIZE, prefill, record, storeKey, value } from './support/kv-data.ts';
import { agentTable, bareTable, etcdTable, fmtMs, fmtRate, targetLines, type AgentRow, type BareRow, type EtcdRow } from './support/kv-report.ts';
import { BenchClient, runCell, startAgentProcess, type CellResult, type Operation } from './support/load.ts';
import { cpuMs, startServerProcess, supportScript } from './support/proc.ts';

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    clients: { type: 'string' },
    backends: { type: 'string', default: 'embedded,etcd' },
    'no-etcd3': { type: 'boolean', default: false },
    'no-bare': { type: 'boolean', default: false },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    dir: { type: 'string', default: os.tmpdir() },
    'prof-agent': { type: 'boolean', default: false },
    prefill: { type: 'string', default: '100000' },
    'history-limit': { type: 'string' },
  },
});

const durationMs = Number(opts.duration ?? (opts.quick ? 300 : 3000));
const warmupMs = Number(opts.warmup ?? (opts.quick ? 100 : 500));
const clients = (opts.clients ?? (opts.quick ? '1,64,256' : '1,16,64,256')).split(',').map(Number);
const backends = opts.backends.split(',');
const prefillN = Number(opts.prefill);
const historyLimit = opts['history-limit'] ? Number(opts['history-limit']) : undefined;
/** Consul's default per-client limit is 200; the 256-client cells need more. */
const maxConns = Math.max(200, ...clients) + 16;

function progress(msg: string): void {
  process.stderr.write(msg + '\n');
}

/**
 * Where the next cell's operation numbers start: every cell's PUTs write values no earlier cell (nor
 * the prefill, which wrote value(k) to key k) left in their keys, so none is a no-op rewrite, which
 * the KV endpoint answers from a consistent read instead of a write. A multiple of KEYS: operation i
 * still targets key i % KEYS.
 */
let cellBase = 0;

/** One timed cell; with `pid`, that server process's CPU per operation (warm-up included) too. */
async function cell(tag: string, c: number, label: string, op: Operation, pid?: number): Promise<CellResult> {
  const cpu0 = pid ? cpuMs(pid) : 0;
  const base = (cellBase += KEYS * 4096);
  const r = await runCell(c, warmupMs, durationMs, (i) => op(base + i));
  if (pid) r.cpuUs = ((cpuMs(pid) - cpu0) * 1000) / r.total;
  const cpu = r.cpuUs === undefined ? '' : `  server CPU ${r.cpuUs.toFixed(1).padStart(5)} µs/req`;
  progress(`[${tag}] ${String(c).padStart(3)} clients  ${label.padEnd(18)} ${fmtRate(r.opsPerSec).padStart(9)} ops/s  p50 ${fmtMs(r.p50).padStart(6)}  p99 ${fmtMs(r.p99).padStart(6)}${cpu}`);
  return r;
}

/** The node:http ceiling: GET and PUT against bench/support/bare-http.ts at each client count. */
async function benchBare(): Promise<BareRow[]> {
  const bare = await startServerProcess(supportScript('bare-http.ts'), []);
  const rows: BareRow[] = [];
  try {
    for (const c of clients) {
      const client = new BenchClient(bare.httpAddr, c);
      rows.push({ clients: c, op: 'PUT', r: await cell('bare node:http', c, 'PUT', (i) => client.request('PUT', `/v1/kv/k${i % KEYS}`, value(i)).then(() => {}), bare.pid) });
      rows.push({ clients: c, op: 'GET', r: await cell('bare node:http', c, 'GET', (i) => client.request('GET', `/v1/kv/k${i % KEYS}`).then(() => {}), bare.pid) });
      client.close();
    }
  } finally {
    await bare.stop();
  }
  return rows;
}

function openStore(backend: string, dir: string, etcd: EtcdCluster | null): Store {
  if (backend === 'memory') return new MemoryStore({ historyLimit });
  if (backend === 'embedded') return new EmbeddedStore({ dir: path.join(dir, 'store'), historyLimit });
  if (backend === 'etcd') return new EtcdStore({ endpoints: etcd!.endpoints, prefix: '/bench-direct/' });
  throw new Error(`unknown backend ${backend}`);
}

async function benchBackend(backend: string, etcd: EtcdCluster | null, profDir: string | null): Promise<AgentRow[]> {
  const root = fs.mkdtempSync(path.join(opts.dir, `proconsul-bench-${backend}-`));
  const store = openStore(backend, path.join(root, 'direct'), etcd);
  await store.open();
  // etcd keeps its own history (auto-compacted); the prefill targets the engine's watch history.
  const fill = backend === 'etcd' ? KEYS : prefillN;
  const execArgv = profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
  const agentArgs = ['--backend', backend, '--prefill', String(fill), '--max-conns', String(maxConns),
    ...(backend === 'embedded' ? ['--dir', path.join(root, 'agent')] : []),
    ...(backend === 'etcd' ? ['--endpoints', etcd!.endpoints.join(',')] : []),
    ...(historyLimit ? ['--history-limit', String(historyLimit)] : [])];
  progress(`[${backend}] prefilling ${Math.max(fill, KEYS)} revisions in the agent and the direct store`);
  const [agent] = await Promise.all([startAgentProcess(agentArgs, execArgv), prefill(store, fill)]);
  const rows: AgentRow[] = [];
  const pid = agent.child.pid!;
  try {
    progress(`[${backend}] agent at ${agent.httpAddr}`);
    const directPut = (i: number) => store.txn({ success: [{ type: 'put', key: storeKey(i), value: record(i) }] }).then(() => {});
    const directGet = async (i: number) => {
      if (!(await store.get(storeKey(i)))) throw new Error('missing key');
    };
    for (const c of clients) {
      const client = new BenchClient(agent.httpAddr, c);
      const httpGet = (q: string) => (i: number) => client.request('GET', `/v1/kv/k${i % KEYS}${q}`).then(() => {});
      const dPut = await cell(backend, c, 'direct PUT', directPut);
      const hPut = await cell(backend, c, 'HTTP PUT', (i) => client.request('PUT', `/v1/kv/k${i % KEYS}`, value(i)).then(() => {}), pid);
      const dGet = await cell(backend, c, 'direct GET', directGet);
      const hGet = await cell(backend, c, 'HTTP GET', httpGet(''), pid);
      const hStale = await cell(backend, c, 'HTTP GET ?stale', httpGet('?stale'), pid);
      client.close();
      rows.push({ backend, clients: c, op: 'PUT', direct: dPut, http: hPut });
      rows.push({ backend, clients: c, op: 'GET', direct: dGet, http: hGet });
      rows.push({ backend, clients: c, op: 'GET ?stale', direct: dGet, http: hStale });
    }
  } finally {
    await agent.stop();
    await store.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
  return rows;
}

async function benchEtcd3(cluster: EtcdRow['cluster'], etcd: EtcdCluster): Promise<EtcdRow[]> {
  const ops = etcdKvOps(etcd.endpoints);
  const rows: EtcdRow[] = [];
  try {
    await ops.fill();
    const tag = `etcd3 ${cluster}`;
    for (const c of clients) {
      rows.push({ cluster, clients: c, op: 'PUT', r: await cell(tag, c, 'PUT', ops.put) });
      rows.push({ cluster, clients: c, op: 'GET', r: await cell(tag, c, 'GET', ops.get) });
      rows.push({ cluster, clients: c, op: 'GET serializable', r: await cell(tag, c, 'GET serializable', ops.getSerializable) });
    }
  } finally {
    ops.close();
  }
  return rows;
}

const loadBefore = os.loadavg()[0];
const started = Date.now();
const profDir = opts['prof-agent'] ? fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-agent-prof-')) : null;
const etcdOpts = { dataRoot: opts.dir, compactionRetention: 10_000 };
const needSingle = backends.includes('etcd') || !opts['no-etcd3'];
const single = needSingle ? await startEtcd(1, etcdOpts) : null;
const agentRows: AgentRow[] = [];
const etcdRows: EtcdRow[] = [];
const bareRows: BareRow[] = opts['no-bare'] ? [] : await benchBare();
try {
  for (const b of backends) agentRows.push(...(await benchBackend(b, single, profDir)));
  if (!opts['no-etcd3']) {
    etcdRows.push(...(await benchEtcd3('1 member', single!)));
    await single?.stop();
    const three = await startEtcd(3, etcdOpts);
    try {
      etcdRows.push(...(await benchEtcd3('3 members', three)));
    } finally {
      await three.stop();
    }
  }
} finally {
  await single?.stop();
}

console.log(`\nKV bench: ${VALUE_SIZE}-byte values, ${KEYS} keys, ${durationMs} ms per cell after ${warmupMs} ms warm-up, ` +
  `prefill ${prefillN} revisions (embedded/memory), history limit ${historyLimit ?? 'default'}, ` +
  `node ${process.version}, ${os.cpus().length} CPUs; HTTP = agent in a child process over loopback keep-alive ` +
  `(limits.http_max_conns_per_client ${maxConns}); direct = the same ops on a Store in the bench process; ` +
  `etcd data in ${opts.dir}. Total ${((Date.now() - started) / 1000).toFixed(0)} s; ` +
  `1-min load average ${loadBefore.toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} after (2 would mean both cores busy).`);
if (profDir) console.log(`agent CPU profiles: ${profDir}`);
console.log(agentTable(agentRows, bareRows));
if (bareRows.length) console.log('\n' + bareTable(bareRows));
if (etcdRows.length) console.log('\n' + etcdTable(etcdRows));
const headClients = clients.includes(64) ? 64 : Math.max(...clients);
const headBackend = backends.includes('embedded') ? 'embedded' : backends[0];
console.log('');
for (const l of targetLines(agentRows, etcdRows, headClients, headBackend, bareRows)) console.log(l);
