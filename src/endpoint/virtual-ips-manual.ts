// Manual virtual IPs (Consul's Internal.AssignManualServiceVIPs, PUT /v1/internal/service-virtual-ip):
// a service that has a VIP row takes the given IPv4 addresses as its manual VIPs, and any other
// service of the partition holding one of them loses it, in one txn.
import { InternalError } from '../errors.ts';
import { goIPString, isGoIPv4 } from '../cidr.ts';
import { vipServiceKey, encodeRecord, foldTenancyName, DEFAULT_ENT, DEFAULT_TENANCY_NAME, type EnterpriseMeta, type ServiceVirtualIPRecord } from '../state/index.ts';
import { pinRecord, commitPlanned, type WritePlan } from './commit.ts';
import { authorize, entContext } from './acl-enforce.ts';
import type { AclIdentity } from './acl-resolver.ts';
import type { EndpointDeps } from './deps.ts';

/** A service name with its tenancy and peer, as Consul's PeeredServiceName answers it. */
export interface PeeredServiceName {
  ServiceName: { Name: string; Namespace?: string; Partition?: string };
  Peer: string;
}

/** The answer of a manual VIP assignment (Consul's AssignServiceManualVIPsResponse). */
export interface ManualVIPsResponse {
  Found: boolean;
  UnassignedFrom: PeeredServiceName[] | null;
}

/**
 * Assigns manual VIPs to `service` in `ent` (default/default when absent). Needs mesh:write, as
 * Consul's endpoint checks (consul-k8s grants its injector mesh:write for it); at least one
 * address, each IPv4 (or IPv4-mapped IPv6). Found is false, and nothing changes, when the service has
 * no VIP row (no mesh instance or routing entry ever gave it one).
 */
export function assignManualVIPs(
  deps: EndpointDeps, authz: AclIdentity | undefined, ent: EnterpriseMeta | undefined, service: string, ips: string[],
): Promise<ManualVIPsResponse> {
  const e = ent ?? DEFAULT_ENT;
  authorize(authz, 'meshWrite', '', entContext(ent));
  if (ips.length === 0) throw new InternalError('must provide at least one manual virtual IP');
  // Consul checks net.ParseIP(ip).To4(), which takes an IPv4-mapped IPv6 address too (the text is stored as given),
  // and names the parsed address in its error: "<nil>" for text that is no address.
  for (const ip of ips) if (!isGoIPv4(ip)) throw new InternalError(`${JSON.stringify(goIPString(ip))} is not a valid IPv4 address`);
  // Duplicates are dropped silently, as Consul's endpoint does (it keeps a set; here the first spelling's order).
  ips = [...new Set(ips)];
  return commitPlanned<ManualVIPsResponse>(deps, () => {
    const plan: WritePlan = { compares: [], ops: [] };
    const own = deps.replica.virtualIPs.service(e, service);
    if (!own) return { answer: { Found: false, UnassignedFrom: null } };
    const unassigned = planUnassign(deps, plan, e, service, new Set(ips));
    const key = vipServiceKey(e, service);
    plan.compares.push(pinRecord(key, own));
    plan.ops.push({ type: 'put', key, value: encodeRecord(row(own, ips)) });
    // Consul's list of the services that lost an address is a nil slice when none did: null.
    const answer: ManualVIPsResponse = { Found: true, UnassignedFrom: unassigned.length > 0 ? unassigned : null };
    return { txn: { compares: plan.compares, success: plan.ops }, done: () => answer };
  });
}

/** Removes `ips` from the manual VIPs of the partition's other services; returns those it changed. */
function planUnassign(deps: EndpointDeps, plan: WritePlan, e: EnterpriseMeta, service: string, ips: Set<string>): PeeredServiceName[] {
  const t = deps.replica.virtualIPs;
  const changed = new Map<string, ServiceVirtualIPRecord & { ModifyIndex: number }>();
  for (const ip of ips) {
    for (const r of t.withManualIP(e.partition, ip)) {
      const same = r.Service.toLowerCase() === service.toLowerCase() && foldTenancyName(r.Namespace) === foldTenancyName(e.namespace);
      if (!same) changed.set(vipServiceKey({ partition: r.Partition, namespace: r.Namespace }, r.Service), r);
    }
  }
  const out: PeeredServiceName[] = [];
  for (const [key, r] of changed) {
    const kept = (r.ManualIPs ?? []).filter((ip) => !ips.has(ip));
    plan.compares.push(pinRecord(key, r));
    plan.ops.push({ type: 'put', key, value: encodeRecord(row(r, kept.length > 0 ? kept : null)) });
    out.push({ ServiceName: serviceName(r), Peer: '' });
  }
  return out;
}

/** The row as stored with new manual VIPs. */
function row(r: ServiceVirtualIPRecord, manual: string[] | null): ServiceVirtualIPRecord {
  return { Service: r.Service, Namespace: r.Namespace, Partition: r.Partition, Offset: r.Offset, ManualIPs: manual };
}

/** A row's service name as Consul answers it: tenancy fields only outside the default ones. */
function serviceName(r: ServiceVirtualIPRecord): PeeredServiceName['ServiceName'] {
  const deflt = foldTenancyName(r.Namespace) === DEFAULT_TENANCY_NAME && foldTenancyName(r.Partition) === DEFAULT_TENANCY_NAME;
  return deflt ? { Name: r.Service } : { Name: r.Service, Namespace: r.Namespace, Partition: r.Partition };
}
