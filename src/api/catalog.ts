// The catalog area of the client: /v1/catalog listings (datacenters, nodes, services, one
// service's instances, one node's services) and register/deregister, as Consul's Go client.

import type { ApiResponse, CallOptions, ConsulClient, QueryOptions } from './client.ts';
import type { DeregisterRequest, Node, NodeService, RegisterRequest, ServiceNode } from './catalog-types.ts';

/** Read options shared by the catalog and health listings (Consul's QueryOptions Near/NodeMeta/Filter). */
export interface ListOptions extends QueryOptions {
  /** Sort by estimated round-trip time from this node (`_agent` for the answering agent). */
  near?: string;
  /** Only nodes carrying all of these metadata pairs. */
  nodeMeta?: Record<string, string>;
  /** A filter expression (`?filter=`). */
  filter?: string;
}

/** Options of `GET /v1/catalog/service/:name`. */
export interface CatalogServiceOptions extends ListOptions {
  /** Only instances carrying every one of these tags. */
  tags?: string[];
}

/** `GET /v1/catalog/node/:node`: the node and its services by ID. */
export interface CatalogNode {
  Node: Node;
  Services: Record<string, NodeService>;
}

/** The query parameters of ListOptions, with node-meta as Consul sends it (`key:value`, repeated). */
export function listQuery(o: ListOptions): Record<string, string | string[] | undefined> {
  const meta = Object.entries(o.nodeMeta ?? {}).map(([k, v]) => `${k}:${v}`);
  return { near: o.near || undefined, filter: o.filter || undefined, 'node-meta': meta.length ? meta : undefined };
}

/** Client for `/v1/catalog`. */
export class CatalogApi {
  readonly #c: ConsulClient;
  constructor(client: ConsulClient) {
    this.#c = client;
  }

  /** Every known datacenter, nearest first. */
  async datacenters(options?: CallOptions): Promise<string[]> {
    return (await this.#c.json<string[]>({ method: 'GET', path: '/v1/catalog/datacenters', options })).data;
  }

  /** The nodes of a datacenter. */
  nodes(options: ListOptions = {}): Promise<ApiResponse<Node[]>> {
    return this.#c.json<Node[]>({ method: 'GET', path: '/v1/catalog/nodes', query: listQuery(options), options });
  }

  /** Service names and the union of their tags. */
  services(options: ListOptions = {}): Promise<ApiResponse<Record<string, string[]>>> {
    return this.#c.json({ method: 'GET', path: '/v1/catalog/services', query: listQuery(options), options });
  }

  /** The instances of one service, node and service flattened. */
  service(name: string, options: CatalogServiceOptions = {}): Promise<ApiResponse<ServiceNode[]>> {
    return this.#c.json<ServiceNode[]>({
      method: 'GET', path: `/v1/catalog/service/${encodeURIComponent(name)}`,
      query: { ...listQuery(options), tag: options.tags?.length ? options.tags : undefined }, options,
    });
  }

  /** One node and its services; null when the node is unknown. */
  node(name: string, options: ListOptions = {}): Promise<ApiResponse<CatalogNode | null>> {
    return this.#c.json<CatalogNode | null>({
      method: 'GET', path: `/v1/catalog/node/${encodeURIComponent(name)}`, query: listQuery(options), options,
    });
  }

  /** Registers a node, optionally with a service and checks. */
  async register(req: RegisterRequest, options?: CallOptions): Promise<ApiResponse<boolean>> {
    return this.#c.json<boolean>({ method: 'PUT', path: '/v1/catalog/register', json: req, options });
  }

  /** Deregisters a node, or one of its services or checks. */
  async deregister(req: DeregisterRequest, options?: CallOptions): Promise<ApiResponse<boolean>> {
    return this.#c.json<boolean>({ method: 'PUT', path: '/v1/catalog/deregister', json: req, options });
  }
}
