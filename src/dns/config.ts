// DNS settings read once from the agent's runtime configuration: Consul's `dns_config` block,
// `recursors`, `domain` and `alt_domain`, with Consul's defaults. Durations become seconds (TTLs)
// or milliseconds (timeouts).
import type { RuntimeConfig } from '../agent/config/runtime.ts';
import { durationSetting } from '../duration.ts';

/** SOA timers (seconds). */
export interface SoaConfig {
  refresh: number;
  retry: number;
  expire: number;
  minTtl: number;
}

/** Everything the DNS transport needs from the configuration. */
export interface DnsConfig {
  /** Lower-case FQDN with trailing dot, e.g. `consul.`. */
  domain: string;
  /** Lower-case FQDN or '' when unset. */
  altDomain: string;
  datacenter: string;
  nodeTtl: number;
  /** Exact service names → seconds. */
  serviceTtl: Map<string, number>;
  /** `prefix*` entries, longest prefix first (`*` has the empty prefix). */
  serviceTtlPrefixes: [prefix: string, ttl: number][];
  allowStale: boolean;
  maxStaleMs: number;
  /** dns_config.use_cache: a client agent answers service, node and prepared-query lookups from its cache. */
  useCache: boolean;
  /** dns_config.cache_max_age in ms; 0 means no max age. */
  cacheMaxAgeMs: number;
  onlyPassing: boolean;
  udpAnswerLimit: number;
  aRecordLimit: number;
  enableTruncate: boolean;
  nodeMetaTxt: boolean;
  disableCompression: boolean;
  /** dns_config.prefer_namespace: `<svc>.service.<label>.<domain>` names a namespace, not a datacenter. */
  preferNamespace: boolean;
  /** The agent's admin partition (`partition`), the default of names without `.ap`; '' or absent: default. */
  partition?: string;
  recursors: { host: string; port: number }[];
  recursorStrategy: 'sequential' | 'random';
  recursorTimeoutMs: number;
  soa: SoaConfig;
  /** The agent's translate_wan_addrs: answers from another datacenter use WAN addresses. */
  translateWanAddrs: boolean;
  /**
   * Set only on the settings an agent sends with a question for another datacenter when it
   * translates: every answer of this handler shows WAN addresses (the answering datacenter is
   * remote to the asker, though it is the handler's own).
   */
  wanAddresses: boolean;
}

/** Canonical FQDN: lower case with exactly one trailing dot ('' stays ''). */
export function fqdn(name: string): string {
  if (!name) return '';
  const n = name.toLowerCase();
  return n.endsWith('.') ? n : `${n}.`;
}

/** Parses `ip`, `ip:port`, `[v6]:port` (port 53 by default). */
export function parseRecursor(addr: string): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(addr);
  if (v6) return { host: v6[1], port: Number(v6[2] ?? 53) };
  const colons = addr.split(':').length - 1;
  if (colons === 1) {
    const [host, port] = addr.split(':');
    return { host, port: Number(port) };
  }
  return { host: addr, port: 53 };
}

function serviceTtls(raw: unknown): Pick<DnsConfig, 'serviceTtl' | 'serviceTtlPrefixes'> {
  const serviceTtl = new Map<string, number>();
  const prefixes: [string, number][] = [];
  for (const [k, v] of Object.entries((raw ?? {}) as Record<string, unknown>)) {
    const secs = Math.floor(durationSetting(v, 0) / 1000);
    if (k.endsWith('*')) prefixes.push([k.slice(0, -1), secs]);
    else serviceTtl.set(k, secs);
  }
  prefixes.sort((a, b) => b[0].length - a[0].length);
  return { serviceTtl, serviceTtlPrefixes: prefixes };
}

/** Builds the DNS settings from the runtime configuration. */
export function dnsConfigFrom(config: RuntimeConfig): DnsConfig {
  const d = (config.raw.dns_config ?? {}) as Record<string, unknown>;
  const soa = (d.soa ?? {}) as Record<string, unknown>;
  const num = (v: unknown, dflt: number): number => (typeof v === 'number' ? v : dflt);
  return {
    domain: fqdn(config.domain || 'consul.'), altDomain: fqdn(config.altDomain), datacenter: config.datacenter,
    nodeTtl: Math.floor(durationSetting(d.node_ttl, 0) / 1000), ...serviceTtls(d.service_ttl),
    allowStale: d.allow_stale !== false, maxStaleMs: durationSetting(d.max_stale, 87600 * 3600_000),
    useCache: d.use_cache === true, cacheMaxAgeMs: Math.max(0, durationSetting(d.cache_max_age, 0)),
    onlyPassing: d.only_passing === true, udpAnswerLimit: num(d.udp_answer_limit, 3),
    aRecordLimit: num(d.a_record_limit, 0), enableTruncate: d.enable_truncate === true,
    nodeMetaTxt: d.enable_additional_node_meta_txt !== false, disableCompression: d.disable_compression === true,
    preferNamespace: d.prefer_namespace === true,
    recursors: (config.recursors ?? (config.raw.recursors ?? []) as string[]).map(parseRecursor),
    recursorStrategy: d.recursor_strategy === 'random' ? 'random' : 'sequential',
    recursorTimeoutMs: durationSetting(d.recursor_timeout, 2000),
    soa: { refresh: num(soa.refresh, 3600), retry: num(soa.retry, 600), expire: num(soa.expire, 86400), minTtl: num(soa.min_ttl, 0) },
    translateWanAddrs: config.translateWanAddrs === true, wanAddresses: false,
    ...(config.partition ? { partition: config.partition.toLowerCase() } : {}),
  };
}

/**
 * A service's TTL: exact name, else the longest matching `prefix*`, else `*`, else node_ttl (Consul's
 * DNS server since 1.19 falls back to the node TTL "by convention"; both default to 0).
 */
export function serviceTtl(cfg: DnsConfig, service: string): number {
  const exact = cfg.serviceTtl.get(service);
  if (exact !== undefined) return exact;
  for (const [prefix, ttl] of cfg.serviceTtlPrefixes) if (service.startsWith(prefix)) return ttl;
  return cfg.nodeTtl;
}
