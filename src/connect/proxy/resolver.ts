// Where an upstream connection goes (Consul's connect.ConsulResolver): a random passing
// mesh-capable instance of the destination service or prepared query's answer, and the SPIFFE ID its certificate must carry.
import type { ConsulClient } from '../../api/index.ts';
import { serviceUri } from '../spiffe.ts';
import { healthConnect, queryConnect, type ConnectServiceEntry } from './agent-calls.ts';
import type { UpstreamConfig } from './config.ts';
import type { DialTarget } from './service.ts';

/** Resolves one upstream to a dial target; `trustDomain` and `localDc` come from the roots and the leaf. */
export async function resolveUpstream(
  c: ConsulClient, u: UpstreamConfig, trustDomain: string, localDc: string, random: () => number = Math.random, signal?: AbortSignal,
): Promise<DialTarget> {
  const entries = u.DestinationType === 'prepared_query'
    ? await queryConnect(c, u.DestinationName, u.Datacenter, signal)
    : await healthConnect(c, u.DestinationName, u.Datacenter, signal);
  if (entries.length === 0) throw new Error('no healthy instances found');
  return dialTargetOf(entries[Math.floor(random() * entries.length)], trustDomain, u.Datacenter || localDc);
}

/**
 * Where to dial one mesh-capable instance and the SPIFFE ID it must present: a proxy's
 * destination service (or a native service itself) in the instance's datacenter (else `dc`).
 */
export function dialTargetOf(e: ConnectServiceEntry, trustDomain: string, dc: string): DialTarget {
  const service = e.Service.Kind === 'connect-proxy' ? (e.Service.Proxy?.DestinationServiceName || e.Service.Service) : e.Service.Service;
  return {
    host: e.Service.Address || e.Node.Address,
    port: e.Service.Port,
    certUri: serviceUri({ host: trustDomain, namespace: e.Service.Namespace || 'default', datacenter: e.Node.Datacenter || dc, service }),
  };
}
