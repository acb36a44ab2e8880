// GET /v1/operator/usage: service usage counts by datacenter with the query meta in the body
// (Consul's structs.Usage); `?global` adds every other known datacenter's counts, asked with the
// caller's token, skipping (and logging) any that cannot answer, as Consul's Operator.Usage does.
import type { Logger } from '../../log.ts';
import type { QueryOptions, QueryResult } from '../../endpoint/index.ts';
import type { ServiceUsage, UsageReply } from '../../api/operator-usage.ts';
import type { HttpResult } from '../router.ts';
import { flag, queryOptions, type HttpRequest, type RequestConfig } from '../request.ts';

/** Asking other datacenters (absent without a WAN pool). */
export interface UsageRemotes {
  /** Every known datacenter, this one included. */
  datacenters(): string[];
  /** Sends `req` to a server of `dc` and returns its answer. */
  ask(dc: string, req: HttpRequest): Promise<HttpResult>;
}

/** What the usage handler needs. */
export interface OperatorUsageDeps {
  usage(opts: QueryOptions): Promise<QueryResult<ServiceUsage>>;
  reqCfg: RequestConfig;
  remotes?: UsageRemotes;
  logger: Logger;
}

/** The usage handler. */
export function operatorUsageHandler(d: OperatorUsageDeps) {
  return async (req: HttpRequest): Promise<HttpResult> => {
    // Consul Enterprise's OperatorUsage parses a namespace and partition (no wildcard) and answers the
    // same usage: they are checked, not refused as Consul CE's 400.
    const opts = queryOptions(req, d.reqCfg, { tenancy: 'namespace-no-wildcard' });
    // The local read authorizes (operator:read) before any other datacenter is asked, as Consul's does.
    const { value, meta } = await d.usage(opts);
    const remote = flag(req, 'global') && d.remotes ? await remoteUsage(d, d.remotes, req) : {};
    const body: UsageReply = {
      Usage: { ...remote, [d.reqCfg.datacenter]: value },
      Index: meta.index, LastContact: meta.lastContact * 1e6, KnownLeader: meta.knownLeader, ConsistencyLevel: meta.consistency,
      NotModified: false, Backend: 0, ResultsFilteredByACLs: false,
    };
    return { body, meta };
  };
}

/** Each other datacenter's own counts, asked in parallel; a datacenter that fails is left out. */
async function remoteUsage(d: OperatorUsageDeps, remotes: UsageRemotes, req: HttpRequest): Promise<Record<string, ServiceUsage>> {
  const out: Record<string, ServiceUsage> = {};
  const dcs = remotes.datacenters().filter((dc) => dc !== d.reqCfg.datacenter).sort();
  await Promise.all(dcs.map(async (dc) => {
    try {
      const res = await remotes.ask(dc, remoteRequest(req, dc));
      if ((res.status ?? 200) !== 200 || res.raw === undefined) throw new Error(`status ${res.status}: ${String(res.raw ?? '')}`);
      const usage = (JSON.parse(String(res.raw)) as Partial<UsageReply>).Usage?.[dc];
      if (usage) out[dc] = usage;
    } catch (err) {
      d.logger.warn({ datacenter: dc, err }, 'error forwarding usage request to remote datacenter');
    }
  }));
  return out;
}

/** The caller's request for `dc`: its own counts only (no ?global, no blocking), with the same token. */
function remoteRequest(req: HttpRequest, dc: string): HttpRequest {
  const query = new URLSearchParams();
  query.set('dc', dc);
  const token = req.query.get('token');
  if (token) query.set('token', token);
  return {
    ...req, query, url: `/v1/operator/usage?${query.toString()}`,
    get signal() { return req.signal; },
    get aborts() { return req.aborts; },
    body: (limit, tooLarge) => req.body(limit, tooLarge),
  };
}
