// Finding the sidecar proxy registered for a local service (Consul's LookupProxyIDForSidecar):
// exactly one connect-proxy whose Proxy.DestinationServiceID names it.
import type { AgentService, ConsulClient } from '../../api/index.ts';

/** The ID of the one sidecar proxy for `sidecarFor`; throws Consul's texts for none, several or a failed read. */
export async function findSidecarProxy(c: ConsulClient, sidecarFor: string): Promise<string> {
  let services: Record<string, AgentService>;
  try {
    services = (await c.agent.services()).data;
  } catch (err) {
    throw new Error(`Failed looking up sidecar proxy info for ${sidecarFor}: ${(err as Error).message}`);
  }
  const wanted = sidecarFor.toLowerCase();
  const ids = Object.values(services)
    .filter((s) => s.Kind === 'connect-proxy' && s.Proxy && String((s.Proxy as { DestinationServiceID?: string }).DestinationServiceID ?? '').toLowerCase() === wanted)
    .map((s) => s.ID);
  if (ids.length === 0) throw new Error(`No sidecar proxy registered for ${sidecarFor}`);
  if (ids.length > 1) {
    throw new Error(`More than one sidecar proxy registered for ${sidecarFor}.\n    Start proxy with -proxy-id and one of the following IDs: ${ids.join(', ')}`);
  }
  return ids[0];
}
