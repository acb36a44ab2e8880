// The usage report (Consul's structs.Usage / api.Usage): service, instance, mesh and node counts
// per datacenter from /v1/operator/usage.

import type { CallOptions, ConsulClient } from './client.ts';

/** The mesh kinds counted in ConnectServiceInstances (Consul's allConnectKind), connect-native last. */
export const CONNECT_USAGE_KINDS = ['connect-proxy', 'ingress-gateway', 'mesh-gateway', 'terminating-gateway', 'api-gateway', 'connect-native'] as const;

/** One datacenter's counts (Consul's ServiceUsage). */
export interface ServiceUsage {
  /** Distinct service names. */
  Services: number;
  ServiceInstances: number;
  /** Instances by mesh kind, every kind present (0 when none). */
  ConnectServiceInstances: Record<string, number>;
  /** Typical and connect-native instances, the `consul` service excluded. */
  BillableServiceInstances: number;
  Nodes: number;
}

/** The body of GET /v1/operator/usage: counts by datacenter with the query meta inline (Consul's structs.Usage). */
export interface UsageReply {
  Usage: Record<string, ServiceUsage>;
  Index: number;
  /** Nanoseconds since the answering server heard from its leader. */
  LastContact: number;
  KnownLeader: boolean;
  ConsistencyLevel: string;
  NotModified: boolean;
  Backend: number;
  ResultsFilteredByACLs: boolean;
}

/** GET /v1/operator/usage; `global` asks every known datacenter. */
export async function operatorUsage(c: ConsulClient, opts: { global?: boolean } = {}, options?: CallOptions): Promise<UsageReply> {
  const query = { global: opts.global ? 'true' : undefined };
  return (await c.json<UsageReply>({ method: 'GET', path: '/v1/operator/usage', query, options })).data;
}
