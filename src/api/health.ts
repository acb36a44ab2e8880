// The health area of the client: /v1/health checks by node, by service and by state, and a
// service's instances with their checks (optionally only passing ones), as Consul's Go client.

import type { ApiResponse, ConsulClient } from './client.ts';
import type { CheckServiceNode, HealthCheck } from './catalog-types.ts';
import { listQuery, type ListOptions } from './catalog.ts';

/** Options of `GET /v1/health/service/:name`. */
export interface HealthServiceOptions extends ListOptions {
  /** Only instances carrying every one of these tags. */
  tags?: string[];
  /** Only instances whose checks all pass. */
  passing?: boolean;
}

/** The check states `/v1/health/state/:state` accepts. */
export type HealthState = 'any' | 'passing' | 'warning' | 'critical';

/** Client for `/v1/health`. */
export class HealthApi {
  readonly #c: ConsulClient;
  constructor(client: ConsulClient) {
    this.#c = client;
  }

  /** The checks of one node. */
  node(node: string, options: ListOptions = {}): Promise<ApiResponse<HealthCheck[]>> {
    return this.#get(`/v1/health/node/${encodeURIComponent(node)}`, listQuery(options), options);
  }

  /** The checks of every instance of one service. */
  checks(service: string, options: ListOptions = {}): Promise<ApiResponse<HealthCheck[]>> {
    return this.#get(`/v1/health/checks/${encodeURIComponent(service)}`, listQuery(options), options);
  }

  /** The instances of one service with their node and checks. */
  service(service: string, options: HealthServiceOptions = {}): Promise<ApiResponse<CheckServiceNode[]>> {
    const query = { ...listQuery(options), tag: options.tags?.length ? options.tags : undefined, passing: options.passing };
    return this.#get(`/v1/health/service/${encodeURIComponent(service)}`, query, options);
  }

  /** Every check in the given state (`any` for all). */
  state(state: HealthState, options: ListOptions = {}): Promise<ApiResponse<HealthCheck[]>> {
    return this.#get(`/v1/health/state/${encodeURIComponent(state)}`, listQuery(options), options);
  }

  async #get<T>(path: string, query: Record<string, string | string[] | boolean | undefined>, options: ListOptions): Promise<ApiResponse<T[]>> {
    const res = await this.#c.json<T[] | null>({ method: 'GET', path, query, options });
    return { data: res.data ?? [], meta: res.meta };
  }
}
