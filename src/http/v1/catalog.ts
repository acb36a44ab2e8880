// /v1/catalog/* and /v1/health/*: decode bodies and Consul's list parameters (node-meta, tag,
// passing, filter, near), call the catalog or health endpoint, return data. The service views
// that discovery clients block on by the thousand share one result per identical read.
import { createRequire } from 'node:module';
import type { CatalogEndpoint, CatalogFilters } from '../../endpoint/catalog.ts';
import type { HealthEndpoint } from '../../endpoint/health.ts';
import type { RegisterRequest, DeregisterRequest, CheckServiceNode, HealthCheck, Node, ServiceNode } from '../../api/catalog-types.ts';
import type { QueryOptions, QueryResult } from '../../endpoint/index.ts';
import { BadRequestError } from '../../errors.ts';
import { settled, type HttpResult } from '../router.ts';
import { canonical, canonicalOwned, parseJSON } from '../body.ts';
import { checkGoTypes, type GoType } from '../go-json.ts';
import { refuseUnknownFields } from '../known-fields.ts';
import { boolParam, queryOptions, sharedQueryOptions, checkDatacenter, authzOf, type HttpRequest, type RequestConfig } from '../request.ts';
import { bodyEnt, requestEnt } from '../tenancy.ts';
import type { AclIdentity } from '../../endpoint/index.ts';
import type { EnterpriseMeta } from '../../state/index.ts';

const REGISTER = ['ID', 'Node', 'Address', 'Datacenter', 'TaggedAddresses', 'NodeMeta', 'Service', 'Check', 'Checks', 'SkipNodeUpdate', 'Partition', 'Locality'];
const SERVICE = ['Kind', 'ID', 'Service', 'Tags', 'Address', 'TaggedAddresses', 'Meta', 'Port', 'SocketPath', 'Weights', 'EnableTagOverride', 'Proxy', 'Connect', 'Namespace', 'Partition', 'Locality'];
const CHECK = ['Node', 'CheckID', 'Name', 'Status', 'Notes', 'Output', 'ServiceID', 'ServiceName', 'ServiceTags', 'Type', 'Definition', 'Interval', 'Timeout', 'ExposedPort', 'Namespace', 'Partition'];
const DEREGISTER = ['Node', 'ServiceID', 'CheckID', 'Datacenter', 'Namespace', 'Partition'];

const require = createRequire(import.meta.url);
let requestFields: typeof import('../request-fields.ts') | undefined;
/** The body field tables (request-fields.ts, built when loaded), loaded by the first register or deregister, not at start (issue #9). */
const fields = () => requestFields ??= require('../request-fields.ts') as typeof import('../request-fields.ts');
let registration: typeof import('../../agent/local/registration.ts') | undefined;
/** The agent's proxy decoding (agent/local/registration.ts), loaded by the first registration with a Proxy, not at start (issue #9). */
const decodeProxy = (raw: unknown, defaultType: string) =>
  (registration ??= require('../../agent/local/registration.ts') as typeof import('../../agent/local/registration.ts')).decodeProxy(raw, defaultType);

// The Go types of the fields Consul's structs.RegisterRequest / DeregisterRequest decode (strings the endpoints fold and compare).
const REGISTER_TYPES: Record<string, GoType | [GoType, string]> = {
  ID: 'string', Node: 'string', Address: 'string', Datacenter: 'string', TaggedAddresses: 'map[string]string', NodeMeta: 'map[string]string',
  SkipNodeUpdate: 'bool', Partition: 'string', Locality: ['object', 'structs.Locality'],
};
const SERVICE_TYPES: Record<string, GoType | [GoType, string]> = {
  Kind: 'string', ID: 'string', Service: 'string', Tags: '[]string', Address: 'string', Meta: 'map[string]string', Port: 'number',
  SocketPath: 'string', EnableTagOverride: 'bool', Namespace: 'string', Partition: 'string', Locality: ['object', 'structs.Locality'],
};
const LOCALITY = ['Region', 'Zone'];
const LOCALITY_TYPES: Record<string, GoType> = { Region: 'string', Zone: 'string' };
const CHECK_TYPES: Record<string, GoType> = {
  Node: 'string', CheckID: 'string', Name: 'string', Status: 'string', Notes: 'string', Output: 'string', ServiceID: 'string',
  ServiceName: 'string', ServiceTags: '[]string', Type: 'string', Namespace: 'string', Partition: 'string',
};
const DEREGISTER_TYPES: Record<string, GoType> = { Node: 'string', ServiceID: 'string', CheckID: 'string', Datacenter: 'string', Namespace: 'string', Partition: 'string' };
const DECODE_FAILED = 'Request decode failed';

