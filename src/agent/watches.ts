// The agent's `watches`: each one a watch plan (cli/watch-plan.ts) run against this agent's own
// HTTP API, with a script handler (`args` run directly, or the legacy `handler` line through the
// shell) or an HTTP handler (`handler_type = "http"` with `http_handler_config`), as Consul's
// agent runs them (reloadWatches, makeWatchPlan, makeWatchHandler, makeHTTPWatchHandler). A
// reload stops every plan and starts the new configuration's.

import { nodeHttp, nodeHttps } from '../node-http.ts';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { ConsulClient } from '../api/index.ts';
import { formatGoDuration, goDurationError } from '../duration.ts';
import type { Logger } from '../log.ts';
import { goJson, runHandler } from '../cli/watch-handler.ts';
import { parseWatch, runPlan, type WatchParams, type WatchPlan } from '../cli/watch-plan.ts';
import type { RuntimeConfig } from './config/runtime.ts';

/** Consul keeps the last 4 KiB of a handler's output (WatchBufSize). */
const OUTPUT_MAX = 4 * 1024;

/** api/watch's default HTTP handler timeout. */
const DEFAULT_HTTP_TIMEOUT_MS = 10_000;

/** http_handler_config, decoded as api/watch's parseHttpHandlerConfig does. */
export interface HttpHandlerConfig {
  path: string;
  method: string;
  header: Record<string, string[]>;
  timeoutMs: number;
  tlsSkipVerify: boolean;
}

/** What a configured watch runs on a change. */
export type WatchHandlerSpec =
  | { kind: 'script'; args: string[]; shell: boolean }
  | { kind: 'http'; config: HttpHandlerConfig };

/** A watch checked and ready to run. */
export interface AgentWatch {
  plan: WatchPlan;
  handler: WatchHandlerSpec;
  token: string;
  datacenter: string;
}

/** HCL blocks decode to one-element lists of maps; Consul's PatchSliceOfMaps flattens them. */
function unwrap(v: unknown): unknown {
  return Array.isArray(v) && v.length === 1 && typeof v[0] === 'object' && v[0] !== null ? v[0] : v;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Consul's durations: a Go duration string ("5s", "1m30s", "250ms"). */
function parseDurationMs(s: string): number | null {
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * unit[m[2]];
    end = re.lastIndex;
  }
  return end === s.length && end > 0 ? total : null;
}

function httpHandlerConfig(raw: unknown): HttpHandlerConfig {
  const c = unwrap(raw);
  if (!isMap(c)) throw new Error("Failed to parse 'http_handler_config': expected a map");
  const path = typeof c.path === 'string' ? c.path : '';
  if (!path) throw new Error("Failed to parse 'http_handler_config': Requires 'path' to be set");
  const header: Record<string, string[]> = {};
  const h = unwrap(c.header);
  if (isMap(h)) for (const [k, v] of Object.entries(h)) header[k] = (Array.isArray(v) ? v : [v]).map(String);
  let timeoutMs = DEFAULT_HTTP_TIMEOUT_MS;
  if (typeof c.timeout === 'string' && c.timeout !== '') {
    const t = parseDurationMs(c.timeout);
    if (t === null) throw new Error(`Failed to parse 'http_handler_config': Failed to parse timeout: ${goDurationError(c.timeout)}`);
    timeoutMs = t;
  }
  return {
    path, method: typeof c.method === 'string' && c.method ? c.method : 'POST', header, timeoutMs,
    tlsSkipVerify: c.tls_skip_verify === true,
  };
}

