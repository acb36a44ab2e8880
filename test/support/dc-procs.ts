// Single-server datacenters of real processes for federation tests: each server is
// `proconsul agent -server -bootstrap -datacenter <dc>` (embedded store) on its own loopback
// address with free ports, its output kept for timeout messages; dc1 client agents join a server
// over the LAN. Everything is killed and the data removed when the test file ends.
import { type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { freePort } from './ports.ts';
import { killAll, spawnAgent } from './procs.ts';
import { logTails, type PollOptions } from './wait.ts';

/** One agent process: where it listens (http is a base URL) and its output so far. */
export interface Proc { node: string; dc: string; ip: string; http: string; dns: number; wan: number; lan: number; child?: ChildProcess; log: string }

/** One HTTP answer: status, body text, the body as JSON (undefined when it is not JSON) and the headers. */
export interface ProcAnswer { status: number; text: string; json: any; headers: Headers }

/** A request to `p` (5 s timeout): a string body is sent as is, anything else as JSON. */
export async function call(p: { http: string }, method: string, urlPath: string, body?: unknown): Promise<ProcAnswer> {
  const r = await fetch(`${p.http}${urlPath}`, {
    method, body: body === undefined || typeof body === 'string' ? body : JSON.stringify(body), signal: AbortSignal.timeout(5000),
  });
  const text = await r.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: r.status, text, json, headers: r.headers };
}

/** GET `urlPath` from `p` as JSON; undefined on a failure or any status but 200. */
export async function get<T>(p: { http: string }, urlPath: string): Promise<T | undefined> {
  try {
    const r = await call(p, 'GET', urlPath);
    return r.status === 200 ? (JSON.parse(r.text) as T) : undefined;
  } catch {
    return undefined;
  }
}

/** The processes of one test file, in the order they were added. */
export class DcProcs {
  readonly dir: string;
  readonly procs: Proc[] = [];
  /**
   * Polling options whose timeout message shows the tail of every process's log. Errors are retried:
   * an agent's gossip can answer before its HTTP listener is up, so a poll may meet ECONNREFUSED.
   */
  readonly poll: PollOptions = { context: () => logTails(this.procs.map((p) => [p.node, p.log]), 3000), retryErrors: true };

  /** A temp dir named after `name`; registers the after hook that kills everything and removes it. */
  constructor(name: string) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `proconsul-${name}-`));
    after(() => {
      killAll(this.procs.map((p) => p.child));
      fs.rmSync(this.dir, { recursive: true, force: true });
    });
  }

  /**
   * Free ports (HTTP, DNS, serf LAN and WAN, server RPC) for `node` in `dc` on `ip` and its config
   * file with `config` merged in; `wan: false` (client agents) turns serf WAN off.
   */
  async add(node: string, dc: string, ip: string, config: Record<string, unknown> = {}, opts: { wan?: boolean } = {}): Promise<Proc> {
    const wanOn = opts.wan ?? true;
    const [http, dns, lan] = [await freePort(), await freePort(), await freePort()];
    const wan = wanOn ? await freePort() : 0;
    const server = await freePort();
    const p: Proc = { node, dc, ip, http: `http://${ip}:${http}`, dns, wan, lan, log: '' };
    this.procs.push(p);
    fs.writeFileSync(this.configFile(p), JSON.stringify({
      ports: { http, dns, grpc: -1, grpc_tls: -1, serf_lan: lan, serf_wan: wanOn ? wan : -1, server }, ...config,
    }));
    return p;
  }

  /** Starts `p` as its datacenter's only server (-server -bootstrap), with `extra` flags. */
  launchServer(p: Proc, extra: string[] = []): void {
    this.launch(p, ['-server', '-bootstrap', ...extra]);
  }

  /** Starts `p` as a client agent joining `server` over the LAN (retrying every second). */
  launchClient(p: Proc, server: Proc): void {
    this.launch(p, ['-retry-join', `${server.ip}:${server.lan}`, '-retry-interval', '1s']);
  }

  private launch(p: Proc, extra: string[]): void {
    p.child = spawnAgent({ node: p.node, datacenter: p.dc, ip: p.ip, dataDir: path.join(this.dir, p.node), configFile: this.configFile(p), extra },
      (text) => { p.log += text; });
  }

  private configFile(p: Proc): string {
    return path.join(this.dir, `${p.node}.json`);
  }
}
