// Process helpers for the scale benchmarks: start a child that prints `{"http": addr}` on its
// first stdout line, read its CPU time and RSS from /proc, read the open-files limit, and
// percentiles of a sample.
import fs from 'node:fs';
import http from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** A running server child and its HTTP address. */
export interface ServerProcess {
  httpAddr: string;
  /** The HTTPS (HTTP/2 by ALPN) address, when the child announced one. */
  httpsAddr?: string;
  pid: number;
  child: ChildProcess;
  /** Writes one command line to the child's stdin and resolves with its next stdout line. */
  command(line: string): Promise<string>;
  /** Sends SIGTERM and resolves when the child has exited. */
  stop(): Promise<void>;
}

/** Path of a script in bench/support/. */
export function supportScript(name: string): string {
  return fileURLToPath(new URL(`./${name}`, import.meta.url));
}

/** Spawns `node [execArgv] script [args]` and waits for its `{"http": addr}` line (`"https"` too, optionally). */
export async function startServerProcess(script: string, args: string[], execArgv: string[] = []): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...execArgv, script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // One reader for the child's whole life: the first line is the address, later lines answer commands.
  const waiting: { resolve(l: string): void; reject(e: Error): void }[] = [];
  const rl = createInterface({ input: child.stdout! });
  rl.on('line', (l) => { if (l.startsWith('{') || l === 'null') waiting.shift()?.resolve(l); else process.stderr.write('[child] ' + l + '\n'); });
  child.once('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`${script} exited (code ${code})`));
  });
  const nextLine = () => new Promise<string>((resolve, reject) => waiting.push({ resolve, reject }));
  const { http: httpAddr, https: httpsAddr } = JSON.parse(await nextLine()) as { http: string; https?: string };
  return {
    httpAddr, httpsAddr, pid: child.pid!, child,
    command(line: string) {
      const answer = nextLine();
      child.stdin!.write(line + '\n');
      return answer;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

const TICK_MS = 1000 / 100; // USER_HZ is 100 on Linux

/** User+system CPU time of `pid` in milliseconds (10 ms resolution). */
export function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime, stime (fields 14, 15)
}

/** CPU milliseconds of each thread of `pid`, keyed by `tid name` (the main thread's tid is the pid). */
export function threadCpuMs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(`${tid} ${name}`, (Number(fields[11]) + Number(fields[12])) * TICK_MS);
    } catch {
      // the thread exited between the listing and the read
    }
  }
  return out;
}

/** Each thread of `pid` (keyed as threadCpuMs keys it): ms on a CPU and ms runnable but waiting for one (/proc schedstat). */
export function threadSchedMs(pid: number): Map<string, { run: number; wait: number }> {
  const out = new Map<string, { run: number; wait: number }>();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1');
      const [run, wait] = fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ').map(Number);
      out.set(`${tid} ${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))}`, { run: run / 1e6, wait: wait / 1e6 });
    } catch {
      // the thread exited between the listing and the read
    }
  }
  return out;
}

/** The machine's CPU time so far in ms: all of it, and idle (iowait included), from /proc/stat. */
export function machineCpuMs(): { total: number; idle: number } {
  const f = fs.readFileSync('/proc/stat', 'latin1').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  return { total: f.reduce((a, b) => a + b, 0) * TICK_MS, idle: (f[3] + f[4]) * TICK_MS };
}

/** Resident set size of `pid` in MiB (VmRSS), or its peak (VmHWM). */
export function rssMiB(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** The hard limit on open files of this process (children inherit it). */
export function hardFdLimit(): number {
  const m = /^Max open files\s+\d+\s+(\d+|unlimited)/m.exec(fs.readFileSync('/proc/self/limits', 'latin1'));
  return !m || m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

/** The q-quantile (0..1) of an ascending-sorted sample; NaN when empty. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` every `everyMs` until true; rejects after `timeoutMs` with `what`. */
export async function until(cond: () => Promise<boolean> | boolean, timeoutMs: number, what: string, everyMs = 100): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Milliseconds on the monotonic clock (CLOCK_MONOTONIC), comparable across processes on one machine. */
export function monoMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Runs `fn(0..n-1)` with at most `concurrency` in flight. */
export async function pool(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => { while (next < n) await fn(next++); };
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
}

/** A complete HTTP response. */
export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** One request over a shared keep-alive pool; rejects unless the status is 200. */
export function request(addr: string, method: string, path: string, body?: string): Promise<HttpReply> {
  const i = addr.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'Content-Length': Buffer.byteLength(body) };
    const req = http.request({ agent: keepAlive, host: addr.slice(0, i), port: Number(addr.slice(i + 1)), method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const reply = { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() };
        if (reply.status === 200) resolve(reply);
        else reject(new Error(`${method} ${path}: HTTP ${reply.status}: ${reply.body.slice(0, 200)}`));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Closes the pooled connections of `request`. */
export function closeRequests(): void {
  keepAlive.destroy();
}
