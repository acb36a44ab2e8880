// The L7 side of an upstream listener whose discovery chain speaks http (http2 and grpc: see
// l7-h2.ts): each HTTP/1.1 request
// is routed by the chain (route, split, resolver target, failover), changed as the route and
// split say, and sent over mTLS to an instance of the chosen target, with Envoy's timeout,
// retry and error-reply behaviour. Connections the listener hands over are served here.
import type * as http from 'node:http';
import type * as http2 from 'node:http2';
import type net from 'node:net';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { nodeHttp, nodeHttp2 } from '../../node-http.ts';
import type { Logger } from '../../log.ts';
import type { ChainWatch } from './l7-chain.ts';
import { RequestBody } from './l7-body.ts';
import { acceptH1OrH2c, handleH2 } from './l7-h2.ts';
import { proxyUpgrade } from './l7-upgrade.ts';
import { attempt, endToEnd, replayableOnStale, resetReplyText } from './l7-forward.ts';
import { applyHeaderOps, requestPath, retriesOnFailure, retriesOnStatus, retryBackoffMs, routeRequest, type L7Request, type RouteDecision } from './l7-route.ts';
import { chooseInstance, hold, type BalanceState } from './l7-balance.ts';
import type { ConnectService } from './service.ts';
import { XFCC } from './l7-xfcc.ts';

/** Envoy's route timeout when neither the route nor the resolver sets one. */
const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

/** What the L7 upstream needs. */
export interface L7Deps {
  svc: Pick<ConnectService, 'clientContext' | 'ready' | 'caRoots' | 'leafCert' | 'dial'>;
  chain: ChainWatch;
  /** Picks split legs and instances; injected so tests can fix it. */
  random: () => number;
  connectTimeoutMs: number;
  log: Logger;
  /** Changes each routed request's decision (an API gateway route's retries and timeout over the service chain's). */
  adjust?: (decision: RouteDecision) => void;
}

/** How the upstream listener hands connections to the L7 path. */
export interface L7Handoff {
  /** Resolves once the chain has been read (or could not be). */
  ready(): Promise<void>;
  /** True once ready() has resolved. */
  settled(): boolean;
  /** True while the chain's protocol is one the L7 path speaks. */
  active(): boolean;
  /** Serves HTTP on a (paused) accepted connection. */
  accept(socket: net.Socket): void;
  close(): void;
}

/** Builds the L7 path of one upstream over its chain watch (which it starts and closes). */
export function l7Upstream(d: L7Deps): L7Handoff {
  // No limit on a whole request (Node's default is 5 minutes): Envoy's listeners Consul configures
  // have none, so long uploads and streaming requests pass.
  const server = nodeHttp.createServer({ keepAliveTimeout: 60_000, requestTimeout: 0 }, (req, res) => {
    // An HTTP/1.1 client of an http2 or grpc chain is answered over h2 to the instance, as Envoy's listeners do.
    (d.chain.isH2 ? handleH2(d, req, res) : handle(d, req, res)).catch((err: Error) => {
      d.log.error({ error: err.message }, 'request failed');
      if (!res.headersSent) reply(res, 503, 'upstream connect error or disconnect/reset before headers. reset reason: connection failure');
      else res.destroy();
    });
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, early: Buffer) => {
    proxyUpgrade(d, req, socket, early).catch((err: Error) => {
      d.log.error({ error: err.message }, 'upgrade failed');
      socket.destroy();
    });
  });
  const h2 = nodeHttp2().createServer((req, res) => {
    handleH2(d, req, res).catch((err: Error) => {
      d.log.error({ error: err.message }, 'request failed');
      res.stream.close(nodeHttp2().constants.NGHTTP2_INTERNAL_ERROR);
    });
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on('session', (s) => { sessions.add(s); s.once('close', () => sessions.delete(s)); });
  // A chain that changes how it is spoken drains the connections of the other way: idle HTTP/1.1
  // ones close now, busy ones after their answer; h2 sessions get a GOAWAY.
  d.chain.onChange = () => {
    if (!d.chain.isL7) server.closeIdleConnections();
    if (!d.chain.isH2) for (const s of sessions) s.close();
  };
  d.chain.start();
  return {
    ready: () => d.chain.ready(),
    settled: () => d.chain.settled,
    active: () => d.chain.isL7,
    accept(socket) {
      // node:http sets noDelay on the connections its own listener accepts, not on handed-over ones.
      socket.setNoDelay(true);
      if (!d.chain.isH2) {
        server.emit('connection', socket);
        return void socket.resume();
      }
      // An http2 chain takes h2c or HTTP/1.1, as Envoy's AUTO codec does.
      acceptH1OrH2c(socket, server, h2);
    },
    close() {
      d.chain.close();
      server.close();
      for (const s of sessions) s.destroy();
      h2.close();
    },
  };
}

function reply(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** `p`, or undefined once `ms` pass. */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), ms); });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

