// Catalog scale (issue 9 item 3): register N nodes × 10 service instances, each with a passing
// service check, through PUT /v1/catalog/register against an agent in a child process
// (registrations/s at C concurrent clients), then the agent's RSS per 10,000 instances and the
// p50/p99 of `GET /v1/health/service/<name>?passing` and `GET /v1/catalog/services` at that size.
// Reference in the same run: the same writes (one txn per registration with the node, service
// and check records and the endpoint's create-only compares) issued directly against a Store of
// the same backend in this process, the ceiling. Last line: HTTP/direct registrations per second.
//
//   node bench/catalog.ts           # 10,000 nodes × 10 = 100,000 instances
//   node bench/catalog.ts --quick   # 1,000 nodes × 10 = 10,000 instances
//   options: --nodes N --per-node N --services N (distinct names) --clients N --query-ms MS
//            --backend embedded|memory --prof-agent (CPU-profile the agent child)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MemoryStore, type Compare, type Op, type Store } from '../src/store/index.ts';
import { EmbeddedStore } from '../src/store/embedded/embedded.ts';
import { checkKey, encodeRecord, nodeKey, serviceKey } from '../src/state/index.ts';
import { BenchClient, runCell, type CellResult } from './support/load.ts';
import { monoMs, pool, rssMiB, sleep, startServerProcess, supportScript } from './support/proc.ts';

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    nodes: { type: 'string' },
    'per-node': { type: 'string', default: '10' },
    services: { type: 'string', default: '1000' },
    clients: { type: 'string', default: '64' },
    'query-ms': { type: 'string' },
    backend: { type: 'string', default: 'embedded' },
    'prof-agent': { type: 'boolean', default: false },
  },
});
const nodes = Number(opts.nodes ?? (opts.quick ? 1000 : 10_000));
const perNode = Number(opts['per-node']);
const services = Math.max(perNode, Number(opts.services));
const clients = Number(opts.clients);
const queryMs = Number(opts['query-ms'] ?? (opts.quick ? 1000 : 3000));
const total = nodes * perNode;
const log = (m: string): void => { process.stderr.write(m + '\n'); };

/** Registration `i`: round-robin over nodes so concurrent writes never race on one node. */
function registration(i: number) {
  const n = i % nodes;
  const slot = Math.floor(i / nodes);
  const name = `svc-${(n * perNode + slot) % services}`;
  const node = `node-${n}`;
  return {
    first: slot === 0, node, name,
    body: {
      Node: node, Address: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
      Service: { ID: name, Service: name, Port: 8000 + slot, Tags: ['bench', `slot-${slot}`] },
      Check: { CheckID: `service:${name}`, Name: `${name} check`, ServiceID: name, Status: 'passing' },
    },
  };
}

/** The txn the register endpoint commits for registration `i` (records as it encodes them). */
function directTxn(i: number): { compares: Compare[]; success: Op[] } {
  const r = registration(i);
  const compares: Compare[] = [];
  const success: Op[] = [];
  const put = (key: string, rec: object) => {
    compares.push({ key, target: 'createRevision', op: '=', value: 0 });
    success.push({ type: 'put', key, value: encodeRecord(rec) });
  };
  const s = r.body.Service;
  if (r.first) put(nodeKey(r.node), { ID: '', Node: r.node, Address: r.body.Address, Datacenter: 'dc1', TaggedAddresses: null, Meta: null });
  put(serviceKey(r.node, s.ID), {
    ID: s.ID, Service: s.Service, Tags: s.Tags, Address: '', TaggedAddresses: null, Meta: null, Port: s.Port,
    Weights: { Passing: 1, Warning: 1 }, EnableTagOverride: false, Proxy: { Mode: '', MeshGateway: {}, Expose: {} }, Connect: {},
    PeerName: '', Datacenter: 'dc1',
  });
  const c = r.body.Check;
  put(checkKey(r.node, c.CheckID), {
    Node: r.node, CheckID: c.CheckID, Name: c.Name, Status: 'passing', Notes: '', Output: '', ServiceID: s.ID, ServiceName: s.Service,
    ServiceTags: s.Tags, Type: '', Interval: '', Timeout: '', ExposedPort: 0, Definition: {},
  });
  return { compares, success };
}

interface Phase { seconds: number; perSec: number }

async function timed(fn: () => Promise<void>): Promise<Phase> {
  const t0 = monoMs();
  await fn();
  const seconds = (monoMs() - t0) / 1000;
  return { seconds, perSec: total / seconds };
}

function openStore(dir: string): Store {
  if (opts.backend === 'memory') return new MemoryStore({});
  if (opts.backend === 'embedded') return new EmbeddedStore({ dir: path.join(dir, 'store') });
  throw new Error(`unknown backend ${opts.backend}`);
}

