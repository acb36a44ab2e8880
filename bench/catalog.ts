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
//            --heap-snapshot PATH (the agent's heap at full size) --query-ms 0 (skip the queries)
//            --smaps (the agent's largest memory mappings after GC, from /proc/PID/smaps)
//            --node-client (register through node:http's client instead of the lean raw-socket one)
// The registering client runs on the same cores as the agent, so by default it is the lean
// keep-alive client of support/raw-http.ts; the queries use node:http's client.
// Memory is read after a full GC in the agent (started with --expose-gc): RSS and V8's breakdown.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MemoryStore, type Compare, type Op, type Store } from '../src/store/index.ts';
import { EmbeddedStore } from '../src/store/embedded/embedded.ts';
import { checkKey, encodeRecord, nodeKey, serviceKey } from '../src/state/index.ts';
import { BenchClient, runCell, type CellResult } from './support/load.ts';
import { RawHttpClient } from './support/raw-http.ts';
import {
  cpuMs, machineCpuMs, monoMs, threadCpuMs, threadSchedMs, pool, rssMiB, sleep, startServerProcess, supportScript, type ServerProcess,
} from './support/proc.ts';
import { describeCosts, machineCosts } from './support/machine-probe.ts';

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
    'heap-snapshot': { type: 'string' },
    smaps: { type: 'boolean', default: false },
    'node-client': { type: 'boolean', default: false },
  },
});
const nodes = Number(opts.nodes ?? (opts.quick ? 1000 : 10_000));
const perNode = Number(opts['per-node']);
const services = Math.max(perNode, Number(opts.services));
const clients = Number(opts.clients);
const queryMs = Number(opts['query-ms'] ?? (opts.quick ? 1000 : 3000));
const total = nodes * perNode;
const log = (m: string): void => { process.stderr.write(m + '\n'); };
const mib = (bytes: number): number => bytes / 1024 / 1024;
// How long the agent is left idle after the burst before its RSS is read: the agent's idle-memory
// policy (src/agent/idle-memory.ts) waits 3 idle seconds, then V8's memory reducer starts within
// its own 8 s tick and collects three times 0.5 s apart.
const IDLE_MS = opts.quick ? 5_000 : 30_000;

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

interface Phase {
  seconds: number;
  perSec: number;
  /** Agent (child) CPU µs per registration: all threads, its main (event loop) thread, the rest by thread name. */
  agentCpuUs?: number;
  mainCpuUs?: number;
  otherCpuUs?: Map<string, number>;
  /** This process's CPU µs per registration. */
  benchCpuUs?: number;
  /** The agent main thread's GC pauses during the phase, by kind: count and total ms. */
  gc?: Record<string, { n: number; ms: number }>;
  /** Where the phase's wall time went: see schedShares(). */
  sched?: string;
}

type Sched = Map<string, { run: number; wait: number }>;

/**
 * Each busy thread's share of the phase's wall time on a CPU / runnable but waiting for one
 * (a thread neither running nor waiting for a CPU waits for I/O or another thread), and the
 * machine's busy share of its CPUs.
 */
function schedShares(label: string, pid: number, before: Sched, after: Sched, wallMs: number): string {
  const pct = (ms: number): string => ((100 * ms) / wallMs).toFixed(0);
  return [...after].map(([t, a]) => ({ t, run: a.run - (before.get(t)?.run ?? 0), wait: a.wait - (before.get(t)?.wait ?? 0) }))
    .filter((x) => x.run >= wallMs * 0.02).sort((x, y) => y.run - x.run)
    .map((x) => `${label} ${x.t.startsWith(`${pid} `) ? 'main' : x.t.slice(x.t.indexOf(' ') + 1)} ${pct(x.run)}/${pct(x.wait)}`).join(', ');
}

type GcPauses = Record<string, { n: number; ms: number }>;

/** The agent main thread's GC pauses so far (scale-agent.ts 'gcpauses'). */
async function gcPauses(agent: ServerProcess): Promise<GcPauses> {
  return JSON.parse(await agent.command('gcpauses')) as GcPauses;
}

/** The agent's process.memoryUsage() after a full GC, in bytes. */
interface Memory { rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number }

/** The 12 mappings of `pid` with the most resident memory, one per line. */
function largestMappings(pid: number): string {
  const maps: { name: string; rss: number }[] = [];
  let cur: { name: string; rss: number } | null = null;
  for (const line of fs.readFileSync(`/proc/${pid}/smaps`, 'latin1').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) maps.push((cur = { name: head[1] || '[anon]', rss: 0 }));
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && cur) cur.rss += Number(rss[1]);
  }
  const byName = new Map<string, { n: number; rss: number }>();
  for (const m of maps) {
    const a = byName.get(m.name) ?? { n: 0, rss: 0 };
    a.n++;
    a.rss += m.rss;
    byName.set(m.name, a);
  }
  const big = maps.filter((m) => m.name === '[anon]').sort((a, b) => b.rss - a.rss).slice(0, 12).map((m) => (m.rss / 1024).toFixed(1));
  return [...byName].sort((a, b) => b[1].rss - a[1].rss).slice(0, 8)
    .map(([name, a]) => `  ${(a.rss / 1024).toFixed(1)} MiB in ${a.n} mappings: ${name}`).join('\n') + `\n  largest anonymous (MiB): ${big.join(' ')}`;
}

