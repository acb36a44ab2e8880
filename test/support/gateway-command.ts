// What the gateway tests share: `connect envoy -gateway …` run in-process until its admin /ready
// answers, HTTP apps that echo their tag, path and headers, and a GET with a chosen Host.
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { connectEnvoyCommand, runConnectEnvoy } from '../../src/cli/connect-envoy.ts';
import { parseFlags } from '../../src/cli/flags.ts';
import { memoryIO } from '../../src/cli/io.ts';
import { until } from './wait.ts';

/** A GET answer, with the echo app's JSON when it answered. */
export interface Answer { status: number; body: string; headers: http.IncomingHttpHeaders; app?: { tag: string; url: string; headers: Record<string, string> } }

/** A running `connect envoy` command: its output, and stop() that ends it and asserts it exited 0. */
export interface GatewayCommand {
  io: ReturnType<typeof memoryIO>;
  stop(): Promise<void>;
}

/** Runs `connect envoy` with `args` against the agent at `httpAddr` until its admin endpoint on `adminPort` is LIVE. */
export async function startGatewayCommand(httpAddr: string, args: string[], adminPort: number, what: string): Promise<GatewayCommand> {
  const io = memoryIO({ env: { CONSUL_HTTP_ADDR: httpAddr } });
  let stop!: () => void;
  const run = runConnectEnvoy(parseFlags(connectEnvoyCommand.flags, [...args, '-admin-bind', `127.0.0.1:${adminPort}`]), io, new Promise<void>((r) => { stop = r; }));
  void run.then((code) => { if (code !== 0) throw new Error(`gateway exited ${code}: ${io.out}${io.err}`); });
  await until(`the ${what} to be LIVE`, 30_000, async () => (await fetch(`http://127.0.0.1:${adminPort}/ready`)).status === 200,
    { retryErrors: true, context: () => io.out + io.err });
  return { io, stop: async () => { stop(); assert.equal(await run, 0, io.err); } };
}

/** An HTTP app on 127.0.0.1 answering with its tag, the path it was asked for and the request headers (added to `servers`). */
export function echoApp(tag: string, servers: http.Server[]): Promise<number> {
  const s = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ tag, url: req.url, headers: req.headers }));
  });
  servers.push(s);
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as net.AddressInfo).port)));
}

/** A GET with `host` as the Host header on a new connection to 127.0.0.1:`port`. */
export function getWithHost(port: number, host: string, path = '/', headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, headers: { host, ...headers }, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        let parsed: Answer['app'];
        try { parsed = JSON.parse(body) as Answer['app']; } catch { parsed = undefined; }
        resolve({ status: res.statusCode ?? 0, body, headers: res.headers, app: parsed });
      });
    }).on('error', reject);
  });
}
