// Memory per held blocking query (issue 9, fan-out): the agent (bench/support/scale-agent.ts) and
// the plain node:http reference (bench/support/longpoll-server.ts), each in a child started with
// --expose-gc, hold N blocking `health/service` queries (a quarter on one hot service, the rest
// over `services` others, as bench/fanout.ts), then N more, then N blocking KV reads over `keys`
// keys; after each step a full GC and process.memoryUsage(). The differences between steps divided
// by N are the bytes each held query retains (heap, off-heap, RSS); the first step is left out
// (it also pays one-off warm-up). With --snapshot DIR the agent writes a heap snapshot after each
// step (compare them with bench/support/heap-diff.ts).
//
//   node bench/fanout-memory.ts                 # N = 4,000, HTTP/1.1
//   node bench/fanout-memory.ts --h2            # as HTTP/2-over-TLS streams, 250 per connection
//   options: --watchers N --services N --keys N --snapshot DIR --only agent|reference
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { testCA } from '../test/support/tls-cert.ts';
import type { WatcherSpec } from './support/watchers.ts';
import { startGenerator, type Gen } from './support/fanout-wave.ts';
import { closeRequests, pool, request, startServerProcess, supportScript, until, type ServerProcess } from './support/proc.ts';

const { values: opts } = parseArgs({
  options: {
    watchers: { type: 'string', default: '4000' },
    services: { type: 'string', default: '1000' },
    keys: { type: 'string', default: '1000' },
    h2: { type: 'boolean', default: false },
    snapshot: { type: 'string' },
    only: { type: 'string' },
  },
});
const N = Number(opts.watchers);
const services = Number(opts.services);
const keys = Number(opts.keys);
const log = (m: string): void => { process.stderr.write(m + '\n'); };
const STREAMS = 250;

interface Memory { heapUsed: number; external: number; arrayBuffers: number; rss: number }
const memory = async (p: ServerProcess): Promise<Memory> => JSON.parse(await p.command('memory')) as Memory;

const reg = (node: string, i: number, service: string, id: string) => JSON.stringify({
  Node: node, Address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
  Service: { ID: id, Service: service, Port: 8000 + (i % 1000), Tags: ['bench'] },
});

/** The three steps' watchers: health (twice) and KV, with the indexes each must block on. */
type Steps = [WatcherSpec[], WatcherSpec[], WatcherSpec[]];

function steps(ix: { hot: number; svc: (i: number) => number; kv: (i: number) => number }): Steps {
  const q = (i: number) => `?index=${i}&wait=5m`;
  const healthList = (): WatcherSpec[] => Array.from({ length: N }, (_, i) => (i < N / 4
    ? { path: `/v1/health/service/hot${q(ix.hot)}`, group: 'hot' }
    : { path: `/v1/health/service/svc-${i % services}${q(ix.svc(i % services))}`, group: 'cold' }));
  const kvList = Array.from({ length: N }, (_, i) => ({ path: `/v1/kv/k${i % keys}${q(ix.kv(i % keys))}`, group: 'kv' }));
  return [healthList(), healthList(), kvList];
}

async function agentServer(tlsDir: string | null): Promise<{ p: ServerProcess; steps: Steps; held(): Promise<number> }> {
  const p = await startServerProcess(supportScript('scale-agent.ts'),
    ['--backend', 'memory', '--max-conns', '0', ...(tlsDir ? ['--tls-dir', tlsDir] : [])], ['--expose-gc']);
  const put = (u: string, b: string) => request(p.httpAddr, 'PUT', u, b);
  await put('/v1/catalog/register', reg('node-hot', 0, 'hot', 'hot-1'));
  await pool(services, 32, async (i) => { await put('/v1/catalog/register', reg(`node-${i}`, i + 1, `svc-${i}`, `svc-${i}-1`)); });
  await pool(keys, 32, async (i) => { await put(`/v1/kv/k${i}`, `value-${i}`); });
  const top = Number((await request(p.httpAddr, 'GET', '/v1/health/service/hot')).headers['x-consul-index']);
  const svcIx = new Map<number, number>();
  await pool(services, 32, async (i) => { svcIx.set(i, Number((await request(p.httpAddr, 'GET', `/v1/health/service/svc-${i}`)).headers['x-consul-index'])); });
  const kvIx = new Map<number, number>();
  await pool(keys, 32, async (i) => { kvIx.set(i, Number((await request(p.httpAddr, 'GET', `/v1/kv/k${i}`)).headers['x-consul-index'])); });
  return {
    p, steps: steps({ hot: top, svc: (i) => svcIx.get(i)!, kv: (i) => kvIx.get(i)! }),
    async held() {
      const m = JSON.parse((await request(p.httpAddr, 'GET', '/v1/agent/metrics')).body) as { Gauges: { Name: string; Value: number }[] };
      return m.Gauges.find((g) => g.Name === 'consul.rpc.queries_blocking')?.Value ?? 0;
    },
  };
}

