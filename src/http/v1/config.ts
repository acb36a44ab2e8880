// /v1/config: apply (PUT with ?cas), read one entry or list a kind (GET), delete (DELETE with
// ?cas), with Consul's path rules and texts; the entry logic lives in endpoint/config-entries.ts.
import { takeEntryTenancy, type ConfigEntryEndpoint } from '../../endpoint/config-entries.ts';
import { NotFoundError } from '../../errors.ts';
import type { HttpResult } from '../router.ts';
import { parseJSON } from '../body.ts';
import { queryOptions, checkDatacenter, authzOf, uintParam, type HttpRequest, type RequestConfig } from '../request.ts';
import { bodyEnt, requestEnt } from '../tenancy.ts';
import { WILDCARD_NAMESPACE } from '../../state/index.ts';

/** Splits `kind[/name]` the way Consul's SplitN(path, "/", 2) does. */
function kindAndName(req: HttpRequest): { kind: string; name?: string } {
  const rest = req.params.rest;
  const slash = rest.indexOf('/');
  return slash < 0 ? { kind: rest } : { kind: rest.slice(0, slash), name: rest.slice(slash + 1) };
}

/** Handlers for the config entry routes. */
export function configHandlers(entries: ConfigEntryEndpoint, cfg: RequestConfig) {
  return {
    async apply(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      // Consul decodes the entry into a map[string]interface{} first: every number is a float64.
      const raw = parseJSON(await req.body(), 'Request decoding failed', true);
      // The entry's own Namespace/Partition win over the request's (?ns, X-Consul-Namespace), then the token's.
      const authz = authzOf(req, cfg);
      // `*` (the wildcard namespace) is taken here; the endpoint allows it for service-intentions only.
      const own = takeEntryTenancy(raw);
      const wildcard = own.namespace === WILDCARD_NAMESPACE;
      let ent = requestEnt(req, cfg, 'namespace', authz, bodyEnt({ ...own, namespace: wildcard ? '' : own.namespace }));
      if (wildcard) ent = { partition: ent.partition, namespace: WILDCARD_NAMESPACE };
      return { body: await entries.apply(raw, uintParam(req, 'cas'), authz, ent) };
    },
    async get(req: HttpRequest): Promise<HttpResult> {
      const opts = queryOptions(req, cfg, { tenancy: 'namespace' });
      const { kind, name } = kindAndName(req);
      if (name === undefined) {
        const { value, meta } = await entries.list(kind, opts, req.query.get('filter') ?? undefined);
        return { body: value, meta };
      }
      const { value, meta } = await entries.get(kind, name, opts);
      // Consul sets the index headers before answering 404.
      if (!value) return { status: 404, raw: `Config entry not found for ${JSON.stringify(kind)} / ${JSON.stringify(name)}`, contentType: 'text/plain; charset=utf-8', meta };
      return { body: value, meta };
    },
    async delete(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      const authz = authzOf(req, cfg);
      const ent = requestEnt(req, cfg, 'namespace', authz);
      const { kind, name } = kindAndName(req);
      if (name === undefined) throw new NotFoundError('Must provide both a kind and name to delete');
      const cas = uintParam(req, 'cas');
      const deleted = await entries.delete(kind, name, cas, authz, ent);
      // Consul answers true/false only to CAS deletes, `{}` otherwise.
      return { body: cas === undefined ? {} : deleted };
    },
  };
}
