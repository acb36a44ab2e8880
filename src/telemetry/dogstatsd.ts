// go-metrics' DogStatsdSink over datadog-go's client: labels become `|#name:value` tags after
// telemetry.dogstatsd_tags, the hostname element is spliced out of the name (Datadog tags the
// host itself), and lines are batched, '\n' between them, into UDP packets of at most 1432 bytes every 100 ms
// (datadog-go v3.2.0, the client go-metrics uses).
import dns from 'node:dns';
import net from 'node:net';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import { goShortest, NameCache, sanitize, type Label, type MetricSink } from './sink.ts';
import { splitAddr, UdpPackets, type Lookup } from './statsd.ts';

/** datadog-go's OptimalUDPPayloadSize. */
export const DOGSTATSD_MAX_PACKET = 1432;

/** A dogstatsd metric type. */
export type DogType = 'g' | 'c' | 'ms';

/** One dogstatsd line (datadog-go puts '\n' between lines, none after the last): `consul.api.http:1.500000|ms|#env:prod,method:GET`. */
export function dogstatsdLine(
  type: DogType, key: readonly string[], value: number, labels: readonly Label[], hostname: string, globalTags: readonly string[],
): string {
  const { name, tags } = dogstatsdName(key, labels, hostname, globalTags);
  return `${name}:${dogstatsdValue(type, value)}|${type}${tags}`;
}

/** A line's name (the hostname spliced out) and its `|#tags` suffix ('' without tags). */
function dogstatsdName(key: readonly string[], labels: readonly Label[], hostname: string, globalTags: readonly string[]): { name: string; tags: string } {
  // The first element equal to the hostname leaves the name (go-metrics' parseKey).
  const at = key.indexOf(hostname);
  const name = sanitize((at < 0 ? key : [...key.slice(0, at), ...key.slice(at + 1)]).join('.'));
  const tags = [
    ...globalTags.map((t) => t.replaceAll('\n', '')),
    ...labels.map((l) => {
      const n = sanitize(l.name);
      const val = sanitize(l.value);
      return val === '' ? n : `${n}:${val}`;
    }),
  ];
  return { name, tags: tags.length ? `|#${tags.join(',')}` : '' };
}

/** datadog-go: Count takes an int64, Gauge the shortest float, TimeInMilliseconds six decimals. */
function dogstatsdValue(type: DogType, value: number): string {
  const v = Math.fround(value);
  return type === 'c' ? String(Math.trunc(v)) : type === 'g' ? goShortest(v) : v.toFixed(6);
}

/** Sends metrics to a DogStatsD agent (telemetry.dogstatsd_addr, dogstatsd_tags). */
export class DogStatsdSink implements MetricSink {
  readonly #out: UdpPackets;
  readonly #names: NameCache<{ name: string; tags: string }>;

  /** Throws on an address without a port, as datadog-go's client does (Consul then fails to start). */
  constructor(addr: string, hostname: string, tags: readonly string[], clock: Clock, log: Logger) {
    splitAddr(addr);
    this.#out = new UdpPackets(addr, { max: DOGSTATSD_MAX_PACKET, dropOversize: true, separator: '\n' }, clock, log);
    this.#names = new NameCache((key, labels) => dogstatsdName(key, labels, hostname, tags));
  }

  setGauge(key: readonly string[], value: number, labels: readonly Label[]): void {
    this.#line('g', key, value, labels);
  }

  incrCounter(key: readonly string[], value: number, labels: readonly Label[]): void {
    this.#line('c', key, value, labels);
  }

  addSample(key: readonly string[], value: number, labels: readonly Label[]): void {
    this.#line('ms', key, value, labels);
  }

  close(): void {
    this.#out.close();
  }

  #line(type: DogType, key: readonly string[], value: number, labels: readonly Label[]): void {
    const { name, tags } = this.#names.get(key, labels);
    this.#out.push(`${name}:${dogstatsdValue(type, value)}|${type}${tags}`);
  }
}

/**
 * datadog-go's client resolves its address when it is created (net.ResolveUDPAddr), so a host
 * that does not resolve fails agent start; this throws Go's resolver error for it
 * ("lookup nonexistent.invalid on 10.0.0.2:53: no such host"). An empty host or an IP literal
 * needs no lookup.
 */
export async function resolveDogstatsdAddr(addr: string, lookup: Lookup = (host) => dns.promises.lookup(host), servers = dns.getServers()): Promise<void> {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):\d+$/.exec(addr);
  const host = m?.[1] ?? m?.[2] ?? '';
  splitAddr(addr);
  if (host === '' || net.isIP(host) !== 0) return;
  try {
    await lookup(host);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOTFOUND' || code === 'ENODATA' ? 'no such host' : code === 'EAI_AGAIN' || code === 'ETIMEOUT' ? 'i/o timeout' : 'server misbehaving';
    throw new Error(`lookup ${host} on ${goServer(servers[0])}: ${why}`, { cause: err });
  }
}

/** A resolver address as Go's DNSError names it (host:port; Go's default without resolv.conf servers). */
function goServer(server: string | undefined): string {
  if (!server) return '127.0.0.1:53';
  if (server.startsWith('[')) return server.includes(']:') ? server : `${server}:53`;
  if (net.isIPv6(server)) return `[${server}]:53`;
  return server.includes(':') ? server : `${server}:53`;
}