async function referenceServer(tlsDir: string | null): Promise<{ p: ServerProcess; steps: Steps; held(): Promise<number> }> {
  const p = await startServerProcess(supportScript('longpoll-server.ts'), tlsDir ? ['--tls-dir', tlsDir] : [], ['--expose-gc']);
  return { p, steps: steps({ hot: 1, svc: () => 1, kv: () => 1 }), async held() { return Number((await request(p.httpAddr, 'GET', '/held')).body); } };
}

const block = 1 + Math.floor(Math.random() * 250);
let wave = 0;

/** Opens `watchers` from a new generator and waits until the server holds `expect` queries. */
async function hold(addr: string, watchers: WatcherSpec[], held: () => Promise<number>, expect: number, h2: { ca: string; streams: number } | undefined): Promise<Gen> {
  const i = addr.lastIndexOf(':');
  const g = startGenerator();
  wave++;
  g.child.send({ type: 'open', host: addr.slice(0, i), port: Number(addr.slice(i + 1)), localAddresses: [`127.${block}.${wave}.1`], watchers, notify: {}, h2 });
  await g.next('opened');
  await until(async () => (await held()) >= expect, 120_000, `${expect} held queries`, 250);
  return g;
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-fanout-memory-'));
let ca = '';
let tlsDir: string | null = null;
if (opts.h2) {
  tlsDir = path.join(root, 'tls');
  const authority = await testCA('Proconsul Bench CA');
  const server = await authority.issue('server.dc1.consul', 'server', ['server.dc1.consul']);
  fs.mkdirSync(tlsDir, { recursive: true });
  fs.writeFileSync(path.join(tlsDir, 'ca.pem'), ca = authority.cert);
  fs.writeFileSync(path.join(tlsDir, 'server.pem'), server.cert);
  fs.writeFileSync(path.join(tlsDir, 'server-key.pem'), server.key);
}
const rows: string[] = [];
const KiB = (b: number) => (b / 1024).toFixed(2);
try {
  for (const name of ['agent', 'reference']) {
    if (opts.only && opts.only !== name) continue;
    const s = name === 'agent' ? await agentServer(tlsDir) : await referenceServer(tlsDir);
    const addr = tlsDir ? s.p.httpsAddr! : s.p.httpAddr;
    const gens: Gen[] = [];
    const mem: Memory[] = [];
    try {
      for (let k = 0; k < 3; k++) {
        gens.push(await hold(addr, s.steps[k], () => s.held(), N * (k + 1), tlsDir ? { ca, streams: STREAMS } : undefined));
        mem.push(await memory(s.p));
        if (opts.snapshot && name === 'agent') {
          fs.mkdirSync(opts.snapshot, { recursive: true });
          log(`[agent] snapshot: ${(JSON.parse(await s.p.command(`heapsnapshot ${path.join(opts.snapshot, `step${k + 1}.heapsnapshot`)}`)) as { path: string }).path}`);
        }
        log(`[${name}] holding ${N * (k + 1)}: heapUsed ${KiB(mem[k].heapUsed / 1024)} MiB, rss ${KiB(mem[k].rss / 1024)} MiB`);
      }
    } finally {
      for (const g of gens) g.child.send({ type: 'close' });
      await s.p.stop();
    }
    const per = (a: Memory, b: Memory) => `${KiB((b.heapUsed - a.heapUsed) / N)} | ${KiB((b.external - a.external) / N)} | ${KiB((b.rss - a.rss) / N)}`;
    rows.push(`| ${name} | health/service | ${per(mem[0], mem[1])} |`, `| ${name} | kv | ${per(mem[1], mem[2])} |`);
  }
} finally {
  closeRequests();
  fs.rmSync(root, { recursive: true, force: true });
}
console.log(`Memory per held blocking query, ${N} per step, ${opts.h2 ? `HTTP/2 over TLS (${STREAMS} streams per connection)` : 'HTTP/1.1, one connection each'}, ` +
  `after a full GC; node ${process.version}`);
console.log('| server | query | heap KiB | external KiB | RSS KiB |\n|:--|:--|--:|--:|--:|');
for (const r of rows) console.log(r);
