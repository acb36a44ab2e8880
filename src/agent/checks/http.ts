// HTTP checks (Consul's CheckHTTP): one request per run without keep-alive, redirects followed
// unless disabled; 2xx passing, 429 warning, else critical, with Consul's output line.
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../../clock.ts';
import { goDialError, type NodeError } from './go-errors.ts';
import { createTailBuffer } from './output.ts';
import type { ProbeResult } from './script.ts';
import type { CheckType } from './types.ts';
import { nodeHttp, nodeHttps } from '../../node-http.ts';

/** Consul's default timeout for HTTP, TCP, UDP, gRPC and H2PING checks. */
export const DEFAULT_NET_TIMEOUT_MS = 10_000;

/** Consul's checks.UserAgent. */
export const USER_AGENT = 'Consul Health Check';

const MAX_REDIRECTS = 10;

/** What an HTTP probe needs. */
export interface HttpProbeDeps {
  clock: Clock;
  maxOutput: number;
  /** Extra CA certificates (PEM) trusted for TLS checks. */
  ca?: string;
  /** enable_agent_tls_for_checks: the agent's CAs, key pair and default server name. */
  agentTls?: import('node:tls').ConnectionOptions;
}

interface Attempt {
  url: string;
  method: string;
  body: string;
}

/** Go's url.Error operation name: `Get`, `Post`, … */
function goOp(method: string): string {
  return method.charAt(0).toUpperCase() + method.slice(1).toLowerCase();
}

function requestHeaders(def: CheckType): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(def.Header ?? {})) {
    // Like Go's req.Host: the first Host value names the virtual host; the others are dropped.
    if (k.toLowerCase() === 'host') { if (v[0]) headers.Host = v[0]; } else headers[k] = v;
  }
  const has = (name: string): boolean => Object.keys(headers).some((k) => k.toLowerCase() === name && headers[k].length > 0);
  if (!has('user-agent')) headers['User-Agent'] = USER_AGENT;
  if (!has('accept')) headers.Accept = 'text/plain, text/*, */*';
  return headers;
}

function dialAddr(u: URL): string {
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  return `${u.hostname}:${port}`;
}

function send(a: Attempt, def: CheckType, deps: HttpProbeDeps, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const u = new URL(a.url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      reject(new Error(`unsupported protocol scheme "${u.protocol.slice(0, -1)}"`));
      return;
    }
    const mod = u.protocol === 'https:' ? nodeHttps : nodeHttp;
    const req = mod.request(u, {
      method: a.method, headers: requestHeaders(def), agent: false, signal,
      ...(deps.agentTls ?? { ca: deps.ca }),
      rejectUnauthorized: !def.TLSSkipVerify, servername: def.TLSServerName || deps.agentTls?.servername || undefined,
    });
    req.on('response', resolve);
    req.on('error', (err: NodeError) => reject(new Error(goDialError(err, 'tcp', dialAddr(u)), { cause: err })));
    req.end(a.body.length > 0 ? a.body : undefined);
  });
}

/** The next request after a redirect, per Go's http.Client rules; undefined when not a redirect. */
function redirectAttempt(a: Attempt, res: IncomingMessage): Attempt | undefined {
  const code = res.statusCode ?? 0;
  const loc = res.headers.location;
  if (![301, 302, 303, 307, 308].includes(code) || !loc) return undefined;
  const url = new URL(loc, a.url).href;
  if (code === 307 || code === 308) return { ...a, url };
  return { url, method: a.method === 'HEAD' ? 'HEAD' : 'GET', body: '' };
}

async function follow(first: Attempt, def: CheckType, deps: HttpProbeDeps, signal: AbortSignal): Promise<IncomingMessage> {
  let a = first;
  for (let hops = 0; ; hops++) {
    let res: IncomingMessage;
    try {
      res = await send(a, def, deps, signal);
    } catch (err) {
      throw new Error(`${goOp(first.method)} "${a.url}": ${(err as Error).message}`, { cause: err });
    }
    const next = def.DisableRedirects ? undefined : redirectAttempt(a, res);
    if (!next) return res;
    res.resume();
    if (hops + 1 >= MAX_REDIRECTS) throw new Error(`${goOp(first.method)} "${next.url}": stopped after ${MAX_REDIRECTS} redirects`);
    a = next;
  }
}

function readBody(res: IncomingMessage, max: number): Promise<string> {
  const buf = createTailBuffer(max);
  return new Promise((resolve) => {
    const done = (): void => resolve(buf.bytes().toString('utf8'));
    res.on('data', (b: Buffer) => buf.write(b));
    res.on('end', done);
    res.on('error', done);
    res.on('close', done);
  });
}

function classify(method: string, target: string, res: IncomingMessage, body: string): ProbeResult {
  const code = res.statusCode ?? 0;
  const status = `${code} ${res.statusMessage ?? ''}`.trimEnd();
  const output = `HTTP ${method} ${target}: ${status} Output: ${body}`;
  if (code >= 200 && code <= 299) return { status: 'passing', output };
  if (code === 429) return { status: 'warning', output };
  return { status: 'critical', output };
}

/** Builds the probe for an HTTP check. */
export function httpProbe(def: CheckType, deps: HttpProbeDeps): (signal: AbortSignal) => Promise<ProbeResult> {
  const method = def.Method || 'GET';
  const target = def.HTTP ?? '';
  const timeoutMs = (def.Timeout ?? 0) > 0 ? def.Timeout! : DEFAULT_NET_TIMEOUT_MS;
  return async (signal) => {
    if (!URL.canParse(target)) return { status: 'critical', output: `parse "${target}": invalid URI for request` };
    const ctl = new AbortController();
    const onStop = (): void => ctl.abort();
    signal.addEventListener('abort', onStop, { once: true });
    let timedOut = false;
    const timer = deps.clock.setTimer(timeoutMs, () => { timedOut = true; ctl.abort(); });
    try {
      const res = await follow({ url: target, method, body: def.Body ?? '' }, def, deps, ctl.signal);
      // A timeout while reading the body keeps what arrived, as Consul only logs that error.
      const body = await readBody(res, deps.maxOutput);
      return classify(method, target, res, body);
    } catch (err) {
      if (timedOut) {
        return { status: 'critical', output: `${goOp(method)} "${target}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` };
      }
      return { status: 'critical', output: (err as Error).message };
    } finally {
      timer.cancel();
      signal.removeEventListener('abort', onStop);
    }
  };
}
