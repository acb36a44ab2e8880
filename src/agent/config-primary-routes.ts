// Config entry and intention writes go to the primary datacenter (Consul's ConfigEntry.Apply and
// Delete, and Intention.Apply, set args.Datacenter = PrimaryDatacenter before forwarding), from
// which every secondary replicates them. Whatever `?dc` says: a secondary sends them to the
// primary, and the primary applies them itself.
import type { Handler, HttpRequest, Router } from '../http/index.ts';
import { parseJSON } from '../http/body.ts';
import { decodeConfigEntry } from '../endpoint/config-entries.ts';
import { InternalError } from '../errors.ts';
import { forwardToPrimary, withBody, type PrimaryForwardDeps } from './primary-forward.ts';

/** True for a request that writes config entries (service-intentions included). */
export function writesConfigEntries(method: string, path: string): boolean {
  if (method === 'GET' || method === 'HEAD') return false;
  if (path === '/v1/config' || path.startsWith('/v1/config/')) return method === 'PUT' || method === 'DELETE';
  if (path === '/v1/connect/intentions') return method === 'POST';
  // PUT and DELETE of /v1/connect/intentions/exact and /v1/connect/intentions/<id>.
  return path.startsWith('/v1/connect/intentions/') && (method === 'PUT' || method === 'DELETE');
}

/** `req` without its `?dc`: the primary answers it itself instead of sending it on. */
export function withoutDc(req: HttpRequest): HttpRequest {
  if (!req.query.has('dc')) return req;
  const query = new URLSearchParams(req.query);
  query.delete('dc');
  const path = (req.url ?? req.path).split('?')[0];
  const q = query.toString();
  return {
    ...req, query, url: req.url === undefined ? undefined : q ? `${path}?${q}` : path,
    get signal() { return req.signal; },
    get aborts() { return req.aborts; },
    body: (limit, tooLarge) => req.body(limit, tooLarge),
  };
}

/** This agent's datacenter and the primary's (Consul's config.Datacenter and PrimaryDatacenter). */
export interface DatacenterNames {
  datacenter: string;
  primary: string;
}

/**
 * Consul's gateWriteToSecondary: an exported-services entry is written only when the request targets
 * the primary (`?dc`, else this agent's datacenter as the HTTP layer fills it in). Returns the body it
 * read, for the handler or the primary; a body the handler refuses itself (400) passes ungated, as
 * Consul decodes it before the check.
 */
async function gateExportedServices(req: HttpRequest, names: DatacenterNames): Promise<Buffer | undefined> {
  if ((req.query.get('dc') || names.datacenter) === names.primary) return undefined;
  const body = await req.body();
  let kind: unknown;
  try {
    kind = decodeConfigEntry(parseJSON(body, 'Request decoding failed', true)).Kind;
  } catch {
    return body;
  }
  if (kind === 'exported-services') throw new InternalError('exported-services writes must not target secondary datacenters.');
  return body;
}

/**
 * Wraps the route table (`router`, which follows `?dc`) so config entry writes are answered by
 * the primary: forwarded there from a secondary (`primary` set), applied by `local` (the table
 * that does not follow `?dc`) in the primary. Without Connect here, intention writes fail here
 * (Consul's Intention.Apply checks ConnectEnabled before forwarding).
 */
export function configPrimaryRouter(
  router: Pick<Router, 'match' | 'list'>, local: Pick<Router, 'match'>, primary: PrimaryForwardDeps | null, connectEnabled = true,
  names?: DatacenterNames,
): Pick<Router, 'match' | 'list'> {
  return {
    list: () => router.list(),
    match(method, path) {
      const m = router.match(method, path);
      if (!m || !writesConfigEntries(method, path)) return m;
      const own = local.match(method, path) ?? m;
      const here = !primary || (!connectEnabled && path.startsWith('/v1/connect/intentions'));
      const send = (req: HttpRequest, body?: Buffer) => {
        const r = withoutDc(req);
        return here ? own.handler(body === undefined ? r : withBody(r, body)) : forwardToPrimary(primary, r, body);
      };
      const gated = names !== undefined && method === 'PUT' && path === '/v1/config';
      const handler: Handler = gated ? async (req) => send(req, await gateExportedServices(req, names)) : (req) => send(req);
      return { ...m, handler };
    },
  };
}
