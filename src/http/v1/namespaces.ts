// /v1/namespace and /v1/namespaces (Consul Enterprise's namespace endpoints): decode the body,
// pick the partition (body, then ?partition / X-Consul-Partition, then the agent's and the
// token's), call the namespace endpoint, answer Consul's JSON (a 404 with an empty body for a
// missing namespace).
import { BadRequestError } from '../../errors.ts';
import type { NamespaceEndpoint, NamespaceInput } from '../../endpoint/namespaces.ts';
import type { ACLLink } from '../../api/namespaces.ts';
import type { HttpResult } from '../router.ts';
import { canonical, parseJSON } from '../body.ts';
import { goJsonKind } from '../go-json.ts';
import { authzOf, checkDatacenter, queryOptions, type HttpRequest, type RequestConfig } from '../request.ts';
import { bodyEnt, requestEnt } from '../tenancy.ts';

const FIELDS = ['Name', 'Description', 'ACLs', 'Meta', 'Partition', 'DeletedAt', 'CreateIndex', 'ModifyIndex'];
const ACL_FIELDS = ['PolicyDefaults', 'RoleDefaults'];
const LINK_FIELDS = ['ID', 'Name'];

/** A JSON string field, or '' when absent; any other type is refused as Go's decoder does. */
function str(v: unknown, field: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new BadRequestError(`Request decode failed: json: cannot unmarshal ${goJsonKind(v)} into Go struct field Namespace.${field} of type string`);
  return v;
}

function links(v: unknown, field: string): ACLLink[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new BadRequestError(`Request decode failed: json: cannot unmarshal ${goJsonKind(v)} into Go struct field Namespace.ACLs.${field} of type []api.ACLLink`);
  return v.map((l) => {
    const c = canonical(l, LINK_FIELDS);
    return { ID: str(c.ID, `ACLs.${field}.ID`), Name: str(c.Name, `ACLs.${field}.Name`) };
  });
}

/** Decodes a namespace body (Consul's api.Namespace; keys matched ignoring case, as Go's decoder does). */
export function decodeNamespace(raw: unknown): NamespaceInput & { Partition: string } {
  if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new BadRequestError(`Request decode failed: json: cannot unmarshal ${Array.isArray(raw) ? 'array' : typeof raw} into Go value of type api.Namespace`);
  }
  const b = canonical(raw, FIELDS);
  const acls = b.ACLs === undefined || b.ACLs === null ? undefined : canonical(b.ACLs, ACL_FIELDS);
  let meta: Record<string, string> | undefined;
  if (b.Meta !== undefined && b.Meta !== null) {
    if (typeof b.Meta !== 'object' || Array.isArray(b.Meta)) throw new BadRequestError(`Request decode failed: json: cannot unmarshal ${goJsonKind(b.Meta)} into Go struct field Namespace.Meta of type map[string]string`);
    meta = Object.fromEntries(Object.entries(b.Meta as Record<string, unknown>).map(([k, x]) => [k, str(x, 'Meta')]));
  }
  return {
    Name: str(b.Name, 'Name'), Description: str(b.Description, 'Description'), Partition: str(b.Partition, 'Partition'),
    ...(acls ? { ACLs: { PolicyDefaults: links(acls.PolicyDefaults, 'PolicyDefaults'), RoleDefaults: links(acls.RoleDefaults, 'RoleDefaults') } } : {}),
    ...(meta ? { Meta: meta } : {}),
  };
}

/** The namespace or partition name in the path; Consul's 400 when it is missing. */
export function tenancyPathName(req: HttpRequest, what: 'namespace' | 'partition'): string {
  const name = req.params.rest ?? '';
  if (!name) throw new BadRequestError(`Missing ${what} name`);
  return name;
}

const pathName = (req: HttpRequest): string => tenancyPathName(req, 'namespace');

/**
 * A create or update body's Name: taken from the URL when the body has none (update), refused when
 * it names another; required either way. `what` is 'Namespace' or 'Partition', as Consul's texts say it.
 */
export function checkBodyName(body: { Name: string }, named: string | undefined, what: 'Namespace' | 'Partition'): void {
  if (named !== undefined) {
    if (body.Name === '') body.Name = named;
    else if (body.Name !== named) throw new BadRequestError(`${what} name in the body ("${body.Name}") does not match the name in the URL ("${named}")`);
  }
  if (body.Name === '') throw new BadRequestError(`Must specify a Name for ${what} creation`);
}

/** Handlers for the namespace routes. */
export function namespaceHandlers(namespaces: NamespaceEndpoint, cfg: RequestConfig) {
  const write = async (req: HttpRequest, named?: string): Promise<HttpResult> => {
    checkDatacenter(req, cfg);
    const body = decodeNamespace(parseJSON(await req.body()));
    checkBodyName(body, named, 'Namespace');
    const authz = authzOf(req, cfg);
    // The body's Partition is checked as ?partition is (a DNS label; `default` is the same as none).
    const ent = requestEnt(req, cfg, 'partition', authz, { partition: bodyEnt({ partition: body.Partition }).partition });
    return { body: await namespaces.upsert(body, ent.partition, authz) };
  };
  return {
    create: (req: HttpRequest) => write(req),
    update: (req: HttpRequest) => write(req, pathName(req)),
    async read(req: HttpRequest): Promise<HttpResult> {
      const name = pathName(req);
      const opts = queryOptions(req, cfg, { tenancy: 'partition' });
      const { value, meta } = await namespaces.read(name, opts.ent!.partition, opts);
      return value ? { body: value, meta } : { status: 404, raw: '', meta };
    },
    async delete(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      const name = pathName(req);
      const authz = authzOf(req, cfg);
      await namespaces.delete(name, requestEnt(req, cfg, 'partition', authz).partition, authz);
      // Consul Enterprise answers a delete with no data, only the status.
      return { raw: '' };
    },
    async list(req: HttpRequest): Promise<HttpResult> {
      const opts = queryOptions(req, cfg, { tenancy: 'partition' });
      const { value, meta } = await namespaces.list(opts.ent!.partition, opts);
      return { body: value, meta };
    },
  };
}
