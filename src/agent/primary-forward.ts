// Requests a secondary datacenter's server sends to the primary datacenter (Consul sets
// args.Datacenter = PrimaryDatacenter and forwards): global ACL writes, token reads without local
// tokens, the leader's replication reads and remote token resolution. One function for a request
// as the HTTP layer has it and one for a call the server makes itself, both over the WAN routes.
import { systemClock, type Clock } from '../clock.ts';
import { parseGoDuration } from '../duration.ts';
import { errNoPathToDatacenter, InternalError } from '../errors.ts';
import type { HttpRequest, HttpResult } from '../http/index.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import { forwardToDatacenter, type DcForwardingDeps } from './dc-forward.ts';
import type { ForwardResponse } from './forward.ts';

/** The primary datacenter of `config` (Consul: primary_datacenter, else the agent's own datacenter). */
export function primaryDatacenter(config: Pick<RuntimeConfig, 'primaryDatacenter' | 'datacenter'>): string {
  return config.primaryDatacenter || config.datacenter;
}

/** Whether this agent's datacenter is a secondary one (a primary other than itself is configured). */
export function isSecondary(config: Pick<RuntimeConfig, 'primaryDatacenter' | 'datacenter'>): boolean {
  return primaryDatacenter(config) !== config.datacenter;
}

/** What sending to the primary needs: the WAN forwarding deps and the primary's name. */
export interface PrimaryForwardDeps {
  dc: DcForwardingDeps;
  primary: string;
  /** Times callPrimary's calls (default: the system clock). */
  clock?: Clock;
}

/** Consul's rpc_client_timeout: how long a call waits for an answer past a blocking read's wait. */
export const RPC_CLIENT_TIMEOUT_MS = 60_000;
/** Consul's default wait of a blocking read that names none (default_query_time). */
const DEFAULT_QUERY_WAIT_MS = 300_000;

/**
 * How long a call to `pathAndQuery` may go unanswered (Consul's rpc_client_timeout, plus for a
 * blocking read, `?index=` above 0, its wait and the wait's 1/16 jitter).
 */
export function callTimeoutMs(pathAndQuery: string): number {
  const q = new URL(pathAndQuery, 'http://agent').searchParams;
  if (!(Number(q.get('index') ?? 0) > 0)) return RPC_CLIENT_TIMEOUT_MS;
  const wait = parseGoDuration(q.get('wait') ?? '') || DEFAULT_QUERY_WAIT_MS;
  return wait + wait / 16 + RPC_CLIENT_TIMEOUT_MS;
}

/**
 * Sends a request as the HTTP layer has it to the primary datacenter and returns its answer; `body`
 * is the request body when the caller already read it (a transport's body can be read once).
 */
export function forwardToPrimary(d: PrimaryForwardDeps, req: HttpRequest, body?: Buffer): Promise<HttpResult> {
  return forwardToDatacenter(d.dc, d.primary)(toPrimary(req, d.primary, body));
}

// The request names the primary as its datacenter: a `?dc=` naming this one would send it back here.
function toPrimary(req: HttpRequest, primary: string, body?: Buffer): HttpRequest {
  const query = new URLSearchParams(req.query);
  query.set('dc', primary);
  const u = new URL(req.url ?? '/', 'http://agent');
  u.searchParams.set('dc', primary);
  return {
    ...req, query, url: req.url === undefined ? undefined : u.pathname + u.search,
    get signal() { return req.signal; },
    get aborts() { return req.aborts; },
    body: body === undefined ? (limit, tooLarge) => req.body(limit, tooLarge) : async () => body,
  };
}

/**
 * A server's own call to the primary (`pathAndQuery` encoded), with `token`; 500 `No path to
 * datacenter` when no server of it is known. A call unanswered past `timeoutMs` (default
 * callTimeoutMs) is given up: a primary partitioned without closing its connections would
 * otherwise hold the caller (a replication loop, the CA's root watch) until it came back.
 */
export async function callPrimary(
  d: PrimaryForwardDeps, method: string, pathAndQuery: string, token: string,
  o: { body?: Buffer; signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<ForwardResponse> {
  const servers = d.dc.routes.rpcAddresses(d.primary);
  if (servers.length === 0) throw errNoPathToDatacenter();
  const headers: Record<string, string> = token ? { 'x-consul-token': token } : {};
  const ctl = new AbortController();
  if (o.signal?.aborted) ctl.abort(o.signal.reason);
  let timedOut = false;
  const timer = (d.clock ?? systemClock).setTimer(o.timeoutMs ?? callTimeoutMs(pathAndQuery), () => { timedOut = true; ctl.abort(); });
  const onAbort = (): void => ctl.abort(o.signal?.reason);
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await d.dc.forwarder.send({ servers: () => servers, datacenter: d.primary }, { method, url: pathAndQuery, headers, body: o.body, signal: ctl.signal });
  } catch (err) {
    if (timedOut) throw new InternalError('rpc error making call: i/o deadline reached');
    throw err;
  } finally {
    timer.cancel();
    o.signal?.removeEventListener('abort', onAbort);
  }
}

/** `req` with its body already read: a spread copy keeps the transport's signal and aborts accessors. */
export function withBody(req: HttpRequest, body: Buffer): HttpRequest {
  return {
    ...req,
    get signal() { return req.signal; },
    get aborts() { return req.aborts; },
    body: async () => body,
  };
}
