// A server agent's DNS answering: the handler over its replica, the datacenter, staleness and ACL
// wrappers around it, and the handlers client agents' questions get on the server port. Imported by
// createAgent when the DNS listeners open or a question first comes, not with the agent's modules.
import { DnsHandler, UpstreamQueue, delegateRecursion, warmPrepared, warmedServices, type DnsConfig, type Warming } from '../dns/index.ts';
import { decodeDnsConfig } from '../dns/config-wire.ts';
import { catchUp } from '../endpoint/query.ts';
import { DnsView, type DnsAcl } from '../endpoint/dns-view.ts';
import type { EndpointDeps } from '../endpoint/deps.ts';
import type { Replica } from '../state/index.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import { staleBounded, type StaleDeps } from './dns-stale.ts';
import { wanDnsWrapper, type MessageHandler } from './dc-dns.ts';
import { preparingDns } from './acl-primary-routes.ts';
import { wanDnsSettings } from './translate-wan.ts';
import { dnsQueryExecutor } from './query-dns.ts';
import { tokenHandlers } from './rpc-server.ts';
import type { DnsMetrics } from './dns-metrics.ts';
import type { Endpoints } from './server.ts';
import type { Local } from './local/index.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import type { TlsConfigurator } from './tls-configurator.ts';
import type { WanPool } from './wan-pool.ts';

/** What the server's DNS is built from (all of it built by createAgent). */
export interface ServerDnsDeps {
  config: RuntimeConfig;
  dnsCfg: DnsConfig;
  dnsMeter: DnsMetrics;
  replica: Replica;
  endpoints: Endpoints;
  epDeps: EndpointDeps;
  local: Local;
  wan: WanPool;
  tls: TlsConfigurator;
  crossDc: (datacenter: string) => void;
  clock: Clock;
  logger: Logger;
  random: () => number;
}

/** The server's DNS handlers. */
export interface ServerDns {
  /** The message handler over the replica (socket-free), for in-process tests and benchmarks. */
  handler: DnsHandler;
  /** This agent's own questions (its DNS listeners'), under acl.tokens.dns or the default token. */
  own: MessageHandler;
  /** A client agent's question under its token and this server's settings. */
  dnsFor(token: string): MessageHandler;
  /** A client agent's question under its own token, settings and hostname resolution. */
  dnsWith(token: string, settings: string, clientHostnames: boolean): MessageHandler;
  /** Starts building the prepared answers of the catalog's services in the background (dns/warm.ts); undefined for a small catalog. */
  warm(): Warming | undefined;
}

/** Builds the server's DNS handlers. */
export function buildServerDns(d: ServerDnsDeps): ServerDns {
  const { config, dnsCfg, replica, endpoints, local, logger, clock } = d;
  const resolve = (s: string) => endpoints.acl.resolver.resolve(s);
  const handler = new DnsHandler({
    cfg: dnsCfg, view: new DnsView(replica, dnsAcl(local, endpoints)), logger: logger.child({ '@module': 'dns' }),
    random: d.random, now: () => clock.now(),
    queries: dnsQueryExecutor(endpoints.query, resolve, config.nodeName, new UpstreamQueue()),
  });
  // Questions for another datacenter are answered there (servers in a WAN pool).
  const dcDns = wanDnsWrapper(d.wan, { ...dnsCfg, nodeName: config.nodeName, bindAddr: config.bindAddr, tls: d.tls, crossDc: d.crossDc }, logger);
  // Answers no staler than dns_config.max_stale, or consistent reads under allow_stale = false
  // (the server's settings, or the asking client's).
  const stale: StaleDeps = {
    isLeader: () => d.epDeps.leadership.isLeader(), knownLeader: () => d.epDeps.leadership.knownLeader(),
    lastContact: () => replica.lastContact, now: () => clock.now(),
    consistentRead: () => catchUp(d.epDeps), logger: logger.child({ '@module': 'dns' }), staleQuery: d.dnsMeter.staleQuery,
  };
  // Translating, questions for another datacenter go there under this agent's settings asking for WAN addresses.
  // The asker's token resolved first: a secondary asks the primary for a secret it does not hold and waits.
  const dnsToken = () => dnsAcl(local, endpoints).token();
  const own = preparingDns(staleBounded(dcDns(handler, dnsToken, wanDnsSettings(dnsCfg)), dnsCfg, stale), dnsToken, endpoints.acl.resolver);
  // The warm-up asks past the datacenter and staleness wrappers, but not past the token's readiness:
  // entries built before the primary resolved the DNS token would hold the default policy's answers.
  const warmGate = preparingDns(handler, dnsToken, endpoints.acl.resolver);
  const warmTarget = { answerNow: warmGate.answerNow, get questions() { return handler.questions; } };
  // Handlers per client token, settings and hostname resolution (tokens hold no newline), bounded like dnsFor's.
  const clientDns = tokenHandlers((key) => {
    const [token, hostnames, settings] = key.split('\n');
    const cfg = decodeDnsConfig(settings, config.datacenter);
    const delegateHostnames = hostnames === 'client';
    // Prepared answers too: clients usually share one configuration, and token-less ones one handler.
    const derived = handler.derive({
      cfg, view: new DnsView(replica, { token: () => token, resolve }), fastPath: true, recursion: delegateRecursion, delegateHostnames,
    });
    const client = { ...(wanDnsSettings(cfg) ?? { domain: cfg.domain, altDomain: cfg.altDomain, settings }), delegateHostnames, recursionAvailable: cfg.recursors.length > 0 };
    return preparingDns(staleBounded(dcDns(derived, () => token, client), cfg, stale), () => token, endpoints.acl.resolver);
  });
  const dnsFor = tokenHandlers((token) => preparingDns(staleBounded(dcDns(handler.derive({
    view: new DnsView(replica, { token: () => token, resolve }), fastPath: false,
  }), () => token), dnsCfg, stale), () => token, endpoints.acl.resolver));
  return {
    handler, own, dnsFor,
    // The default tenant's services as the replica holds them now; later ones build on first use.
    warm: () => {
      const names = warmedServices(replica.catalog.byName);
      return names.length === 0 ? undefined : warmPrepared(warmTarget, names, dnsCfg.domain);
    },
    dnsWith: (token, settings, clientHostnames) => clientDns(`${token}\n${clientHostnames ? 'client' : 'server'}\n${settings}`),
  };
}

// DNS answers under acl.tokens.dns, else the default token (both read live); while ACLs are off
// the resolver grants everything, and turning them on at runtime takes effect at once.
function dnsAcl(local: Local, endpoints: Endpoints): DnsAcl {
  return { token: () => local.tokens.get('dns') || local.tokens.get('default'), resolve: (s) => endpoints.acl.resolver.resolve(s) };
}