/** Checks one configured watch as Consul's reloadWatches and makeWatchPlan do; throws with Consul's messages. */
export function parseAgentWatch(raw: Record<string, unknown>, client: (token: string, datacenter: string) => ConsulClient, logger?: Logger): AgentWatch {
  const params: Record<string, unknown> = { ...raw };
  const handlerType = params.handler_type ?? 'script';
  delete params.handler_type;
  if (handlerType !== 'http' && handlerType !== 'script') throw new Error(`Handler type '${String(handlerType)}' not recognized`);
  const type = params.type;
  if (typeof type === 'string' && type.startsWith('connect_')) throw new Error(`Watch type ${type} is not allowed in agent config`);
  if (type === 'agent_service') throw new Error('Watch type agent_service is not implemented by Proconsul');
  const hasHandler = 'handler' in params;
  const hasArgs = 'args' in params;
  const { handler, args, http_handler_config: httpConfig } = params;
  delete params.handler;
  delete params.args;
  delete params.http_handler_config;
  const failed = (err: Error) => new Error(`Failed to parse watch (${JSON.stringify(raw)}): ${err.message}`);
  let http: HttpHandlerConfig | undefined;
  if (handlerType === 'http') {
    if (httpConfig === undefined) throw failed(new Error("Handler type 'http' requires 'http_handler_config' to be set"));
    try {
      http = httpHandlerConfig(httpConfig);
    } catch (err) {
      throw failed(err as Error);
    }
  } else if (httpConfig !== undefined) params.http_handler_config = httpConfig;
  const token = typeof params.token === 'string' ? params.token : '';
  const datacenter = typeof params.datacenter === 'string' ? params.datacenter : '';
  let plan: WatchPlan;
  try {
    plan = parseWatch(params as WatchParams, client(token, datacenter));
  } catch (err) {
    throw failed(err as Error);
  }
  if (hasHandler) {
    logger?.warn({}, "The 'handler' field in watches has been deprecated and replaced with the 'args' field. See https://www.consul.io/docs/agent/watches.html");
    if (typeof handler !== 'string') throw new Error('Watch handler must be a string');
  }
  let argv: string[] = [];
  if (hasArgs) {
    if (!Array.isArray(args) || args.some((a) => typeof a !== 'string')) throw new Error('Watch args must be a list of strings');
    argv = args as string[];
  }
  if ((hasHandler && hasArgs) || ((hasHandler || hasArgs) && handlerType === 'http')) throw new Error('Only one watch handler allowed');
  if (!hasHandler && !hasArgs && handlerType !== 'http') throw new Error('Must define a watch handler');
  const spec: WatchHandlerSpec = http ? { kind: 'http', config: http }
    : hasHandler ? { kind: 'script', args: [handler as string], shell: true } : { kind: 'script', args: argv, shell: false };
  return { plan, handler: spec, token, datacenter };
}

/**
 * The last 4 KiB of a handler's output, with Consul's truncation note (its circbuf): older chunks
 * are let go as newer ones arrive, so a handler printing without end holds no more than that.
 */
export class TailBuffer {
  #chunks: Buffer[] = [];
  #kept = 0;
  #total = 0;
  write(s: string | Buffer): void {
    const b = typeof s === 'string' ? Buffer.from(s) : s;
    this.#total += b.length;
    this.#chunks.push(b);
    this.#kept += b.length;
    while (this.#kept - this.#chunks[0].length >= OUTPUT_MAX) this.#kept -= this.#chunks.shift()!.length;
  }
  /** Bytes held (at most 4 KiB plus the oldest chunk still partly needed). */
  get kept(): number {
    return this.#kept;
  }
  toString(): string {
    const all = Buffer.concat(this.#chunks);
    if (this.#total <= OUTPUT_MAX) return all.toString('utf8');
    return `Captured ${OUTPUT_MAX} of ${this.#total} bytes\n...\n${all.subarray(all.length - OUTPUT_MAX).toString('utf8')}`;
  }
}

/**
 * The script handlers running now. Stopping the watches lets them run to their end, as Consul's
 * plan.Stop does, but no longer holds the agent's process open for them: a handler that runs for
 * an hour must not keep a stopped agent from exiting.
 */
export class HandlerProcesses {
  readonly #running = new Set<ChildProcessWithoutNullStreams>();
  /** Tracks `child` until it closes. */
  add(child: ChildProcessWithoutNullStreams): void {
    this.#running.add(child);
    child.once('close', () => this.#running.delete(child));
    child.once('error', () => this.#running.delete(child));
  }
  get size(): number {
    return this.#running.size;
  }
  /** Lets every running handler go: the process and its pipes no longer keep the event loop alive. */
  release(): void {
    for (const c of this.#running) {
      c.unref();
      for (const s of [c.stdin, c.stdout, c.stderr]) (s as unknown as { unref?: () => void }).unref?.();
    }
    this.#running.clear();
  }
}

/** Runs a script handler once, logging its output at debug and a failure at error. */
export async function runScript(
  spec: { args: string[]; shell: boolean }, index: bigint, result: unknown, log: Logger, env: NodeJS.ProcessEnv, procs?: HandlerProcesses,
): Promise<void> {
  const out = new TailBuffer();
  const io = { stdout: (s: string) => out.write(s), stderr: (s: string) => out.write(s), stdin: process.stdin, env };
  const error = await runHandler(spec, index, result, io, procs ? (c) => procs.add(c) : undefined);
  const handler = spec.shell ? spec.args[0] : `[${spec.args.join(' ')}]`;
  if (error) log.error({ handler, error: error.replace(/^Error (executing|starting) handler: /, '') }, 'Failed to run watch handler');
  log.debug({ handler, output: out.toString() }, 'watch handler output');
}

/** Sends the result to an HTTP handler once, as makeHTTPWatchHandler does. */
export function runHttpHandler(c: HttpHandlerConfig, index: bigint, result: unknown, log: Logger): Promise<void> {
  return new Promise((resolve) => {
    let url: URL;
    try {
      url = new URL(c.path);
    } catch (err) {
      log.error({ error: (err as Error).message }, 'Failed to setup http watch');
      resolve();
      return;
    }
    const headers: Record<string, string | string[]> = { 'Content-Type': 'application/json', 'X-Consul-Index': index.toString() };
    for (const [k, v] of Object.entries(c.header)) {
      const have = headers[k];
      headers[k] = have === undefined ? v : [...(Array.isArray(have) ? have : [have]), ...v];
    }
    const body = `${goJson(result, '')}\n`;
    const mod = url.protocol === 'https:' ? nodeHttps : nodeHttp;
    // Go's http.Client: a zero timeout is none.
    const signal = c.timeoutMs > 0 ? AbortSignal.timeout(c.timeoutMs) : undefined;
    const req = mod.request(url, { method: c.method, headers, ...(signal ? { signal } : {}), ...(url.protocol === 'https:' ? { rejectUnauthorized: !c.tlsSkipVerify } : {}) }, (res) => {
      const out = new TailBuffer();
      res.on('data', (b: Buffer) => out.write(b));
      res.on('error', () => resolve());
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status <= 299) log.trace({ handler: c.path, output: out.toString() }, 'http watch handler output');
        else log.error({ handler: c.path, status: `${status} ${res.statusMessage ?? ''}`.trim(), output: out.toString() }, 'http watch handler returned a non-2XX status');
        resolve();
      });
    });
    req.on('error', (err) => {
      log.error({ handler: c.path, error: err.message }, 'Failed to invoke http watch handler');
      resolve();
    });
    req.end(body);
  });
}

/** The address watches reach this agent on: its first HTTP listener (a wildcard bind as loopback), else HTTPS. */
export function watchAddress(config: RuntimeConfig, bound: string[]): string | null {
  // HTTP listeners open first, so the first bound address is HTTPS only when there is no HTTP one.
  const a = bound[0];
  if (a === undefined) return null;
  if (a.startsWith('/')) return `unix://${a}`;
  const local = a.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[::\]:/, '[::1]:');
  return `${config.httpAddrs.length > 0 ? 'http' : 'https'}://${local}`;
}

/** Dependencies of the agent's watches. */
export interface WatchDeps {
  logger: Logger;
  /** The agent's bound HTTP(S) addresses (http.addresses()), read when the plans start. */
  addresses: () => string[];
  /** The handlers' environment (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** The running watch plans of an agent. */
export class AgentWatches {
  readonly #deps: WatchDeps;
  readonly #log: Logger;
  #stop = new AbortController();
  #clients: ConsulClient[] = [];
  #procs = new HandlerProcesses();

