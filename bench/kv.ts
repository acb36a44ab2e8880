// KV throughput and latency: PUT and GET (default and ?stale) over real HTTP on loopback against
// an agent in a child process, side by side with the same operations issued directly against a
// Store in this process (the ceiling the HTTP layer can reach), at several client concurrencies
// with 256-byte values. Both stores are first prefilled with 100,000 revisions so every cell
// runs with the watch history full, as in a long-running agent. Prints a table; the last line is
// the headline ratio HTTP PUT / direct PUT.
//
//   npx node bench/kv.ts                 # ~2 min: 3 s per cell after 0.5 s warm-up
//   npx node bench/kv.ts --quick         # ~25 s smoke run
//   options: --clients 1,16,64,256  --backends embedded,memory  --duration MS  --warmup MS
//            --dir DIR (where stores live; default the OS temp dir)  --prof-agent (CPU-profile the agent child)
//            --prefill N (revisions written before measuring; default 100000)  --history-limit N (both stores)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MemoryStore, type Store } from '../src/store/index.ts';
import { EmbeddedStore } from '../src/store/embedded/embedded.ts';
import { KEYS, VALUE_SIZE, prefill, record, storeKey, value } from './support/kv-data.ts';
import { BenchClient, runCell, startAgentProcess, type CellResult } from './support/load.ts';

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    clients: { type: 'string', default: '1,16,64' },
    backends: { type: 'string', default: 'embedded,memory' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    dir: { type: 'string', default: os.tmpdir() },
    'prof-agent': { type: 'boolean', default: false },
    prefill: { type: 'string', default: '100000' },
    'history-limit': { type: 'string' },
  },
});

const durationMs = Number(opts.duration ?? (opts.quick ? 500 : 3000));
const warmupMs = Number(opts.warmup ?? (opts.quick ? 150 : 500));
const clients = opts.clients.split(',').map(Number);
const backends = opts.backends.split(',');
const prefillN = Number(opts.prefill);
const historyLimit = opts['history-limit'] ? Number(opts['history-limit']) : undefined;

interface Row {
  backend: string;
  clients: number;
  op: string;
  direct: CellResult;
  http: CellResult;
}

function openStore(backend: string, dir: string): Store {
  if (backend === 'memory') return new MemoryStore({ historyLimit });
  if (backend === 'embedded') return new EmbeddedStore({ dir: path.join(dir, 'store'), historyLimit });
  throw new Error(`unknown backend ${backend}`);
}

function progress(msg: string): void {
  process.stderr.write(msg + '\n');
}

async function benchBackend(backend: string, profDir: string | null): Promise<Row[]> {
  const root = fs.mkdtempSync(path.join(opts.dir, `proconsul-bench-${backend}-`));
  const directDir = path.join(root, 'direct');
  const agentDir = path.join(root, 'agent');
  const store = openStore(backend, directDir);
  await store.open();
  const execArgv = profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
  const agentArgs = ['--backend', backend, '--prefill', String(prefillN), ...(backend === 'embedded' ? ['--dir', agentDir] : []),
    ...(historyLimit ? ['--history-limit', String(historyLimit)] : [])];
  progress(`[${backend}] prefilling ${Math.max(prefillN, KEYS)} revisions in the agent and the direct store`);
  const [agent] = await Promise.all([startAgentProcess(agentArgs, execArgv), prefill(store, prefillN)]);
  const rows: Row[] = [];
  try {
    progress(`[${backend}] agent at ${agent.httpAddr}`);
    const directPut = (i: number) => store.txn({ success: [{ type: 'put', key: storeKey(i), value: record(i) }] }).then(() => {});
    const directGet = async (i: number) => {
      if (!(await store.get(storeKey(i)))) throw new Error('missing key');
    };
    for (const c of clients) {
      const client = new BenchClient(agent.httpAddr, c);
      const httpPut = (i: number) => client.request('PUT', `/v1/kv/k${i % KEYS}`, value(i)).then(() => {});
      const httpGet = (q: string) => (i: number) => client.request('GET', `/v1/kv/k${i % KEYS}${q}`).then(() => {});
      const cell = async (label: string, op: (i: number) => Promise<void>) => {
        const r = await runCell(c, warmupMs, durationMs, op);
        progress(`[${backend}] ${String(c).padStart(3)} clients  ${label.padEnd(18)} ${fmtRate(r.opsPerSec)} ops/s  p50 ${fmtMs(r.p50)}  p99 ${fmtMs(r.p99)}`);
        return r;
      };
      const dPut = await cell('direct PUT', directPut);
      const hPut = await cell('HTTP PUT', httpPut);
      const dGet = await cell('direct GET', directGet);
      const hGet = await cell('HTTP GET', httpGet(''));
      const hStale = await cell('HTTP GET ?stale', httpGet('?stale'));
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

function fmtRate(n: number): string {
  return Math.round(n).toLocaleString('en-US').padStart(8);
}

function fmtMs(n: number): string {
  return (n < 10 ? n.toFixed(2) : n.toFixed(1)).padStart(6);
}

function table(rows: Row[]): string {
  const head = ['backend', 'clients', 'op', 'direct ops/s', 'p50 ms', 'p99 ms', 'HTTP ops/s', 'p50 ms', 'p99 ms', 'HTTP/direct'];
  const body = rows.map((r) => [
    r.backend, String(r.clients), r.op,
    fmtRate(r.direct.opsPerSec).trim(), fmtMs(r.direct.p50).trim(), fmtMs(r.direct.p99).trim(),
    fmtRate(r.http.opsPerSec).trim(), fmtMs(r.http.p50).trim(), fmtMs(r.http.p99).trim(),
    (r.http.opsPerSec / r.direct.opsPerSec).toFixed(2),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  const sep = '|' + widths.map((w, i) => (i < 3 ? ':' + '-'.repeat(w + 1) : '-'.repeat(w + 1) + ':')).join('|') + '|';
  return [line(head), sep, ...body.map(line)].join('\n');
}

const loadBefore = os.loadavg()[0];
const started = Date.now();
const profDir = opts['prof-agent'] ? fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-agent-prof-')) : null;
const rows: Row[] = [];
for (const b of backends) rows.push(...(await benchBackend(b, profDir)));

console.log(`\nKV bench: ${VALUE_SIZE}-byte values, ${KEYS} keys, ${durationMs} ms per cell after ${warmupMs} ms warm-up, ` +
  `prefill ${prefillN} revisions, history limit ${historyLimit ?? 'default'}, ` +
  `node ${process.version}, ${os.cpus().length} CPUs; HTTP = agent in a child process over loopback keep-alive; ` +
  `direct = the same ops on a Store in the bench process. Total ${((Date.now() - started) / 1000).toFixed(0)} s; ` +
  `1-min load average ${loadBefore.toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} after (2 would mean both cores busy).`);
if (profDir) console.log(`agent CPU profiles: ${profDir}`);
console.log(table(rows));
const headBackend = backends.includes('embedded') ? 'embedded' : backends[0];
const headClients = clients.includes(64) ? 64 : Math.max(...clients);
const head = rows.find((r) => r.backend === headBackend && r.clients === headClients && r.op === 'PUT')!;
console.log(`ratio: HTTP PUT/direct PUT at ${headClients} clients = ${(head.http.opsPerSec / head.direct.opsPerSec).toFixed(2)} (${headBackend})`);
