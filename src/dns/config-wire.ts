// A client agent's DNS settings as it sends them to a server with each question (one header of
// base64url JSON), so the server answers under the client's domain, TTLs, only_passing, limits,
// SOA and compression while its replica supplies the data. The datacenter is never sent: the
// answering server's own is the one its catalog holds.
import { BadRequestError } from '../errors.ts';
import type { DnsConfig } from './config.ts';

/** The header carrying a client's DNS settings on the internal DNS RPC. */
export const DNS_CONFIG_HEADER = 'x-proconsul-dns-config';

// The cache settings stay with the client: its cache is filled from the server's answers.
type Wire = Omit<DnsConfig, 'datacenter' | 'serviceTtl' | 'useCache' | 'cacheMaxAgeMs'> & { serviceTtl: [string, number][] };

/** The header value for `cfg` (stable for equal settings, so servers can share handlers per value). */
export function encodeDnsConfig(cfg: DnsConfig): string {
  const w: Wire = {
    domain: cfg.domain, altDomain: cfg.altDomain, nodeTtl: cfg.nodeTtl, serviceTtl: [...cfg.serviceTtl],
    serviceTtlPrefixes: cfg.serviceTtlPrefixes, allowStale: cfg.allowStale, maxStaleMs: cfg.maxStaleMs,
    onlyPassing: cfg.onlyPassing, udpAnswerLimit: cfg.udpAnswerLimit, aRecordLimit: cfg.aRecordLimit,
    enableTruncate: cfg.enableTruncate, nodeMetaTxt: cfg.nodeMetaTxt, disableCompression: cfg.disableCompression,
    recursors: cfg.recursors, recursorStrategy: cfg.recursorStrategy, recursorTimeoutMs: cfg.recursorTimeoutMs, soa: cfg.soa,
    translateWanAddrs: cfg.translateWanAddrs, wanAddresses: cfg.wanAddresses, preferNamespace: cfg.preferNamespace,
    // Only when set: a default-partition client's header (and the handlers shared per value) stays as before.
    ...(cfg.partition ? { partition: cfg.partition } : {}),
  };
  return Buffer.from(JSON.stringify(w)).toString('base64url');
}

const NUMBERS = ['nodeTtl', 'maxStaleMs', 'udpAnswerLimit', 'aRecordLimit', 'recursorTimeoutMs'] as const;
const BOOLEANS = ['allowStale', 'onlyPassing', 'enableTruncate', 'nodeMetaTxt', 'disableCompression'] as const;
// Absent in the settings of agents from before WAN translation (or prefer_namespace): false.
const OPTIONAL_BOOLEANS = ['translateWanAddrs', 'wanAddresses', 'preferNamespace'] as const;

/** Settings from a header value, for `datacenter`; throws BadRequestError on anything malformed. */
export function decodeDnsConfig(value: string, datacenter: string): DnsConfig {
  let w: Wire;
  try {
    w = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Wire;
  } catch {
    throw new BadRequestError('invalid DNS configuration');
  }
  const bad = (what: string): never => {
    throw new BadRequestError(`invalid DNS configuration: ${what}`);
  };
  if (!w || typeof w !== 'object') bad('not an object');
  for (const k of ['domain', 'altDomain'] as const) if (typeof w[k] !== 'string' || (w[k] !== '' && !w[k].endsWith('.'))) bad(k);
  if (w.domain === '') bad('domain');
  for (const k of NUMBERS) if (typeof w[k] !== 'number' || !Number.isFinite(w[k]) || w[k] < 0) bad(k);
  for (const k of BOOLEANS) if (typeof w[k] !== 'boolean') bad(k);
  for (const k of OPTIONAL_BOOLEANS) if (w[k] !== undefined && typeof w[k] !== 'boolean') bad(k);
  const pairs = (v: unknown): v is [string, number][] => Array.isArray(v)
    && v.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && typeof p[1] === 'number' && p[1] >= 0);
  if (w.partition !== undefined && (typeof w.partition !== 'string' || !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(w.partition))) bad('partition');
  if (!pairs(w.serviceTtl)) bad('serviceTtl');
  if (!pairs(w.serviceTtlPrefixes)) bad('serviceTtlPrefixes');
  if (!Array.isArray(w.recursors) || !w.recursors.every((r) => r && typeof r.host === 'string' && Number.isInteger(r.port))) bad('recursors');
  if (w.recursorStrategy !== 'sequential' && w.recursorStrategy !== 'random') bad('recursorStrategy');
  const soa = w.soa as unknown as Record<string, unknown> | undefined;
  if (!soa || !['refresh', 'retry', 'expire', 'minTtl'].every((k) => typeof soa[k] === 'number')) bad('soa');
  return {
    domain: w.domain.toLowerCase(), altDomain: w.altDomain.toLowerCase(), datacenter, nodeTtl: w.nodeTtl,
    serviceTtl: new Map(w.serviceTtl), serviceTtlPrefixes: w.serviceTtlPrefixes.slice().sort((a, b) => b[0].length - a[0].length),
    allowStale: w.allowStale, maxStaleMs: w.maxStaleMs, useCache: false, cacheMaxAgeMs: 0, onlyPassing: w.onlyPassing, udpAnswerLimit: w.udpAnswerLimit,
    aRecordLimit: w.aRecordLimit, enableTruncate: w.enableTruncate, nodeMetaTxt: w.nodeMetaTxt, disableCompression: w.disableCompression,
    recursors: w.recursors.map((r) => ({ host: r.host, port: r.port })), recursorStrategy: w.recursorStrategy,
    recursorTimeoutMs: w.recursorTimeoutMs,
    soa: { refresh: w.soa.refresh, retry: w.soa.retry, expire: w.soa.expire, minTtl: w.soa.minTtl },
    translateWanAddrs: w.translateWanAddrs === true, wanAddresses: w.wanAddresses === true, preferNamespace: w.preferNamespace === true,
    ...(w.partition ? { partition: w.partition } : {}),
  };
}
