// The coordinate area of the client: WAN coordinates per datacenter, LAN coordinates of every
// node or one node, and sending a coordinate update, as Consul's Go client Coordinate().

import type { ApiResponse, CallOptions, ConsulClient, QueryOptions } from './client.ts';
import type { CoordinateDatacenterMap, CoordinateEntry } from './coordinate-types.ts';

/** Client for `/v1/coordinate`. */
export class CoordinateApi {
  readonly #c: ConsulClient;
  constructor(client: ConsulClient) {
    this.#c = client;
  }

  /** The servers of each known datacenter with their WAN coordinates. */
  async datacenters(options?: CallOptions): Promise<CoordinateDatacenterMap[]> {
    return (await this.#c.json<CoordinateDatacenterMap[]>({ method: 'GET', path: '/v1/coordinate/datacenters', options })).data;
  }

  /** Every node's LAN coordinates (one entry per node and segment). */
  nodes(options: QueryOptions = {}): Promise<ApiResponse<CoordinateEntry[]>> {
    return this.#c.json<CoordinateEntry[]>({ method: 'GET', path: '/v1/coordinate/nodes', options });
  }

  /** One node's LAN coordinates; an empty list when it has none (the agent answers 404). */
  async node(node: string, options: QueryOptions = {}): Promise<ApiResponse<CoordinateEntry[]>> {
    const res = await this.#c.request({ method: 'GET', path: `/v1/coordinate/node/${encodeURIComponent(node)}`, options, accept: [404] });
    const data = res.status === 404 ? [] : JSON.parse(res.body.toString('utf8')) as CoordinateEntry[];
    return { data, meta: res.meta };
  }

  /** Sends a node's coordinate; the servers store it with their next batch. */
  async update(entry: CoordinateEntry, options?: CallOptions): Promise<void> {
    await this.#c.request({ method: 'PUT', path: '/v1/coordinate/update', json: entry, options });
  }
}
