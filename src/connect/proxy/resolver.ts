// Where an upstream connection goes (Consul's connect.ConsulResolver): a random passing
// mesh-capable instance of the destination service or prepared query's answer, and the SPIFFE ID its certificate must carry.
import type { ConsulClient } from '../../api/index.ts';
import { serviceUri } from '../spiffe.ts';
import { meshGateways } from '../gateway/mesh-endpoints.ts';
import { healthConnect, queryConnect, type ConnectServiceEntry } from './agent-calls.ts';
import { tenancyOptions, type UpstreamConfig } from './config.ts';
import type { DialTarget } from './service.ts';

/** Resolves one upstream to a dial target; `trustDomain` and `localDc` come from the roots and the leaf. */
export async function resolveUpstream(
  c: ConsulClient, u: UpstreamConfig, trustDomain: string, localDc: string, random: () => number = Math.random, signal?: AbortSignal,
  proxyTenancy: { namespace?: string; partition?: string } = {},
): Promise<DialTarget> {
  const via = gatewayMode(u, localDc);
  if (via) return viaMeshGateway(c, u, via, trustDomain, random, signal);
  // A terminating gateway in the answer stands in for the service asked for: the upstream's, or the prepared query's.
  const { service, entries } = u.DestinationType === 'prepared_query'
    ? await queryConnect(c, u.DestinationName, u.Datacenter, signal)
    : { service: u.DestinationName, entries: await healthConnect(c, u.DestinationName, u.Datacenter, signal, upstreamTenancy(u, proxyTenancy)) };
  if (entries.length === 0) throw new Error('no healthy instances found');
  return dialTargetOf(entries[Math.floor(random() * entries.length)], trustDomain, u.Datacenter || localDc, service || undefined);
}

/**
 * Where to dial one mesh-capable instance and the SPIFFE ID it must present: a proxy's
 * destination service (or a native service itself) in the instance's datacenter (else `dc`). A
 * terminating gateway stands in for `requested`, the service it links: it presents that service's
 * identity and picks it by the SNI (`<service>.<namespace>.<dc>.internal.<trust domain>`), which
 * every dial sends as Envoy's upstream clusters do.
 */
export function dialTargetOf(e: ConnectServiceEntry, trustDomain: string, dc: string, requested?: string): DialTarget {
  const service = e.Service.Kind === 'connect-proxy' ? (e.Service.Proxy?.DestinationServiceName || e.Service.Service)
    : e.Service.Kind === 'terminating-gateway' && requested ? requested : e.Service.Service;
  const namespace = e.Service.Namespace || 'default';
  const datacenter = e.Node.Datacenter || dc;
  // The instance's partition (Consul's ConsulResolver: svc.Service.PartitionOrDefault()); the SPIFFE ID names only another one.
  const partition = e.Service.Partition && e.Service.Partition !== 'default' ? { partition: e.Service.Partition } : {};
  return {
    host: e.Service.Address || e.Node.Address,
    port: e.Service.Port,
    certUri: serviceUri({ host: trustDomain, ...partition, namespace, datacenter, service }),
    ...(trustDomain ? { sni: serviceSni(service, namespace, datacenter, trustDomain, e.Service.Partition) } : {}),
  };
}

/**
 * A mesh service's SNI (Consul's connect.ServiceSNI without a subset):
 * `<svc>.<ns>.<dc>.internal.<td>`, or `<svc>.<ns>.<ap>.<dc>.internal-v1.<td>` in another partition.
 */
export function serviceSni(service: string, namespace: string, datacenter: string, trustDomain: string, partition?: string): string {
  if (partition && partition !== 'default') return `${service}.${namespace || 'default'}.${partition}.${datacenter}.internal-v1.${trustDomain}`;
  return `${service}.${namespace || 'default'}.${datacenter}.internal.${trustDomain}`;
}

/**
 * The mesh gateway a service upstream's target is reached through: `local` or `remote` for a
 * target in another datacenter (Consul routes a target of its own datacenter directly whatever
 * the mode); null to dial the instances directly.
 */
export function gatewayMode(u: UpstreamConfig, localDc: string): 'local' | 'remote' | null {
  if (u.DestinationType !== 'service' || !u.Datacenter || !localDc || u.Datacenter === localDc) return null;
  return u.MeshGatewayMode === 'local' || u.MeshGatewayMode === 'remote' ? u.MeshGatewayMode : null;
}

/**
 * A dial to a mesh gateway (this datacenter's at its LAN address, or the target datacenter's at
 * its WAN address) that names the target service by SNI and still verifies the target's SPIFFE
 * ID: the gateways splice TLS without terminating it.
 */
async function viaMeshGateway(
  c: ConsulClient, u: UpstreamConfig, mode: 'local' | 'remote', trustDomain: string, random: () => number, signal?: AbortSignal,
): Promise<DialTarget> {
  const gateways = mode === 'local' ? await meshGateways(c, '', 'lan', signal) : await meshGateways(c, u.Datacenter, 'wan', signal);
  if (gateways.length === 0) throw new Error(`no healthy ${mode === 'local' ? 'local' : u.Datacenter} mesh gateways found`);
  const gw = gateways[Math.floor(random() * gateways.length)];
  const namespace = u.DestinationNamespace || 'default';
  return {
    host: gw.host, port: gw.port,
    certUri: serviceUri({ host: trustDomain, namespace, datacenter: u.Datacenter, service: u.DestinationName }),
    ...(trustDomain ? { sni: serviceSni(u.DestinationName, namespace, u.Datacenter, trustDomain) } : {}),
  };
}

/**
 * The options naming a service upstream's namespace in the proxy's partition: none when both are
 * the default ones and the proxy names no tenant of its own (a default proxy's reads stay as they were).
 */
export function upstreamTenancy(u: UpstreamConfig, proxyTenancy: { namespace?: string; partition?: string }): { namespace?: string; partition?: string } {
  const t = tenancyOptions(u.DestinationNamespace, proxyTenancy.partition);
  return t.namespace || !proxyTenancy.namespace ? t : { namespace: 'default', partition: proxyTenancy.partition || 'default' };
}
