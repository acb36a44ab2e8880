// A dev agent in its own process for the fan-out and catalog benchmarks, with Consul's
// per-client connection limit (`limits.http_max_conns_per_client`) configurable so tens of
// thousands of loopback watchers can connect. Usage:
//   node bench/support/scale-agent.ts --backend memory|embedded [--dir DIR] [--max-conns N]
//     [--tls-dir DIR]   also an HTTPS listener (HTTP/2 by ALPN) with DIR/ca.pem, server.pem, server-key.pem
//     [--v8-defaults]   V8 as a plain node process has it, instead of as `proconsul agent` runs (cli-v8.ts)
// Prints one JSON line `{"http":"127.0.0.1:PORT"}` (plus `"https"` with --tls-dir) once serving;
// stops cleanly on SIGTERM or when stdin closes (so it never outlives the bench), which also
// lets --cpu-prof write its profile.
// Commands, one per stdin line, each answered by one JSON line on stdout:
//   memory            a memory-reducing full GC (when started with --expose-gc; what V8's memory
//                     reducer does once an agent is idle), then process.memoryUsage()
//   heapsnapshot PATH writes a V8 heap snapshot to PATH
//   timers            the active timers (ref'd and unref'd, sockets' included) by duration in ms,
//                     read from Node's timer lists when started with --expose-internals
//   gcpauses          the main thread's GC pauses since start, by kind: count and total ms
//                     (PerformanceObserver 'gc' entries; concurrent marking on helper threads is not in them)
//   gcwave start|stop the collections between start and stop (v8.GCProfiler): scavenges, the bytes
//                     they promoted (old-generation growth across each), each full collection's pause,
//                     and the old generation's growth from start to stop (promotions plus what V8
//                     allocated there directly: pretenured and large objects; less what a full collection freed)
//   heapsample start|stop PATH  V8's sampling heap profiler (every 128 bytes) keeping only objects that survived
//                     the scavenges in between (what a wave promotes), written to PATH (.heapprofile);
//                     `heapsample start all` keeps the garbage too (what a workload allocates)
import path from 'node:path';
import v8 from 'node:v8';
import { createRequire } from 'node:module';
import { PerformanceObserver, constants as perf } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { Session } from 'node:inspector/promises';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { asCliAgent, cliIdleMemory } from './cli-v8.ts';

const { values: opts } = parseArgs({
  options: {
    backend: { type: 'string', default: 'memory' },
    dir: { type: 'string' },
    'max-conns': { type: 'string', default: '0' },
    'tls-dir': { type: 'string' },
    'handshake-timeout': { type: 'string' },
    'v8-defaults': { type: 'boolean', default: false },
  },
});
asCliAgent(opts['v8-defaults']);
const { benchAgent, httpsConfig, localStore, serveUntilStopped } = await import('./bench-agent.ts');
const backend = opts.backend;
if (backend !== 'memory' && backend !== 'embedded') throw new Error(`unknown backend ${backend}`);
if (backend === 'embedded' && !opts.dir) throw new Error('the embedded backend needs --dir');
const tlsDir = opts['tls-dir'];
const more = tlsDir
  ? await httpsConfig({ caFile: path.join(tlsDir, 'ca.pem'), certFile: path.join(tlsDir, 'server.pem'), keyFile: path.join(tlsDir, 'server-key.pem') })
  : undefined;
// limits.https_handshake_timeout in ms (Consul's 5 s by default): a short one shows whether the
// agent's own busy spells cut handshakes (bench/fanout.ts --handshake-timeout).
if (more && opts['handshake-timeout']) more.limits = { httpsHandshakeTimeout: Number(opts['handshake-timeout']) } as NonNullable<typeof more.limits>;
const agent = benchAgent({ storeConfig: { backend }, store: localStore(backend, opts.dir), dir: opts.dir, maxConns: Number(opts['max-conns']), more });
await agent.start();
serveUntilStopped(agent, Boolean(tlsDir));
await cliIdleMemory(opts['v8-defaults']);

/** GC pauses by kind since start: count and total milliseconds. */
const gcPauses: Record<string, { n: number; ms: number }> = {};
const GC_KINDS: Record<number, string> = {
  [perf.NODE_PERFORMANCE_GC_MINOR]: 'scavenge', [perf.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
  [perf.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental marking', [perf.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks',
};
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = GC_KINDS[((e as { detail?: unknown } as { detail?: { kind: number } }).detail?.kind ?? -1)] ?? 'other';
    const a = (gcPauses[kind] ??= { n: 0, ms: 0 });
    a.n++;
    a.ms += e.duration;
  }
}).observe({ entryTypes: ['gc'] });

