// /v1/query/*: Consul's prepared query HTTP handlers (create, list, get, update, delete, execute,
// explain) and the internal ExecuteRemote route another datacenter's failover calls. Bodies are
// decoded onto Consul's zero values with case-insensitive keys; create and update refuse unknown ones.
import type { PreparedQueryEndpoint } from '../../endpoint/prepared-query.ts';
import type { ExecuteResult, RemoteExecuteRequest } from '../../endpoint/prepared-query-exec.ts';
import type { QueryMeta } from '../../endpoint/index.ts';
import type { PreparedQueryRecord, ServiceQuery } from '../../state/index.ts';
import { BadRequestError, MethodNotAllowedError } from '../../errors.ts';
import type { HttpResult } from '../router.ts';
import { canonical, parseJSON } from '../body.ts';
import { refuseUnknownFields } from '../known-fields.ts';
import { PREPARED_QUERY } from '../request-fields.ts';
import { validTenancyName } from '../../state/index.ts';
import { authzOf, checkDatacenter, queryOptions, type HttpRequest, type RequestConfig } from '../request.ts';
import { sourceAddr } from '../source.ts';
import { QUERY_AGENT_HEADER } from './query-internal.ts';

export { EXECUTE_REMOTE_PATH, QUERY_AGENT_HEADER } from './query-internal.ts';

const QUERY_FIELDS = ['ID', 'Name', 'Session', 'Token', 'Template', 'Service', 'DNS'] as const;
const SERVICE_FIELDS = ['Service', 'SamenessGroup', 'Failover', 'OnlyPassing', 'IgnoreCheckIDs', 'Near', 'Tags', 'NodeMeta', 'ServiceMeta', 'Peer', 'Connect', 'Namespace', 'Partition'] as const;

function fail(msg: string): never {
  throw new BadRequestError(`Request decode failed: ${msg}`);
}
const str = (v: unknown, f: string): string => (v === undefined || v === null ? '' : typeof v === 'string' ? v : fail(`${f} must be a string`));
const bool = (v: unknown, f: string): boolean => (v === undefined || v === null ? false : typeof v === 'boolean' ? v : fail(`${f} must be a boolean`));
const strs = (v: unknown, f: string): string[] | null => {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) fail(`${f} must be a list of strings`);
  return v as string[];
};
const strMap = (v: unknown, f: string): Record<string, string> | null => {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) fail(`${f} must be a map of strings`);
  return v as Record<string, string>;
};

function decodeService(raw: unknown): ServiceQuery {
  const s = canonical(raw, SERVICE_FIELDS);
  const f = canonical(s.Failover, ['NearestN', 'Datacenters', 'Targets']);
  const n = f.NearestN ?? 0;
  if (typeof n !== 'number' || !Number.isInteger(n)) fail('Failover.NearestN must be an integer');
  const targets = f.Targets === undefined || f.Targets === null ? null : Array.isArray(f.Targets)
    ? f.Targets.map((t) => {
      // Consul's QueryFailoverTarget embeds acl.EnterpriseMeta: Namespace/Partition kept when given.
      const c = canonical(t, ['Peer', 'Datacenter', 'Namespace', 'Partition']);
      return { Peer: str(c.Peer, 'Peer'), Datacenter: str(c.Datacenter, 'Datacenter'), ...tenancyOf(c) };
    })
    : fail('Failover.Targets must be a list');
  return {
    Service: str(s.Service, 'Service'), SamenessGroup: str(s.SamenessGroup, 'SamenessGroup'),
    Failover: { NearestN: n, Datacenters: strs(f.Datacenters, 'Datacenters'), Targets: targets },
    OnlyPassing: bool(s.OnlyPassing, 'OnlyPassing'), IgnoreCheckIDs: strs(s.IgnoreCheckIDs, 'IgnoreCheckIDs'), Near: str(s.Near, 'Near'),
    Tags: strs(s.Tags, 'Tags'), NodeMeta: strMap(s.NodeMeta, 'NodeMeta'), ServiceMeta: strMap(s.ServiceMeta, 'ServiceMeta'),
    Connect: bool(s.Connect, 'Connect'), Peer: str(s.Peer, 'Peer'),
    ...tenancyOf(s),
  };
}

/** A Namespace and Partition (Consul Enterprise's EnterpriseMeta of a ServiceQuery or failover target), kept only when given. */
function tenancyOf(s: Record<string, unknown>): { Namespace?: string; Partition?: string } {
  const out: { Namespace?: string; Partition?: string } = {};
  for (const [field, what] of [['Namespace', 'namespace'], ['Partition', 'partition']] as const) {
    const v = str(s[field], field);
    if (v === '') continue;
    if (!validTenancyName(v)) throw new BadRequestError(`Invalid ${what} name ${JSON.stringify(v)}: must be a valid DNS hostname label`);
    out[field] = v;
  }
  return out;
}

