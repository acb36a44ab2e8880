// Where a request comes from, as Consul's sourceAddrFromRequest reads it for a query's Source.Ip
// (Near `_ip`): the first X-Forwarded-For entry when it is an IP, else the peer's address, each
// in Go's net.IP String form; anything else is no address at all.
import { isIP } from 'node:net';
import type { HttpRequest } from './request.ts';

/** `s` as Go's net.ParseIP(s).String() renders it, or '' where ParseIP returns nil. */
export function goIpString(s: string): string {
  // ParseIP takes no IPv6 zone (`fe80::1%eth0`), which isIP and URL would otherwise see.
  if (s.includes('%')) return '';
  const v = isIP(s);
  if (v === 4) return s;
  if (v !== 6) return '';
  // The URL serializer writes RFC 5952 text (lower case, the first longest zero run as `::`), as Go does.
  const h = new URL(`http://[${s}]/`).hostname.slice(1, -1);
  // Go prints an IPv4-mapped address dotted.
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(h);
  if (!m) return h;
  const [a, b] = [parseInt(m[1], 16), parseInt(m[2], 16)];
  return `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`;
}

/** The caller's IP (Consul's sourceAddrFromRequest): the first X-Forwarded-For entry if it parses, else the peer; '' when neither does. */
export function sourceAddr(req: Pick<HttpRequest, 'headers' | 'remoteAddr'>): string {
  const xff = req.headers['x-forwarded-for'];
  // Go's Header.Get reads the first field line; Node joins repeated lines with ", ", so the first entry is the same.
  const first = typeof xff === 'string' ? xff.split(',')[0].trim() : Array.isArray(xff) ? (xff[0] ?? '').split(',')[0].trim() : '';
  return goIpString(first) || goIpString(req.remoteAddr ?? '');
}
