// One fan-out wave for bench/fanout.ts, against any server that holds long-polls: fork the
// watcher generators, open every watcher, wait until the server holds them all, measure the
// server idle, trigger one change, time the affected responses, count unaffected ones during a
// grace period, and sample the server's CPU and RSS throughout.
import { fork, type ChildProcess } from 'node:child_process';
import type { Report, WatcherSpec } from './watchers.ts';
import { cpuMs, monoMs, quantile, rssMiB, sleep, supportScript, until } from './proc.ts';

/** How to drive one server through a wave. */
export interface WaveTarget {
  name: string;
  /** Where the watchers connect: `host:port` (the HTTPS one with WaveOptions.h2). */
  httpAddr: string;
  pid: number;
  watchers: WatcherSpec[];
  /** The group the change affects; every other group must stay silent. */
  affected: string;
  /** How many long-polls the server currently holds. */
  held(): Promise<number>;
  /** Makes the change; resolves when the server acknowledged it. */
  change(): Promise<void>;
  /** The server's active timers by duration (ms), when it can tell. */
  timers?(): Promise<Record<string, number> | null>;
  /** Starts recording the server's collections (called just before the change), when it can. */
  gcStart?(): Promise<void>;
  /** The collections since gcStart (called once every affected watcher has its answer). */
  gcStop?(): Promise<WaveGc>;
}

/** The server's garbage collections during a wave. */
export interface WaveGc {
  scavenges: number;
  scavengeMs: number;
  /** Bytes the scavenges moved to the old generation. */
  promoted: number;
  /** Every other collection (mark-compact, incremental marking steps…): kind and pause in ms. */
  full: { type: string; ms: number }[];
  /** The old generation's growth over the wave: promotions plus direct old-space allocation, less what a full collection freed. */
  oldGrowth: number;
}

/** Wave options. */
export interface WaveOptions {
  perGenerator: number;
  localAddresses: string[];
  idleMs: number;
  graceMs: number;
  /** How long the server may take to hold every watcher (default 180 s). */
  openTimeoutMs?: number;
  log: (msg: string) => void;
  /** Watchers as HTTP/2-over-TLS streams: the CA (PEM) and streams per connection. */
  h2?: { ca: string; streams: number };
  /** HTTP/1.1 watchers on raw sockets (default) or through node:http's client. */
  client?: 'raw' | 'node';
}

/** The measured outcome of one wave. */
export interface WaveResult {
  name: string;
  watchers: number;
  affected: number;
  answered: number;
  /** Time from the change request to each affected response, ms. */
  p50: number;
  p99: number;
  max: number;
  /** Latency of the change request itself, ms. */
  changeMs: number;
  unaffectedWoken: number;
  errors: string[];
  openSeconds: number;
  /** The server's CPU from the first watcher sent until it held them all, ms. */
  openCpuMs: number;
  idleCpuPct: number;
  idleRssMiB: number;
  waveCpuMs: number;
  waveCpuPct: number;
  /** CPU the watcher generators used from the change until the last affected answer arrived, ms. */
  genCpuMs: number;
  peakRssMiB: number;
  heldAfter: number;
  /** The server's active timers by duration (ms) while idle, null when it cannot tell. */
  idleTimers: Record<string, number> | null;
  /** The server's collections from the change until the last affected answer, when it can tell. */
  gc: WaveGc | null;
}

/** A watcher generator child (bench/support/watchers.ts) and its message queue. */
export interface Gen {
  child: ChildProcess;
  expect: number;
  next<T>(type: string): Promise<T>;
}

