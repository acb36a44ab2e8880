// /v1/partition and /v1/partitions (Consul Enterprise's admin partition endpoints): decode the
// body, call the partition endpoint, answer Consul's JSON (an array for the list).
import { BadRequestError } from '../../errors.ts';
import type { PartitionEndpoint, PartitionInput } from '../../endpoint/partitions.ts';
import type { HttpResult } from '../router.ts';
import { canonical, parseJSON } from '../body.ts';
import { goJsonKind } from '../go-json.ts';
import { authzOf, checkDatacenter, queryOptions, type HttpRequest, type RequestConfig } from '../request.ts';
import { checkBodyName, tenancyPathName } from './namespaces.ts';

const FIELDS = ['Name', 'Description', 'DisableGossip', 'DeletedAt', 'CreateIndex', 'ModifyIndex'];

/** Decodes a partition body (Consul's api.Partition). */
export function decodePartition(raw: unknown): PartitionInput {
  if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new BadRequestError(`Request decode failed: json: cannot unmarshal ${Array.isArray(raw) ? 'array' : typeof raw} into Go value of type api.Partition`);
  }
  const b = canonical(raw, FIELDS);
  const s = (v: unknown, field: string): string => {
    if (v === undefined || v === null) return '';
    if (typeof v !== 'string') throw new BadRequestError(`Request decode failed: json: cannot unmarshal ${goJsonKind(v)} into Go struct field Partition.${field} of type string`);
    return v;
  };
  if (b.DisableGossip !== undefined && b.DisableGossip !== null && typeof b.DisableGossip !== 'boolean') {
    throw new BadRequestError(`Request decode failed: json: cannot unmarshal ${goJsonKind(b.DisableGossip)} into Go struct field Partition.DisableGossip of type bool`);
  }
  return { Name: s(b.Name, 'Name'), Description: s(b.Description, 'Description'), ...(b.DisableGossip ? { DisableGossip: true } : {}) };
}

const pathName = (req: HttpRequest): string => tenancyPathName(req, 'partition');

/** Handlers for the partition routes. */
export function partitionHandlers(partitions: PartitionEndpoint, cfg: RequestConfig) {
  const write = async (req: HttpRequest, named?: string): Promise<HttpResult> => {
    checkDatacenter(req, cfg);
    const body = decodePartition(parseJSON(await req.body()));
    checkBodyName(body, named, 'Partition');
    return { body: await partitions.upsert(body, authzOf(req, cfg)) };
  };
  return {
    create: (req: HttpRequest) => write(req),
    update: (req: HttpRequest) => write(req, pathName(req)),
    async read(req: HttpRequest): Promise<HttpResult> {
      const name = pathName(req);
      const { value, meta } = await partitions.read(name, queryOptions(req, cfg, { tenancy: false }));
      return value ? { body: value, meta } : { status: 404, raw: '', meta };
    },
    async delete(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      await partitions.delete(pathName(req), authzOf(req, cfg));
      // Consul Enterprise answers a delete with no data, only the status.
      return { raw: '' };
    },
    async list(req: HttpRequest): Promise<HttpResult> {
      const { value, meta } = await partitions.list(queryOptions(req, cfg, { tenancy: false }));
      return { body: value, meta };
    },
  };
}
