// The iptables commands that set up transparent-proxy traffic redirection, computed from a
// configuration exactly as Consul's sdk/iptables Setup lists them (chains, rules, their order).
// Pure: running them is connect-redirect-traffic.ts's job.

/** Chain that intercepts inbound traffic. */
export const PROXY_INBOUND_CHAIN = 'CONSUL_PROXY_INBOUND';
/** Chain that redirects inbound traffic to the proxy. */
export const PROXY_INBOUND_REDIRECT_CHAIN = 'CONSUL_PROXY_IN_REDIRECT';
/** Chain that intercepts outbound traffic. */
export const PROXY_OUTPUT_CHAIN = 'CONSUL_PROXY_OUTPUT';
/** Chain that redirects outbound traffic to the proxy. */
export const PROXY_OUTPUT_REDIRECT_CHAIN = 'CONSUL_PROXY_REDIRECT';
/** Chain that sends outbound DNS queries to Consul DNS. */
export const DNS_CHAIN = 'CONSUL_DNS_REDIRECT';
/** The transparent proxy's outbound listener port when none is configured. */
export const DEFAULT_TPROXY_OUTBOUND_PORT = 15001;

/** What to redirect and what to leave alone (sdk/iptables Config). */
export interface RedirectConfig {
  consulDNSIP?: string;
  consulDNSPort?: number;
  proxyUserID: string;
  proxyInboundPort: number;
  proxyOutboundPort?: number;
  excludeInboundPorts?: string[];
  excludeOutboundPorts?: string[];
  excludeOutboundCIDRs?: string[];
  excludeUIDs?: string[];
  /** Path of the network namespace to apply the rules in (run through `nsenter --net=`). */
  netNS?: string;
}

/** One command line: the program and its arguments. */
export type RuleCommand = [string, ...string[]];

/** Consul's validateConfig: the proxy's user and inbound port are required. */
export function validateRedirectConfig(cfg: RedirectConfig): void {
  if (cfg.proxyUserID === '') throw new Error('ProxyUserID is required to set up traffic redirection');
  if (!cfg.proxyInboundPort) throw new Error('ProxyInboundPort is required to set up traffic redirection');
}

/** The iptables argument lists, in the order Consul adds them. */
export function iptablesRules(cfg: RedirectConfig): string[][] {
  validateRedirectConfig(cfg);
  const out: string[][] = [];
  const nat = (...args: string[]) => out.push(['-t', 'nat', ...args]);
  const outboundPort = String(cfg.proxyOutboundPort || DEFAULT_TPROXY_OUTBOUND_PORT);
  for (const chain of [PROXY_INBOUND_CHAIN, PROXY_INBOUND_REDIRECT_CHAIN, PROXY_OUTPUT_CHAIN, PROXY_OUTPUT_REDIRECT_CHAIN, DNS_CHAIN]) nat('-N', chain);

  nat('-A', PROXY_OUTPUT_REDIRECT_CHAIN, '-p', 'tcp', '-j', 'REDIRECT', '--to-port', outboundPort);
  // DNS rules come before the catch-all TCP jump so port 53 traffic meets them first.
  const dnsIP = cfg.consulDNSIP ?? '';
  const dnsPort = cfg.consulDNSPort ?? 0;
  if (dnsIP !== '' && dnsPort === 0) {
    for (const p of ['udp', 'tcp']) nat('-A', DNS_CHAIN, '-p', p, '--dport', '53', '-j', 'DNAT', '--to-destination', dnsIP);
    for (const p of ['udp', 'tcp']) nat('-A', 'OUTPUT', '-p', p, '--dport', '53', '-j', DNS_CHAIN);
  } else if (dnsPort !== 0) {
    const ip = dnsIP || '127.0.0.1';
    for (const p of ['udp', 'tcp']) nat('-A', DNS_CHAIN, '-p', p, '-d', ip, '--dport', '53', '-j', 'DNAT', '--to-destination', `${ip}:${dnsPort}`);
    for (const p of ['udp', 'tcp']) nat('-A', 'OUTPUT', '-p', p, '-d', ip, '--dport', '53', '-j', DNS_CHAIN);
  }
  nat('-A', 'OUTPUT', '-p', 'tcp', '-j', PROXY_OUTPUT_CHAIN);
  nat('-A', PROXY_OUTPUT_CHAIN, '-m', 'owner', '--uid-owner', cfg.proxyUserID, '-j', 'RETURN');
  nat('-A', PROXY_OUTPUT_CHAIN, '-d', '127.0.0.1/32', '-j', 'RETURN');
  nat('-A', PROXY_OUTPUT_CHAIN, '-j', PROXY_OUTPUT_REDIRECT_CHAIN);
  // Exclusions are inserted (-I), so they precede the default rules.
  for (const port of cfg.excludeOutboundPorts ?? []) nat('-I', PROXY_OUTPUT_CHAIN, '-p', 'tcp', '--dport', port, '-j', 'RETURN');
  for (const cidr of cfg.excludeOutboundCIDRs ?? []) nat('-I', PROXY_OUTPUT_CHAIN, '-d', cidr, '-j', 'RETURN');
  for (const uid of cfg.excludeUIDs ?? []) nat('-I', PROXY_OUTPUT_CHAIN, '-m', 'owner', '--uid-owner', uid, '-j', 'RETURN');

  nat('-A', PROXY_INBOUND_REDIRECT_CHAIN, '-p', 'tcp', '-j', 'REDIRECT', '--to-port', String(cfg.proxyInboundPort));
  nat('-A', 'PREROUTING', '-p', 'tcp', '-j', PROXY_INBOUND_CHAIN);
  nat('-A', PROXY_INBOUND_CHAIN, '-p', 'tcp', '-j', PROXY_INBOUND_REDIRECT_CHAIN);
  for (const port of cfg.excludeInboundPorts ?? []) nat('-I', PROXY_INBOUND_CHAIN, '-p', 'tcp', '--dport', port, '-j', 'RETURN');
  return out;
}

/** The commands to run: `iptables …`, or `nsenter --net=<netns> -- iptables …` for a namespace. */
export function redirectCommands(cfg: RedirectConfig): RuleCommand[] {
  return iptablesRules(cfg).map((args) => (cfg.netNS ? ['nsenter', `--net=${cfg.netNS}`, '--', 'iptables', ...args] : ['iptables', ...args]));
}
