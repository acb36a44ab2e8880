// /v1/connect/ca/roots and /v1/agent/connect/ca/roots: the CA roots (JSON, or ?pem=true);
// /v1/connect/ca/configuration: the CA configuration, read and replaced.
import { rootsPem, PEM_CHAIN_CONTENT_TYPE } from '../../connect/index.ts';
import type { CAConfigurationUpdate, ConnectCAEndpoint } from '../../endpoint/connect-ca.ts';
import { BadRequestError } from '../../errors.ts';
import type { HttpResult } from '../router.ts';
import { parseJSON } from '../body.ts';
import { refuseUnknownFields } from '../known-fields.ts';
import { CA_CONFIGURATION } from '../request-fields.ts';
import { authzOf, checkDatacenter, queryOptions, type HttpRequest, type RequestConfig } from '../request.ts';

/** Handlers for the CA routes. */
export function connectHandlers(ca: ConnectCAEndpoint, cfg: RequestConfig) {
  return {
    async roots(req: HttpRequest): Promise<HttpResult> {
      // Consul's ConnectCARoots and AgentConnectCARoots parse no namespace or partition: ?ns= and
      // ?partition= (the CLI sends CONSUL_NAMESPACE on every request) are ignored, not refused.
      const { value, meta } = await ca.roots(queryOptions(req, cfg, { tenancy: false }));
      if (req.query.get('pem') === 'true') return { raw: rootsPem(value), contentType: PEM_CHAIN_CONTENT_TYPE, meta };
      return { body: value, meta };
    },
    async configuration(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      return { body: ca.configuration(authzOf(req, cfg)) };
    },
    async setConfiguration(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      // An empty ?cas= is no CAS, as Consul reads it.
      const cas = req.query.get('cas');
      if (cas && !/^\d+$/.test(cas)) throw new BadRequestError(`Request decode failed: strconv.ParseUint: parsing ${JSON.stringify(cas)}: invalid syntax`);
      // No field of structs.CAConfiguration is a uint64, and Config is a map[string]interface{} (float64 numbers).
      await ca.setConfiguration(decodeUpdate(parseJSON(await req.body(), undefined, true)), authzOf(req, cfg));
      // Consul's handler returns no object: 200 with an empty body.
      return {};
    },
  };
}

/**
 * The PUT body as Go's JSON decoding of structs.CAConfiguration reads it: field names matched
 * ignoring case, `force_without_cross_signing` also accepted, wrong types refused.
 */
function decodeUpdate(body: unknown): CAConfigurationUpdate {
  if (body === undefined) throw new BadRequestError('Request decode failed: EOF');
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequestError(`Request decode failed: json: cannot unmarshal ${jsonKind(body)} into Go value of type structs.CAConfiguration`);
  }
  // CAConfiguration.UnmarshalJSON decodes with lib.UnmarshalJSON: unknown keys are refused.
  refuseUnknownFields(body, CA_CONFIGURATION);
  const get = (name: string): unknown => Object.entries(body).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
  const refuse = (name: string, v: unknown, goType: string): never => {
    throw new BadRequestError(`Request decode failed: json: cannot unmarshal ${jsonKind(v)} into Go struct field CAConfiguration.${name} of type ${goType}`);
  };
  const typed = <T>(name: string, goType: string, ok: (v: unknown) => boolean, empty: T): T => {
    const v = get(name);
    if (v === undefined || v === null) return empty;
    return ok(v) ? v as T : refuse(name, v, goType);
  };
  const isMap = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  const state = typed<Record<string, unknown> | null>('State', 'map[string]string', isMap, null);
  // A map of another value type is refused for the first value that is not a string.
  const notString = Object.values(state ?? {}).find((v) => typeof v !== 'string' && v !== null);
  if (notString !== undefined) refuse('State', notString, 'string');
  const update: CAConfigurationUpdate = {
    Provider: typed('Provider', 'string', (v) => typeof v === 'string', ''),
    Config: typed<Record<string, unknown>>('Config', 'map[string]interface {}', isMap, {}),
    State: state as Record<string, string> | null,
    ForceWithoutCrossSigning: typed('ForceWithoutCrossSigning', 'bool', (v) => typeof v === 'boolean', false),
  };
  if ((body as Record<string, unknown>).force_without_cross_signing === true) update.ForceWithoutCrossSigning = true;
  return update;
}

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'object' : typeof v;
}