async function agentMemory(agent: ServerProcess): Promise<Memory> {
  const m = JSON.parse(await agent.command('memory')) as Memory & { gc: boolean };
  if (!m.gc) throw new Error('the agent was not started with --expose-gc');
  return m;
}

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
let rssIdle: number;
let rssPeak: number;
let memBase: Memory;
let memAfter: Memory;
const queries: { label: string; r: CellResult; bytes: number }[] = [];
try {
  const agent = await startServerProcess(supportScript('scale-agent.ts'),
    ['--backend', opts.backend, '--dir', path.join(root, 'agent'), '--max-conns', '0'],
    ['--expose-gc', ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [])]);
  const client = new BenchClient(agent.httpAddr, clients);
  const registrar = opts['node-client'] ? client : new RawHttpClient(agent.httpAddr, clients);
  try {
    await sleep(1000);
    memBase = await agentMemory(agent);
    rssBase = rssMiB(agent.pid);
    log(`[agent] ${agent.httpAddr} (pid ${agent.pid}, ${opts.backend}); registering ${total} instances with ${clients} clients`);
    let done = 0;
    const ticker = setInterval(() => log(`[agent] ${done} registered`), 5000);
    const cpu0 = cpuMs(agent.pid);
    const threads0 = threadCpuMs(agent.pid);
    const self0 = process.cpuUsage();
    const gc0 = await gcPauses(agent);
    const sched0 = [threadSchedMs(agent.pid), threadSchedMs(process.pid), machineCpuMs()] as const;
    http = await timed(() => pool(total, clients, async (i) => {
      await registrar.request('PUT', '/v1/catalog/register', Buffer.from(JSON.stringify(registration(i).body)));
      done++;
    }));
    const self1 = process.cpuUsage(self0);
    const wallMs = http.seconds * 1000;
    const m1 = machineCpuMs();
    http.sched = `${schedShares('agent', agent.pid, sched0[0], threadSchedMs(agent.pid), wallMs)}, ` +
      `${schedShares('bench', process.pid, sched0[1], threadSchedMs(process.pid), wallMs)}; machine busy ` +
      `${(100 - (100 * (m1.idle - sched0[2].idle)) / (m1.total - sched0[2].total)).toFixed(0)} % of ${os.cpus().length} CPUs`;
    const gc1 = await gcPauses(agent);
    http.gc = Object.fromEntries(Object.entries(gc1).map(([k, a]) => [k, { n: a.n - (gc0[k]?.n ?? 0), ms: a.ms - (gc0[k]?.ms ?? 0) }]));
    http.agentCpuUs = ((cpuMs(agent.pid) - cpu0) * 1000) / total;
    http.otherCpuUs = new Map();
    for (const [t, ms] of threadCpuMs(agent.pid)) {
      const us = ((ms - (threads0.get(t) ?? 0)) * 1000) / total;
      if (t.startsWith(`${agent.pid} `)) http.mainCpuUs = us;
      else {
        const name = t.slice(t.indexOf(' ') + 1);
        http.otherCpuUs.set(name, (http.otherCpuUs.get(name) ?? 0) + us);
      }
    }
    http.benchCpuUs = (self1.user + self1.system) / total;
    clearInterval(ticker);
    await sleep(2000);
    rssAfter = rssMiB(agent.pid);
    // What an idle agent settles at on its own (its idle-memory policy and V8's memory reducer), before any forced GC.
    await sleep(IDLE_MS - 2000);
    rssIdle = rssMiB(agent.pid);
    rssPeak = rssMiB(agent.pid, 'VmHWM');
    memAfter = await agentMemory(agent);
    log(`[agent] ${http.perSec.toFixed(0)} registrations/s; RSS ${rssBase.toFixed(0)} → ${rssAfter.toFixed(0)} MiB, ` +
      `${mib(memAfter.rss).toFixed(0)} MiB after GC (heap used ${mib(memAfter.heapUsed).toFixed(0)} MiB)`);
    if (opts.smaps) log(largestMappings(agent.pid));
    if (opts['heap-snapshot']) log(`[agent] heap snapshot: ${await agent.command(`heapsnapshot ${path.resolve(opts['heap-snapshot'])}`)}`);
    const names = Math.min(services, total);
    const q = async (label: string, p: (i: number) => string) => {
      const bytes = (await client.request('GET', p(0))).length;
      const r = await runCell(16, 300, queryMs, (i) => client.request('GET', p(i)).then(() => {}));
      queries.push({ label, r, bytes });
      log(`[agent] ${label}: ${r.opsPerSec.toFixed(0)}/s p50 ${r.p50.toFixed(2)} ms p99 ${r.p99.toFixed(2)} ms`);
    };
    if (queryMs > 0) {
      await q(`health/service/<name>?passing (${total / names} instances)`, (i) => `/v1/health/service/svc-${(i * 7919) % names}?passing`);
      await q(`catalog/services (${names} names)`, () => '/v1/catalog/services');
    }
  } finally {
    client.close();
    if (registrar !== client) registrar.close();
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
  `child process (${opts['node-client'] ? "node:http's client" : 'lean raw-socket client'}); direct = the same txns on a Store in this process. node ${process.version}, ${os.cpus().length} CPUs; ` +
  `total ${((Date.now() - started) / 1000).toFixed(0)} s; 1-min load average ${loadBefore.toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} after; ` +
  `machine: ${describeCosts(machineCosts())}.`);
