// Blocking-query fan-out (issue 9 item 2): H concurrent blocking `GET /v1/health/service/<name>
// ?index=N&wait=5m` queries (a quarter on one hot service, the rest spread over other services)
// plus K KV key watchers (`GET /v1/kv/<key>?index=N&wait=5m`) against an agent in a child
// process, each on its own connection, opened by generator processes (bench/support/watchers.ts);
// with --h2, as streams multiplexed over HTTP/2-over-TLS connections to the agent's HTTPS
// listener (at most 250 per connection, Consul's and Go's limit: what a Go client using HTTPS
// does), so 60,000 watchers need a few hundred file descriptors instead of one each.
// Then one change to the hot service (a new instance via PUT /v1/catalog/register): time until
// every hot watcher has its response (p50/p99/max from the PUT being sent), how many unaffected
// watchers answered within a grace period (must be 0), and the agent's CPU and RSS idle and
// during the wave. The reference, in the same run: a plain node:http server holding the same
// long-polls and answering the hot ones with the same body on one request (bench/support/
// longpoll-server.ts), the floor of fan-out cost in Node; with --h2 it speaks HTTP/2 over TLS
// with the same certificate and stream limit. The agent's active timers while idle are listed
// (none may be per watcher). Last line: agent/reference p99.
//
//   node bench/fanout.ts                # 10,000 health + 10,000 KV watchers (KV clamped to the fd limit)
//   node bench/fanout.ts --quick        # 1,000 + 1,000, ~20 s
//   node bench/fanout.ts --quick --h2   # the same over HTTP/2 streams, ~20 s
//   node bench/fanout.ts --full         # 50,000 + 10,000 over HTTP/2 streams (implies --h2)
//   options: --health N --kv N --services N (cold services) --keys N --grace MS --idle MS
//            --backend memory|embedded --per-generator N --prof-agent (CPU-profile the agent child)
//            --prof-interval US (its sampling interval; V8's default is 1000 µs, too coarse for one wave)
//            --h2 (watchers as HTTP/2 streams over TLS; certificates are made at start)
//            --node-http (HTTP/1.1 watchers through node:http's client instead of raw sockets,
//            for comparison: it costs the generators several times the CPU per answer)
//            --handshake-timeout MS (the agent's limits.https_handshake_timeout; Consul's 5 s by
//            default: a short one shows whether its busy spells cut TLS sessions while watchers open)
//            --open-timeout S (how long a server may take to hold every watcher; 180 by default)
//            --sample-heap FILE (the agent's sampling heap profile of what the wave promotes; read it
//            with bench/support/heap-sample-top.ts; the sampling slows the wave: not a timing run)
//   environment: PROCONSUL_BENCH_AGENT_NODE_ARGS="--trace-gc-nvp ..." adds node flags to the agent
//            child (its non-JSON stdout lines are copied to stderr prefixed "[child]")
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { testCA } from '../test/support/tls-cert.ts';
import type { WatcherSpec } from './support/watchers.ts';
import { runWave, type WaveGc, type WaveResult, type WaveTarget } from './support/fanout-wave.ts';
import { closeRequests, hardFdLimit, pool, request, startServerProcess, supportScript, type HttpReply, type ServerProcess } from './support/proc.ts';

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    full: { type: 'boolean', default: false },
    health: { type: 'string' },
    kv: { type: 'string' },
    services: { type: 'string', default: '1000' },
    keys: { type: 'string', default: '1000' },
    grace: { type: 'string', default: '2000' },
    // The agent is measured idle for 15 s before the change: the first seconds after 20,000
    // connections opened are the tail of that burst (the heap at the collection limit the burst
    // left, the idle-memory policy's window); `--idle 3000` measures a change arriving then.
    idle: { type: 'string', default: '15000' },
    backend: { type: 'string', default: 'memory' },
    'per-generator': { type: 'string' },
    'prof-agent': { type: 'boolean', default: false },
    'prof-interval': { type: 'string' },
    h2: { type: 'boolean', default: false },
    // V8 as a plain node process has it in the agent, not as `proconsul agent` runs (support/cli-v8.ts).
    'v8-defaults': { type: 'boolean', default: false },
    'node-http': { type: 'boolean', default: false },
    'handshake-timeout': { type: 'string' },
    'open-timeout': { type: 'string', default: '180' },
    // A sampling heap profile of what the wave promotes (objects that survived its scavenges).
    'sample-heap': { type: 'string' },
  },
});

