// Where mesh gateways and a mesh gateway's local services are reached (what Consul's xDS gives a
// mesh gateway's and an upstream's clusters): the passing mesh-gateway instances of a datacenter
// at their LAN or WAN address, and a local service's passing mesh-capable instances.
import type { ConsulClient } from '../../api/index.ts';
import { healthConnect } from '../proxy/agent-calls.ts';

/** An address to dial. */
export interface Endpoint {
  host: string;
  port: number;
}

/** One entry of /v1/health/service/<gateway>, the fields read. */
interface GatewayEntry {
  Node: { Address: string; TaggedAddresses?: Record<string, string> | null };
  Service: { Kind?: string; Address: string; Port: number; TaggedAddresses?: Record<string, { Address: string; Port: number }> | null };
}

/**
 * The address of one gateway instance as seen from the local datacenter (`lan`) or from another
 * (`wan`): Consul's GatewayServiceAddress rules, the tagged address if set, else the service's
 * (and the node's) address.
 */
export function gatewayAddress(e: GatewayEntry, which: 'lan' | 'wan'): Endpoint {
  const tagged = e.Service.TaggedAddresses?.[which];
  if (tagged?.Address) return { host: tagged.Address, port: tagged.Port || e.Service.Port };
  const nodeTagged = which === 'wan' ? e.Node.TaggedAddresses?.wan : undefined;
  return { host: e.Service.Address || nodeTagged || e.Node.Address, port: e.Service.Port };
}

/** The passing mesh gateways of `dc` ('' for the agent's own), at their `which` address. */
export async function meshGateways(c: ConsulClient, dc: string, which: 'lan' | 'wan', signal?: AbortSignal): Promise<Endpoint[]> {
  const options = { signal, ...(dc ? { datacenter: dc } : {}) };
  const names = await c.json<Record<string, string[]> | null>({
    method: 'GET', path: '/v1/catalog/services', query: { filter: 'ServiceKind == "mesh-gateway"' }, options,
  });
  const out: Endpoint[] = [];
  for (const name of Object.keys(names.data ?? {}).sort()) {
    const res = await c.json<GatewayEntry[] | null>({ method: 'GET', path: `/v1/health/service/${encodeURIComponent(name)}`, query: { passing: true }, options });
    for (const e of res.data ?? []) if (e.Service.Kind === 'mesh-gateway') out.push(gatewayAddress(e, which));
  }
  return out;
}

/** The passing mesh-capable instances (sidecars, native services) of a local service. */
export async function localServiceEndpoints(c: ConsulClient, service: string, signal?: AbortSignal): Promise<Endpoint[]> {
  return (await healthConnect(c, service, '', signal)).map((e) => ({ host: e.Service.Address || e.Node.Address, port: e.Service.Port }));
}

/**
 * The passing mesh-capable instances of a subset of a local service (its service-resolver's
 * `Subsets[subset].Filter`); null when the resolver defines no such subset (Consul has no cluster
 * for it).
 */
export async function localSubsetEndpoints(c: ConsulClient, service: string, subset: string, signal?: AbortSignal): Promise<Endpoint[] | null> {
  const res = await c.request({ method: 'GET', path: `/v1/config/service-resolver/${encodeURIComponent(service)}`, accept: [404], options: { signal } });
  if (res.status === 404) return null;
  const entry = JSON.parse(res.body.toString('utf8')) as { Subsets?: Record<string, { Filter?: string }> };
  const def = Object.entries(entry.Subsets ?? {}).find(([name]) => name.toLowerCase() === subset.toLowerCase())?.[1];
  if (!def) return null;
  const found = await c.json<{ Node: { Address: string }; Service: { Address: string; Port: number } }[] | null>({
    method: 'GET', path: `/v1/health/connect/${encodeURIComponent(service)}`, query: { passing: true, ...(def.Filter ? { filter: def.Filter } : {}) }, options: { signal },
  });
  return (found.data ?? []).map((e) => ({ host: e.Service.Address || e.Node.Address, port: e.Service.Port }));
}
