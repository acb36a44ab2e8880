// /v1/connect/intentions*: Consul's intention HTTP handlers (list, match, check, and the exact
// by-name get/put/delete); query parameters and error texts as Consul's intentions_endpoint.go.
import type { IntentionEndpoint, IntentionUpsert } from '../../endpoint/intentions.ts';
import { parseIntentionName, parseIntentionPeerName } from '../../endpoint/intentions.ts';
import type { LegacyIntentionEndpoint, LegacyIntentionInput } from '../../endpoint/intentions-legacy.ts';
import { BadRequestError, InternalError } from '../../errors.ts';
import type { HttpResult } from '../router.ts';
import { canonical, parseJSON } from '../body.ts';
import { refuseUnknownFields } from '../known-fields.ts';
import { CONNECT_AUTHORIZE, INTENTION } from '../request-fields.ts';
import { authzOf, checkDatacenter, queryOptions, type HttpRequest, type RequestConfig } from '../request.ts';
import { bodyEnt, requestEnt } from '../tenancy.ts';
import type { EnterpriseMeta } from '../../state/index.ts';

const INTENTION_FIELDS = [
  'ID', 'Description', 'SourcePeer', 'SourceNS', 'SourceName', 'DestinationNS', 'DestinationName', 'SourcePartition',
  'DestinationPartition', 'SourceSamenessGroup', 'SourceType', 'Action', 'Permissions', 'Meta', 'Precedence',
  'CreatedAt', 'UpdatedAt', 'Hash', 'CreateIndex', 'ModifyIndex',
] as const;

/** Go's name for a JSON value's type in unmarshal errors. */
function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'object' : typeof v;
}

const refuse = (v: unknown, field: string, goType: string): never => {
  throw new BadRequestError(`Request decode failed: json: cannot unmarshal ${jsonKind(v)} into Go struct field Intention.${field} of type ${goType}`);
};

/** The body as Go's decoding of structs.Intention reads it: keys matched ignoring case, unknown keys and wrong types refused. */
export function decodeIntention(raw: unknown): Record<string, unknown> {
  if (raw === undefined) throw new BadRequestError('Request decode failed: EOF');
  if (raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new BadRequestError(`Request decode failed: json: cannot unmarshal ${jsonKind(raw)} into Go value of type structs.Intention`);
  }
  refuseUnknownFields(raw, INTENTION);
  const body = canonical(raw, INTENTION_FIELDS);
  const strings: Record<string, string> = {
    ID: 'string', Description: 'string', SourcePeer: 'string', SourceNS: 'string', SourceName: 'string', DestinationNS: 'string',
    DestinationName: 'string', SourcePartition: 'string', DestinationPartition: 'string', SourceSamenessGroup: 'string',
    SourceType: 'structs.IntentionSourceType', Action: 'structs.IntentionAction',
  };
  for (const [f, goType] of Object.entries(strings)) {
    const v = body[f];
    if (v !== undefined && v !== null && typeof v !== 'string') refuse(v, f, goType);
  }
  const perms = body.Permissions;
  if (perms !== undefined && perms !== null && !Array.isArray(perms)) refuse(perms, 'Permissions', '[]*structs.IntentionPermission');
  const meta = body.Meta;
  if (meta !== undefined && meta !== null) {
    if (typeof meta !== 'object' || Array.isArray(meta)) refuse(meta, 'Meta', 'map[string]string');
    const bad = Object.values(meta as object).find((x) => typeof x !== 'string' && x !== null);
    if (bad !== undefined) refuse(bad, 'Meta', 'string');
  }
  return body;
}

/** One required single-valued parameter (`!ok || len != 1`, and empty for the exact writes). */
function required(req: HttpRequest, name: string, nonEmpty = false): string {
  const all = req.query.getAll(name);
  if (all.length !== 1 || (nonEmpty && all[0] === '')) throw new InternalError(`required query parameter '${name}' not set`);
  return all[0];
}

/** The source and destination names of an exact request (bare names in the request's tenant `ent`). */
function exactPair(req: HttpRequest, ent: EnterpriseMeta) {
  const src = required(req, 'source', true);
  const dst = required(req, 'destination', true);
  return { source: parseIntentionName('source', src, ent), destination: parseIntentionName('destination', dst, ent) };
}

/**
 * A legacy body: partitions other than the default refused as Consul's ID-based routes do; empty
 * namespaces filled from the request's (Consul's FillPartitionAndNamespace).
 */
function legacyBody(body: Record<string, unknown>, ent: EnterpriseMeta): LegacyIntentionInput {
  for (const [f, what] of [['DestinationPartition', 'destination'], ['SourcePartition', 'source']] as const) {
    const v = body[f];
    if (v && v !== 'default') throw new BadRequestError(`Cannot specify a ${what} partition with this endpoint`);
  }
  const out = { ...body } as LegacyIntentionInput;
  if (!out.SourceNS) out.SourceNS = ent.namespace;
  if (!out.DestinationNS) out.DestinationNS = ent.namespace;
  return out;
}