const started = Date.now();
const loadBefore = os.loadavg()[0];
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-bench-catalog-'));
const profDir = opts['prof-agent'] ? fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-catalog-prof-')) : null;
let http: Phase;
let direct: Phase;
let rssBase: number;
let rssAfter: number;
let rssPeak: number;
const queries: { label: string; r: CellResult; bytes: number }[] = [];
try {
  const agent = await startServerProcess(supportScript('scale-agent.ts'),
    ['--backend', opts.backend, '--dir', path.join(root, 'agent'), '--max-conns', '0'],
    profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []);
  const client = new BenchClient(agent.httpAddr, clients);
  try {
    await sleep(1000);
    rssBase = rssMiB(agent.pid);
    log(`[agent] ${agent.httpAddr} (pid ${agent.pid}, ${opts.backend}); registering ${total} instances with ${clients} clients`);
    let done = 0;
    const ticker = setInterval(() => log(`[agent] ${done} registered`), 5000);
    http = await timed(() => pool(total, clients, async (i) => {
      await client.request('PUT', '/v1/catalog/register', Buffer.from(JSON.stringify(registration(i).body)));
      done++;
    }));
    clearInterval(ticker);
    await sleep(2000);
    rssAfter = rssMiB(agent.pid);
    rssPeak = rssMiB(agent.pid, 'VmHWM');
    log(`[agent] ${http.perSec.toFixed(0)} registrations/s; RSS ${rssBase.toFixed(0)} → ${rssAfter.toFixed(0)} MiB`);
    const names = Math.min(services, total);
    const q = async (label: string, p: (i: number) => string) => {
      const bytes = (await client.request('GET', p(0))).length;
      const r = await runCell(16, 300, queryMs, (i) => client.request('GET', p(i)).then(() => {}));
      queries.push({ label, r, bytes });
      log(`[agent] ${label}: ${r.opsPerSec.toFixed(0)}/s p50 ${r.p50.toFixed(2)} ms p99 ${r.p99.toFixed(2)} ms`);
    };
    await q(`health/service/<name>?passing (${total / names} instances)`, (i) => `/v1/health/service/svc-${(i * 7919) % names}?passing`);
    await q(`catalog/services (${names} names)`, () => '/v1/catalog/services');
  } finally {
    client.close();
    await agent.stop();
  }
  const store = openStore(path.join(root, 'direct'));
  await store.open();
  try {
    log(`[direct] the same ${total} registration txns on a ${opts.backend} Store in this process`);
    direct = await timed(() => pool(total, clients, async (i) => {
      const res = await store.txn(directTxn(i));
      if (!res.succeeded) throw new Error(`direct txn ${i} failed its compares`);
    }));
  } finally {
    await store.close();
  }
} finally {
  fs.rmSync(root, { recursive: true, force: true });
}

const f = (n: number, d = 2): string => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
console.log(`\nCatalog bench: ${nodes} nodes × ${perNode} instances = ${total} (each with a passing service check) over ${services} ` +
  `service names, ${clients} concurrent clients, backend ${opts.backend}; HTTP = PUT /v1/catalog/register to an agent in a ` +
  `child process; direct = the same txns on a Store in this process. node ${process.version}, ${os.cpus().length} CPUs; ` +
  `total ${((Date.now() - started) / 1000).toFixed(0)} s; 1-min load average ${loadBefore.toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} after.`);
if (profDir) console.log(`agent CPU profile: ${profDir}`);
console.log('| measure | value |\n|:--|--:|');
console.log(`| HTTP registrations/s | ${f(http!.perSec, 0)} (${f(http!.seconds, 1)} s) |`);
console.log(`| direct Store txns/s | ${f(direct!.perSec, 0)} (${f(direct!.seconds, 1)} s) |`);
console.log(`| agent RSS before → after (peak) | ${f(rssBase!, 0)} → ${f(rssAfter!, 0)} MiB (${f(rssPeak!, 0)}) |`);
console.log(`| agent RSS growth per 10,000 instances | ${f(((rssAfter! - rssBase!) / total) * 10_000, 1)} MiB |`);
for (const { label, r, bytes } of queries) {
  console.log(`| ${label}: 16 clients, ${f(bytes / 1024, 1)} KiB | ${f(r.opsPerSec, 0)}/s, p50 ${f(r.p50)} ms, p99 ${f(r.p99)} ms |`);
}
console.log(`ratio: HTTP/direct registrations per second = ${(http!.perSec / direct!.perSec).toFixed(2)} (${opts.backend})`);
