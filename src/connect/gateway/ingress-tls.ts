// TLS on an ingress gateway's listeners, as Consul gives Envoy: enabled by the entry's TLS block
// or the listener's, served with a leaf of the gateway's service from the Connect CA whose DNS
// SANs are the linked services' Hosts plus `*.ingress.<domain>` and `*.ingress.<dc>.<domain>`
// (and the alt domain's), kept fresh by a blocking query; TLSMinVersion/TLSMaxVersion apply.
// SDS certificates are not supported (there is no SDS server to ask).
import type tls from 'node:tls';
import type { ConsulClient } from '../../api/index.ts';
import type { GatewayService } from '../../api/config-entries.ts';
import type { Logger } from '../../log.ts';
import type { LeafCert } from '../proxy/agent-calls.ts';
import { blockingWatch } from '../watch.ts';

/** An entry's or listener's TLS block (the fields the gateway reads). */
export interface IngressTlsBlock {
  Enabled?: boolean;
  TLSMinVersion?: string;
  TLSMaxVersion?: string;
  SDS?: unknown;
}

/** How one listener serves TLS; null when it does not. */
export interface ListenerTls {
  minVersion: tls.SecureVersion;
  maxVersion?: tls.SecureVersion;
  /** The TLS 1.2 cipher suites it accepts (OpenSSL names); absent: the defaults. */
  ciphers?: string[];
  /** The certificate it serves (an API gateway's certificate entry); absent: the gateway's leaf. */
  cert?: { cert: string; key: string };
  /** More certificates, each served to clients asking (SNI) for one of its names (Envoy picks among a listener's certificates so). */
  sni?: { names: string[]; cert: string; key: string }[];
}

const VERSIONS: Record<string, tls.SecureVersion> = { TLSv1_0: 'TLSv1', TLSv1_1: 'TLSv1.1', TLSv1_2: 'TLSv1.2', TLSv1_3: 'TLSv1.3' };

/**
 * A listener's TLS: on when the gateway's or the listener's block enables it; the listener's
 * versions override the gateway's, TLS 1.2 the minimum when neither sets one (Envoy's default).
 */
export function listenerTls(gateway: IngressTlsBlock | null | undefined, listener: IngressTlsBlock | null | undefined): ListenerTls | null {
  if (!gateway?.Enabled && !listener?.Enabled) return null;
  const pick = (k: 'TLSMinVersion' | 'TLSMaxVersion') => {
    const v = listener?.[k] || gateway?.[k];
    return v && v !== 'TLS_AUTO' ? VERSIONS[v] : undefined;
  };
  const maxVersion = pick('TLSMaxVersion');
  return { minVersion: pick('TLSMinVersion') ?? 'TLSv1.2', ...(maxVersion ? { maxVersion } : {}) };
}

/** The DNS SANs of the gateway's leaf (Consul's generateIngressDNSSANs, default namespace). */
export function ingressDnsSans(linked: readonly GatewayService[], dns: { domain: string; altDomain?: string; datacenter: string }): string[] {
  const out = new Set<string>();
  // A bare '*' Host is not asked for: the agent signs no such SAN (it would match any single-label name).
  for (const r of linked) if (r.GatewayKind === 'ingress-gateway') for (const h of r.Hosts ?? []) if (h !== '*') out.add(h);
  for (const domain of [dns.domain, dns.altDomain].filter((d): d is string => !!d)) {
    const d = domain.replace(/\.$/, '');
    out.add(`*.ingress.${d}`);
    out.add(`*.ingress.${dns.datacenter}.${d}`);
  }
  return [...out];
}

/** The gateway's TLS leaf for a set of DNS SANs; `onChange` hears each new certificate. */
export class IngressLeaf {
  readonly #client: ConsulClient;
  readonly #service: string;
  readonly #log: Logger;
  #sans = '';
  #abort: AbortController | undefined;
  #leaf: LeafCert | undefined;
  #waiters = new Set<() => void>();
  onChange: ((leaf: LeafCert) => void) | undefined;

  constructor(client: ConsulClient, service: string, log: Logger) {
    this.#client = client;
    this.#service = service;
    this.#log = log;
  }

  /** The current certificate, once read. */
  get leaf(): LeafCert | undefined {
    return this.#leaf;
  }

  /** Resolves once a certificate has been read, or after `ms` (Envoy warms a TLS listener until its certificate is there). */
  async ready(ms: number): Promise<void> {
    if (this.#leaf) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let done!: () => void;
    const arrived = new Promise<void>((resolve) => { done = resolve; this.#waiters.add(resolve); });
    await Promise.race([arrived, new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); })]);
    clearTimeout(timer);
    this.#waiters.delete(done);
  }

  /** Follows the leaf with these SANs (a new set starts a new watch); an empty set stops it. */
  setSans(sans: string[]): void {
    const key = [...sans].sort().join('\n');
    if (key === this.#sans && this.#abort) return;
    this.#sans = key;
    this.#abort?.abort();
    this.#abort = undefined;
    if (sans.length === 0) return;
    const abort = this.#abort = new AbortController();
    void blockingWatch('ingress TLS leaf',
      (opts) => this.#client.json<LeafCert>({ method: 'GET', path: `/v1/agent/connect/ca/leaf/${encodeURIComponent(this.#service)}`, query: { 'dns-san': [...sans] }, options: opts }),
      (leaf) => {
        this.#leaf = leaf;
        this.onChange?.(leaf);
        for (const w of this.#waiters) w();
        this.#waiters.clear();
      }, this.#log, abort.signal);
  }

  close(): void {
    this.#abort?.abort();
    for (const w of this.#waiters) w();
  }
}
