// WAN address translation (Consul's translate_wan_addrs, agent/translate_addr.go): results read
// from another datacenter show a node's `wan`/`wan_ipv4`/`wan_ipv6` tagged address and a
// service's `wan`/`wan_ipv4`/`wan_ipv6` tagged address and port instead of the LAN ones. Callers
// decide whether translation applies; every function here is pure and copies what it changes.
import net from 'node:net';
import type { CheckServiceNode, Node, NodeService, ServiceAddress, ServiceNode } from '../api/catalog-types.ts';

/** Which kinds of address a caller accepts (Consul's TranslateAddressAccept bits). */
export const ACCEPT = { domain: 1, ipv4: 2, ipv6: 4, any: 8 } as const;

/** The accept bits for a DNS question type: A takes IPv4 or a name, AAAA IPv6 or a name, the rest anything. */
export function acceptFor(qtype: string): number {
  if (qtype === 'A') return ACCEPT.domain | ACCEPT.ipv4;
  if (qtype === 'AAAA') return ACCEPT.domain | ACCEPT.ipv6;
  return ACCEPT.domain | ACCEPT.any;
}

/** Picks among the default, IPv4 and IPv6 candidates the first one `accept` allows ('' when none). */
export function pickAddress(accept: number, def: string, v4: string, v6: string): string {
  if (accept & ACCEPT.ipv6 && v6) return v6;
  if (accept & ACCEPT.ipv4 && v4) return v4;
  if (accept & ACCEPT.any && def) return def;
  const family = net.isIP(def);
  if (family === 4 && accept & ACCEPT.ipv4) return def;
  if (family === 6 && accept & ACCEPT.ipv6) return def;
  if (family === 0 && accept & ACCEPT.domain) return def;
  return '';
}

/** A node's address as seen from another datacenter: its WAN tagged addresses win over the LAN ones. */
export function wanNodeAddress(address: string, tagged: Record<string, string> | null | undefined, accept: number): string {
  const t = tagged ?? {};
  const has = (k: string): boolean => Object.hasOwn(t, k);
  return pickAddress(
    accept, has('wan') ? t.wan : address, has('wan_ipv4') ? t.wan_ipv4 : (t.lan_ipv4 ?? ''), has('wan_ipv6') ? t.wan_ipv6 : (t.lan_ipv6 ?? ''),
  );
}

/** A service's address as seen from another datacenter: its WAN tagged addresses win over the LAN ones. */
export function wanServiceAddress(address: string, tagged: Record<string, ServiceAddress> | null | undefined, accept: number): string {
  const t = tagged ?? {};
  const at = (k: string): string | undefined => (Object.hasOwn(t, k) ? (t[k]?.Address ?? '') : undefined);
  return pickAddress(accept, at('wan') ?? address, at('wan_ipv4') ?? at('lan_ipv4') ?? '', at('wan_ipv6') ?? at('lan_ipv6') ?? '');
}

/** A service's port as seen from another datacenter: the `wan` tagged address's port when it has one. */
export function wanServicePort(port: number, tagged: Record<string, ServiceAddress> | null | undefined): number {
  const wan = tagged && Object.hasOwn(tagged, 'wan') ? tagged.wan : undefined;
  return wan && wan.Port ? wan.Port : port;
}

/** A node with its WAN address. */
export function translateNode<T extends Pick<Node, 'Address' | 'TaggedAddresses'>>(n: T, accept: number = ACCEPT.any): T {
  return { ...n, Address: wanNodeAddress(n.Address, n.TaggedAddresses, accept) };
}

/** A service with its WAN address and port. */
export function translateService<T extends Pick<NodeService, 'Address' | 'Port' | 'TaggedAddresses'>>(s: T, accept: number = ACCEPT.any): T {
  return { ...s, Address: wanServiceAddress(s.Address, s.TaggedAddresses, accept), Port: wanServicePort(s.Port, s.TaggedAddresses) };
}

/** A catalog service entry (catalog/service, catalog/connect) with WAN node and service addresses. */
export function translateServiceNode<T extends Pick<ServiceNode, 'Address' | 'TaggedAddresses' | 'ServiceAddress' | 'ServicePort' | 'ServiceTaggedAddresses'>>(
  e: T, accept: number = ACCEPT.any,
): T {
  return {
    ...e,
    Address: wanNodeAddress(e.Address, e.TaggedAddresses, accept),
    ServiceAddress: wanServiceAddress(e.ServiceAddress, e.ServiceTaggedAddresses, accept),
    ServicePort: wanServicePort(e.ServicePort, e.ServiceTaggedAddresses),
  };
}

/** A health entry (health/service, health/connect, query execute) with WAN node and service addresses. */
export function translateCheckServiceNode<T extends Pick<CheckServiceNode, 'Node' | 'Service'>>(e: T, accept: number = ACCEPT.any): T {
  return { ...e, Node: e.Node ? translateNode(e.Node, accept) : e.Node, Service: e.Service ? translateService(e.Service, accept) : e.Service };
}
