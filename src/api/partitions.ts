// Admin partition wire types (Consul Enterprise's api.Partition, api/partition.go) shared by the
// endpoint, the HTTP handlers and the CLI, with the client calls.
import type { CallOptions, ConsulClient, QueryOptions } from './client.ts';

/** An admin partition as the API answers it; fields in api.Partition order, all but Name omitted when empty. */
export interface Partition {
  Name: string;
  Description?: string;
  /** RFC 3339 time it was marked for deletion. */
  DeletedAt?: string;
  CreateIndex?: number;
  ModifyIndex?: number;
  DisableGossip?: boolean;
}

/** PUT /v1/partition: creates (or, for an existing name, updates) a partition. */
export async function partitionCreate(c: ConsulClient, p: Partition, options?: CallOptions): Promise<Partition> {
  return (await c.json<Partition>({ method: 'PUT', path: '/v1/partition', json: p, options })).data;
}

/** PUT /v1/partition/:name. */
export async function partitionUpdate(c: ConsulClient, p: Partition, options?: CallOptions): Promise<Partition> {
  return (await c.json<Partition>({ method: 'PUT', path: `/v1/partition/${encodeURIComponent(p.Name)}`, json: p, options })).data;
}

/** GET /v1/partition/:name; null when there is none. */
export async function partitionRead(c: ConsulClient, name: string, options?: QueryOptions): Promise<Partition | null> {
  const res = await c.request({ method: 'GET', path: `/v1/partition/${encodeURIComponent(name)}`, options, accept: [404] });
  return res.status === 404 ? null : (JSON.parse(res.body.toString('utf8')) as Partition);
}

/** GET /v1/partitions. */
export async function partitionList(c: ConsulClient, options?: QueryOptions): Promise<Partition[]> {
  return (await c.json<Partition[] | null>({ method: 'GET', path: '/v1/partitions', options })).data ?? [];
}

/** DELETE /v1/partition/:name. */
export async function partitionDelete(c: ConsulClient, name: string, options?: CallOptions): Promise<void> {
  await c.request({ method: 'DELETE', path: `/v1/partition/${encodeURIComponent(name)}`, options });
}