const log = (m: string): void => { process.stderr.write(m + '\n'); };
const HOT = 'hot';
const FD_SLACK = 200; // listeners, stdio, store files, the parent's setup connections
/** Streams per HTTP/2 connection: the agent's SETTINGS_MAX_CONCURRENT_STREAMS (Go's default, which Consul keeps). */
const H2_STREAMS = 250;
const h2 = opts.h2 || opts.full;
const health = Number(opts.health ?? (opts.quick ? 1000 : opts.full ? 50_000 : 10_000));
let kv = Number(opts.kv ?? (opts.quick ? 1000 : 10_000));
const services = Math.min(Number(opts.services), Math.max(1, Math.floor(health * 0.75)));
const keys = Math.min(Number(opts.keys), Math.max(1, kv));
const fdLimit = hardFdLimit();
const notes: string[] = [];
// Over HTTP/2 the server holds one fd per connection of up to 250 watchers.
const fdsFor = (watchers: number) => (h2 ? Math.ceil(watchers / H2_STREAMS) : watchers);
if (fdsFor(health) + FD_SLACK > fdLimit) {
  console.log(`cannot run ${health} health watchers: the server process needs one file descriptor per connection ` +
    `and the hard RLIMIT_NOFILE here is ${fdLimit} (raising it needs CAP_SYS_RESOURCE)`);
  console.log('ratio: n/a (not run)');
  process.exit(2);
}
if (!h2 && health + kv + FD_SLACK > fdLimit) {
  const was = kv;
  kv = fdLimit - health - FD_SLACK;
  notes.push(`KV watchers clamped from ${was} to ${kv}: hard RLIMIT_NOFILE is ${fdLimit} and the server holds one fd per watcher`);
  log(notes[notes.length - 1]);
}
const total = health + kv;
const perGenerator = Number(opts['per-generator'] ?? (h2 ? 20_000 : 8000));
// As runWave deals the watchers: round-robin over ceil(total / perGenerator) generators, each
// opening ceil(share / 250) HTTP/2 connections.
const generators = Math.max(1, Math.ceil(total / perGenerator));
const connections = !h2 ? total : Array.from({ length: generators }, (_, g) => fdsFor(Math.floor(total / generators) + (g < total % generators ? 1 : 0)))
  .reduce((x, y) => x + y, 0);
// Source addresses: the generators bind each socket to one (so bind(0) takes an ephemeral port
// for that address whatever the destination), at most 20,000 per address of the 28k-port range,
// a fresh set per wave (a random 127.x.y block per run) so the TIME_WAIT ports the previous wave
// or run left behind are never needed again.
const perWave = Math.ceil(connections / 20_000);
const block = 1 + Math.floor(Math.random() * 250);
const sourceAddresses = (wave: number): string[] =>
  Array.from({ length: perWave }, (_, i) => `127.${block}.${wave}.${i + 1}`);

interface Indexes { hot: number; svc: number[]; kv: number[] }

function watcherList(ix: Indexes): WatcherSpec[] {
  const out: WatcherSpec[] = [];
  const q = (i: number) => `?index=${i}&wait=5m`;
  const hot = Math.floor(health / 4);
  for (let i = 0; i < hot; i++) out.push({ path: `/v1/health/service/${HOT}${q(ix.hot)}`, group: 'hot' });
  for (let i = hot; i < health; i++) out.push({ path: `/v1/health/service/svc-${i % services}${q(ix.svc[i % services])}`, group: 'cold' });
  for (let i = 0; i < kv; i++) out.push({ path: `/v1/kv/k${i % keys}${q(ix.kv[i % keys])}`, group: 'kv' });
  return out;
}