/** Decodes a prepared query body (create or update) onto Consul's zero values. */
export function decodeQuery(raw: unknown): PreparedQueryRecord {
  if (raw === undefined) raw = {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('body must be a JSON object');
  const b = canonical(raw, QUERY_FIELDS);
  const t = canonical(b.Template, ['Type', 'Regexp', 'RemoveEmptyTags']);
  const d = canonical(b.DNS, ['TTL']);
  return {
    ID: str(b.ID, 'ID'), Name: str(b.Name, 'Name'), Session: str(b.Session, 'Session'), Token: str(b.Token, 'Token'),
    Template: { Type: str(t.Type, 'Template.Type'), Regexp: str(t.Regexp, 'Template.Regexp'), RemoveEmptyTags: bool(t.RemoveEmptyTags, 'Template.RemoveEmptyTags') },
    Service: decodeService(b.Service), DNS: { TTL: str(d.TTL, 'DNS.TTL') },
  };
}

/** A create or update body: decodeBody refuses keys no field of structs.PreparedQuery takes, at any level. */
function decodeQueryBody(raw: unknown): PreparedQueryRecord {
  refuseUnknownFields(raw, PREPARED_QUERY);
  return decodeQuery(raw);
}

/**
 * The QueryMeta Consul's execute and explain answers embed in their JSON. Index stays 0 there:
 * those RPCs are not blocking queries and never set it (the X-Consul-Index header says 1).
 */
function metaJson(meta: QueryMeta): Record<string, unknown> {
  return {
    Index: 0, LastContact: Math.round(meta.lastContact * 1e6), KnownLeader: meta.knownLeader,
    ConsistencyLevel: meta.consistency, NotModified: false, Backend: 0, ResultsFilteredByACLs: meta.filteredByACLs === true,
  };
}

function executeBody(res: ExecuteResult & { meta: QueryMeta }): Record<string, unknown> {
  return {
    Service: res.Service, ...(res.Namespace ? { Namespace: res.Namespace, Partition: res.Partition ?? 'default' } : {}), Nodes: res.Nodes ?? [], DNS: res.DNS, Datacenter: res.Datacenter, PeerName: res.PeerName ?? '', Failovers: res.Failovers, ...metaJson(res.meta),
  };
}

function limitOf(req: HttpRequest): number {
  const v = req.query.get('limit');
  if (!v) return 0;
  if (!/^[+-]?\d+$/.test(v)) throw new Error(`Bad limit: strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number(v);
}


function agentNode(req: HttpRequest, own: string): string {
  const h = req.headers[QUERY_AGENT_HEADER];
  return typeof h === 'string' && h ? h : own;
}

/**
 * Consul's prepared query handlers parse no namespace or partition (a query's Service.Namespace and
 * Service.Partition pick its target): ?ns= and ?partition= are ignored, not refused.
 */
const NO_TENANCY = { tenancy: false } as const;

/** Handlers for the prepared query routes. */
export function queryHandlers(ep: PreparedQueryEndpoint, cfg: RequestConfig & { nodeName: string }) {
  const split = (req: HttpRequest): { id: string; op: '' | 'execute' | 'explain' } => {
    const rest = req.params.rest;
    for (const op of ['execute', 'explain'] as const) if (rest.endsWith(`/${op}`)) return { id: rest.slice(0, -op.length - 1), op };
    return { id: rest, op: '' };
  };
  const getOnly = (req: HttpRequest): string => {
    const { id, op } = split(req);
    if (op) throw new MethodNotAllowedError(['OPTIONS', 'GET']);
    return id;
  };
  return {
    async create(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      const raw = parseJSON(await req.body());
      // decodeBody of no body at all is io.EOF (update decodes only a body it has).
      if (raw === undefined) throw new BadRequestError('Request decode failed: EOF');
      const q = decodeQueryBody(raw);
      return { body: { ID: await ep.create(q, authzOf(req, cfg)) } };
    },
    async list(req: HttpRequest): Promise<HttpResult> {
      const { value, meta } = await ep.list(queryOptions(req, cfg, NO_TENANCY));
      return { body: value, meta };
    },
    async get(req: HttpRequest): Promise<HttpResult> {
      const { id, op } = split(req);
      const opts = queryOptions(req, cfg, NO_TENANCY);
      if (op === '') {
        const { value, meta } = await ep.get(id, opts);
        return { body: value, meta };
      }
      const limit = limitOf(req);
      const args = { limit, connect: req.query.has('connect') && req.query.get('connect') !== 'false', near: req.query.get('near') ?? '', ip: sourceAddr(req), agentNode: agentNode(req, cfg.nodeName) };
      if (op === 'explain') {
        const { Query, meta } = await ep.explain(id, opts);
        return { body: { Query, ...metaJson(meta) }, meta };
      }
      const res = await ep.execute(id, opts, args);
      return { body: executeBody(res), meta: res.meta };
    },
    async update(req: HttpRequest): Promise<HttpResult> {
      const id = getOnly(req);
      checkDatacenter(req, cfg);
      const body = await req.body();
      const q = decodeQueryBody(body.length > 0 ? parseJSON(body) : {});
      await ep.update(id, q, authzOf(req, cfg));
      return {};
    },
    async delete(req: HttpRequest): Promise<HttpResult> {
      const id = getOnly(req);
      checkDatacenter(req, cfg);
      await ep.delete(id, authzOf(req, cfg));
      return {};
    },
    async executeRemote(req: HttpRequest): Promise<HttpResult> {
      const raw = canonical(parseJSON(await req.body()), ['Query', 'Limit', 'Connect']);
      const r: RemoteExecuteRequest = { Query: decodeQuery(raw.Query), Limit: Number(raw.Limit ?? 0) || 0, Connect: raw.Connect === true };
      const res = await ep.executeRemote(r, queryOptions(req, cfg, NO_TENANCY));
      return { body: executeBody(res), meta: res.meta };
    },
  };
}
