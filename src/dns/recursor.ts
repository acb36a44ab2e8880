// Forwarding of names outside the Consul domain to the configured recursors, in order or in
// random order (`recursor_strategy`), each with `recursor_timeout`, over the transport the
// question came by; an answer other than NOERROR or NXDOMAIN falls through to the next
// recursor; null when all fail (SERVFAIL). Hostname resolution takes any rcode (see `recurse`).
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { DnsConfig } from './config.ts';
import { shuffle } from '../shuffle.ts';

export { RecursionDelegated, delegateRecursion } from './delegated.ts';

/**
 * Which replies end the walk through the recursors: `usable` (NOERROR or NXDOMAIN; Consul's
 * handleRecurse, names outside the domain) or `any` reply that parses (Consul's resolveCNAME,
 * hostname addresses: miekg's Exchange fails only on transport and parse errors, so a recursor's
 * SERVFAIL or REFUSED is taken, with whatever answers it holds, and the next is not asked).
 */
export type Acceptance = 'usable' | 'any';

/** Sends one query to one upstream and resolves with its raw reply (or rejects on timeout). */
export type Exchange = (query: Buffer, to: { host: string; port: number }, timeoutMs: number) => Promise<Buffer>;

/**
 * Forwards a raw query; resolves with the first usable raw reply (the client's id restored) or null.
 *
 * Each recursor gets the whole recursor_timeout and the recursion as a whole has no deadline of
 * its own, as Consul's handleRecurse (miekg's Client.Timeout bounds one exchange): with
 * recursor_strategy sequential and N recursors not answering, SERVFAIL comes after N timeouts, and
 * a later recursor's answer is relayed however late in the sequence it comes. This is deliberate:
 * an overall cap would turn answers Consul gives into SERVFAIL (a second recursor answering just
 * after the first timed out at 2 s, while dig and glibc wait 5 s per try). Waiting recursions are
 * bounded in number instead (DnsHandler's maxRecursions answers SERVFAIL at once past it).
 */
export async function recurse(query: Buffer, cfg: DnsConfig, random: () => number, exchange: Exchange = udpExchange, accept: Acceptance = 'usable'): Promise<Buffer | null> {
  const order = cfg.recursorStrategy === 'random' ? shuffle(cfg.recursors.slice(), random) : cfg.recursors;
  for (const r of order) {
    try {
      const reply = await exchange(query, r, cfg.recursorTimeoutMs);
      const rcode = reply.length >= 4 ? reply.readUInt16BE(2) & 0xf : -1;
      if (rcode === 0 || rcode === 3 || (accept === 'any' && rcode >= 0)) {
        dnsPacket.decode(reply); // a reply we cannot parse is no answer
        return reply;
      }
    } catch {
      // timeouts and socket errors fall through to the next recursor
    }
  }
  return null;
}

/** One UDP exchange with a fresh socket (and so a fresh source port) per query. */
export function udpExchange(query: Buffer, to: { host: string; port: number }, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(to.host) ? 'udp6' : 'udp4');
    const id = query.readUInt16BE(0);
    const timer = setTimeout(() => done(new Error('recursor timeout')), timeoutMs);
    const done = (err: Error | null, msg?: Buffer): void => {
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(msg!);
    };
    sock.on('error', (err) => done(err));
    sock.on('message', (msg) => {
      if (msg.length >= 2 && msg.readUInt16BE(0) === id) done(null, msg);
    });
    sock.send(query, to.port, to.host);
  });
}

/** One TCP exchange (RFC 1035 two-byte length framing) on a fresh connection. */
export function tcpExchange(query: Buffer, to: { host: string; port: number }, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: to.host, port: to.port });
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => done(new Error('recursor timeout')), timeoutMs);
    const done = (err: Error | null, msg?: Buffer): void => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(msg!);
    };
    sock.on('error', (err) => done(err));
    sock.on('close', () => done(new Error('recursor closed the connection')));
    sock.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) done(null, got.subarray(2, 2 + got.readUInt16BE(0)));
    });
    const frame = Buffer.alloc(2 + query.length);
    frame.writeUInt16BE(query.length, 0);
    query.copy(frame, 2);
    sock.write(frame);
  });
}