/** Forks a watcher generator; `next(type)` resolves with its next message of that type. */
export function startGenerator(): Gen {
  const child = fork(supportScript('watchers.ts'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map<string, ((m: unknown) => void)[]>();
  const early = new Map<string, unknown[]>();
  child.on('message', (m: { type: string }) => {
    const q = waiting.get(m.type);
    if (q?.length) q.shift()!(m);
    else early.set(m.type, [...(early.get(m.type) ?? []), m]);
  });
  return {
    child, expect: 0,
    next<T>(type: string): Promise<T> {
      const e = early.get(type);
      if (e?.length) return Promise.resolve(e.shift() as T);
      return new Promise((resolve) => waiting.set(type, [...(waiting.get(type) ?? []), resolve as (m: unknown) => void]));
    },
  };
}

/** Runs one wave against `t`; generators are started and stopped here. */
export async function runWave(t: WaveTarget, o: WaveOptions): Promise<WaveResult> {
  const [host, port] = [t.httpAddr.slice(0, t.httpAddr.lastIndexOf(':')), Number(t.httpAddr.slice(t.httpAddr.lastIndexOf(':') + 1))];
  const gens = Array.from({ length: Math.max(1, Math.ceil(t.watchers.length / o.perGenerator)) }, startGenerator);
  const shares: WatcherSpec[][] = gens.map(() => []);
  t.watchers.forEach((w, i) => shares[i % gens.length].push(w));
  const affected = t.watchers.filter((w) => w.group === t.affected).length;
  try {
    const opened = monoMs();
    const open0 = cpuMs(t.pid);
    gens.forEach((g, i) => {
      g.expect = shares[i].filter((w) => w.group === t.affected).length;
      g.child.send({ type: 'open', host, port, localAddresses: o.localAddresses, watchers: shares[i], notify: { [t.affected]: g.expect }, h2: o.h2, client: o.client });
    });
    const openErrors = (await Promise.all(gens.map((g) => g.next<{ errors: number }>('opened')))).reduce((n, m) => n + m.errors, 0);
    if (openErrors) o.log(`[${t.name}] ${openErrors} watcher(s) failed while opening (listed in the report)`);
    let held = 0;
    try {
      await until(async () => (held = await t.held()) >= t.watchers.length, o.openTimeoutMs ?? 180_000, `${t.name} to hold ${t.watchers.length} long-polls`, 250);
    } catch (err) {
      // Say how far it got and what the generators saw (e.g. TLS sessions cut during the handshake).
      const reports = await Promise.all(gens.map((g) => { g.child.send({ type: 'report' }); return g.next<Report>('report'); }));
      const errors = [...reports.flatMap((r) => r.errors).slice(0, 5), ...reports.flatMap((r) => Object.entries(r.statuses).map(([k, n]) => `${n}× ${k}`))];
      throw new Error(`${(err as Error).message}: ${held} held` + (errors.length ? `; generator errors: ${errors.join('; ')}` : ''), { cause: err });
    }
    const openSeconds = (monoMs() - opened) / 1000;
    const openCpuMs = cpuMs(t.pid) - open0;
    o.log(`[${t.name}] ${t.watchers.length} long-polls held after ${openSeconds.toFixed(1)} s; measuring idle for ${o.idleMs} ms`);

    await sleep(1000);
    const idle0 = cpuMs(t.pid);
    await sleep(o.idleMs);
    const idleCpuPct = ((cpuMs(t.pid) - idle0) / o.idleMs) * 100;
    const idleRssMiB = rssMiB(t.pid);
    const idleTimers = t.timers ? await t.timers() : null;

    let peakRssMiB = idleRssMiB;
    const sampler = setInterval(() => { peakRssMiB = Math.max(peakRssMiB, rssMiB(t.pid)); }, 10);
    const done = Promise.all(gens.map((g) => (g.expect ? g.next('group-done') : null)));
    const genCpu = (): number => gens.reduce((sum, g) => sum + cpuMs(g.child.pid!), 0);
    const gen0 = genCpu();
    const cpu0 = cpuMs(t.pid);
    await t.gcStart?.();
    const t0 = monoMs();
    await t.change();
    const changeMs = monoMs() - t0;
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([done.then(() => true), new Promise<boolean>((r) => { timer = setTimeout(() => r(false), 60_000); })]);
    clearTimeout(timer);
    const waveCpuMs = cpuMs(t.pid) - cpu0;
    const genCpuMs = genCpu() - gen0;
    const waveWall = monoMs() - t0;
    const gc = t.gcStop ? await t.gcStop() : null;
    clearInterval(sampler);
    if (!finished) o.log(`[${t.name}] not every affected watcher answered within 60 s`);
    await sleep(o.graceMs);
    const heldAfter = await t.held();

    const reports = await Promise.all(gens.map((g) => { g.child.send({ type: 'report' }); return g.next<Report>('report'); }));
    const lat: number[] = [];
    let unaffectedWoken = 0;
    const errors: string[] = [];
    for (const r of reports) {
      for (const [group, times] of Object.entries(r.arrivals)) {
        if (group === t.affected) lat.push(...times.map((x) => x - t0));
        else unaffectedWoken += times.length;
      }
      for (const [k, n] of Object.entries(r.statuses)) if (!k.endsWith(' 200')) errors.push(`${n}× ${k}`);
      errors.push(...r.errors);
    }
    lat.sort((a, b) => a - b);
    return {
      name: t.name, watchers: t.watchers.length, affected, answered: lat.length,
      p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), max: lat.length ? lat[lat.length - 1] : NaN, changeMs,
      unaffectedWoken, errors, openSeconds, openCpuMs, idleCpuPct, idleRssMiB,
      waveCpuMs, waveCpuPct: (waveCpuMs / waveWall) * 100, genCpuMs, peakRssMiB, heldAfter, idleTimers, gc,
    };
  } finally {
    for (const g of gens) {
      if (g.child.connected) g.child.send({ type: 'close' });
    }
    await Promise.all(gens.map((g) => (g.child.exitCode === null ? new Promise((r) => g.child.once('exit', r)) : null)));
  }
}
