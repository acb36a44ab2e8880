// Which extra DNS SANs an agent leaf may carry (the `dns-san` parameter of
// /v1/agent/connect/ca/leaf/<svc>): Consul's agent adds DNS SANs only for its own ingress
// gateways, from the ingress-gateway entry (generateIngressDNSSANs), never from the caller. So a
// name is allowed only for an ingress-gateway service registered on this agent, and only when the
// entry of that gateway lists it as a service's Host or it is one of the `*.ingress.<domain>` /
// `*.ingress.<dc>.<domain>` forms (alt domain too); anything else would let a service:write token
// get a Connect CA certificate that impersonates any host to clients trusting the CA.
import { PermissionDeniedError } from '../errors.ts';
import type { DnsSanCheck } from '../http/v1/agent-connect.ts';
import type { LocalState } from './local/state.ts';
import { DEFAULT_TENANCY_NAME, foldTenancyName, type EnterpriseMeta } from '../state/index.ts';

/** An ingress-gateway entry's parts that name hosts. */
export interface IngressEntryHosts {
  Listeners?: { Services?: { Hosts?: string[] | null }[] | null }[] | null;
}

export interface IngressSanDeps {
  /** Whether `service` is registered on this agent as Kind ingress-gateway (in `ent`: absent, the default tenant). */
  isLocalIngress(service: string, ent?: EnterpriseMeta): boolean;
  /** The ingress-gateway entry named `service` in `ent` (read under the caller's token), or null. */
  entry(service: string, token: string, ent?: EnterpriseMeta): Promise<IngressEntryHosts | null>;
  domain: string;
  altDomain?: string;
  datacenter: string;
}

/** The DNS SANs the ingress-gateway entry allows (Consul's generateIngressDNSSANs, default namespace). */
export function allowedIngressSans(entry: IngressEntryHosts, dns: { domain: string; altDomain?: string; datacenter: string }): Set<string> {
  const out = new Set<string>();
  // A bare '*' Host (allowed without the gateway's TLS) is never a SAN: it would match any single-label name.
  for (const l of entry.Listeners ?? []) for (const s of l.Services ?? []) for (const h of s.Hosts ?? []) if (h !== '*') out.add(h);
  for (const domain of [dns.domain, dns.altDomain]) {
    const d = (domain ?? '').replace(/\.+$/, '');
    if (!d) continue;
    out.add(`*.ingress.${d}`);
    out.add(`*.ingress.${dns.datacenter}.${d}`);
  }
  return out;
}

/** Checks the SANs a caller asks for; throws PermissionDeniedError naming the first refused one. */
export async function checkIngressSans(d: IngressSanDeps, service: string, token: string, sans: readonly string[], ent?: EnterpriseMeta): Promise<void> {
  if (sans.length === 0) return;
  if (!d.isLocalIngress(service, ent)) {
    throw new PermissionDeniedError(`Permission denied: dns-san is only allowed for an ingress-gateway service registered on this agent, not "${service}"`);
  }
  const entry = await d.entry(service, token, ent);
  const allowed = entry ? allowedIngressSans(entry, d) : new Set<string>();
  for (const s of sans) {
    if (!allowed.has(s)) throw new PermissionDeniedError(`Permission denied: DNS SAN "${s}" is not a host of ingress-gateway "${service}"`);
  }
}

/**
 * Whether `service` is registered in this agent's local state as an ingress gateway, in the
 * namespace `ent` names and the agent's own partition (every local service is in it).
 */
export function localIngress(state: Pick<LocalState, 'services'>, agentPartition = DEFAULT_TENANCY_NAME): (service: string, ent?: EnterpriseMeta) => boolean {
  return (service, ent) => {
    const ns = foldTenancyName(ent?.namespace || DEFAULT_TENANCY_NAME);
    if (foldTenancyName(ent?.partition || agentPartition || DEFAULT_TENANCY_NAME) !== foldTenancyName(agentPartition || DEFAULT_TENANCY_NAME)) return false;
    return state.services().some((s) => s.Service === service && s.Kind === 'ingress-gateway' && foldTenancyName(s.Namespace || DEFAULT_TENANCY_NAME) === ns);
  };
}

/** The `dns-san` check of the agent leaf route. */
export function ingressSanCheck(d: IngressSanDeps): DnsSanCheck {
  return (service, token, sans, ent) => checkIngressSans(d, service, token, sans, ent);
}
