// /v1/peering/* and /v1/peerings (Consul's peering_endpoint.go): decode the bodies with Consul's
// texts for missing fields, call the peering endpoint, return Consul's JSON (`{}` for establish,
// an empty body for delete).
import { BadRequestError } from '../../errors.ts';
import type { PeeringEndpoint } from '../../endpoint/peering.ts';
import type { PeeringEstablishRequest, PeeringGenerateTokenRequest } from '../../api/peering.ts';
import type { HttpResult } from '../router.ts';
import { canonical, parseJSON } from '../body.ts';
import { authzOf, checkTenancy, queryOptions, type HttpRequest, type RequestConfig } from '../request.ts';

const TOKEN_FIELDS = ['PeerName', 'Partition', 'Meta', 'ServerExternalAddresses'];
const ESTABLISH_FIELDS = ['PeerName', 'PeeringToken', 'Partition', 'Meta'];

/** Decodes a body as Consul's lib.DecodeJSON does (an empty body is EOF). */
async function decodeBody(req: HttpRequest, fields: string[]): Promise<Record<string, unknown>> {
  const buf = await req.body();
  if (buf.length === 0) throw new BadRequestError('Body decoding failed: EOF');
  const obj = parseJSON(buf, 'Body decoding failed');
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new BadRequestError('Body decoding failed: json: cannot unmarshal into Go value of type api.PeeringRequest');
  }
  return canonical(obj, fields);
}

function stringMap(v: unknown): Record<string, string> | undefined {
  if (v === null || v === undefined || typeof v !== 'object') return undefined;
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)]));
}

/** CE's EnterpriseCheckPartitions: a body may name only the default partition. */
function checkPartition(body: Record<string, unknown>): void {
  const p = String(body.Partition ?? '');
  if (p !== '' && p.toLowerCase() !== 'default') throw new BadRequestError('Partitions are a Consul Enterprise feature');
}

function peerName(req: HttpRequest): string {
  if (!req.params.rest) throw new BadRequestError('Must specify a name to fetch.');
  return req.params.rest;
}

/** Handlers for the peering routes. */
export function peeringHandlers(peering: PeeringEndpoint, cfg: RequestConfig) {
  return {
    async generateToken(req: HttpRequest): Promise<HttpResult> {
      const body = await decodeBody(req, TOKEN_FIELDS);
      const args: PeeringGenerateTokenRequest = {
        PeerName: String(body.PeerName ?? ''), Meta: stringMap(body.Meta),
        ServerExternalAddresses: Array.isArray(body.ServerExternalAddresses) ? body.ServerExternalAddresses.map(String) : undefined,
      };
      if (!args.PeerName) throw new BadRequestError('PeerName is required in the payload when generating a new peering token.');
      checkTenancy(req);
      checkPartition(body);
      return { body: await peering.generateToken(args, authzOf(req, cfg)) };
    },
    async establish(req: HttpRequest): Promise<HttpResult> {
      const body = await decodeBody(req, ESTABLISH_FIELDS);
      const args: PeeringEstablishRequest = { PeerName: String(body.PeerName ?? ''), PeeringToken: String(body.PeeringToken ?? ''), Meta: stringMap(body.Meta) };
      if (!args.PeerName) throw new BadRequestError('PeerName is required in the payload when establishing a peering.');
      if (!args.PeeringToken) throw new BadRequestError('PeeringToken is required in the payload when establishing a peering.');
      checkTenancy(req);
      checkPartition(body);
      return { body: await peering.establish(args, authzOf(req, cfg)) };
    },
    async read(req: HttpRequest): Promise<HttpResult> {
      const name = peerName(req);
      const { value, meta } = await peering.read(name, queryOptions(req, cfg));
      return { body: value, meta };
    },
    async delete(req: HttpRequest): Promise<HttpResult> {
      const name = peerName(req);
      checkTenancy(req);
      await peering.delete(name, authzOf(req, cfg));
      return { raw: '' };
    },
    async list(req: HttpRequest): Promise<HttpResult> {
      const { value, meta } = await peering.list(queryOptions(req, cfg));
      return { body: value, meta };
    },
  };
}
