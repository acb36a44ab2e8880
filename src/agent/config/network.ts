// Resolving bind, advertise and client addresses and the HTTP/HTTPS/DNS listeners from the merged
// tree, with the error texts of Consul's builder.
import { isIP } from 'node:net';
import { expandAddrs, expandIPs, expandTemplate, isAnyAddr, makeListeners, privateIPv4s, type Interfaces } from './addresses.ts';
import { ConfigError } from './error.ts';
import type { ListenAddr, RuntimeConfig } from './runtime.ts';
import type { TreeReader } from './values.ts';

/** The network part of RuntimeConfig. */
export type NetworkConfig = Pick<RuntimeConfig, 'bindAddr' | 'advertiseAddr' | 'advertiseAddrWan' | 'clientAddrs' | 'ports' | 'httpAddrs' | 'dnsAddrs'> & {
  httpsAddrs: ListenAddr[]; recursors: string[]; taggedAddresses: Record<string, string>;
};

function readPorts(r: TreeReader): RuntimeConfig['ports'] {
  const ports = {
    http: r.port('ports.http'), https: r.port('ports.https'), dns: r.port('ports.dns'),
    grpc: r.port('ports.grpc'), grpcTls: r.port('ports.grpc_tls'), serfLan: r.port('ports.serf_lan'),
    serfWan: r.port('ports.serf_wan'), server: r.port('ports.server'),
  };
  // Servers listen for gRPC-TLS on 8503 unless told otherwise (1.14+).
  if (r.get('ports.grpc_tls') === undefined && r.bool('server')) ports.grpcTls = 8503;
  if (ports.server <= 0) throw new ConfigError('server-port must be greater than zero');
  if (ports.serfLan <= 0) throw new ConfigError('serf-lan-port must be greater than zero');
  for (const [lo, hi] of [['proxy_min_port', 'proxy_max_port'], ['sidecar_min_port', 'sidecar_max_port'], ['expose_min_port', 'expose_max_port']]) {
    if (r.port(`ports.${hi}`) < r.port(`ports.${lo}`)) {
      throw new ConfigError(`${lo} must be less than ${hi}. To disable, set both to zero.`);
    }
  }
  return ports;
}

function readBind(r: TreeReader, ifaces: Interfaces): string {
  const addrs = expandAddrs('bind_addr', r.str('bind_addr'), ifaces, r.errors);
  if (addrs.length === 0) throw new ConfigError('bind_addr cannot be empty');
  if (addrs.length > 1) throw new ConfigError("bind_addr cannot contain multiple addresses. Use 'addresses.{dns,http,https}' instead.");
  const a = addrs[0];
  if (a.kind === 'unix') throw new ConfigError('bind_addr cannot be a unix socket');
  return a.ip;
}

function firstIP(r: TreeReader, key: string, ifaces: Interfaces): string | undefined {
  return expandIPs(key, r.str(key) || undefined, ifaces, r.errors)[0];
}

function readAdvertise(r: TreeReader, bind: string, ifaces: Interfaces): [string, string] {
  if (isAnyAddr(r.str('advertise_addr'))) throw new ConfigError('Advertise address cannot be 0.0.0.0, :: or [::]');
  if (isAnyAddr(r.str('advertise_addr_wan'))) throw new ConfigError('Advertise WAN address cannot be 0.0.0.0, :: or [::]');
  let lan = firstIP(r, 'advertise_addr', ifaces) ?? bind;
  if (isAnyAddr(lan)) {
    // Listening on any address is fine, advertising it is not: pick the one private IPv4.
    const found = privateIPv4s(ifaces);
    if (found.length === 0) throw new ConfigError('No private IPv4 address found');
    if (found.length > 1) throw new ConfigError("Multiple private IPv4 addresses found. Please configure one with 'bind' and/or 'advertise'.");
    lan = found[0];
  }
  return [lan, firstIP(r, 'advertise_addr_wan', ifaces) ?? lan];
}

