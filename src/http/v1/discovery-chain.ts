// GET/POST /v1/discovery-chain/:service: the compiled discovery chain (`?compile-dc`; a POST
// body may override protocol, connect timeout and mesh gateway mode), answered as `{Chain}`.
import type { ChainOverrides, DiscoveryChainEndpoint } from '../../endpoint/discovery-chain.ts';
import { BadRequestError } from '../../errors.ts';
import { goDurationError, parseGoDuration } from '../../duration.ts';
import type { HttpResult } from '../router.ts';
import { parseJSON } from '../body.ts';
import { queryOptions, type HttpRequest, type RequestConfig } from '../request.ts';

const MESH_GATEWAY_MODES = ['', 'none', 'local', 'remote'];
const fold = (k: string): string => k.toLowerCase().replace(/_/g, '');

/** Handlers for the discovery chain route. */
export function discoveryChainHandlers(chains: DiscoveryChainEndpoint, cfg: RequestConfig) {
  return {
    async read(req: HttpRequest): Promise<HttpResult> {
      const opts = queryOptions(req, cfg, { tenancy: 'namespace-no-wildcard' });
      const name = req.params.rest;
      if (!name) throw new BadRequestError('Missing chain name');
      const overrides: ChainOverrides = { compileDc: req.query.get('compile-dc') ?? '' };
      if (req.method === 'POST') {
        const body = decodeOverrides(parseJSON(await req.body(), 'Request decoding failed'));
        if (!MESH_GATEWAY_MODES.includes(body.overrideMeshGatewayMode ?? '')) {
          return { status: 400, raw: 'Invalid OverrideMeshGateway.Mode parameter', contentType: 'text/plain; charset=utf-8' };
        }
        Object.assign(overrides, body);
      }
      const { value, meta } = await chains.get(name, overrides, opts);
      return { body: { Chain: value }, meta };
    },
  };
}

/** The POST body as Consul's decoder reads it: keys in any case or snake_case, weakly typed values. */
function decodeOverrides(raw: unknown): Omit<ChainOverrides, 'compileDc'> {
  const fail = (msg: string): never => {
    throw new BadRequestError(`Request decoding failed: ${msg}`);
  };
  if (raw === undefined) return fail('EOF');
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return fail(`json: cannot unmarshal ${Array.isArray(raw) ? 'array' : raw === null ? 'null' : typeof raw} into Go value of type map[string]interface {}`);
  }
  const get = (o: object, name: string): unknown => Object.entries(o).find(([k]) => fold(k) === fold(name))?.[1];
  const out: Omit<ChainOverrides, 'compileDc'> = {};
  // mapstructure's weak decoding into a string: numbers as text, booleans as 1/0, no objects or lists.
  const weakString = (v: unknown, name: string): string | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'object') {
      return fail(`1 error(s) decoding:\n\n* '${name}' expected type 'string', got unconvertible type '${Array.isArray(v) ? '[]interface {}' : 'map[string]interface {}'}'`);
    }
    return typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
  };
  const protocol = weakString(get(raw, 'OverrideProtocol'), 'OverrideProtocol');
  if (protocol !== undefined) out.overrideProtocol = protocol;
  const timeout = get(raw, 'OverrideConnectTimeout');
  if (typeof timeout === 'number') out.overrideConnectTimeoutMs = timeout / 1e6;
  else if (typeof timeout === 'string' && timeout !== '') {
    const ms = parseGoDuration(timeout);
    if (ms === null) fail(`1 error(s) decoding:\n\n* error decoding 'OverrideConnectTimeout': ${goDurationError(timeout)}`);
    out.overrideConnectTimeoutMs = ms!;
  }
  const mgw = get(raw, 'OverrideMeshGateway');
  if (mgw && typeof mgw === 'object') {
    const mode = weakString(get(mgw, 'Mode'), 'OverrideMeshGateway.Mode');
    if (mode !== undefined) out.overrideMeshGatewayMode = mode;
  }
  return out;
}
