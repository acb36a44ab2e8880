// Host routing of an ingress gateway's http listener, as Consul configures Envoy: each service is
// a virtual host whose domains are its Hosts (else `<service>.ingress.*`), each also with the
// listener's `:port` appended when it has no port; a request's Host picks the virtual host by
// Envoy's rules (exact, then the longest `*`-prefixed suffix, then the longest `*`-suffixed
// prefix, then `*`), without case.

/** The domains of one service on a listener (Consul's generateUpstreamIngressDomains, default namespace). */
export function ingressDomains(service: string, hosts: readonly string[] | null | undefined, port: number): string[] {
  const domains = hosts && hosts.length ? [...hosts] : [`${service}.ingress.*`];
  const seen = new Set(domains);
  for (const d of [...domains]) {
    if (hasPort(d)) continue;
    const withPort = `${d}:${port}`;
    if (!seen.has(withPort)) {
      seen.add(withPort);
      domains.push(withPort);
    }
  }
  return domains;
}

/** Whether a host carries a port (Go's SplitHostPort succeeds, or fails for a reason other than a missing port). */
function hasPort(h: string): boolean {
  if (h.startsWith('[')) return /\]:/.test(h) || !h.endsWith(']');
  const colons = h.split(':').length - 1;
  // One colon: host:port; more (a bare IPv6 address): too many colons, not a missing port.
  return colons >= 1;
}

/** A virtual host: its domains and what it routes to. */
export interface VirtualHost<T> {
  domains: readonly string[];
  value: T;
}

/** The virtual host a request's Host header picks, or undefined (Envoy answers 404). */
export function matchHost<T>(vhosts: readonly VirtualHost<T>[], host: string | undefined): T | undefined {
  const h = (host ?? '').toLowerCase();
  let suffix: { len: number; value: T } | undefined;
  let prefix: { len: number; value: T } | undefined;
  let any: T | undefined;
  let anySet = false;
  for (const v of vhosts) {
    for (const raw of v.domains) {
      const d = raw.toLowerCase();
      if (d === '*') {
        if (!anySet) { any = v.value; anySet = true; }
      } else if (d.startsWith('*')) {
        const s = d.slice(1);
        // The wildcard stands for at least one character.
        if (h.length > s.length && h.endsWith(s) && (!suffix || s.length > suffix.len)) suffix = { len: s.length, value: v.value };
      } else if (d.endsWith('*')) {
        const p = d.slice(0, -1);
        if (h.length > p.length && h.startsWith(p) && (!prefix || p.length > prefix.len)) prefix = { len: p.length, value: v.value };
      } else if (d === h) {
        return v.value;
      }
    }
  }
  if (suffix) return suffix.value;
  if (prefix) return prefix.value;
  return anySet ? any : undefined;
}