function object(v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new BadRequestError(`Request decode failed: ${what} must be an object`);
  return v as Record<string, unknown>;
}

/** Decodes a catalog/register body with case-insensitive field names. */
export function decodeRegister(body: Buffer): RegisterRequest {
  // Every object here is fresh from JSON.parse: canonicalOwned may keep it instead of copying.
  // Consul decodes it refusing unknown keys (lib.DecodeJSON) in the node, the service and the checks, not
  // in a check's Definition; python-consul 0.7.1 sends its token as `WriteRequest: {Token}`, refused so.
  const parsed = object(parseJSON(body) ?? {}, 'body');
  refuseUnknownFields(parsed, fields().REGISTER_REQUEST);
  const raw = canonicalOwned(parsed, REGISTER);
  checkGoTypes(raw, REGISTER_TYPES, 'RegisterRequest', DECODE_FAILED);
  const req = raw as unknown as RegisterRequest;
  if (raw.Locality) raw.Locality = locality(raw.Locality, 'Locality.');
  else delete raw.Locality;
  if (raw.Service !== undefined && raw.Service !== null) {
    const svc = canonicalOwned(object(raw.Service, 'Service'), SERVICE);
    checkGoTypes(svc, SERVICE_TYPES, 'NodeService', DECODE_FAILED, 'Service.');
    if (svc.Locality) svc.Locality = locality(svc.Locality, 'Service.Locality.');
    else delete svc.Locality;
    if (svc.Weights) svc.Weights = canonicalOwned(svc.Weights, ['Passing', 'Warning']);
    // Any key spelling in, Consul's ConnectProxyConfig JSON (Mode, MeshGateway, Expose always) stored.
    if (svc.Proxy !== null && typeof svc.Proxy === 'object') svc.Proxy = decodeProxy(svc.Proxy, '');
    req.Service = svc;
  } else delete req.Service;
  if (raw.Check) req.Check = checked(canonicalOwned(object(raw.Check, 'Check'), CHECK), 'Check.');
  if (Array.isArray(raw.Checks)) req.Checks = raw.Checks.map((c) => checked(canonicalOwned(object(c, 'Checks'), CHECK), 'Checks.'));
  return req;
}

// Consul's structs.Locality in any key spelling, its fields type-checked as Go decodes them.
function locality(v: unknown, at: string): Record<string, unknown> {
  const l = canonicalOwned(v, LOCALITY);
  checkGoTypes(l, LOCALITY_TYPES, 'Locality', DECODE_FAILED, at);
  return l;
}

function checked<T extends Record<string, unknown>>(check: T, at: string): T {
  checkGoTypes(check, CHECK_TYPES, 'HealthCheck', DECODE_FAILED, at);
  return check;
}

/** Parses `?node-meta=k:v` (repeatable), `?tag=` (repeatable), `?filter=`, `?near=` and `?merge-central-config`. */
export function catalogFilters(req: HttpRequest): CatalogFilters {
  const nodeMeta = req.query.getAll('node-meta').map((kv): [string, string] => {
    const i = kv.indexOf(':');
    return i < 0 ? [kv, ''] : [kv.slice(0, i), kv.slice(i + 1)];
  });
  return {
    nodeMeta: nodeMeta.length ? nodeMeta : undefined,
    tags: req.query.getAll('tag'),
    filter: req.query.get('filter') ?? undefined,
    near: req.query.get('near') || undefined,
    ...(req.query.has('merge-central-config') ? { mergeCentralConfig: true } : {}),
  };
}

function name(req: HttpRequest, what: string): string {
  if (!req.params.rest) throw new BadRequestError(`Missing ${what}`);
  return req.params.rest;
}

/** The `?peer=` reads: services imported from a cluster peer (endpoint/peering-imports.ts). */
export interface PeeredReads {
  nodes(peer: string, opts: QueryOptions, f: CatalogFilters): Promise<QueryResult<Node[]>>;
  services(peer: string, opts: QueryOptions): Promise<QueryResult<Record<string, string[]>>>;
  checks(peer: string, name: string, opts: QueryOptions, f: CatalogFilters): Promise<QueryResult<HealthCheck[]>>;
  service(peer: string, name: string, opts: QueryOptions, f: CatalogFilters): Promise<QueryResult<ServiceNode[]>>;
  health(peer: string, name: string, opts: QueryOptions, f: CatalogFilters & { passing?: boolean }): Promise<QueryResult<CheckServiceNode[]>>;
}

