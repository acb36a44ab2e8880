// The built-in data plane's ingress gateway (what Consul has Envoy do for a gateway of Kind
// ingress-gateway): clients outside the mesh reach mesh services through the listeners of its
// config entry. A tcp listener forwards each connection over mTLS to an instance of its one
// service; an http listener picks the service by the request's Host (ingress-hosts.ts), applies
// the service's RequestHeaders and ResponseHeaders and sends the request along the service's
// discovery chain (routes, splits, subsets, failover) as the proxy's L7 upstreams do. Outbound
// connections carry the gateway's own leaf, so the services' intentions from the gateway apply.
// The entry and the gateway's linked services (wildcard `*` expanded) are followed by blocking
// queries: listeners open, change and close without a restart.
import type { GatewayService } from '../../api/config-entries.ts';
import type { Logger } from '../../log.ts';
import { parseServiceUri } from '../spiffe.ts';
import type { HeaderOps } from '../proxy/l7-route.ts';
import type { ConnectService } from '../proxy/service.ts';
import { blockingWatch, configEntryRead } from '../watch.ts';
import { ingressDomains } from './ingress-hosts.ts';
import { IngressLeaf, ingressDnsSans, listenerTls, type IngressTlsBlock, type ListenerTls } from './ingress-tls.ts';
import { HostedGatewayCore, type GatewayRoute, type HostedGatewayOptions, type HttpProtocol, type ListenerSpec } from './listeners.ts';

/** One service of a listener in the ingress-gateway config entry. */
export interface IngressEntryService {
  Name: string;
  Hosts?: string[] | null;
  RequestHeaders?: HeaderOps | null;
  ResponseHeaders?: HeaderOps | null;
}

/** One listener of the ingress-gateway config entry. */
export interface IngressEntryListener {
  Port: number;
  Protocol?: string;
  Services?: IngressEntryService[] | null;
  TLS?: IngressTlsBlock | null;
}

/** The ingress-gateway config entry, the fields the gateway reads. */
export interface IngressEntry {
  Listeners?: IngressEntryListener[] | null;
  TLS?: IngressTlsBlock | null;
}

/** What one listener serves: its protocol and its services with their hosts and header changes. */
export interface ListenerPlan {
  port: number;
  protocol: 'tcp' | HttpProtocol;
  /** How it serves TLS; null for plain TCP. */
  tls: ListenerTls | null;
  services: { name: string; domains: string[]; request?: HeaderOps; response?: HeaderOps }[];
}

/**
 * The listeners to run from the entry and the linked services (which expand a wildcard `*`): a
 * service's header changes are its own entry's, else the wildcard's. A tcp listener serves its
 * first service only.
 */
export function planListeners(entry: IngressEntry | null, linked: readonly GatewayService[]): ListenerPlan[] {
  const out: ListenerPlan[] = [];
  for (const l of entry?.Listeners ?? []) {
    const port = Number(l.Port);
    const protocol = l.Protocol === 'tcp' || !l.Protocol ? 'tcp' : l.Protocol === 'http' || l.Protocol === 'http2' || l.Protocol === 'grpc' ? l.Protocol : null;
    if (!protocol || !(port > 0)) continue;
    const own = l.Services ?? [];
    const byName = new Map(own.map((s) => [s.Name.toLowerCase(), s]));
    const wildcard = byName.get('*');
    const rows = linked.filter((r) => r.GatewayKind === 'ingress-gateway' && Number(r.Port) === port);
    const names = rows.length ? rows.map((r) => r.Service.Name) : own.filter((s) => s.Name !== '*').map((s) => s.Name);
    const services = [...new Set(names)].sort().map((name) => {
      const s = byName.get(name.toLowerCase()) ?? wildcard;
      const hosts = s && s.Name !== '*' ? s.Hosts : null;
      return {
        name, domains: ingressDomains(name, hosts, port),
        ...(s?.RequestHeaders ? { request: s.RequestHeaders } : {}),
        ...(s?.ResponseHeaders ? { response: s.ResponseHeaders } : {}),
      };
    });
    if (services.length === 0) continue;
    out.push({ port, protocol, tls: listenerTls(entry?.TLS, l.TLS), services: protocol === 'tcp' ? services.slice(0, 1) : services });
  }
  return out;
}

/** What an ingress gateway needs. */
export type IngressGatewayOptions = HostedGatewayOptions;

/** A running ingress gateway: start() watches and binds, close() stops everything. */
export class IngressGateway {
  readonly #o: IngressGatewayOptions;
  readonly #log: Logger;
  readonly #leaf: IngressLeaf;
  readonly #core: HostedGatewayCore;
  #dns: { domain: string; altDomain?: string; datacenter: string } | undefined;
  #entry: IngressEntry | null | undefined;
  #linked: GatewayService[] | undefined;