export async function handle(d: L7Deps, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const { path, search } = requestPath(req.url ?? '/');
  const chain = d.chain.chain;
  if (!d.chain.isL7) {
    res.shouldKeepAlive = false;
    return reply(res, 503, 'no healthy upstream');
  }
  const l7req: L7Request = { method: req.method ?? 'GET', path, query: new URLSearchParams(search), headers: req.headers, sourceIp: req.socket.remoteAddress };
  const decision = chain && routeRequest(chain, l7req, d.random);
  if (!decision) return reply(res, 503, 'no healthy upstream');
  d.adjust?.(decision);
  const body = new RequestBody(req);
  // What is held for retries is let go once the answer is done (or being relayed, below).
  res.once('close', () => body.release());
  const headers = endToEnd(req.headers);
  // Consul's outbound listeners keep Envoy's SANITIZE: the caller's x-forwarded-client-cert is not passed on.
  delete headers[XFCC];
  applyHeaderOps(headers, decision.requestHeaders);
  if (!d.svc.leafCert || !d.svc.caRoots) await within(d.svc.ready(), d.connectTimeoutMs);
  if (!d.svc.leafCert || !d.svc.caRoots) return reply(res, 503, 'no healthy upstream');
  const choose = (keys: string[], state: BalanceState) => chooseInstance(keys, decision.loadBalancer, l7req, state, d.random);
  await send(d, req, res, decision, { path: decision.path + search, headers, choose }, body);
}

/** Sends the request, retrying as the route allows, and relays the answer (or Envoy's error reply). */
async function send(
  d: L7Deps, req: http.IncomingMessage, res: http.ServerResponse, decision: RouteDecision,
  out: { path: string; headers: Record<string, string | string[] | undefined>; choose: (keys: string[], state: BalanceState) => number },
  body: RequestBody,
): Promise<void> {
  // The route timeout covers every attempt, from the end of the request body; a negative
  // RequestTimeout turns it off (Consul gives Envoy 0).
  const t = decision.requestTimeoutMs;
  const deadline = body.ended.then(() => (t < 0 ? Infinity : Date.now() + (t || DEFAULT_REQUEST_TIMEOUT_MS)));
  // A client that goes away before its answer is complete takes the upstream request with it.
  const gone = new AbortController();
  res.once('close', () => { if (!res.writableFinished) gone.abort(); });
  let payload: Readable | Buffer | undefined;
  let retries = 0;
  for (let staleRetries = 0; ;) {
    const picked = await d.chain.pick(decision.targets, d.random, d.connectTimeoutMs, out.choose);
    if (!picked) return reply(res, 503, 'no healthy upstream');
    // In flight (for least_request) until the client's answer is done, or this attempt is given up.
    const release = hold(picked.instances.balance, picked.key);
    payload ??= body.first();
    const secureContext = d.svc.clientContext();
    const a = await attempt({
      agent: picked.instances.pool(secureContext), to: picked.to, secureContext, method: req.method ?? 'GET',
      path: out.path, headers: out.headers, body: payload, deadline, signal: gone.signal,
      connectTimeoutMs: picked.instances.connectTimeoutMs, servername: picked.instances.target.SNI,
    });
    if (a.kind !== 'response' || gone.signal.aborted) release();
    else res.once('close', release);
    if (gone.signal.aborted) return void (a.kind === 'response' && a.res.destroy());
    if (a.kind === 'timeout') return reply(res, 504, 'upstream request timeout');
    if (a.kind === 'response') {
      const again = retries < decision.retry.numRetries && retriesOnStatus(a.res.statusCode ?? 0, decision.retry);
      const replay = again ? await body.replay() : null;
      if (replay === null) {
        body.release();
        return relay(a.res, res, decision, deadline);
      }
      a.res.resume();
      release();
      retries++;
      payload = replay;
      await sleep(retryBackoffMs(retries, d.random));
      continue;
    }
    // A pooled connection the instance had already closed is not a failure of the request.
    const stale = a.stale && replayableOnStale(req.method ?? 'GET', req.headers) && staleRetries++ < 3;
    const again = stale || (retries < decision.retry.numRetries && retriesOnFailure(a.connected, decision.retry));
    d.log.debug({ error: a.error.message, host: picked.to.host, port: picked.to.port }, 'upstream attempt failed');
    const replay = again ? await body.replay() : null;
    if (replay === null) {
      return reply(res, 503, resetReplyText(a.connected, retries > 0));
    }
    payload = replay;
    if (!stale) await sleep(retryBackoffMs(++retries, d.random));
  }
}

/** Relays the response, changed as the route and split say; past the deadline the stream is reset, as Envoy's route timeout does. */
function relay(from: http.IncomingMessage, to: http.ServerResponse, decision: RouteDecision, deadline: Promise<number>): void {
  const headers = endToEnd(from.headers);
  applyHeaderOps(headers, decision.responseHeaders);
  try {
    to.writeHead(from.statusCode ?? 502, from.statusMessage, headers);
  } catch (err) {
    // A header value Node refuses (a route's response header change with a line break): the
    // upstream answer is dropped, not left holding its pooled connection, and the client gets a 503.
    from.destroy();
    throw err;
  }
  from.pipe(to);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let over = false;
  const finish = () => { over = true; clearTimeout(timer); };
  void deadline.then((at) => {
    if (over || !Number.isFinite(at)) return;
    timer = setTimeout(() => { from.destroy(); to.destroy(); }, Math.max(0, at - Date.now()));
  });
  from.on('end', finish);
  from.on('error', () => { finish(); to.destroy(); });
  to.on('close', () => { finish(); if (!from.complete) from.destroy(); });
}
