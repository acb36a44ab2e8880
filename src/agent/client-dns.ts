// DNS on a client agent, answered under the client's own configuration as Consul's agents do:
// header checks, names outside its domain and alt_domain (its recursors, else REFUSED) and
// recursion run here in the same DnsHandler servers use; a question under its domains is posted,
// as the raw message with the client's settings (config-wire.ts) and DNS token, to a server's
// internal RPC listener, whose handler answers it under those settings from the server's catalog
// replica (reverse names the catalog does not know come back for the client's recursors). When
// no server answers, the client replies SERVFAIL itself.
import dnsPacket from 'dns-packet';
import { DnsHandler, parseName, type DnsConfig } from '../dns/index.ts';
import { DNS_CONFIG_HEADER, encodeDnsConfig } from '../dns/config-wire.ts';
import { keyName, readQuery } from '../dns/wire.ts';
import { EMPTY_DNS_READER } from '../endpoint/dns-view.ts';
import type { Logger } from '../log.ts';
import type { Forwarder, ServerSource } from './forward.ts';
import { DNS_MESSAGE_TYPE, DNS_RECURSE_HEADER, DNS_RPC_PATH } from './rpc-server.ts';

const SERVFAIL = 2;

/** What the remote handler needs. */
export interface RemoteDnsDeps {
  forwarder: Forwarder;
  servers: ServerSource;
  /** The client's DNS settings at start (dnsConfigFrom of its runtime configuration). */
  cfg: DnsConfig;
  /** acl.tokens.dns, else the default token, read per query. */
  token(): string;
  logger: Logger;
  random?: () => number;
  now?: () => number;
}

/** The client's DNS handler; reload() takes new settings (agent reload), as Consul's agent does. */
export interface RemoteDnsHandler extends Pick<DnsHandler, 'answerNow' | 'handle'> {
  reload(cfg: DnsConfig): void;
}

/** A DnsServer handler that answers the client's names through a server and recurses itself. */
export function remoteDnsHandler(d: RemoteDnsDeps): RemoteDnsHandler {
  let cfg = d.cfg;
  // Knows no catalog: it only ever rejects headers, recurses or refuses.
  const ownHandler = (): DnsHandler => new DnsHandler({ cfg, view: EMPTY_DNS_READER, logger: d.logger, random: d.random, now: d.now, fastPath: false });
  let own = ownHandler();
  let settings = encodeDnsConfig(cfg);
  // Under the client's domains or arpa (the type changes what a name asks, never whether it is ours).
  const ours = (msg: Buffer): boolean => {
    const name = questionName(msg);
    return name !== null && parseName(name, 'A', cfg.domain, cfg.altDomain) !== null;
  };
  return {
    reload(next) {
      cfg = next;
      own = ownHandler();
      settings = encodeDnsConfig(cfg);
    },
    answerNow: (msg, transport) => own.answerNow(msg, transport),
    async handle(msg, transport) {
      if (!ours(msg)) return own.handle(msg, transport);
      const token = d.token();
      try {
        const res = await d.forwarder.send(d.servers, {
          method: 'POST', url: `${DNS_RPC_PATH}?transport=${transport}`, body: msg,
          headers: { 'content-type': DNS_MESSAGE_TYPE, [DNS_CONFIG_HEADER]: settings, ...(token ? { 'x-consul-token': token } : {}) },
        });
        // A reverse name the catalog does not know: the client's recursors answer it.
        if (res.headers[DNS_RECURSE_HEADER] !== undefined) return own.handle(msg, transport);
        if (res.status === 204) return null;
        if (res.status === 200) return res.body;
        d.logger.warn({ status: res.status, error: res.body.toString('utf8').trim() }, 'DNS query failed on the server');
      } catch (err) {
        d.logger.warn({ error: (err as Error).message }, 'DNS query could not reach a server');
      }
      return servfail(msg, cfg.recursors.length > 0);
    },
  };
}

/** The question's name: read in place for plain queries, else decoded; null when there is none. */
function questionName(msg: Buffer): string | null {
  const wq = readQuery(msg);
  if (wq) return keyName(wq.key);
  try {
    return dnsPacket.decode(msg).questions?.[0]?.name ?? null;
  } catch {
    return null;
  }
}

function servfail(msg: Buffer, recursion: boolean): Buffer | null {
  try {
    const q = dnsPacket.decode(msg);
    const flags = ((q.flags ?? 0) & dnsPacket.RECURSION_DESIRED) | (recursion ? dnsPacket.RECURSION_AVAILABLE : 0) | SERVFAIL;
    return dnsPacket.encode({ type: 'response', id: q.id, flags, questions: q.questions });
  } catch {
    return null;
  }
}
