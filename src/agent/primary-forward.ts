// Requests a secondary datacenter's server sends to the primary datacenter (Consul sets
// args.Datacenter = PrimaryDatacenter and forwards): global ACL writes, token reads without local
// tokens, the leader's replication reads and remote token resolution. One function for a request
// as the HTTP layer has it and one for a call the server makes itself, both over the WAN routes.
import { errNoPathToDatacenter } from '../errors.ts';
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

/** A server's own call to the primary (`pathAndQuery` encoded), with `token`; 500 `No path to datacenter` when no server of it is known. */
export async function callPrimary(
  d: PrimaryForwardDeps, method: string, pathAndQuery: string, token: string, o: { body?: Buffer; signal?: AbortSignal } = {},
): Promise<ForwardResponse> {
  const servers = d.dc.routes.rpcAddresses(d.primary);
  if (servers.length === 0) throw errNoPathToDatacenter();
  const headers: Record<string, string> = token ? { 'x-consul-token': token } : {};
  return d.dc.forwarder.send({ servers: () => servers, datacenter: d.primary }, { method, url: pathAndQuery, headers, body: o.body, signal: o.signal });
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
