// The local agent's services and checks: /v1/agent/services, /v1/agent/checks, service
// register/deregister and node/service maintenance, with Consul's Go client's wire names.

import type { ApiResponse, CallOptions, ConsulClient, QueryOptions } from './client.ts';
import type { HealthCheckDefinition, Locality, NodeService, ServiceAddress, Weights } from './catalog-types.ts';

/**
 * A service as the local agent holds it (Consul's api.AgentService): the catalog's NodeService
 * with the indexes optional, non-null tagged addresses and the agent's ContentHash.
 */
export interface AgentService extends Omit<NodeService, 'TaggedAddresses' | 'CreateIndex' | 'ModifyIndex'> {
  TaggedAddresses?: Record<string, ServiceAddress>;
  CreateIndex?: number;
  ModifyIndex?: number;
  ContentHash?: string;
}

/** A check as the local agent holds it (Consul's api.AgentCheck). */
export interface AgentCheck {
  Node: string;
  CheckID: string;
  Name: string;
  Status: string;
  Notes: string;
  Output: string;
  ServiceID: string;
  ServiceName: string;
  Type: string;
  Interval?: string;
  Timeout?: string;
  ExposedPort?: number;
  Definition?: HealthCheckDefinition;
  Namespace?: string;
  Partition?: string;
}

/** A check inside a service registration (Consul's api.AgentServiceCheck); script args go as `ScriptArgs`. */
export interface AgentServiceCheck {
  CheckID?: string;
  Name?: string;
  ScriptArgs?: string[];
  Interval?: string;
  Timeout?: string;
  TTL?: string;
  HTTP?: string;
  TCP?: string;
  GRPC?: string;
  Status?: string;
  Notes?: string;
  DeregisterCriticalServiceAfter?: string;
  [field: string]: unknown;
}

/** The body of `PUT /v1/agent/service/register` (Consul's api.AgentServiceRegistration). */
export interface AgentServiceRegistration {
  Kind?: string;
  ID?: string;
  Name?: string;
  Tags?: string[];
  Port?: number;
  Address?: string;
  SocketPath?: string;
  TaggedAddresses?: Record<string, ServiceAddress>;
  EnableTagOverride?: boolean;
  Meta?: Record<string, string>;
  Weights?: Weights;
  Check?: AgentServiceCheck;
  Checks?: AgentServiceCheck[];
  Proxy?: Record<string, unknown>;
  Connect?: Record<string, unknown>;
  /** Where the service runs; without one the agent's locality applies. */
  Locality?: Locality;
  Namespace?: string;
  Partition?: string;
  [field: string]: unknown;
}

/** Client for the local agent's service and check calls; AgentApi inherits these. */
export class AgentServicesApi {
  readonly #c: ConsulClient;
  constructor(client: ConsulClient) {
    this.#c = client;
  }

  /** The services registered with this agent, by ID. */
  async services(options: QueryOptions & { filter?: string } = {}): Promise<ApiResponse<Record<string, AgentService>>> {
    return this.#c.json({ method: 'GET', path: '/v1/agent/services', query: { filter: options.filter || undefined }, options });
  }

  /** One local service; null when the agent does not have it. */
  async service(id: string, options?: QueryOptions): Promise<ApiResponse<AgentService | null>> {
    const res = await this.#c.request({ method: 'GET', path: `/v1/agent/service/${encodeURIComponent(id)}`, accept: [404], options });
    return { data: res.status === 404 ? null : (JSON.parse(res.body.toString('utf8')) as AgentService), meta: res.meta };
  }

  /** The checks registered with this agent, by check ID. */
  async checks(options: QueryOptions & { filter?: string } = {}): Promise<ApiResponse<Record<string, AgentCheck>>> {
    return this.#c.json({ method: 'GET', path: '/v1/agent/checks', query: { filter: options.filter || undefined }, options });
  }

  /** Registers (or replaces) a service with this agent. */
  async serviceRegister(reg: AgentServiceRegistration, options: CallOptions & { replaceExistingChecks?: boolean } = {}): Promise<void> {
    const query = { 'replace-existing-checks': options.replaceExistingChecks ? 'true' : undefined };
    await this.#c.request({ method: 'PUT', path: '/v1/agent/service/register', query, json: reg, options });
  }

  /** Removes a service (and its checks) from this agent. */
  async serviceDeregister(id: string, options?: CallOptions): Promise<void> {
    await this.#c.request({ method: 'PUT', path: `/v1/agent/service/deregister/${encodeURIComponent(id)}`, options });
  }

  /** Puts one service into maintenance (a critical `_service_maintenance:<id>` check). */
  async enableServiceMaintenance(id: string, reason: string, options?: CallOptions): Promise<void> {
    await this.#maintenance(`/v1/agent/service/maintenance/${encodeURIComponent(id)}`, { enable: 'true', reason }, options);
  }

  /** Takes one service out of maintenance. */
  async disableServiceMaintenance(id: string, options?: CallOptions): Promise<void> {
    await this.#maintenance(`/v1/agent/service/maintenance/${encodeURIComponent(id)}`, { enable: 'false' }, options);
  }

  /** Puts the whole node into maintenance (a critical `_node_maintenance` check). */
  async enableNodeMaintenance(reason: string, options?: CallOptions): Promise<void> {
    await this.#maintenance('/v1/agent/maintenance', { enable: 'true', reason }, options);
  }

  /** Takes the node out of maintenance. */
  async disableNodeMaintenance(options?: CallOptions): Promise<void> {
    await this.#maintenance('/v1/agent/maintenance', { enable: 'false' }, options);
  }

  /** The agent's node name, from /v1/agent/self (Go's Agent.NodeName). */
  async nodeName(options?: CallOptions): Promise<string> {
    const { data } = await this.#c.json<{ Config?: { NodeName?: string } }>({ method: 'GET', path: '/v1/agent/self', options });
    return data.Config?.NodeName ?? '';
  }

  async #maintenance(path: string, query: Record<string, string>, options?: CallOptions): Promise<void> {
    await this.#c.request({ method: 'PUT', path, query, options });
  }
}
