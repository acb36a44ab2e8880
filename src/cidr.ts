// Go's net.IPNet.Contains for lists of CIDRs, as Consul applies them to client addresses
// (http_config.allow_write_http_from) and memberlist to gossip peers (serf_*_allowed_cidrs).
// An IPv4 address, in either form (1.2.3.4 or ::ffff:1.2.3.4), matches IPv4 networks and
// IPv4-mapped ones written in IPv6 notation (::ffff:10.0.0.0/104 is 10.0.0.0/8); other IPv6
// networks, ::/0 included, match only IPv6 addresses. Node's BlockList differs here: it lets ::/0
// match every IPv4 address.
import { isIPv4, isIPv6 } from 'node:net';

interface Net {
  /** The network number: 4 bytes for an IPv4 (or IPv4-mapped) network, else 16. */
  ip: Uint8Array;
  mask: Uint8Array;
}

/** 4 bytes for IPv4 text, 16 for IPv6 text (a trailing dotted quad allowed), null otherwise (zones too, as Go's ParseIP). */
function parseIp(s: string): Uint8Array | null {
  if (isIPv4(s)) return Uint8Array.from(s.split('.').map(Number));
  if (!isIPv6(s) || s.includes('%')) return null;
  let text = s;
  const tail: number[] = [];
  const dot = text.lastIndexOf(':');
  if (text.slice(dot + 1).includes('.')) {
    tail.push(...text.slice(dot + 1).split('.').map(Number));
    text = `${text.slice(0, dot + 1)}0:0`;
  }
  const [head, rest] = text.split('::');
  const groups = (part: string | undefined) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const r = groups(rest);
  const all = rest === undefined ? h : [...h, ...Array<number>(8 - h.length - r.length).fill(0), ...r];
  const out = new Uint8Array(16);
  all.forEach((g, i) => { out[2 * i] = g >> 8; out[2 * i + 1] = g & 0xff; });
  if (tail.length) out.set(tail, 12);
  return out;
}

/** Go's IP.To4: the IPv4 address of 4 bytes or of an IPv4-mapped IPv6 address, else null. */
function to4(ip: Uint8Array): Uint8Array | null {
  if (ip.length === 4) return ip;
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return null;
  return ip[10] === 0xff && ip[11] === 0xff ? ip.subarray(12) : null;
}

/** Go's net.ParseCIDR, then networkNumberAndMask as Contains uses it; null for a malformed entry. */
function parseNet(cidr: string): Net | null {
  const slash = cidr.lastIndexOf('/');
  const ip = slash < 0 ? null : parseIp(cidr.slice(0, slash));
  const bitsText = cidr.slice(slash + 1);
  if (!ip || !/^\d+$/.test(bitsText) || Number(bitsText) > ip.length * 8) return null;
  let mask: Uint8Array = new Uint8Array(ip.length);
  for (let bits = Number(bitsText), i = 0; bits > 0; i++, bits -= 8) mask[i] = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
  let number: Uint8Array = ip.map((b, i) => b & mask[i]);
  const v4 = to4(number);
  if (v4 && number.length === 16) {
    number = v4;
    mask = mask.subarray(12);
  }
  return { ip: number, mask };
}

function contains(n: Net, ip: Uint8Array): boolean {
  const x = to4(ip) ?? ip;
  if (x.length !== n.ip.length) return false;
  for (let i = 0; i < x.length; i++) if ((x[i] & n.mask[i]) !== n.ip[i]) return false;
  return true;
}

/** A matcher of addresses against `cidrs` (entries trimmed; malformed ones match nothing), or null for an empty list. */
export function cidrMatcher(cidrs: string[] | undefined): ((addr: string) => boolean) | null {
  if (!cidrs || cidrs.length === 0) return null;
  const nets = cidrs.map((c) => parseNet(c.trim())).filter((n): n is Net => n !== null);
  return (addr) => {
    const ip = parseIp(addr);
    return ip !== null && nets.some((n) => contains(n, ip));
  };
}

/** Go's `ip := net.ParseIP(s); ip != nil && ip.To4() != nil`: IPv4 text, or an IPv4-mapped IPv6 address (::ffff:1.2.3.4). */
export function isGoIPv4(s: string): boolean {
  const ip = parseIp(s);
  return ip !== null && to4(ip) !== null;
}

/** Go's `net.ParseIP(s).String()`: the canonical text of an address, `<nil>` when it does not parse. */
export function goIPString(s: string): string {
  const ip = parseIp(s);
  if (ip === null) return '<nil>';
  const v4 = to4(ip);
  if (v4) return Array.from(v4).join('.');
  // WHATWG URL serializes IPv6 as Go does (lowercase, the first longest run of two or more zero groups as ::).
  return new URL(`http://[${s}]`).hostname.slice(1, -1);
}
