// Closed-loop load generation for benchmarks: N workers issue operations back to back for a
// warm-up then a timed window; throughput and latency percentiles cover only the window. Also
// a minimal keep-alive HTTP client (node:http, maxSockets = concurrency) and the child-process
// launcher for bench/support/agent-process.ts.
import http from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

/** The outcome of one timed cell. */
export interface CellResult {
  ops: number;
  /** Operations completed over the whole cell, warm-up included (the divisor of CPU per operation). */
  total: number;
  opsPerSec: number;
  /** Latency percentiles in milliseconds. */
  p50: number;
  p99: number;
  /** The server process's CPU (user + system) per operation over the whole cell, µs, when measured. */
  cpuUs?: number;
}

/** One operation; `i` is a global sequence number unique to this call. */
export type Operation = (i: number) => Promise<void>;

/** Runs `op` from `concurrency` workers: `warmupMs` unmeasured, then `durationMs` measured. */
export async function runCell(concurrency: number, warmupMs: number, durationMs: number, op: Operation): Promise<CellResult> {
  let seq = 0;
  const start = performance.now();
  const t0 = start + warmupMs;
  const t1 = t0 + durationMs;
  const lat: number[] = [];
  let total = 0;
  async function worker(): Promise<void> {
    for (;;) {
      const s = performance.now();
      if (s >= t1) return;
      await op(seq++);
      total++;
      const e = performance.now();
      if (s >= t0 && e <= t1) lat.push(e - s);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  lat.sort((a, b) => a - b);
  return { ops: lat.length, total, opsPerSec: lat.length / (durationMs / 1000), p50: pct(lat, 0.5), p99: pct(lat, 0.99) };
}

function pct(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** A keep-alive HTTP client bound to one `host:port`. */
export class BenchClient {
  readonly #agent: http.Agent;
  readonly #host: string;
  readonly #port: number;

  constructor(addr: string, maxSockets: number) {
    const i = addr.lastIndexOf(':');
    this.#host = addr.slice(0, i);
    this.#port = Number(addr.slice(i + 1));
    this.#agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  /** Sends a request and resolves with the body; rejects unless the status is 200. */
  request(method: string, path: string, body?: Uint8Array): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = body ? { 'Content-Length': body.length } : {};
      const req = http.request({ agent: this.#agent, host: this.#host, port: this.#port, method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const out = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
          if (res.statusCode === 200) resolve(out);
          else reject(new Error(`${method} ${path}: HTTP ${res.statusCode}: ${out.toString().slice(0, 200)}`));
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Closes pooled sockets. */
  close(): void {
    this.#agent.destroy();
  }
}

/** A running agent child process and its HTTP address. */
export interface AgentProcess {
  httpAddr: string;
  child: ChildProcess;
  /** Sends SIGTERM and resolves when the child has exited. */
  stop(): Promise<void>;
}

const AGENT_SCRIPT = fileURLToPath(new URL('./agent-process.ts', import.meta.url));

/** Starts bench/support/agent-process.ts with this Node and `args`; `execArgv` e.g. `--cpu-prof`. */
export async function startAgentProcess(agentArgs: string[], execArgv: string[] = []): Promise<AgentProcess> {
  const args = [...execArgv, AGENT_SCRIPT, ...agentArgs];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (l) => { rl.close(); resolve(l); });
    child.once('exit', (code) => reject(new Error(`agent process exited early (code ${code})`)));
  });
  const { http: httpAddr } = JSON.parse(line) as { http: string };
  return {
    httpAddr, child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