// The tenancy each read parses (http/tenancy.ts modes), as Consul Enterprise's handlers do.
const PARTITION = { tenancy: 'partition' } as const;
const NO_WILDCARD = { tenancy: 'namespace-no-wildcard' } as const;
const WILDCARD = { tenancy: 'namespace' } as const;

/**
 * A registration's tenant: the service's (else a check's) own Namespace and the body's Partition win
 * over the request's (Consul Enterprise's RegisterRequest EnterpriseMeta).
 */
function registerEnt(req: HttpRequest, cfg: RequestConfig, authz: AclIdentity | undefined, body: RegisterRequest): EnterpriseMeta | undefined {
  const namespace = (body.Service as { Namespace?: unknown } | undefined)?.Namespace || checksNamespace(body);
  const partition = (body as { Partition?: unknown }).Partition;
  // Nothing names a tenant (every CE registration): the default one, without building it.
  if (!namespace && !partition && !cfg.partition && !authz?.ent && !req.query.has('ns') && !req.query.has('partition')
    && req.headers['x-consul-namespace'] === undefined && req.headers['x-consul-partition'] === undefined) return undefined;
  return requestEnt(req, cfg, 'namespace-no-wildcard', authz, bodyEnt({ namespace, partition }));
}

/** The Namespace a registration's check (or first of its checks naming one) gives. */
function checksNamespace(body: RegisterRequest): unknown {
  const one = (body.Check as { Namespace?: unknown } | undefined)?.Namespace;
  if (one || !body.Checks) return one;
  for (const c of body.Checks) if ((c as { Namespace?: unknown }).Namespace) return (c as { Namespace?: unknown }).Namespace;
  return undefined;
}

/** `?peer=`, or '' for the local catalog. */
function peerParam(req: HttpRequest): string {
  return req.query.get('peer') ?? '';
}

/**
 * Handlers for the catalog routes. The reads are not async functions: a held blocking query keeps
 * only the then() of a module-level function, not a suspended frame (≈ 0.2 KiB each); throws
 * still reach the caller as a rejection.
 */
export function catalogHandlers(catalog: CatalogEndpoint, cfg: RequestConfig, peered?: PeeredReads) {
  return {
    async register(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      const body = decodeRegister(await req.body());
      const authz = authzOf(req, cfg);
      return { body: await catalog.register(body, authz, registerEnt(req, cfg, authz, body)) };
    },
    async deregister(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      const parsed = object(parseJSON(await req.body()) ?? {}, 'body');
      refuseUnknownFields(parsed, fields().DEREGISTER_REQUEST);
      const raw = canonical(parsed, DEREGISTER);
      checkGoTypes(raw, DEREGISTER_TYPES, 'DeregisterRequest', DECODE_FAILED);
      const body = raw as unknown as DeregisterRequest & { Namespace?: string; Partition?: string };
      const authz = authzOf(req, cfg);
      const ent = requestEnt(req, cfg, 'namespace-no-wildcard', authz, bodyEnt({ namespace: body.Namespace, partition: body.Partition }));
      return { body: await catalog.deregister(body, authz, ent) };
    },
    async datacenters(): Promise<HttpResult> {
      return { body: catalog.datacenters() };
    },
    // Consul Enterprise's parsers: nodes read the partition only (a namespace is ignored), node-services
    // accepts `ns=*`, the others refuse it.
    nodes: settled((req) => (peered && peerParam(req)
      ? peered.nodes(peerParam(req), queryOptions(req, cfg, PARTITION), catalogFilters(req))
      : catalog.nodes(queryOptions(req, cfg, PARTITION), catalogFilters(req))).then(plainBody)),
    services: settled((req) => (peered && peerParam(req)
      ? peered.services(peerParam(req), queryOptions(req, cfg, NO_WILDCARD))
      : catalog.services(queryOptions(req, cfg, NO_WILDCARD), catalogFilters(req))).then(plainBody)),
    service: settled((req) => (peered && peerParam(req)
      ? peered.service(peerParam(req), name(req, 'service name'), queryOptions(req, cfg, NO_WILDCARD), catalogFilters(req)).then(plainBody)
      : catalog.service(name(req, 'service name'), sharedQueryOptions(req, cfg, NO_WILDCARD), catalogFilters(req)).then(sharedBody))),
    node: settled((req) => catalog.node(name(req, 'node name'), queryOptions(req, cfg, NO_WILDCARD)).then(plainBody)),
    connect: settled((req) => catalog.service(name(req, 'service name'), sharedQueryOptions(req, cfg, NO_WILDCARD), { ...catalogFilters(req), connect: true }).then(sharedBody)),
    nodeServices: settled((req) => catalog.nodeServices(name(req, 'node name'), queryOptions(req, cfg, WILDCARD), catalogFilters(req)).then(plainBody)),
  };
}