  constructor(o: IngressGatewayOptions) {
    this.#o = o;
    this.#log = o.logger;
    this.#leaf = new IngressLeaf(o.client, o.service, o.logger.child({ tls: 'leaf' }));
    this.#core = new HostedGatewayCore(o, 'ingress gateway', () => this.#leaf.leaf);
    this.#leaf.onChange = () => this.#core.listeners.refreshTls();
  }

  /** The gateway's identity (its leaf and the roots). */
  get service(): ConnectService {
    return this.#core.svc;
  }

  /** The bound listeners by port, `host:port`. */
  get addresses(): Map<number, string> {
    return this.#core.listeners.addresses;
  }

  /** Starts the watches; resolves once the entry and linked services were read and the listeners opened. */
  async start(): Promise<void> {
    const signal = this.#core.abort.signal;
    this.#core.svc.start();
    this.#dns = await this.#dnsConfig();
    const name = encodeURIComponent(this.#o.service);
    void blockingWatch('ingress-gateway config entry', configEntryRead<IngressEntry>(this.#o.client, 'ingress-gateway', this.#o.service),
      (e) => { this.#entry = e; this.#schedule(); }, this.#log, signal);
    void blockingWatch('gateway services',
      (opts) => this.#o.client.json<GatewayService[] | null>({ method: 'GET', path: `/v1/catalog/gateway-services/${name}`, options: opts }),
      (rows) => { this.#linked = rows ?? []; this.#schedule(); }, this.#log, signal);
    await this.#core.queue.first;
  }

  /** The agent's DNS domains and datacenter for the TLS leaf's SANs (Consul's defaults when the agent does not say). */
  async #dnsConfig(): Promise<{ domain: string; altDomain?: string; datacenter: string }> {
    try {
      const self = (await this.#o.client.json<{ Config?: { Datacenter?: string }; DebugConfig?: { DNSDomain?: string; DNSAltDomain?: string } }>(
        { method: 'GET', path: '/v1/agent/self', options: { signal: this.#core.abort.signal } })).data;
      return { domain: self.DebugConfig?.DNSDomain || 'consul', altDomain: self.DebugConfig?.DNSAltDomain || undefined, datacenter: self.Config?.Datacenter || 'dc1' };
    } catch (err) {
      this.#log.warn({ error: (err as Error).message }, 'could not read the agent configuration; TLS names use the consul domain');
      const dc = parseServiceUri(this.#core.svc.leafCert?.ServiceURI ?? '')?.datacenter;
      return { domain: 'consul', datacenter: dc || 'dc1' };
    }
  }

  /** Stops the watches, closes the listeners and their connections. */
  async close(): Promise<void> {
    this.#leaf.close();
    await this.#core.close();
  }

  #schedule(): void {
    if (this.#entry === undefined || this.#linked === undefined) return;
    this.#core.queue.schedule(() => this.#apply());
  }

  /** Brings the listeners in line with the entry: new ports open, gone ones close, changed ones are updated (http) or reopened (tcp or a protocol change). */
  async #apply(): Promise<void> {
    if (this.#core.abort.signal.aborted) return;
    const plans = planListeners(this.#entry ?? null, this.#linked ?? []);
    const tlsOn = plans.some((p) => p.tls);
    if (plans.some((p) => p.tls && this.#entry?.TLS?.SDS)) this.#log.warn('ingress gateway TLS from SDS is not supported; the Connect CA leaf is served');
    this.#leaf.setSans(tlsOn ? ingressDnsSans(this.#linked ?? [], this.#dns ?? { domain: 'consul', datacenter: 'dc1' }) : []);
    // A TLS listener opens with its certificate when it can (Envoy warms it until SDS or the leaf answers).
    if (tlsOn) await this.#leaf.ready(this.#o.connectTimeoutMs ?? 5000);
    const used = new Set<string>();
    const specs: ListenerSpec[] = plans.map((p) => ({
      port: p.port, protocol: p.protocol, tls: p.tls, services: p.services.map((s) => s.name),
      ...(p.protocol === 'tcp'
        ? { tcpService: p.services[0].name }
        : { vhosts: p.services.map((s) => ({ domains: s.domains, value: this.#route(s, p.protocol, used) })) }),
    }));
    await this.#core.listeners.apply(specs);
    this.#core.chains.sweep(used);
  }

  /** A service's virtual host: every request to the service's chain, with the service's header changes. */
  #route(s: ListenerPlan['services'][number], protocol: string, used: Set<string>): GatewayRoute {
    const selected = { deps: this.#core.chains.deps(s.name, protocol, used), request: s.request ? [s.request] : [], response: s.response ? [s.response] : [] };
    return { select: () => selected };
  }
}
