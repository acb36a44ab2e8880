// The agent calls the proxy makes (Consul's api.Agent ConnectCALeaf, ConnectCARoots,
// ConnectAuthorize and api.Health Connect), typed as the agent answers them.
import type { ApiResponse, ConsulClient, QueryOptions } from '../../api/index.ts';
import type { LeafCert } from '../../api/connect-types.ts';

/** GET /v1/agent/connect/ca/leaf/<service>. */
export type { LeafCert } from '../../api/connect-types.ts';

/** One CA root of GET /v1/agent/connect/ca/roots. */
export interface CARootEntry {
  ID: string;
  Name: string;
  RootCert: string;
  IntermediateCerts?: string[] | null;
  Active: boolean;
}

/** GET /v1/agent/connect/ca/roots. */
export interface CARoots {
  ActiveRootID: string;
  TrustDomain: string;
  Roots: CARootEntry[] | null;
}

/** POST /v1/agent/connect/authorize's answer. */
export interface AuthorizeResult {
  Authorized: boolean;
  Reason: string;
}

/** One entry of /v1/health/connect/<service>, the fields the resolver reads. */
export interface ConnectServiceEntry {
  Node: { Node: string; Address: string; Datacenter?: string };
  Service: {
    ID: string; Service: string; Kind?: string; Address: string; Port: number; Namespace?: string; Partition?: string;
    Proxy?: { DestinationServiceName?: string } | null;
    Weights?: { Passing: number; Warning: number } | null;
  };
  /** The instance's checks (node and service); absent in older test doubles. */
  Checks?: { Status: string }[] | null;
}

/** The service's leaf certificate; a blocking read when `options.index` is set. */
export function leaf(c: ConsulClient, service: string, options: QueryOptions = {}): Promise<ApiResponse<LeafCert>> {
  return c.json<LeafCert>({ method: 'GET', path: `/v1/agent/connect/ca/leaf/${encodeURIComponent(service)}`, options });
}

/** The CA roots; a blocking read when `options.index` is set. */
export function roots(c: ConsulClient, options: QueryOptions = {}): Promise<ApiResponse<CARoots>> {
  return c.json<CARoots>({ method: 'GET', path: '/v1/agent/connect/ca/roots', options });
}

/** Asks the agent whether a client certificate may connect to `target`. */
export async function authorize(
  c: ConsulClient, target: string, clientCertURI: string, clientCertSerial: string, signal?: AbortSignal, tenancy: Tenancy = {},
): Promise<AuthorizeResult> {
  const body = { Target: target, ClientCertURI: clientCertURI, ClientCertSerial: clientCertSerial };
  return (await c.json<AuthorizeResult>({ method: 'POST', path: '/v1/agent/connect/authorize', json: body, options: { signal, ...tenancy } })).data;
}

/** The namespace and partition a call names (absent: the client's own, else the default ones). */
export interface Tenancy {
  namespace?: string;
  partition?: string;
}

/** The passing mesh-capable instances of `service` (proxies and native services). */
export async function healthConnect(c: ConsulClient, service: string, datacenter: string, signal?: AbortSignal, tenancy: Tenancy = {}): Promise<ConnectServiceEntry[]> {
  const options: QueryOptions = { signal, ...(datacenter ? { datacenter } : {}), ...tenancy };
  const res = await c.json<ConnectServiceEntry[] | null>({ method: 'GET', path: `/v1/health/connect/${encodeURIComponent(service)}`, query: { passing: true }, options });
  return res.data ?? [];
}

/** The mesh-capable instances a prepared query answers with (`?connect=true`). */
export async function queryConnect(c: ConsulClient, query: string, datacenter: string, signal?: AbortSignal): Promise<{ service: string; entries: ConnectServiceEntry[] }> {
  const options: QueryOptions = { signal, ...(datacenter ? { datacenter } : {}) };
  const res = await c.json<{ Service?: string; Nodes: ConnectServiceEntry[] | null }>({ method: 'GET', path: `/v1/query/${encodeURIComponent(query)}/execute`, query: { connect: true }, options });
  return { service: res.data.Service ?? '', entries: res.data.Nodes ?? [] };
}
