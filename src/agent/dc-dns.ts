// DNS questions for another datacenter (`web.service.dc2.consul`, `n1.node.dc2.consul`): a server
// in a WAN pool passes the raw question to a server of that datacenter over the internal RPC and
// relays its answer, so the records come from that datacenter's catalog; an unknown datacenter
// stays NXDOMAIN as before. Every other question goes to the local handler untouched. A question
// a client agent asked under its own settings is recognised by the client's domains and passed on
// with those settings, so the remote server answers it as the client would (leaving hostname
// addresses to the client when it resolves them itself). The asker's IP, the asking agent and its
// datacenter go along, as Consul forwards PreparedQuery.Execute with its Source and Agent: a
// prepared query there runs for an agent of another datacenter (no distance sort). Forwarded
// questions wait through one bounded queue per agent (dns/upstream-queue.ts): identical questions
// share one request, at most 256 run at once, the oldest past 4,096 waiting are answered SERVFAIL,
// and after 2 s dropped.
import dnsPacket from 'dns-packet';
import {
  HostnamesDelegated, QuestionExpired, QuestionShed, UpstreamQueue, parseName, preferringNamespace, questionBytes, replyWithId, shedReply, type DnsHandler,
} from '../dns/index.ts';
import type { Logger } from '../log.ts';
import type { DatacenterRoutes } from './dc-forward.ts';
import { Forwarder } from './forward.ts';
import type { TlsConfigurator } from './tls-configurator.ts';
import {
  DNS_AGENT_DATACENTER_HEADER, DNS_AGENT_HEADER, DNS_HOSTNAMES_HEADER, DNS_MESSAGE_TYPE, DNS_RECURSE_HEADER, DNS_RPC_PATH, DNS_SOURCE_HEADER,
} from './rpc-server.ts';
import { DNS_CONFIG_HEADER } from '../dns/config-wire.ts';

/** A client agent's DNS settings: its domains, and the header value they came in (config-wire.ts). */
export interface ClientDnsSettings {
  domain: string;
  altDomain: string;
  settings: string;
  /** The client resolves hostname addresses itself: remote answers leave them to it (HostnamesDelegated). */
  delegateHostnames?: boolean;
  /** The client has recursors (RA on a shed question's SERVFAIL). */
  recursionAvailable?: boolean;
}

/** A DNS message handler as the listeners use it. */
export type MessageHandler = Pick<DnsHandler, 'answerNow' | 'handle'>;

/** What the wrapper needs. */
export interface DatacenterDnsDeps {
  datacenter: string;
  /** This agent's node name: the asking agent of its own questions (Consul's Agent.Node). */
  nodeName: string;
  domain: string;
  altDomain: string;
  /** dns_config.prefer_namespace: a lone locality label is a namespace, never a datacenter. */
  preferNamespace?: boolean;
  routes: DatacenterRoutes & { hasRemoteDatacenters(): boolean };
  forwarder: Forwarder;
  /** Questions waiting on remote datacenters (default: a queue of this handler's own). */
  queue?: UpstreamQueue;
  /** This agent has recursors (RA on a shed question's SERVFAIL). */
  recursionAvailable?: boolean;
  logger: Logger;
}

/** The datacenter a question names when it is not ours, or null. */
export function remoteDatacenter(msg: Buffer, d: Pick<DatacenterDnsDeps, 'datacenter' | 'domain' | 'altDomain' | 'preferNamespace'>): string | null {
  let q: { name: string; type: string } | undefined;
  try {
    q = dnsPacket.decode(msg).questions?.[0];
  } catch {
    return null;
  }
  if (!q) return null;
  const query = parseName(q.name, q.type, d.domain, d.altDomain)?.query;
  if (!query || query.kind === 'ptr' || query.kind === 'apex' || query.kind === 'virtual' || query.kind === 'addr') return null;
  const l = preferringNamespace(query.locality, d.preferNamespace === true);
  if (l.peer || l.samenessGroup) return null;
  const dc = l.datacenter || l.peerOrDatacenter;
  return dc && dc !== d.datacenter.toLowerCase() ? dc : null;
}