let waveProfiler: v8.GCProfiler | undefined;
/** Old-generation bytes when gcwave started. */
let waveOld0 = 0;
const oldNow = (): number => v8.getHeapSpaceStatistics().reduce((n, s) => (s.space_name.startsWith('new_') ? n : n + s.space_used_size), 0);

interface GcEntry {
  gcType: string;
  cost: number;
  beforeGC: { heapSpaceStatistics: { spaceName: string; spaceUsedSize: number }[] };
  afterGC: { heapSpaceStatistics: { spaceName: string; spaceUsedSize: number }[] };
}

/** Old-generation bytes (every space but the young one's) in one snapshot of space statistics. */
const oldBytes = (spaces: GcEntry['afterGC']['heapSpaceStatistics']): number =>
  spaces.reduce((n, s) => (s.spaceName.startsWith('new_') ? n : n + s.spaceUsedSize), 0);

/**
 * The collections of a GCProfiler run: scavenges with the bytes they promoted (the old
 * generation's growth across each: --trace-gc-nvp's promoted= within the sweeper's noise), and
 * the other collections' kinds and pauses in ms.
 */
function gcWave(profile: { statistics: GcEntry[] } | undefined): object {
  let scavenges = 0, promoted = 0, scavengeMs = 0;
  const full: { type: string; ms: number }[] = [];
  for (const e of profile?.statistics ?? []) {
    if (e.gcType === 'Scavenge' || e.gcType === 'MinorMarkSweep') {
      scavenges++;
      scavengeMs += e.cost / 1000;
      promoted += Math.max(0, oldBytes(e.afterGC.heapSpaceStatistics) - oldBytes(e.beforeGC.heapSpaceStatistics));
    } else full.push({ type: e.gcType, ms: Math.round(e.cost / 100) / 10 });
  }
  return { scavenges, scavengeMs: Math.round(scavengeMs * 10) / 10, promoted, full };
}

let inspector: Session | undefined;

/**
 * `start [all]`, or `stop PATH`: the sampling heap profile of the objects that survived a scavenge
 * meanwhile (with `all`, of everything allocated meanwhile).
 */
async function heapSample([what, arg]: string[]): Promise<object> {
  if (what === 'start') {
    if (!inspector) { inspector = new Session(); inspector.connect(); }
    await inspector.post('HeapProfiler.startSampling', { samplingInterval: 128, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: arg === 'all' });
    return {};
  }
  const file = arg;
  if (!inspector || !file) throw new Error('heapsample stop PATH, after heapsample start');
  const { profile } = await inspector.post('HeapProfiler.stopSampling');
  fs.writeFileSync(file, JSON.stringify(profile));
  return { path: file };
}

interface TimerList { _idleNext: TimerList }

/** Active timers by duration (ms), walking Node's internal timer lists; null without --expose-internals. */
function activeTimers(): Record<string, number> | null {
  let lists: Record<string, TimerList>;
  try {
    lists = (createRequire(import.meta.url)('internal/timers') as { timerListMap: Record<string, TimerList> }).timerListMap;
  } catch {
    return null;
  }
  const out: Record<string, number> = {};
  for (const [ms, list] of Object.entries(lists)) {
    let n = 0;
    for (let t = list._idleNext; t !== list; t = t._idleNext) n++;
    if (n) out[ms] = n;
  }
  return out;
}
createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, arg] = line.trim().split(/\s+/, 2);
  const reply = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
  if (cmd === 'memory') {
    // 'last-resort' collects repeatedly and compacts, releasing emptied pages; then give the
    // concurrent sweeper a moment to hand them back before reading RSS.
    const gc = (globalThis as { gc?: (o?: object) => void }).gc;
    gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    setTimeout(() => reply({ gc: Boolean(gc), ...process.memoryUsage() }), 500);
  } else if (cmd === 'heapsnapshot' && arg) reply({ path: v8.writeHeapSnapshot(arg) });
  else if (cmd === 'timers') reply({ timers: activeTimers() });
  else if (cmd === 'gcpauses') reply(gcPauses);
  else if (cmd === 'heapsample') void heapSample(line.trim().split(/\s+/).slice(1)).then(reply, (err: unknown) => reply({ error: String(err) }));
  else if (cmd === 'gcwave' && arg === 'start') { waveProfiler?.stop(); (waveProfiler = new v8.GCProfiler()).start(); waveOld0 = oldNow(); reply({}); }
  else if (cmd === 'gcwave' && arg === 'stop') { reply({ ...gcWave(waveProfiler?.stop()), oldGrowth: oldNow() - waveOld0 }); waveProfiler = undefined; }
  else reply({ error: `unknown command ${line}` });
});
