// Question-name parsing, as Consul's DNS parses names: the domain (or alt_domain) is trimmed,
// then labels are read right to left until a kind label (service, connect, virtual, ingress,
// node, query, addr) is found; labels left of it name the target, labels right of it the
// locality (`<dc>`, `<dc>.dc`, `<peer>.peer`, `<ns>.ns`, `<ap>.ap`, `<sg>.sg`, `<ns>.<dc>`).
import { NotFoundError } from '../errors.ts';

/** Where a query points: datacenter, peer, namespace, partition, sameness group. */
export interface Locality {
  datacenter: string;
  peer: string;
  /** A lone label: a datacenter (or, for `virtual`, a peer). */
  peerOrDatacenter: string;
  namespace: string;
  partition: string;
  samenessGroup: string;
}

/** A parsed question under the Consul domain. */
export type DnsQuery =
  | { kind: 'service' | 'connect' | 'ingress'; service: string; tag: string; locality: Locality }
  | { kind: 'virtual'; service: string; locality: Locality }
  | { kind: 'node'; node: string; locality: Locality }
  | { kind: 'query'; query: string; locality: Locality }
  | { kind: 'addr'; ip: string; locality: Locality }
  | { kind: 'ptr'; ip: string }
  | { kind: 'apex' };

/** The domain a question matched and what it asks for; `null` when the name is not ours. */
export interface ParsedName {
  /** The domain to answer with: the one the question used; PTR answers use the primary domain. */
  domain: string;
  /** The question name, lower case, fully qualified. */
  name: string;
  /** Null when the question is under our domain but names nothing Consul understands. */
  query: DnsQuery | null;
}

const KINDS = new Set(['service', 'connect', 'virtual', 'ingress', 'node', 'query', 'addr']);

/** Parses a question name; returns null when neither domain nor `arpa.` matches (recursion). */
export function parseName(qname: string, qtype: string, domain: string, altDomain: string): ParsedName | null {
  const name = qname.endsWith('.') ? qname.toLowerCase() : `${qname.toLowerCase()}.`;
  if (name.endsWith('failover.')) return failoverSuffixed(name, domain, altDomain);
  if (name === 'arpa.' || name.endsWith('.arpa.')) return { domain, name, query: parseArpa(name) };
  const [d, alt] = altDomain.length > domain.length ? [altDomain, domain] : [domain, altDomain];
  const matched = [d, alt].find((x) => x && (name === x || name.endsWith(`.${x}`)));
  if (!matched) return null;
  const rest = name.slice(0, name.length - matched.length).replace(/\.$/, '');
  if (rest === '') return { domain: matched, name, query: { kind: 'apex' } };
  return { domain: matched, name, query: parseLabels(rest.split('.'), qtype) };
}

/**
 * Consul's DNS server strips a last `failover` or `no-failover` label before matching its domains
 * (a suffix of its v2 catalog), then finds no name in what is left: such names under our domain (or
 * arpa) are ours, and name nothing (NXDOMAIN; SOA and NS questions are answered for the domain).
 */
function failoverSuffixed(name: string, domain: string, altDomain: string): ParsedName | null {
  const m = /^(.*?)(?:^|\.)(?:no-)?failover\.$/.exec(name);
  const rest = m ? `${m[1]}.` : '';
  if (!m || rest === '.') return null;
  if (rest === 'arpa.' || rest.endsWith('.arpa.')) return { domain, name, query: null };
  const [d, alt] = altDomain.length > domain.length ? [altDomain, domain] : [domain, altDomain];
  const matched = [d, alt].find((x) => x && (rest === x || rest.endsWith(`.${x}`)));
  return matched ? { domain: matched, name, query: null } : null;
}

function parseLabels(labels: string[], qtype: string): DnsQuery | null {
  for (let i = labels.length - 1; i >= 0; i--) {
    const label = labels[i];
    if (KINDS.has(label)) return build(label, labels.slice(0, i), labels.slice(i + 1));
    // For SRV the `service` label is optional: `_web._tcp[.dc].consul`.
    if (qtype === 'SRV' && label.startsWith('_')) return build('service', labels.slice(0, i + 1), labels.slice(i + 1));
  }
  return null;
}