/** Wraps `local` so questions for a known remote datacenter are answered there under `token()`. */
export function datacenterDnsHandler(local: MessageHandler, token: () => string, deps: DatacenterDnsDeps, client?: ClientDnsSettings): MessageHandler {
  const d = client ? { ...deps, domain: client.domain, altDomain: client.altDomain } : deps;
  const queue = deps.queue ?? new UpstreamQueue();
  const recursionAvailable = client ? client.recursionAvailable === true : deps.recursionAvailable === true;
  const settings: Record<string, string> = client ? { [DNS_CONFIG_HEADER]: client.settings } : {};
  if (client?.delegateHostnames) settings[DNS_HOSTNAMES_HEADER] = 'client';
  // Decoding costs; skip it entirely while no other datacenter is known.
  const remote = (msg: Buffer): string | null => (d.routes.hasRemoteDatacenters() ? remoteDatacenter(msg, d) : null);
  return {
    answerNow(msg, transport) {
      const early = local.answerNow(msg, transport);
      // Header rejections stand; a prepared answer is local by construction unless the name points elsewhere.
      if (early === null || early === undefined) return early;
      return remote(msg) ? undefined : early;
    },
    async handle(msg, transport, source, agentNode, agentDatacenter) {
      const dc = remote(msg);
      const servers = dc ? d.routes.rpcAddresses(dc) : [];
      if (servers.length === 0) return local.handle(msg, transport, source, agentNode, agentDatacenter);
      const t = token();
      let delegated: Buffer | undefined;
      try {
        // Identical questions asked at once under the same token and settings share one request:
        // the asker and its agent change nothing there, an agent of this datacenter being no source
        // to sort by in that one (DNS_AGENT_DATACENTER_HEADER).
        const key = `${dc}\n${t}\n${settings[DNS_CONFIG_HEADER] ?? ''}\n${settings[DNS_HOSTNAMES_HEADER] ?? ''}\n${transport}\n${questionBytes(msg)}`;
        const asker: Record<string, string> = {
          [DNS_AGENT_HEADER]: agentNode || deps.nodeName, [DNS_AGENT_DATACENTER_HEADER]: agentDatacenter || deps.datacenter,
          ...(source ? { [DNS_SOURCE_HEADER]: source } : {}),
        };
        const res = await queue.run(key, (signal) => d.forwarder.send({ servers: () => servers, datacenter: dc! }, {
          method: 'POST', url: `${DNS_RPC_PATH}?transport=${transport}`, body: msg, signal,
          headers: { 'content-type': DNS_MESSAGE_TYPE, ...settings, ...asker, ...(t ? { 'x-consul-token': t } : {}) },
        }));
        // Asked to recurse (never for a datacenter's name): the local handler decides.
        const recurse = res.headers[DNS_RECURSE_HEADER] !== undefined;
        if (res.status === 204 && !recurse) return null;
        if (res.status === 200 && res.headers[DNS_HOSTNAMES_HEADER] !== undefined) delegated = replyWithId(res.body, msg);
        else if (res.status === 200) return replyWithId(res.body, msg);
        else if (!recurse) d.logger.warn({ datacenter: dc, status: res.status, error: res.body.toString('utf8').trim() }, 'DNS query failed in the remote datacenter');
      } catch (err) {
        if (err instanceof QuestionExpired) return null;
        if (err instanceof QuestionShed) return shedReply(msg, recursionAvailable);
        d.logger.warn({ datacenter: dc, error: (err as Error).message }, 'DNS query could not reach the remote datacenter');
      }
      // The remote answer left its hostname addresses to the asking client agent: passed on to it.
      if (delegated) throw new HostnamesDelegated(delegated);
      return local.handle(msg, transport, source, agentNode, agentDatacenter);
    },
  };
}

/** The wrapper for this agent's handlers: identity without a WAN pool, else remote questions go to their datacenter. */
export function wanDnsWrapper(
  wan: DatacenterDnsDeps['routes'] & { readonly enabled: boolean },
  c: { datacenter: string; nodeName: string; domain: string; altDomain: string; preferNamespace?: boolean; recursors?: readonly unknown[]; bindAddr: string; tls?: Pick<TlsConfigurator, 'outgoingRpc'>; crossDc?: (datacenter: string) => void }, logger: Logger,
): (local: MessageHandler, token: () => string, client?: ClientDnsSettings) => MessageHandler {
  if (!wan.enabled) return (local) => local;
  const deps: DatacenterDnsDeps = {
    datacenter: c.datacenter, nodeName: c.nodeName, domain: c.domain, altDomain: c.altDomain, preferNamespace: c.preferNamespace, routes: wan, logger: logger.child({ '@module': 'dns' }),
    forwarder: new Forwarder({ logger, localAddress: c.bindAddr, tls: c.tls, crossDc: c.crossDc }),
    // One queue for the agent's own questions and every client's.
    queue: new UpstreamQueue(), recursionAvailable: (c.recursors?.length ?? 0) > 0,
  };
  return (local, token, client) => datacenterDnsHandler(local, token, deps, client);
}
