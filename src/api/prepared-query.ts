// The prepared query area of the client: /v1/query create/update/list/get/delete/execute/explain
// as Consul's api.PreparedQuery does them.

import type { ApiResponse, CallOptions, ConsulClient, QueryOptions } from './client.ts';
import type { PreparedQueryExecuteResponse, PreparedQueryRecord } from './prepared-query-types.ts';

/** A prepared query definition to create or update; omitted parts take Consul's zero values. */
export type PreparedQueryDefinition = Partial<Omit<PreparedQueryRecord, 'Service'>> & {
  Service: Partial<PreparedQueryRecord['Service']> & { Service: string };
};

/** A stored prepared query with its indexes. */
export type PreparedQueryEntry = PreparedQueryRecord & { CreateIndex: number; ModifyIndex: number };

/** Options of execute: `near` (a node, `_agent` or `_ip`), `limit` and `connect`. */
export interface ExecuteOptions extends QueryOptions {
  near?: string;
  limit?: number;
  connect?: boolean;
}

/** Client for `/v1/query`. */
export class PreparedQueryApi {
  readonly #c: ConsulClient;
  constructor(client: ConsulClient) {
    this.#c = client;
  }

  /** Creates a query; answers its ID. */
  async create(query: PreparedQueryDefinition, options?: CallOptions): Promise<ApiResponse<string>> {
    const res = await this.#c.json<{ ID: string }>({ method: 'POST', path: '/v1/query', json: query, options });
    return { data: res.data.ID, meta: res.meta };
  }

  /** Replaces the query with `query.ID`. */
  async update(query: PreparedQueryDefinition & { ID: string }, options?: CallOptions): Promise<void> {
    await this.#c.request({ method: 'PUT', path: `/v1/query/${encodeURIComponent(query.ID)}`, json: query, options });
  }

  /** Every query the token may read. */
  async list(options: QueryOptions = {}): Promise<ApiResponse<PreparedQueryEntry[]>> {
    const res = await this.#c.json<PreparedQueryEntry[] | null>({ method: 'GET', path: '/v1/query', options });
    return { data: res.data ?? [], meta: res.meta };
  }

  /** One query by ID (a one-element list, as Consul answers). */
  get(id: string, options: QueryOptions = {}): Promise<ApiResponse<PreparedQueryEntry[]>> {
    return this.#c.json<PreparedQueryEntry[]>({ method: 'GET', path: `/v1/query/${encodeURIComponent(id)}`, options });
  }

  /** Deletes a query. */
  async delete(id: string, options?: CallOptions): Promise<void> {
    await this.#c.request({ method: 'DELETE', path: `/v1/query/${encodeURIComponent(id)}`, options });
  }

  /** Runs a query by ID or name (templates by name). */
  execute(idOrName: string, options: ExecuteOptions = {}): Promise<ApiResponse<PreparedQueryExecuteResponse>> {
    const query = { near: options.near, limit: options.limit ? String(options.limit) : undefined, connect: options.connect || undefined };
    return this.#c.json<PreparedQueryExecuteResponse>({ method: 'GET', path: `/v1/query/${encodeURIComponent(idOrName)}/execute`, query, options });
  }

  /** The query a name resolves to, templates rendered. */
  async explain(idOrName: string, options: QueryOptions = {}): Promise<ApiResponse<PreparedQueryRecord>> {
    const res = await this.#c.json<{ Query: PreparedQueryRecord }>({ method: 'GET', path: `/v1/query/${encodeURIComponent(idOrName)}/explain`, options });
    return { data: res.data.Query, meta: res.meta };
  }
}
