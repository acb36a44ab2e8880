// /v1/coordinate/*: the WAN coordinates of each datacenter's servers, every node's LAN
// coordinates (blocking, `?segment=` filter), one node's (404 when it has none), and the
// update agents send. With disable_coordinates every route answers 401 as Consul does.
import type { CoordinateEndpoint, CoordinateUpdate } from '../../endpoint/coordinate.ts';
import type { CoordinateDatacenterMap, CoordinateEntry } from '../../api/coordinate-types.ts';
import { BadRequestError, UnauthorizedError } from '../../errors.ts';
import type { HttpResult } from '../router.ts';
import { canonical, parseJSON } from '../body.ts';
import { refuseUnknownFields } from '../known-fields.ts';
import { COORDINATE_UPDATE } from '../request-fields.ts';
import { authzOf, checkDatacenter, queryOptions, type HttpRequest, type RequestConfig } from '../request.ts';
import type { QueryOptions } from '../../endpoint/index.ts';
import { DEFAULT_TENANCY_NAME } from '../../state/index.ts';

const PARTITION = { tenancy: 'partition' } as const;

/** What the coordinate routes need. */
export interface CoordinateHandlerDeps {
  endpoint: CoordinateEndpoint;
  /** The WAN view: this datacenter's servers and their coordinates (one entry until WAN exists). */
  datacenters: () => CoordinateDatacenterMap[];
  /** Consul's disable_coordinates. */
  disabled: boolean;
  reqCfg: RequestConfig;
}

// Coordinates are partition-level (Consul Enterprise's parseEntMetaPartition): `?partition=` is read and
// the namespace is not; the endpoint reads that partition's. Entries of another partition than
// default, or of a request naming the partition, carry Consul Enterprise's Partition field (after Segment).
function inPartition(opts: QueryOptions, entries: CoordinateEntry[]): CoordinateEntry[] {
  const ap = opts.ent?.partition.toLowerCase() ?? DEFAULT_TENANCY_NAME;
  if (ap === DEFAULT_TENANCY_NAME && !opts.entNamed) return entries;
  return entries.map((e) => ({ Node: e.Node, Segment: e.Segment, Partition: ap, Coord: e.Coord }));
}

// Consul filters by segment only when the parameter is present (`?segment=` selects '').
function bySegment(req: HttpRequest, entries: CoordinateEntry[]): CoordinateEntry[] {
  if (!req.query.has('segment')) return entries;
  const segment = req.query.get('segment') ?? '';
  return entries.filter((e) => e.Segment === segment);
}

function decodeUpdate(body: Buffer): CoordinateUpdate {
  const raw = parseJSON(body);
  if (raw !== undefined && (raw === null || typeof raw !== 'object' || Array.isArray(raw))) {
    throw new BadRequestError('Request decode failed: body must be an object');
  }
  refuseUnknownFields(raw, COORDINATE_UPDATE);
  const req = canonical(raw ?? {}, ['Node', 'Segment', 'Coord', 'Datacenter', 'Partition']);
  const coord = req.Coord && typeof req.Coord === 'object' ? canonical(req.Coord, ['Vec', 'Error', 'Adjustment', 'Height']) : req.Coord;
  return {
    Node: typeof req.Node === 'string' ? req.Node : '', Segment: typeof req.Segment === 'string' ? req.Segment : '', Coord: coord as CoordinateUpdate['Coord'],
    ...(typeof req.Partition === 'string' && req.Partition !== '' ? { Partition: req.Partition } : {}),
  };
}

/** Handlers for the coordinate routes. */
export function coordinateHandlers(d: CoordinateHandlerDeps) {
  const enabled = () => {
    if (d.disabled) throw new UnauthorizedError('Coordinate support disabled');
  };
  return {
    async datacenters(): Promise<HttpResult> {
      enabled();
      return { body: d.datacenters() };
    },
    async nodes(req: HttpRequest): Promise<HttpResult> {
      enabled();
      const opts = queryOptions(req, d.reqCfg, PARTITION);
      const { value, meta } = await d.endpoint.nodes(opts);
      return { body: inPartition(opts, bySegment(req, value)), meta };
    },
    async node(req: HttpRequest): Promise<HttpResult> {
      enabled();
      const opts = queryOptions(req, d.reqCfg, PARTITION);
      const { value, meta } = await d.endpoint.node(req.params.rest, opts);
      const entries = inPartition(opts, bySegment(req, value));
      return entries.length === 0 ? { status: 404, meta } : { body: entries, meta };
    },
    async update(req: HttpRequest): Promise<HttpResult> {
      enabled();
      const body = decodeUpdate(await req.body());
      checkDatacenter(req, d.reqCfg);
      // The body's Partition, else the request's (`?partition=`, header, the agent's own).
      const ap = body.Partition ?? queryOptions(req, d.reqCfg, PARTITION).ent?.partition;
      d.endpoint.update(ap && ap.toLowerCase() !== DEFAULT_TENANCY_NAME ? { ...body, Partition: ap } : body, authzOf(req, d.reqCfg));
      return {};
    },
  };
}