function http(addr: string, method: string, p: string, body?: unknown): Promise<HttpReply> {
  return request(addr, method, p, body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
}

const reg = (node: string, i: number, service: string, id: string) => ({
  Node: node, Address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
  Service: { ID: id, Service: service, Port: 8000 + (i % 1000), Tags: ['bench'] },
});

/** A CA and a server certificate for 127.0.0.1 in `dir` (ca.pem, server.pem, server-key.pem), made as the HTTPS test makes them. */
async function makeCerts(dir: string): Promise<string> {
  const ca = await testCA('Proconsul Bench CA');
  const server = await ca.issue('server.dc1.consul', 'server', ['server.dc1.consul']);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'ca.pem'), ca.cert);
  fs.writeFileSync(path.join(dir, 'server.pem'), server.cert);
  fs.writeFileSync(path.join(dir, 'server-key.pem'), server.key);
  return ca.cert;
}

/** Where the watchers connect: the HTTPS address in h2 mode, else the plain one. */
function watchAddr(p: ServerProcess): string {
  if (!h2) return p.httpAddr;
  if (!p.httpsAddr) throw new Error('the server announced no HTTPS address');
  return p.httpsAddr;
}

async function agentTarget(profDir: string | null, root: string, tlsDir: string | null): Promise<{ target: WaveTarget; agent: ServerProcess }> {
  // --expose-internals lets the agent child list its timers (scale-agent.ts `timers`).
  const execArgv = ['--expose-internals', ...(process.env.PROCONSUL_BENCH_AGENT_NODE_ARGS ?? '').split(' ').filter(Boolean), ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`, ...(opts['prof-interval'] ? [`--cpu-prof-interval=${opts['prof-interval']}`] : [])] : [])];
  const agent = await startServerProcess(supportScript('scale-agent.ts'),
    ['--backend', opts.backend, '--dir', root, '--max-conns', '0', ...(tlsDir ? ['--tls-dir', tlsDir] : []),
      ...(opts['handshake-timeout'] ? ['--handshake-timeout', opts['handshake-timeout']] : []), ...(opts['v8-defaults'] ? ['--v8-defaults'] : [])], execArgv);
  log(`[agent] at ${agent.httpAddr}${agent.httpsAddr ? ` and https://${agent.httpsAddr}` : ''} (pid ${agent.pid}); ` +
    `registering ${services + 1} services and writing ${keys} keys`);
  await http(agent.httpAddr, 'PUT', '/v1/catalog/register', reg('node-hot', 0, HOT, 'hot-1'));
  await pool(services, 32, async (i) => { await http(agent.httpAddr, 'PUT', '/v1/catalog/register', reg(`node-${i}`, i + 1, `svc-${i}`, `svc-${i}-1`)); });
  await pool(keys, 32, async (i) => { await http(agent.httpAddr, 'PUT', `/v1/kv/k${i}`, `value-${i}`); });
  const index = async (p: string) => Number((await http(agent.httpAddr, 'GET', p)).headers['x-consul-index']);
  const ix: Indexes = { hot: await index(`/v1/health/service/${HOT}`), svc: new Array(services), kv: new Array(keys) };
  await pool(services, 32, async (i) => { ix.svc[i] = await index(`/v1/health/service/svc-${i}`); });
  await pool(keys, 32, async (i) => { ix.kv[i] = await index(`/v1/kv/k${i}`); });
  const target: WaveTarget = {
    name: 'agent', httpAddr: watchAddr(agent), pid: agent.pid, watchers: watcherList(ix), affected: 'hot',
    async held() {
      const m = JSON.parse((await http(agent.httpAddr, 'GET', '/v1/agent/metrics')).body) as { Gauges: { Name: string; Value: number }[] };
      return m.Gauges.find((g) => g.Name === 'consul.rpc.queries_blocking')?.Value ?? 0;
    },
    async change() { await http(agent.httpAddr, 'PUT', '/v1/catalog/register', reg('node-hot-2', 99_999, HOT, 'hot-2')); },
    async timers() { return (JSON.parse(await agent.command('timers')) as { timers: Record<string, number> | null }).timers; },
    async gcStart() {
      if (opts['sample-heap']) await agent.command('heapsample start');
      await agent.command('gcwave start');
    },
    async gcStop() {
      const gc = JSON.parse(await agent.command('gcwave stop')) as WaveGc;
      if (opts['sample-heap']) await agent.command(`heapsample stop ${path.resolve(opts['sample-heap'])}`);
      return gc;
    },
  };
  return { target, agent };
}

async function referenceTarget(body: string, tlsDir: string | null): Promise<{ target: WaveTarget; server: ServerProcess }> {
  const server = await startServerProcess(supportScript('longpoll-server.ts'), tlsDir ? ['--tls-dir', tlsDir] : []);
  log(`[reference] plain node:http${h2 ? ' + node:http2 (TLS)' : ''} long-poll server at ${watchAddr(server)} (pid ${server.pid})`);
  const ix: Indexes = { hot: 1, svc: new Array(services).fill(1), kv: new Array(keys).fill(1) };
  const target: WaveTarget = {
    name: 'reference', httpAddr: watchAddr(server), pid: server.pid, watchers: watcherList(ix), affected: 'hot',
    async held() { return Number((await http(server.httpAddr, 'GET', '/held')).body); },
    async change() {
      await http(server.httpAddr, 'PUT', `/fire?path=${encodeURIComponent(`/v1/health/service/${HOT}`)}`, body);
    },
  };
  return { target, server };
}

const f = (n: number, d = 1): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

function table(rows: WaveResult[]): string {
  const head = ['server', 'watchers', 'affected', 'answered', 'p50 ms', 'p99 ms', 'max ms', 'change ms', 'unaffected woken',
    'idle CPU %', 'idle RSS MiB', 'wave CPU ms', 'wave CPU %', 'generators\' wave CPU ms', 'peak RSS MiB'];
  const body = rows.map((r) => [r.name, String(r.watchers), String(r.affected), String(r.answered), f(r.p50), f(r.p99), f(r.max),
    f(r.changeMs), String(r.unaffectedWoken), f(r.idleCpuPct), f(r.idleRssMiB, 0), f(r.waveCpuMs, 0), f(r.waveCpuPct, 0), f(r.genCpuMs, 0), f(r.peakRssMiB, 0)]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (c: string[]) => '| ' + c.map((x, i) => (i === 0 ? x.padEnd(w[i]) : x.padStart(w[i]))).join(' | ') + ' |';
  return [line(head), '|' + w.map((n, i) => (i === 0 ? ':' + '-'.repeat(n + 1) : '-'.repeat(n + 1) + ':')).join('|') + '|', ...body.map(line)].join('\n');
}

const started = Date.now();
const loadBefore = os.loadavg()[0];
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-bench-fanout-'));
const profDir = opts['prof-agent'] ? fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-fanout-prof-')) : null;
const tlsDir = h2 ? path.join(root, 'tls') : null;
const ca = tlsDir ? await makeCerts(tlsDir) : '';
const waveOpts = (wave: number) => ({
  perGenerator, localAddresses: sourceAddresses(wave), idleMs: Number(opts.idle), graceMs: Number(opts.grace), log,
  openTimeoutMs: Number(opts['open-timeout']) * 1000,
  client: opts['node-http'] ? 'node' as const : 'raw' as const,
  ...(h2 ? { h2: { ca, streams: H2_STREAMS } } : {}),
});
const rows: WaveResult[] = [];
let hotBody = '[]';
try {
  const { target, agent } = await agentTarget(profDir, root, tlsDir);
  try {
    rows.push(await runWave(target, waveOpts(1)));
    hotBody = (await http(agent.httpAddr, 'GET', `/v1/health/service/${HOT}`)).body;
  } finally {
    await agent.stop();
  }
  const { target: ref, server } = await referenceTarget(hotBody, tlsDir);
  try {
    rows.push(await runWave(ref, waveOpts(2)));
  } finally {
    await server.stop();
  }
} finally {
  closeRequests();
  fs.rmSync(root, { recursive: true, force: true });
}

console.log(`\nFan-out bench: ${health} blocking health/service queries (${Math.floor(health / 4)} on "${HOT}", the rest over ${services} services) ` +
  `+ ${kv} KV watchers over ${keys} keys, ` +
  (h2 ? `as HTTP/2-over-TLS streams, at most ${H2_STREAMS} per connection (${connections} connections) ` : 'one connection each ') +
  `from ${perWave} source address(es) per server; ` +
  `one change = a new "${HOT}" instance (${hotBody.length}-byte response); grace ${opts.grace} ms; backend ${opts.backend}; ` +
  `node ${process.version}, ${os.cpus().length} CPUs; total ${((Date.now() - started) / 1000).toFixed(0)} s; ` +
  `1-min load average ${loadBefore.toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} after. Latencies are from sending the change.`);
for (const n of notes) console.log(`note: ${n}`);
if (profDir) console.log(`agent CPU profile: ${profDir}`);
for (const r of rows) {
  console.log(`[${r.name}] opened in ${r.openSeconds.toFixed(1)} s (${f(r.openCpuMs, 0)} ms CPU); held after the wave ${r.heldAfter} (expected ${r.watchers - r.affected})` +
    (r.errors.length ? `; errors: ${r.errors.slice(0, 5).join('; ')}` : ''));
}
const timers = rows[0].idleTimers;
const timerCount = timers ? Object.values(timers).reduce((x, y) => x + y, 0) : NaN;
console.log(timers
  ? `[agent] active timers while idle with ${rows[0].watchers} watchers held: ${timerCount} ` +
    `(${Object.entries(timers).map(([ms, n]) => `${n}× ${ms} ms`).join(', ') || 'none'})` +
    (timerCount >= rows[0].watchers / 2 ? ' — PER-WATCHER TIMERS' : ' — none per watcher')
  : '[agent] active timers: unknown (no --expose-internals)');
const wgc = rows[0].gc;
if (wgc) {
  console.log(`[agent] GC in the wave: ${wgc.scavenges} scavenges (${f(wgc.scavengeMs)} ms) promoting ${f(wgc.promoted / 1e6, 2)} MB ` +
    `(${f(wgc.promoted / Math.max(1, rows[0].affected), 0)} bytes per answer); old generation ${wgc.oldGrowth >= 0 ? '+' : ''}${f(wgc.oldGrowth / 1e6, 2)} MB; other collections: ` +
    (wgc.full.map((g) => `${g.type} ${f(g.ms)} ms`).join(', ') || 'none'));
}
console.log(table(rows));
const [a, ref] = rows;
// The issue's targets: p99 ≤ 250 ms after the change with 10,000 watchers, 0 unaffected wake-ups, no per-watcher timers while idle.
const ok = (x: boolean): string => (x ? 'met' : 'MISSED');
console.log(`target: agent p99 ${f(a.p99)} ms (≤ 250 ${ok(a.p99 <= 250)}${health === 10_000 ? '' : `; the target is set for 10,000 health watchers, this run has ${health}`}); ` +
  `unaffected woken ${a.unaffectedWoken} (0 ${ok(a.unaffectedWoken === 0)}); idle timers ${timerCount} (none per watcher ${Number.isNaN(timerCount) ? 'unknown' : ok(timerCount < a.watchers / 2)})`);
console.log(`ratio: agent/reference p99 time-to-response = ${(a.p99 / ref.p99).toFixed(2)} (max ${(a.max / ref.max).toFixed(2)}); ` +
  `unaffected woken ${a.unaffectedWoken}; ${h2 ? 'HTTP/2' : opts['node-http'] ? 'HTTP/1.1 (node:http watchers)' : 'HTTP/1.1 (raw-socket watchers)'}; ` +
  `generators' wave CPU ${f(a.genCpuMs, 0)} / ${f(ref.genCpuMs, 0)} ms; agent idle timers ${timerCount}`);
