// /v1/peering/* and /v1/peerings (Consul's peering_endpoint.go): decode the bodies with Consul's
// texts for missing fields, call the peering endpoint, return Consul's JSON (`{}` for establish,
// an empty body for delete). Every call acts in one admin partition (Consul Enterprise: the body's
// Partition, else ?partition=, else the agent's or the token's; `default` as none).
import { BadRequestError } from '../../errors.ts';
import type { PeeringEndpoint } from '../../endpoint/peering.ts';
import type { PeeringEstablishRequest, PeeringGenerateTokenRequest } from '../../api/peering.ts';
import type { HttpResult } from '../router.ts';
import { canonical, parseJSON } from '../body.ts';
import { refuseUnknownFields } from '../known-fields.ts';
import { PEERING_ESTABLISH, PEERING_GENERATE_TOKEN } from '../request-fields.ts';
import { authzOf, queryOptions, type HttpRequest, type RequestConfig } from '../request.ts';
import { bodyEnt, requestEnt } from '../tenancy.ts';

const TOKEN_FIELDS = ['PeerName', 'Partition', 'Meta', 'ServerExternalAddresses'];
const ESTABLISH_FIELDS = ['PeerName', 'PeeringToken', 'Partition', 'Meta'];

/** The Go types of the request fields (api.PeeringGenerateTokenRequest, api.PeeringEstablishRequest). */
const FIELD_TYPES: Record<string, 'string' | 'map[string]string' | '[]string'> = {
  PeerName: 'string', PeeringToken: 'string', Partition: 'string', Meta: 'map[string]string', ServerExternalAddresses: '[]string',
};

/** A JSON value's kind as Go's json errors name it. */
function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  return typeof v === 'object' ? 'object' : typeof v;
}

/**
 * Decodes a body as Consul's lib.DecodeJSON does into the typed request `goType` (an empty body
 * is EOF; a value of the wrong JSON type is refused with Go's text, never coerced).
 */
async function decodeBody(req: HttpRequest, fields: string[], goType: 'PeeringGenerateTokenRequest' | 'PeeringEstablishRequest'): Promise<Record<string, unknown>> {
  const buf = await req.body();
  if (buf.length === 0) throw new BadRequestError('Body decoding failed: EOF');
  const obj = parseJSON(buf, 'Body decoding failed');
  const fail = (v: unknown, into: string): never => {
    throw new BadRequestError(`Body decoding failed: json: cannot unmarshal ${jsonKind(v)} into ${into}`);
  };
  // JSON null leaves Go's struct at its zero value.
  if (obj === null) return {};
  if (typeof obj !== 'object' || Array.isArray(obj)) fail(obj, `Go value of type api.${goType}`);
  // lib.DecodeJSON: a key no field of the api struct takes is refused.
  refuseUnknownFields(obj, goType === 'PeeringEstablishRequest' ? PEERING_ESTABLISH : PEERING_GENERATE_TOKEN, 'Body decoding failed');
  const body = canonical(obj, fields);
  for (const f of fields) {
    const v = body[f];
    if (v === null || v === undefined) continue;
    const at = (t: string) => `Go struct field ${goType}.${f} of type ${t}`;
    const type = FIELD_TYPES[f];
    if (type === 'string' && typeof v !== 'string') fail(v, at('string'));
    if (type === 'map[string]string') {
      if (typeof v !== 'object' || Array.isArray(v)) fail(v, at(type));
      for (const x of Object.values(v as object)) if (x !== null && typeof x !== 'string') fail(x, at('string'));
    }
    if (type === '[]string') {
      if (!Array.isArray(v)) fail(v, at(type));
      for (const x of v as unknown[]) if (x !== null && typeof x !== 'string') fail(x, at('string'));
    }
  }
  return body;
}

/** A decoded map[string]string (a null value is Go's empty string). */
function stringMap(v: unknown): Record<string, string> | undefined {
  if (v === null || v === undefined) return undefined;
  return Object.fromEntries(Object.entries(v as Record<string, string | null>).map(([k, x]) => [k, x ?? '']));
}

/**
 * The partition a write acts in (Consul Enterprise): the body's Partition, else ?partition= /
 * X-Consul-Partition, else the agent's, else the token's; `default` is the same as none.
 */
function writePartition(req: HttpRequest, cfg: RequestConfig, body: Record<string, unknown>): string {
  return requestEnt(req, cfg, 'partition', authzOf(req, cfg), bodyEnt({ partition: body.Partition })).partition;
}

function peerName(req: HttpRequest): string {
  if (!req.params.rest) throw new BadRequestError('Must specify a name to fetch.');
  return req.params.rest;
}

/** Handlers for the peering routes. */
export function peeringHandlers(peering: PeeringEndpoint, cfg: RequestConfig) {
  return {
    async generateToken(req: HttpRequest): Promise<HttpResult> {
      const body = await decodeBody(req, TOKEN_FIELDS, 'PeeringGenerateTokenRequest');
      const args: PeeringGenerateTokenRequest = {
        PeerName: String(body.PeerName ?? ''), Meta: stringMap(body.Meta),
        ServerExternalAddresses: Array.isArray(body.ServerExternalAddresses) ? body.ServerExternalAddresses.map((a) => String(a ?? '')) : undefined,
      };
      if (!args.PeerName) throw new BadRequestError('PeerName is required in the payload when generating a new peering token.');
      return { body: await peering.generateToken(args, authzOf(req, cfg), writePartition(req, cfg, body)) };
    },
    async establish(req: HttpRequest): Promise<HttpResult> {
      const body = await decodeBody(req, ESTABLISH_FIELDS, 'PeeringEstablishRequest');
      const args: PeeringEstablishRequest = { PeerName: String(body.PeerName ?? ''), PeeringToken: String(body.PeeringToken ?? ''), Meta: stringMap(body.Meta) };
      if (!args.PeerName) throw new BadRequestError('PeerName is required in the payload when establishing a peering.');
      if (!args.PeeringToken) throw new BadRequestError('PeeringToken is required in the payload when establishing a peering.');
      return { body: await peering.establish(args, authzOf(req, cfg), writePartition(req, cfg, body)) };
    },
    async read(req: HttpRequest): Promise<HttpResult> {
      const name = peerName(req);
      const { value, meta } = await peering.read(name, queryOptions(req, cfg, { tenancy: 'partition' }));
      return { body: value, meta };
    },
    async delete(req: HttpRequest): Promise<HttpResult> {
      const name = peerName(req);
      const authz = authzOf(req, cfg);
      await peering.delete(name, authz, requestEnt(req, cfg, 'partition', authz).partition);
      return { raw: '' };
    },
    async list(req: HttpRequest): Promise<HttpResult> {
      const { value, meta } = await peering.list(queryOptions(req, cfg, { tenancy: 'partition' }));
      return { body: value, meta };
    },
  };
}