/** Handlers for the health routes. */
export function healthHandlers(health: HealthEndpoint, cfg: RequestConfig, peered?: PeeredReads) {
  return {
    // Consul Enterprise's parsers: node and state accept `ns=*`, checks, service and connect refuse it.
    node: settled((req) => health.node(name(req, 'node name'), queryOptions(req, cfg, WILDCARD), catalogFilters(req)).then(plainBody)),
    checks: settled((req) => (peered && peerParam(req)
      ? peered.checks(peerParam(req), name(req, 'service name'), queryOptions(req, cfg, NO_WILDCARD), catalogFilters(req))
      : health.checks(name(req, 'service name'), queryOptions(req, cfg, NO_WILDCARD), catalogFilters(req))).then(plainBody)),
    state: settled((req) => health.state(name(req, 'check state'), queryOptions(req, cfg, WILDCARD), catalogFilters(req)).then(plainBody)),
    // Not async (see settled): a held blocking query keeps only the then(), not a suspended frame.
    service: settled((req) => (samenessParam(req)
      ? sameness(health, req, cfg, 'service')
      : peered && peerParam(req)
        ? peered.health(peerParam(req), name(req, 'service name'), queryOptions(req, cfg, NO_WILDCARD), { ...catalogFilters(req), passing: passingFlag(req) }).then(plainBody)
        : health.service(name(req, 'service name'), sharedQueryOptions(req, cfg, NO_WILDCARD), { ...catalogFilters(req), passing: passingFlag(req) }).then(sharedBody))),
    // Consul's health/connect reads ?peer= as health/service does: a peer's mesh endpoints, never the local ones.
    connect: settled((req) => (samenessParam(req)
      ? sameness(health, req, cfg, 'connect')
      : peered && peerParam(req)
        ? peered.health(peerParam(req), name(req, 'service name'), queryOptions(req, cfg, NO_WILDCARD), { ...catalogFilters(req), passing: passingFlag(req), connect: true }).then(plainBody)
        : health.service(name(req, 'service name'), sharedQueryOptions(req, cfg, NO_WILDCARD), { ...catalogFilters(req), passing: passingFlag(req), connect: true }).then(sharedBody))),
  };
}

/** Consul Enterprise's sameness group parameter: `?sameness-group=`, or its short form `?sg=` ('' when neither). */
export function samenessParam(req: HttpRequest): string {
  return req.query.get('sameness-group') || req.query.get('sg') || '';
}

/**
 * A health read (`connect` or `ingress` endpoints too) through the request partition's sameness group;
 * a `?peer=` with it is Consul's 400, checked before the service name, which is checked before `?passing`.
 */
export function sameness(health: HealthEndpoint, req: HttpRequest, cfg: RequestConfig, kind: 'service' | 'connect' | 'ingress'): Promise<HttpResult> {
  const opts = queryOptions(req, cfg, NO_WILDCARD);
  if (peerParam(req)) throw new BadRequestError('peer-name and sameness-group are mutually exclusive');
  const service = name(req, 'service name');
  const f = { ...catalogFilters(req), passing: passingFlag(req), connect: kind === 'connect', ingress: kind === 'ingress' };
  return health.sameness(samenessParam(req), service, opts, f).then(plainBody);
}

/** health's ?passing, read as Consul's getBoolQueryParam (`?passing=maybe` is a 400). */
function passingFlag(req: HttpRequest): boolean {
  return boolParam(req, 'passing', 'Invalid value for ?passing');
}

/** A result's answer: its value as the body. */
function plainBody<T>({ value, meta }: { value: T; meta: HttpResult['meta'] }): HttpResult {
  return { body: value, meta };
}

/** The HttpResult made of each shared QueryResult (one object, however many readers it answers). */
const sharedAnswers = new WeakMap<object, HttpResult>();

/**
 * A shared result's answer: its value as the body. Readers of one shared run get one QueryResult
 * (endpoint/query.ts answer()), and here one HttpResult of it, which each held query's old
 * promise keeps: one object promoted per change instead of one per reader.
 */
function sharedBody<T>(r: { value: T; meta: HttpResult['meta'] }): HttpResult {
  let out = sharedAnswers.get(r);
  if (out === undefined) sharedAnswers.set(r, out = { body: r.value, meta: r.meta, shared: true });
  return out;
}