  constructor(deps: WatchDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ '@module': 'agent.watch' });
  }

  /** Stops the current plans and starts the configuration's; throws (leaving none running) on an invalid watch. */
  reload(config: RuntimeConfig): void {
    this.stop();
    const raw = config.raw.watches;
    if (!Array.isArray(raw) || raw.length === 0) return;
    // Watches use the API to talk to this agent, so that must be enabled.
    if (config.httpAddrs.length === 0 && (config.httpsAddrs ?? []).length === 0) throw new Error('watch plans require an HTTP or HTTPS endpoint');
    const address = watchAddress(config, this.#deps.addresses());
    const https = address?.startsWith('https://') ?? false;
    const clients: ConsulClient[] = [];
    const client = (token: string, datacenter: string): ConsulClient => {
      const c = new ConsulClient({
        address: address ?? undefined, token, ...(datacenter ? { datacenter } : {}), env: {},
        ...(https ? { tls: { insecureSkipVerify: true } } : {}),
      });
      clients.push(c);
      return c;
    };
    let watches: AgentWatch[];
    try {
      watches = raw.map((w) => parseAgentWatch(isMap(w) ? w : {}, client, this.#log));
    } catch (err) {
      for (const c of clients) c.close();
      throw err;
    }
    this.#clients = clients;
    const signal = this.#stop.signal;
    const env = this.#deps.env ?? process.env;
    const procs = this.#procs;
    for (const w of watches) {
      const handler = async (index: bigint, result: unknown): Promise<boolean> => {
        if (w.handler.kind === 'http') await runHttpHandler(w.handler.config, index, result, this.#log);
        else await runScript(w.handler, index, result, this.#log, env, procs);
        return true;
      };
      void runPlan(w.plan, handler, {
        signal,
        onError: (type, err, retryMs) => this.#log.error({ type, error: err.message, retry: formatGoDuration(retryMs) }, 'Watch errored'),
      }).catch((err: Error) => this.#log.error({ error: err.message }, 'Failed to run watch'));
    }
  }

  /** Stops every plan. */
  stop(): void {
    this.#stop.abort();
    this.#stop = new AbortController();
    for (const c of this.#clients) c.close();
    this.#clients = [];
    this.#procs.release();
    this.#procs = new HandlerProcesses();
  }
}