/** Handlers for the intention routes (`legacy`: the deprecated ID-based ones). */
export function intentionHandlers(ixns: IntentionEndpoint, legacy: LegacyIntentionEndpoint, cfg: RequestConfig) {
  return {
    async create(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      const authz = authzOf(req, cfg);
      const ent = requestEnt(req, cfg, 'namespace-no-wildcard', authz);
      let body: Record<string, unknown>;
      try {
        body = decodeIntention(parseJSON(await req.body()));
      } catch (err) {
        // The legacy create words decoding failures differently, as a 500.
        throw new InternalError(`Failed to decode request body: ${(err as Error).message.replace(/^Request decode failed: /, '')}`);
      }
      return { body: { ID: await legacy.create(legacyBody(body, ent), authz) } };
    },
    async getById(req: HttpRequest): Promise<HttpResult> {
      // IDs are unique across namespaces: the namespace given is read (and checked), not needed.
      const { value, meta } = await legacy.get(req.params.rest, queryOptions(req, cfg, { tenancy: 'namespace-no-wildcard' }));
      return { body: value, meta };
    },
    async updateById(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      const authz = authzOf(req, cfg);
      const body = legacyBody(decodeIntention(parseJSON(await req.body())), requestEnt(req, cfg, 'namespace-no-wildcard', authz));
      return { body: { ID: await legacy.update(req.params.rest, body, authz) } };
    },
    async deleteById(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      await legacy.delete(req.params.rest, authzOf(req, cfg));
      return { body: true };
    },
    async list(req: HttpRequest): Promise<HttpResult> {
      const { value, meta } = await ixns.list(queryOptions(req, cfg, { tenancy: 'namespace' }), req.query.get('filter') ?? undefined);
      return { body: value, meta };
    },
    async match(req: HttpRequest): Promise<HttpResult> {
      const opts = queryOptions(req, cfg, { tenancy: 'namespace-no-wildcard' });
      const by = req.query.getAll('by');
      if (by.length !== 1) throw new InternalError("required query parameter 'by' not set");
      if (by[0] !== 'source' && by[0] !== 'destination') throw new InternalError("'by' parameter must be one of 'source' or 'destination'");
      const names = req.query.getAll('name');
      if (names.length === 0) throw new InternalError("required query parameter 'name' not set");
      const parsed = names.map((n) => parseIntentionName('name', n, opts.ent));
      const { value, meta } = await ixns.match(by[0], parsed, opts);
      // Keyed by the names as asked (a repeated name answers once).
      const body: Record<string, unknown> = {};
      names.forEach((n, i) => { body[n] = value[i]; });
      return { body, meta };
    },
    async check(req: HttpRequest): Promise<HttpResult> {
      const opts = queryOptions(req, cfg, { tenancy: 'namespace-no-wildcard' });
      const sourceType = req.query.get('source-type') || 'consul';
      const source = required(req, 'source');
      const destination = required(req, 'destination');
      const src = sourceType === 'consul' ? parseIntentionName('source', source, opts.ent) : source;
      const dst = parseIntentionName('destination', destination, opts.ent);
      return { body: ixns.check(src, dst, sourceType, authzOf(req, cfg)) };
    },
    async getExact(req: HttpRequest): Promise<HttpResult> {
      const opts = queryOptions(req, cfg, { tenancy: 'namespace-no-wildcard' });
      // Only this read takes a peered source (`peer:<peer>/<name>`).
      const src = parseIntentionPeerName('source', required(req, 'source'), opts.ent);
      const destination = parseIntentionName('destination', required(req, 'destination'), opts.ent);
      const { value, meta } = await ixns.getExact({ name: src.name, ent: src.ent }, destination, opts, src.peer);
      return { body: value, meta };
    },
    async putExact(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      const authz = authzOf(req, cfg);
      const { source, destination } = exactPair(req, requestEnt(req, cfg, 'namespace-no-wildcard', authz));
      const body = decodeIntention(parseJSON(await req.body()));
      const ixn: IntentionUpsert = {
        ...(body as Partial<IntentionUpsert>),
        SourceName: source.name, DestinationName: destination.name, source: source.ent, destination: destination.ent,
      };
      await ixns.upsert(ixn, authz);
      return { body: true };
    },
    /** POST /v1/agent/connect/authorize (Consul's AgentConnectAuthorize). */
    async authorize(req: HttpRequest): Promise<HttpResult> {
      const raw = parseJSON(await req.body());
      if (raw !== null && raw !== undefined && (typeof raw !== 'object' || Array.isArray(raw))) {
        throw new BadRequestError(`Request decode failed: json: cannot unmarshal ${jsonKind(raw)} into Go value of type structs.ConnectAuthorizeRequest`);
      }
      if (raw === undefined) throw new BadRequestError('Request decode failed: EOF');
      refuseUnknownFields(raw, CONNECT_AUTHORIZE);
      const body = canonical(raw, ['Target', 'ClientCertURI', 'ClientCertSerial', 'Namespace', 'Partition']);
      for (const f of ['Target', 'ClientCertURI', 'ClientCertSerial', 'Namespace', 'Partition']) {
        const v = body[f];
        if (v !== undefined && v !== null && typeof v !== 'string') {
          throw new BadRequestError(`Request decode failed: json: cannot unmarshal ${jsonKind(v)} into Go struct field ConnectAuthorizeRequest.${f} of type string`);
        }
      }
      // The target's namespace: the body's Namespace/Partition, else ?ns / X-Consul-Namespace, else the token's.
      const authz = authzOf(req, cfg);
      const ent = requestEnt(req, cfg, 'namespace-no-wildcard', authz, bodyEnt({ namespace: body.Namespace, partition: body.Partition }));
      return { body: ixns.authorizeConnect(String(body.Target ?? ''), String(body.ClientCertURI ?? ''), authz, ent) };
    },
    async deleteExact(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      const authz = authzOf(req, cfg);
      const { source, destination } = exactPair(req, requestEnt(req, cfg, 'namespace-no-wildcard', authz));
      await ixns.deleteExact(source, destination, authz);
      return { body: true };
    },
  };
}