function build(kind: string, parts: string[], suffixes: string[]): DnsQuery | null {
  const locality = parseLocality(suffixes);
  if (!locality || parts.length === 0 || parts.some((p) => p === '')) return null;
  const n = parts.length;
  const rfc2782 = n === 2 && parts[0].startsWith('_') && parts[1].startsWith('_');
  switch (kind) {
    case 'service': {
      if (rfc2782) {
        const tag = parts[1].slice(1);
        return { kind, service: parts[0].slice(1), tag: tag === 'tcp' ? '' : tag, locality };
      }
      // One tag at most: Consul 1.19.1+ refuses more labels (a dotted tag) as a name error (hashicorp/consul#21361).
      return n > 2 ? null : { kind, service: parts[n - 1], tag: n === 2 ? parts[0] : '', locality };
    }
    case 'connect':
    case 'ingress':
      return { kind, service: parts[n - 1], tag: '', locality };
    case 'virtual':
      return { kind, service: parts[n - 1], locality };
    case 'node':
      return { kind, node: parts.join('.'), locality };
    case 'query': {
      // RFC 2782 when the first and last labels start with `_`: the last is the protocol, the others the (dotted) query name.
      const srv = n >= 2 && parts[0].startsWith('_') && parts[n - 1].startsWith('_');
      return { kind, query: srv ? parts.slice(0, n - 1).join('.').slice(1) : parts.join('.'), locality };
    }
    default: {
      const ip = n === 1 ? hexToIp(parts[0]) : null;
      return ip ? { kind: 'addr', ip, locality } : null;
    }
  }
}

/** Consul's locality labels; null when they do not parse (answered NXDOMAIN). */
export function parseLocality(labels: string[]): Locality | null {
  const l: Locality = { datacenter: '', peer: '', peerOrDatacenter: '', namespace: '', partition: '', samenessGroup: '' };
  if (labels.length === 0) return l;
  if (labels.length === 1) return { ...l, peerOrDatacenter: labels[0] };
  if (labels.length % 2 !== 0 || labels.length > 6) return null;
  for (let i = 0; i < labels.length; i += 2) {
    const [value, key] = [labels[i], labels[i + 1]];
    if (key === 'ns') l.namespace = value;
    else if (key === 'ap') l.partition = value;
    else if (key === 'dc' || key === 'cluster') l.datacenter = value;
    else if (key === 'sg') l.samenessGroup = value;
    else if (key === 'peer') l.peer = value;
    else if (labels.length === 2) return { ...l, namespace: value, peerOrDatacenter: key };
    else return null;
  }
  if (l.datacenter && l.peer) return null;
  if (l.samenessGroup && (l.datacenter || l.peer)) return null;
  return l;
}

/**
 * The locality as dns_config.prefer_namespace reads it: a lone label after the kind names a
 * namespace instead of a datacenter (Consul Enterprise's deprecated setting; virtual lookups keep
 * theirs). The legacy `<ns>.<dc>` form already names both and is read as it is.
 */
export function preferringNamespace(l: Locality, prefer: boolean): Locality {
  return prefer && l.peerOrDatacenter && !l.namespace ? { ...l, namespace: l.peerOrDatacenter, peerOrDatacenter: '' } : l;
}

/** 8 hex digits → IPv4, 32 → IPv6; anything else null. */
export function hexToIp(hex: string): string | null {
  if (!/^[0-9a-f]+$/.test(hex)) return null;
  if (hex.length === 8) return [0, 2, 4, 6].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.');
  if (hex.length === 32) return hex.match(/.{4}/g)!.join(':').replace(/(^|:)0{1,3}/g, '$1');
  return null;
}

/** The `<hex>` label of an IP for `<hex>.addr.<dc>.<domain>` SRV targets. */
export function ipToHex(ip: string): string {
  if (!ip.includes(':')) return ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join('');
  return expandV6(ip).replaceAll(':', '');
}

/** Full 8-group lower-case form of an IPv6 address. */
export function expandV6(ip: string): string {
  const [head, tail = ''] = ip.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = ip.includes('::') && tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.map((g) => g.padStart(4, '0')).join(':');
}

function parseArpa(name: string): DnsQuery | null {
  const labels = name.slice(0, -1).split('.');
  const suffix = labels.slice(-2).join('.');
  const rev = labels.slice(0, -2).reverse();
  if (suffix === 'in-addr.arpa' && rev.length === 4 && rev.every((o) => /^\d{1,3}$/.test(o) && Number(o) < 256)) {
    return { kind: 'ptr', ip: rev.map(Number).join('.') };
  }
  if (suffix === 'ip6.arpa' && rev.length === 32 && rev.every((x) => /^[0-9a-f]$/.test(x))) {
    return { kind: 'ptr', ip: hexToIp(rev.join(''))! };
  }
  return null;
}

/** Throws the NXDOMAIN error for a name that does not parse or points nowhere. */
export function nameNotFound(name: string): never {
  throw new NotFoundError(`name not found: ${name}`);
}
