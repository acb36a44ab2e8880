// Address expansion as Consul's builder does it: go-sockaddr templates (a supported subset),
// space-separated lists, `unix://` sockets, and the listener lists for HTTP and DNS.
import type { NetworkInterfaceInfo } from 'node:os';
import { isIP } from 'node:net';
import type { ListenAddr } from './runtime.ts';

/** The host's interfaces, as os.networkInterfaces() returns them (injectable for tests). */
export type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

/** An expanded address: an IP or a unix socket path. */
export type Addr = { kind: 'ip'; ip: string } | { kind: 'unix'; path: string };

const PRIVATE_V4 = [/^10\./, /^172\.(1[6-9]|2\d|3[01])\./, /^192\.168\./, /^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\./];

function isPrivateV4(ip: string): boolean {
  return PRIVATE_V4.some((re) => re.test(ip));
}

function v4s(ifaces: Interfaces, name?: string): NetworkInterfaceInfo[] {
  const entries = name === undefined ? Object.values(ifaces) : [ifaces[name]];
  return entries.flatMap((list) => list ?? []).filter((a) => a.family === 'IPv4');
}

/** Private IPv4 addresses of non-loopback interfaces (go-sockaddr's GetPrivateIPs). */
export function privateIPv4s(ifaces: Interfaces): string[] {
  return v4s(ifaces).filter((a) => !a.internal && isPrivateV4(a.address)).map((a) => a.address);
}

/** Evaluates one template action such as `GetPrivateIP` or `GetInterfaceIP "eth0"`. */
function evalAction(action: string, ifaces: Interfaces): string {
  const m = /^(\w+)(?:\s+"([^"]*)")?$/.exec(action.trim());
  const fn = m?.[1];
  const arg = m?.[2];
  const pub = v4s(ifaces).filter((a) => !a.internal && !isPrivateV4(a.address)).map((a) => a.address);
  switch (fn) {
    case 'GetPrivateIP': return privateIPv4s(ifaces)[0] ?? '';
    case 'GetPrivateIPs': return privateIPv4s(ifaces).join(' ');
    case 'GetPublicIP': return pub[0] ?? '';
    case 'GetPublicIPs': return pub.join(' ');
    case 'GetInterfaceIP': if (arg !== undefined) return v4s(ifaces, arg)[0]?.address ?? ''; break;
    case 'GetInterfaceIPs': if (arg !== undefined) return v4s(ifaces, arg).map((a) => a.address).join(' '); break;
  }
  throw new Error(`unsupported go-sockaddr template action "${action.trim()}" (supported: GetPrivateIP, GetPrivateIPs, GetPublicIP, GetPublicIPs, GetInterfaceIP "name", GetInterfaceIPs "name")`);
}

/** Expands the go-sockaddr template subset in `s`; throws for other templates. */
export function expandTemplate(s: string, ifaces: Interfaces): string {
  return s.replace(/\{\{(.*?)\}\}/g, (_, action: string) => evalAction(action, ifaces));
}

/** Expands a config address value into addresses; errors use Consul's `<name>: …` wording. */
export function expandAddrs(name: string, value: string | undefined, ifaces: Interfaces, errors: string[]): Addr[] {
  if (value === undefined || value === '') return [];
  let expanded: string;
  try {
    expanded = expandTemplate(value, ifaces);
  } catch (err) {
    errors.push(`${name}: error parsing ${JSON.stringify(value)}: ${(err as Error).message}`);
    return [];
  }
  const out: Addr[] = [];
  for (const a of expanded.split(/\s+/).filter(Boolean)) {
    if (a.startsWith('unix://')) out.push({ kind: 'unix', path: a.slice('unix://'.length) });
    else if (isIP(a.replace(/^\[|\]$/g, ''))) out.push({ kind: 'ip', ip: a.replace(/^\[|\]$/g, '') });
    else errors.push(`${name}: invalid ip address: ${a}`);
  }
  return out;
}

/** Like expandAddrs but only IPs (client_addr, bind_addr): a unix socket is an error. */
export function expandIPs(name: string, value: string | undefined, ifaces: Interfaces, errors: string[]): string[] {
  const addrs = expandAddrs(name, value, ifaces, errors);
  if (addrs.some((a) => a.kind === 'unix')) {
    errors.push(`${name} cannot be a unix socket`);
    return [];
  }
  return addrs.map((a) => (a as { ip: string }).ip);
}

/** Listener addresses: the per-listener override if given, else the client addresses; none if port ≤ 0. */
export function makeListeners(override: Addr[], clientIPs: string[], port: number, socket: { mode?: string; user?: string; group?: string } = {}): ListenAddr[] {
  if (port <= 0) return [];
  const addrs: Addr[] = override.length > 0 ? override : clientIPs.map((ip) => ({ kind: 'ip', ip }));
  const perms = Object.fromEntries(Object.entries(socket).filter(([, v]) => v));
  return addrs.map((a) => a.kind === 'unix'
    ? { kind: 'unix', path: a.path, ...perms }
    : { kind: 'tcp', host: a.ip, port });
}

/** True for 0.0.0.0, :: and [::]. */
export function isAnyAddr(ip: string): boolean {
  return ip === '0.0.0.0' || ip === '::' || ip === '[::]';
}
