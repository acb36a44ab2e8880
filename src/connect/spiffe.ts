// The cluster's SPIFFE signing identity: trust domain `<clusterId>.consul` and its URI, which every
// CA certificate carries as its only URI SAN. The `.consul` TLD is fixed, independent of DNS domain.

/** The trust domain host for a cluster, lower-cased (`SpiffeIDSigning.Host`). */
export function trustDomain(clusterId: string): string {
  return `${clusterId}.consul`.toLowerCase();
}

/** The signing SPIFFE URI for a cluster: `spiffe://<clusterId>.consul`. */
export function signingUri(clusterId: string): string {
  return `spiffe://${trustDomain(clusterId)}`;
}

/** An agent's SPIFFE ID (Consul's SpiffeIDAgent in the default partition). */
export interface AgentSpiffeId {
  host: string;
  datacenter: string;
  agent: string;
}

const AGENT_PATH = /^spiffe:\/\/([^/]+)\/agent\/client\/dc\/([^/]+)\/id\/([^/]+)$/;

/** `spiffe://<host>/agent/client/dc/<dc>/id/<node>`. */
export function agentUri(id: AgentSpiffeId): string {
  return `spiffe://${id.host}/agent/client/dc/${id.datacenter}/id/${encodeURIComponent(id.agent)}`;
}

/** Reads an agent SPIFFE ID; null for any other URI. */
export function parseAgentUri(uri: string): AgentSpiffeId | null {
  const m = AGENT_PATH.exec(uri);
  if (!m) return null;
  const [datacenter, agent] = [unescape(m[2]), unescape(m[3])];
  return datacenter === null || agent === null ? null : { host: m[1], datacenter, agent };
}

/** A path segment unescaped; null for a malformed escape (Go's url.PathUnescape fails: not an ID). */
function unescape(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/** A service's SPIFFE ID (Consul's SpiffeIDService). */
export interface ServiceSpiffeId {
  host: string;
  /** The admin partition; absent (or `default`) for the default partition, whose URI names none. */
  partition?: string;
  namespace: string;
  datacenter: string;
  service: string;
}

const SERVICE_PATH = /^spiffe:\/\/([^/]+)(?:\/ap\/([^/]+))?\/ns\/([^/]+)\/dc\/([^/]+)\/svc\/([^/]+)$/;

/**
 * `spiffe://<host>/ns/<ns>/dc/<dc>/svc/<service>`, as Consul's SpiffeIDService.URI writes it;
 * `…/ap/<ap>/ns/…` for a partition other than `default` (uri_service.go uriPath).
 */
export function serviceUri(id: ServiceSpiffeId): string {
  const ap = id.partition && id.partition !== 'default' ? `/ap/${encodeURIComponent(id.partition)}` : '';
  return `spiffe://${id.host}${ap}/ns/${encodeURIComponent(id.namespace)}/dc/${encodeURIComponent(id.datacenter)}/svc/${encodeURIComponent(id.service)}`;
}

/** Reads a service SPIFFE ID (`partition` set only when the URI names one); null for any other URI. */
export function parseServiceUri(uri: string): ServiceSpiffeId | null {
  const m = SERVICE_PATH.exec(uri);
  if (!m) return null;
  const [namespace, datacenter, service] = [unescape(m[3]), unescape(m[4]), unescape(m[5])];
  const partition = m[2] === undefined ? undefined : unescape(m[2]);
  if (namespace === null || datacenter === null || service === null || partition === null) return null;
  const id: ServiceSpiffeId = { host: m[1], namespace, datacenter, service };
  if (partition !== undefined) id.partition = partition;
  return id;
}

/** The partition a service SPIFFE ID names (`default` when none). */
export function spiffePartition(id: ServiceSpiffeId): string {
  return id.partition ?? 'default';
}
