// Resource-record builders: address records for an IP or hostname, SRV with Consul's weights
// and targets, node-meta TXT (RFC 1464), SOA and NS for the domain.
import net from 'node:net';
import type { Answer } from 'dns-packet';
import type { Node, NodeService } from '../api/catalog-types.ts';
import type { DnsInstance } from '../endpoint/dns-view.ts';
import { serviceTtl, type DnsConfig } from './config.ts';
import { ipToHex } from './name.ts';
import { acceptFor, translateNode, translateService } from '../endpoint/translate-addr.ts';

/** Address records of `address` under `name` for the question type (A, AAAA, CNAME for hostnames). */
export function addressRecords(name: string, address: string, qtype: string, ttl: number): Answer[] {
  const family = net.isIP(address);
  const any = qtype === 'ANY';
  if (family === 4) return any || qtype === 'A' ? [{ type: 'A', name, ttl, data: address }] : [];
  if (family === 6) return any || qtype === 'AAAA' ? [{ type: 'AAAA', name, ttl, data: address }] : [];
  if (!address) return [];
  // A hostname address is answered with a CNAME (Consul then resolves it through its recursors).
  return [{ type: 'CNAME', name, ttl, data: address.replace(/\.$/, '') }];
}

/** The address clients should use for an instance: the service's, else its node's. */
export function instanceAddress(i: DnsInstance): string {
  return i.service.Address || i.node.Address;
}

/** An instance as an agent of another datacenter that translates WAN addresses sees it, for a question of `qtype`. */
export function wanInstance(i: DnsInstance, qtype: string): DnsInstance {
  const accept = acceptFor(qtype);
  return { ...i, node: translateNode(i.node, accept), service: translateService(i.service, accept) };
}

/** SRV weight: Weights.Warning when a check is warning, Weights.Passing otherwise. */
export function srvWeight(i: DnsInstance): number {
  const w = i.service.Weights ?? { Passing: 1, Warning: 1 };
  const v = i.status === 'warning' ? w.Warning : w.Passing;
  return Math.max(0, Math.min(65535, Number.isFinite(v) ? v : 1));
}

/**
 * The SRV target of an instance (for question `qname`) and the additional records that resolve it.
 * A hostname address (the service's, else its node's) is the target itself, resolved by
 * hostnames.ts; its node meta TXT is named as Consul names it: the question for a service hostname,
 * the node's name for a node hostname. A service IP address is targeted as `<hex>.addr`, without a
 * datacenter for a peer's instance (Consul's encodeIPAsFqdn), also when it is its node's address
 * (Consul 1.19.1+ as before 1.19: hashicorp/consul#21325); without one the node's name is, a peer's
 * node by its peer-qualified name.
 */
export function srvTarget(i: DnsInstance, cfg: DnsConfig, domain: string, ttl: number, qname: string): { target: string; extra: Answer[] } {
  const address = i.service.Address || i.node.Address;
  const nodeName = instanceNodeFqdn(i, cfg, domain);
  if (address && !net.isIP(address)) {
    const owner = i.service.Address ? qname : nodeName;
    return { target: address.replace(/\.$/, ''), extra: cfg.nodeMetaTxt ? metaTxt(owner, i.node, ttl) : [] };
  }
  const svcAddr = i.service.Address;
  let target: string;
  let extra: Answer[];
  if (svcAddr) {
    target = `${ipToHex(svcAddr)}.addr.${i.node.PeerName ? '' : `${cfg.datacenter}.`}${domain}`;
    extra = addressRecords(target, svcAddr, 'ANY', ttl);
  } else {
    target = nodeName;
    extra = addressRecords(target, i.node.Address, 'ANY', ttl);
  }
  // Node meta is owned by the node's name, also beside an `.addr` target (Consul's TXT record header).
  if (cfg.nodeMetaTxt) extra.push(...metaTxt(nodeName, i.node, ttl));
  return { target: target.replace(/\.$/, ''), extra };
}

/** `<node>.node.<dc>.<domain>` */
export function nodeFqdn(node: string, cfg: DnsConfig, domain: string): string {
  return `${node}.node.${cfg.datacenter}.${domain}`;
}

