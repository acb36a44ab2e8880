// Gossip peer addresses: a host and a port, parsed from and formatted as `host:port`
// (IPv6 hosts in brackets), the form join lists and snapshots use.
import { joinHostPort } from '../host-port.ts';

/** Where a gossip peer listens for UDP packets and TCP streams (same port for both). */
export interface Address {
  host: string;
  port: number;
}

/** Formats an address as `host:port` (`[v6]:port` for IPv6 hosts). */
export function formatAddress(a: Address): string {
  return joinHostPort(a.host, a.port);
}

/** Parses `host`, `host:port`, `[v6]` or `[v6]:port`; a missing port becomes `defaultPort`. */
export function parseAddress(s: string, defaultPort: number): Address {
  const text = s.trim();
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracket) return { host: bracket[1], port: bracket[2] ? Number(bracket[2]) : defaultPort };
  const colons = text.split(':').length - 1;
  if (colons === 1) {
    const [host, port] = text.split(':');
    if (!/^\d+$/.test(port)) throw new Error(`invalid address ${JSON.stringify(s)}: bad port`);
    return { host, port: Number(port) };
  }
  if (!text) throw new Error('invalid address "": empty');
  return { host: text, port: defaultPort };
}
