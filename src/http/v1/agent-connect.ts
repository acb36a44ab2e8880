// GET /v1/agent/connect/ca/leaf/<service>: the agent's certificate for a service (Consul's
// AgentConnectCALeafCert), kept and renewed by the agent; `?index=` blocks until the next one.
import type { ServiceLeaf } from '../../endpoint/connect-ca-sign.ts';
import type { HttpResult } from '../router.ts';
import { queryOptions, type HttpRequest, type RequestConfig } from '../request.ts';
import { PermissionDeniedError } from '../../errors.ts';
import { foldTenancyName, isDefaultEnt, type EnterpriseMeta } from '../../state/index.ts';
import { resolveEnt } from '../../endpoint/index.ts';
import { entInput } from '../tenancy.ts';

/** Where the agent's leaf certificates come from (agent/leaf-certs.ts). */
export interface LeafSource {
  get(service: string, token: string, opts: { minIndex: number; waitMs: number; signal?: AbortSignal; dnsSans?: string[]; ent?: EnterpriseMeta }): Promise<{ value: ServiceLeaf; index: number; hit: boolean; ageMs: number }>;
}

/** Consul's default and longest blocking wait. */
const DEFAULT_WAIT_MS = 300_000;
const MAX_WAIT_MS = 600_000;

/** Handlers for the agent's Connect leaf route. */
/** Checks the `dns-san` names asked for (agent/ingress-leaf-sans.ts); throws when one is not allowed. */
export type DnsSanCheck = (service: string, token: string, sans: readonly string[], ent?: EnterpriseMeta) => Promise<void>;

export function agentConnectHandlers(leaves: LeafSource, cfg: RequestConfig & { maxQueryTime?: number; defaultQueryTime?: number }, checkSans?: DnsSanCheck) {
  return {
    async leaf(req: HttpRequest): Promise<HttpResult> {
      const service = req.params.rest;
      // Consul Enterprise's parseEntMetaNoWildcard: `?ns`/`?partition` (or their headers) name the
      // service's tenant, else the agent's partition; not the token's scope (the leaf request's
      // EnterpriseMeta is the request's alone: an unnamed namespace is `default`).
      const opts = queryOptions(req, cfg, { tenancy: false });
      const input = entInput(req, 'namespace-no-wildcard');
      const max = cfg.maxQueryTime ?? MAX_WAIT_MS;
      const waitMs = Math.min(opts.waitMs || (cfg.defaultQueryTime ?? DEFAULT_WAIT_MS), max);
      // Proconsul's `dns-san` (repeatable): extra DNS SANs, which Consul's agent adds only for its
      // own ingress gateways' TLS (the built-in data plane's gateway asks for them here). Only the
      // names the gateway's ingress-gateway entry allows are signed, never what a caller makes up.
      const dnsSans = req.query.getAll('dns-san').filter((d) => d !== '');
      const named = input.explicit || cfg.partition ? resolveEnt({ request: input, agentPartition: cfg.partition }) : undefined;
      const ent = !named || isDefaultEnt(named) ? undefined : { namespace: foldTenancyName(named.namespace), partition: foldTenancyName(named.partition) };
      if (dnsSans.length) {
        if (!checkSans) throw new PermissionDeniedError('Permission denied: dns-san is not allowed on this agent');
        // The gateway and entry of the leaf's own namespace and partition.
        await checkSans(service, opts.token, dnsSans, ent);
      }
      const { value, index, hit, ageMs } = await leaves.get(service, opts.token, { minIndex: opts.minIndex, waitMs, signal: req.signal, ...(dnsSans.length ? { dnsSans } : {}), ...(ent ? { ent } : {}) });
      // Consul's setCacheMeta: X-Cache, and the kept answer's age in whole seconds.
      const cache: Record<string, string> = hit ? { 'X-Cache': 'HIT', Age: (ageMs / 1000).toFixed(0) } : { 'X-Cache': 'MISS' };
      return { body: value, headers: { 'X-Consul-Index': String(index), ...cache } };
    },
  };
}