/** Resolves addresses and listeners; throws ConfigError for the fatal cases. */
export function readNetwork(r: TreeReader, ifaces: Interfaces): NetworkConfig {
  const ports = readPorts(r);
  const bindAddr = readBind(r, ifaces);
  const [advertiseAddr, advertiseAddrWan] = readAdvertise(r, bindAddr, ifaces);
  const clientAddrs = expandIPs('client_addr', r.str('client_addr'), ifaces, r.errors);
  if (clientAddrs.length === 0) {
    r.warnings.push('client_addr is empty, client services (DNS, HTTP, HTTPS, GRPC) will not be listening for connections');
  }
  const socket = { mode: r.str('unix_sockets.mode'), user: r.str('unix_sockets.user'), group: r.str('unix_sockets.group') };
  const httpAddrs = makeListeners(expandAddrs('addresses.http', r.str('addresses.http'), ifaces, r.errors), clientAddrs, ports.http, socket);
  const httpsAddrs = makeListeners(expandAddrs('addresses.https', r.str('addresses.https'), ifaces, r.errors), clientAddrs, ports.https, socket);
  const dnsAddrs = makeListeners(expandAddrs('addresses.dns', r.str('addresses.dns'), ifaces, r.errors), clientAddrs, ports.dns);
  if (dnsAddrs.some((a) => a.kind === 'unix')) throw new ConfigError('DNS address cannot be a unix socket');
  const recursors = readRecursors(r, ifaces);
  const taggedAddresses = readTaggedAddresses(r, advertiseAddr, advertiseAddrWan, ifaces);
  return { bindAddr, advertiseAddr, advertiseAddrWan, clientAddrs, ports, httpAddrs, httpsAddrs, dnsAddrs, recursors, taggedAddresses };
}

/**
 * The node's tagged addresses as Consul's builder makes them: `tagged_addresses` as given, then
 * lan and wan, and lan_ipv4/lan_ipv6/wan_ipv4/wan_ipv6 from advertise_addr[_wan]_ipv4/_ipv6 or,
 * unset, from the advertise address of that family.
 */
function readTaggedAddresses(r: TreeReader, lan: string, wan: string, ifaces: Interfaces): Record<string, string> {
  const family = (key: string, v: 4 | 6, fallback: string): string | undefined => {
    const ip = firstIP(r, key, ifaces) ?? (isIP(fallback) === v ? fallback : undefined);
    if (ip !== undefined && isIP(ip) !== v) throw new ConfigError(`${key} must be an ipv${v} address`);
    return ip;
  };
  const out: Record<string, string> = { ...r.stringMap('tagged_addresses'), lan };
  const set = (k: string, v: string | undefined) => { if (v !== undefined) out[k] = v; };
  set('lan_ipv4', family('advertise_addr_ipv4', 4, lan));
  set('lan_ipv6', family('advertise_addr_ipv6', 6, lan));
  out.wan = wan;
  set('wan_ipv4', family('advertise_addr_wan_ipv4', 4, wan));
  set('wan_ipv6', family('advertise_addr_wan_ipv6', 6, wan));
  return out;
}

/**
 * `recursors` as Consul's expandAllOptionalAddrs reads them: an entry with a go-sockaddr template
 * becomes the addresses it expands to, others stay as written; none may be the any address.
 */
function readRecursors(r: TreeReader, ifaces: Interfaces): string[] {
  const out: string[] = [];
  for (const a of r.strings('recursors')) {
    let x: string;
    try {
      x = expandTemplate(a, ifaces);
    } catch (err) {
      r.errors.push(`recursors: error parsing ${JSON.stringify(a)}: ${(err as Error).message}`);
      continue;
    }
    out.push(...(x !== a ? x.split(/\s+/).filter(Boolean) : [a]));
  }
  if (out.some((a) => a === '0.0.0.0' || a === '::' || a === '[::]')) throw new ConfigError('DNS recursor address cannot be 0.0.0.0, :: or [::]');
  return out;
}
