// DNS on a client agent: every question is posted, as the raw message, to a server's internal
// RPC listener with the agent's DNS token and answered there by the server's DnsHandler; when no
// server answers, the client replies SERVFAIL itself.
import dnsPacket from 'dns-packet';
import type { DnsHandler } from '../dns/index.ts';
import type { Logger } from '../log.ts';
import type { Forwarder, ServerSource } from './forward.ts';
import { DNS_MESSAGE_TYPE, DNS_RPC_PATH } from './rpc-server.ts';

const SERVFAIL = 2;

/** What the remote handler needs. */
export interface RemoteDnsDeps {
  forwarder: Forwarder;
  servers: ServerSource;
  /** acl.tokens.dns, else the default token, read per query. */
  token(): string;
  logger: Logger;
}

/** A DnsServer handler that asks a server. */
export function remoteDnsHandler(d: RemoteDnsDeps): Pick<DnsHandler, 'answerNow' | 'handle'> {
  return {
    // Runts are dropped without a round trip; everything else is the server's to judge.
    answerNow: (msg) => (msg.length < 12 ? null : undefined),
    async handle(msg, transport) {
      const token = d.token();
      try {
        const res = await d.forwarder.send(d.servers, {
          method: 'POST', url: `${DNS_RPC_PATH}?transport=${transport}`, body: msg,
          headers: { 'content-type': DNS_MESSAGE_TYPE, ...(token ? { 'x-consul-token': token } : {}) },
        });
        if (res.status === 204) return null;
        if (res.status === 200) return res.body;
        d.logger.warn({ status: res.status, error: res.body.toString('utf8').trim() }, 'DNS query failed on the server');
      } catch (err) {
        d.logger.warn({ error: (err as Error).message }, 'DNS query could not reach a server');
      }
      return servfail(msg);
    },
  };
}

function servfail(msg: Buffer): Buffer | null {
  try {
    const q = dnsPacket.decode(msg);
    return dnsPacket.encode({ type: 'response', id: q.id, flags: (q.flags ?? 0) & dnsPacket.RECURSION_DESIRED | SERVFAIL, questions: q.questions });
  } catch {
    return null;
  }
}