/**
 * The name of an instance's node: a peer's is `<node>.node.<peer>.peer.<partition>.ap.<domain>`
 * (the partition of its service, so the name is unambiguous, as Consul's canonical name for a
 * peered node with a partition), any other `<node>.node.<dc>.<domain>`, whatever its partition.
 */
export function instanceNodeFqdn(i: DnsInstance, cfg: DnsConfig, domain: string): string {
  const peer = i.node.PeerName;
  if (!peer) return nodeFqdn(i.node.Node, cfg, domain);
  return `${i.node.Node}.node.${peer}.peer.${i.service.Partition || cfg.partition || 'default'}.ap.${domain}`;
}

/** A peer's instances as imported into `partition` (their services carry the exporter's): what instanceNodeFqdn names them in. */
export function importedInto(found: DnsInstance[], partition: string): DnsInstance[] {
  return found.map((i) => ({ ...i, service: { ...i.service, Partition: partition } }));
}

/** One TXT record per node-meta pair: `key=value` (RFC 1464), value only for `rfc1035-` keys. */
export function metaTxt(name: string, node: Node, ttl: number): Answer[] {
  const meta = node.Meta ?? {};
  return Object.keys(meta).sort().map((k) => ({
    type: 'TXT', name: name.replace(/\.$/, ''), ttl,
    data: k.toLowerCase().startsWith('rfc1035-') ? meta[k] : `${rfc1464Key(k)}=${meta[k].replaceAll('`', '``')}`,
  }));
}

/** Consul's RFC 1464 key quoting: backquotes and `=` quoted, then each leading and each trailing space. */
function rfc1464Key(k: string): string {
  const quoted = k.replace(/[`=]/g, (c) => `\`${c}`).replace(/^ +/, (m) => '` '.repeat(m.length));
  return quoted.replace(/ +$/, (m) => '` '.repeat(m.length));
}

/** The SOA record of a domain; serial is the current Unix time, TTL the SOA minimum. */
export function soaRecord(domain: string, cfg: DnsConfig, nowMs: number): Answer {
  return {
    type: 'SOA', name: domain.replace(/\.$/, ''), ttl: cfg.soa.minTtl,
    data: {
      mname: `ns.${domain}`.replace(/\.$/, ''), rname: `hostmaster.${domain}`.replace(/\.$/, ''),
      serial: Math.floor(nowMs / 1000) >>> 0, refresh: cfg.soa.refresh, retry: cfg.soa.retry,
      expire: cfg.soa.expire, minimum: cfg.soa.minTtl,
    },
  };
}

/**
 * NS records for up to three servers (instances of `consul`), with their glue; their TTL is the
 * `consul` service's (service_ttl, else node_ttl), as Consul answers them from that service.
 */
export function nsRecords(servers: DnsInstance[], domain: string, cfg: DnsConfig): { ns: Answer[]; glue: Answer[] } {
  const ns: Answer[] = [];
  const glue: Answer[] = [];
  const ttl = serviceTtl(cfg, 'consul');
  for (const s of servers.slice(0, 3)) {
    const target = nodeFqdn(s.node.Node, cfg, domain);
    ns.push({ type: 'NS', name: domain.replace(/\.$/, ''), ttl, data: target.replace(/\.$/, '') });
    glue.push(...addressRecords(target.replace(/\.$/, ''), s.node.Address, 'ANY', ttl));
  }
  return { ns, glue };
}

/** Service records of one instance for A/AAAA/ANY/CNAME questions. */
export function serviceAddressRecords(name: string, i: DnsInstance, qtype: string, ttl: number): Answer[] {
  return addressRecords(name, instanceAddress(i), qtype, ttl);
}

/** The record's identity for de-duplication. */
export function recordKey(r: Answer): string {
  return `${r.type}|${r.name}|${JSON.stringify((r as { data?: unknown }).data)}`;
}

/**
 * The service a NodeService is, for PTR answers: `<svc>.service[.<ns>].<dc>.<domain>`, the namespace
 * label for one other than default, as Consul's canonical service name carries a result's namespace
 * (no partition label).
 */
export function serviceFqdn(s: NodeService, cfg: DnsConfig, domain: string): string {
  const ns = s.Namespace && s.Namespace !== 'default' ? `${s.Namespace}.` : '';
  return `${s.Service}.service.${ns}${cfg.datacenter}.${domain}`.replace(/\.$/, '');
}
