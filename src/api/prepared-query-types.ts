// Wire types of the prepared query API with Consul's exact JSON names (structs.PreparedQuery and
// its parts). Shared by the replica table, the endpoint, the HTTP handlers and the API client.
import type { CheckServiceNode } from './catalog-types.ts';

/** A failover target: a datacenter or a cluster peer. */
export interface QueryFailoverTarget {
  Peer: string;
  Datacenter: string;
  /** Consul Enterprise's EnterpriseMeta of the target (omitted when empty); kept and shown, not used by execution yet. */
  Namespace?: string;
  Partition?: string;
}

/** A prepared query's service part (Consul's structs.ServiceQuery). */
export interface ServiceQuery {
  Service: string;
  SamenessGroup: string;
  Failover: { NearestN: number; Datacenters: string[] | null; Targets: QueryFailoverTarget[] | null };
  OnlyPassing: boolean;
  IgnoreCheckIDs: string[] | null;
  Near: string;
  Tags: string[] | null;
  NodeMeta: Record<string, string> | null;
  ServiceMeta: Record<string, string> | null;
  Connect: boolean;
  Peer: string;
  /** The namespace the query reads (Consul Enterprise); absent: default (or the request's). */
  Namespace?: string;
  /** The admin partition the query reads (Consul Enterprise); absent: default. */
  Partition?: string;
}

/** A prepared query as stored (Consul's structs.PreparedQuery minus indexes). */
export interface PreparedQueryRecord {
  ID: string;
  Name: string;
  Session: string;
  Token: string;
  Template: { Type: string; Regexp: string; RemoveEmptyTags: boolean };
  Service: ServiceQuery;
  DNS: { TTL: string };
}

/** The answer of `GET /v1/query/:id/execute` (Consul's PreparedQueryExecuteResponse). */
export interface PreparedQueryExecuteResponse {
  Service: string;
  /** The namespace and partition the results come from (Consul Enterprise's EnterpriseMeta; only for a query naming a tenancy). */
  Namespace?: string;
  Partition?: string;
  Nodes: CheckServiceNode[];
  DNS: { TTL: string };
  Datacenter: string;
  PeerName: string;
  Failovers: number;
}