if (profDir) console.log(`agent CPU profile: ${profDir}`);
console.log('| measure | value |\n|:--|--:|');
console.log(`| HTTP registrations/s | ${f(http!.perSec, 0)} (${f(http!.seconds, 1)} s) |`);
console.log(`| CPU per registration: agent (all threads), bench client | ${f(http!.agentCpuUs!, 0)} µs, ${f(http!.benchCpuUs!, 0)} µs |`);
const others = [...http!.otherCpuUs!].filter(([, us]) => us >= 0.5).sort((a, b) => b[1] - a[1]).map(([n, us]) => `${n} ${f(us, 0)}`).join(', ');
console.log(`| agent CPU per registration by thread (µs) | main ${f(http!.mainCpuUs!, 0)}, ${others} |`);
const pauses = Object.entries(http!.gc!).filter(([, a]) => a.n > 0).sort((a, b) => b[1].ms - a[1].ms)
  .map(([k, a]) => `${k} ${f(a.ms * 1000 / total, 1)} (${a.n})`).join(', ');
console.log(`| agent main-thread GC pauses per registration (µs), by kind (count) | ${pauses} |`);
console.log(`| share of wall time on a CPU / waiting for one, % | ${http!.sched} |`);
console.log(`| direct Store txns/s | ${f(direct!.perSec, 0)} (${f(direct!.seconds, 1)} s) |`);
console.log(`| agent RSS before → after (peak) | ${f(rssBase!, 0)} → ${f(rssAfter!, 0)} MiB (${f(rssPeak!, 0)}) |`);
console.log(`| agent RSS growth per 10,000 instances | ${f(((rssAfter! - rssBase!) / total) * 10_000, 1)} MiB |`);
console.log(`| agent RSS ${IDLE_MS / 1000} s after the last registration, no forced GC (per 10,000 instances) | ` +
  `${f(rssIdle!, 0)} MiB (${f(((rssIdle! - rssBase!) / total) * 10_000, 1)}) |`);
const per10k = (a: number, b: number): string => f((mib(b - a) / total) * 10_000, 1);
console.log(`| after a full GC: RSS, heap total, heap used, external (per 10,000 instances) | ${f(mib(memBase!.rss), 0)} → ${f(mib(memAfter!.rss), 0)} MiB ` +
  `(${per10k(memBase!.rss, memAfter!.rss)}), ${f(mib(memBase!.heapTotal), 0)} → ${f(mib(memAfter!.heapTotal), 0)} MiB ` +
  `(${per10k(memBase!.heapTotal, memAfter!.heapTotal)}), ${f(mib(memBase!.heapUsed), 0)} → ${f(mib(memAfter!.heapUsed), 0)} MiB ` +
  `(${per10k(memBase!.heapUsed, memAfter!.heapUsed)}), ${f(mib(memBase!.external), 0)} → ${f(mib(memAfter!.external), 0)} MiB ` +
  `(${per10k(memBase!.external, memAfter!.external)}) |`);
for (const { label, r, bytes } of queries) {
  console.log(`| ${label}: 16 clients, ${f(bytes / 1024, 1)} KiB | ${f(r.opsPerSec, 0)}/s, p50 ${f(r.p50)} ms, p99 ${f(r.p99)} ms |`);
}
// The issue's targets: ≥ 10,000 registrations/s; RSS ≤ 150 MB per 100,000 instances (after a full GC, and as it idles).
const per100k = (mibs: number): number => (mibs / total) * 100_000;
const gcRss = per100k(mib(memAfter!.rss - memBase!.rss));
const idleRss = per100k(rssIdle! - rssBase!);
const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED');
console.log(`target: ${f(http!.perSec, 0)} registrations/s (≥ 10,000 ${verdict(http!.perSec >= 10_000)}); RSS per 100,000 instances ` +
  `${f(gcRss, 0)} MiB after a full GC (≤ 150 ${verdict(gcRss <= 150)}), ${f(idleRss, 0)} MiB idle without one (${verdict(idleRss <= 150)})`);
console.log(`ratio: HTTP/direct registrations per second = ${(http!.perSec / direct!.perSec).toFixed(2)} (${opts.backend})`);
