// `host:port` as Go's net.JoinHostPort writes it, the form Consul prints and dials everywhere
// (listener addresses, server RPC targets, gossip peers): an IPv6 host goes in brackets. A leaf
// module shared by all layers.

/** `host:port`, `[host]:port` when the host is an IPv6 address. */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
