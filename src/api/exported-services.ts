// The resolved exports (Consul's api.ResolvedExportedService) from /v1/exported-services.

import type { CallOptions, ConsulClient } from './client.ts';

/** Who may consume an exported service; empty lists are left out. */
export interface ResolvedConsumers {
  Peers?: string[];
  Partitions?: string[];
}

/** One exported service and its consumers, wildcards and sameness groups expanded. */
export interface ResolvedExportedService {
  Service: string;
  /** Consul Enterprise: the service's partition and namespace (left out in the default tenant). */
  Partition?: string;
  Namespace?: string;
  Consumers: ResolvedConsumers;
}

/** GET /v1/exported-services. */
export async function exportedServices(c: ConsulClient, options?: CallOptions): Promise<ResolvedExportedService[]> {
  return (await c.json<ResolvedExportedService[]>({ method: 'GET', path: '/v1/exported-services', options })).data;
}
