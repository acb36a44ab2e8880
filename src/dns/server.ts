// The DNS listeners: UDP and TCP on each configured address (same port for both), TCP with
// RFC 1035 two-byte length framing and many queries per connection. Load is bounded: at most
// `maxTcpConns` connections and `maxPipelined` queries in flight per connection; UDP work is
// bounded by the handler (recursion slots), so nothing queues without limit.
import dgram from 'node:dgram';
import net from 'node:net';
// Imported rather than the global: the global is a lazy getter, read per batched reply.
import { performance } from 'node:perf_hooks';
import type { Logger } from '../log.ts';
import type { ListenAddr } from '../agent/config/runtime.ts';
import type { DnsHandler } from './handler.ts';
import { joinHostPort } from '../host-port.ts';

/** Options of the listeners. */
export interface DnsServerDeps {
  handler: Pick<DnsHandler, 'answerNow' | 'handle'>;
  logger: Logger;
  maxTcpConns?: number;
  maxPipelined?: number;
  /** Idle TCP connections are closed after this many ms. */
  tcpIdleMs?: number;
  /**
   * Told of each answered question: whether it was a reverse (`.arpa`) name, and the
   * performance.now() readings it started and ended at (the end shared with the UDP reply batch).
   */
  timed?: ((ptr: boolean, t0: number, t1: number) => void) | null;
  /**
   * Questions handed to the handler that `timed` is not told of: Consul times only the names its
   * domain and reverse handlers serve, not those passed to the recursors or refused (asked only
   * for questions not answered at once; the prepared answers are all in the domain).
   */
  untimed?: ((msg: Buffer) => boolean) | null;
}

/** Bound addresses, `host:port`. */
export interface DnsAddresses {
  udp: string[];
  tcp: string[];
}

/** UDP + TCP DNS listeners around one handler. */
/** UDP receive buffer asked for (unbound recommends 4 MiB on busy servers). */
const UDP_RECV_BUFFER = 4 * 1024 * 1024;

export class DnsServer {
  readonly #d: Required<DnsServerDeps>;
  readonly #udp: dgram.Socket[] = [];
  readonly #tcp: net.Server[] = [];
  readonly #conns = new Set<net.Socket>();

  constructor(deps: DnsServerDeps) {
    this.#d = { maxTcpConns: 1024, maxPipelined: 64, tcpIdleMs: 10_000, timed: null, untimed: null, ...deps };
  }

  /** Binds every TCP-kind address on UDP and TCP (port 0 picks one free port for both). */
  async listen(addrs: ListenAddr[]): Promise<void> {
    for (const a of addrs) {
      if (a.kind !== 'tcp') throw new Error('DNS address cannot be a unix socket');
      await this.#bindPair(a.host, a.port);
    }
  }

  async #bindPair(host: string, port: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const udp = await this.#bindUdp(host, port);
      const bound = udp.address().port;
      try {
        this.#tcp.push(await this.#bindTcp(host, bound));
        this.#udp.push(udp);
        return;
      } catch (err) {
        udp.close();
        if (port !== 0 || attempt >= 10) throw err;
      }
    }
  }

  #bindUdp(host: string, port: number): Promise<dgram.Socket> {
    return new Promise((resolve, reject) => {
      // Replies go to the sender's literal address: resolve it synchronously rather than through
      // dns.lookup, which defers every send by a tick.
      // A larger receive buffer absorbs bursts while the event loop is busy (GC, a catalog
      // rebuild) instead of dropping queries; the kernel caps it at net.core.rmem_max.
      const sock = dgram.createSocket({
        type: net.isIPv6(host) ? 'udp6' : 'udp4', lookup: literalLookup as never, recvBufferSize: UDP_RECV_BUFFER,
      });
      sock.once('error', reject);
      sock.bind(port, host, () => {
        sock.off('error', reject);
        sock.on('error', (err) => this.#d.logger.warn({ err }, 'dns udp socket error'));
        const replies = new ReplyBatch(sock);
        sock.on('close', () => replies.close());
        sock.on('message', (msg, rinfo) => this.#onDatagram(sock, replies, msg, rinfo));
        resolve(sock);
      });
    });
  }

  #onDatagram(sock: dgram.Socket, replies: ReplyBatch, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const timed = this.#d.timed;
    const t0 = timed ? performance.now() : 0;
    const now = this.#d.handler.answerNow(msg, 'udp');
    if (now !== undefined) {
      // A reply joining a batch has the batch read the clock; that reading ends the question's time.
      const t1 = now ? replies.push(now, rinfo.port, rinfo.address) : -1;
      if (timed) timed(isReverse(msg), t0, t1 < 0 ? performance.now() : t1);
      return;
    }
    this.#d.handler.handle(msg, 'udp', rinfo.address).then((reply) => {
      if (reply) sendTo(sock, reply, rinfo.port, rinfo.address);
      if (timed && !this.#d.untimed?.(msg)) timed(isReverse(msg), t0, performance.now());
    }, (err: unknown) => this.#d.logger.error({ err }, 'dns udp handler failed'));
  }

  #bindTcp(host: string, port: number): Promise<net.Server> {
    return new Promise((resolve, reject) => {
      const srv = net.createServer((c) => this.#onConnection(c));
      srv.once('error', reject);
      srv.listen(port, host, () => {
        srv.off('error', reject);
        resolve(srv);
      });
    });
  }

  #onConnection(c: net.Socket): void {
    if (this.#conns.size >= this.#d.maxTcpConns) {
      c.destroy();
      return;
    }
    this.#conns.add(c);
    c.setTimeout(this.#d.tcpIdleMs, () => c.destroy());
    c.on('close', () => this.#conns.delete(c));
    c.on('error', () => c.destroy());
    let buf: Buffer = Buffer.alloc(0);
    let inFlight = 0;
    c.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        const timed = this.#d.timed;
        const t0 = timed ? performance.now() : 0;
        const now = this.#d.handler.answerNow(msg, 'tcp');
        if (now !== undefined) {
          if (now && !c.destroyed) c.write(frame(now));
          if (timed) timed(isReverse(msg), t0, performance.now());
          continue;
        }
        if (++inFlight >= this.#d.maxPipelined) c.pause();
        const copy = Buffer.from(msg);
        this.#d.handler.handle(copy, 'tcp', c.remoteAddress).then((reply) => {
          if (reply && !c.destroyed) c.write(frame(reply));
          if (timed && !this.#d.untimed?.(copy)) timed(isReverse(copy), t0, performance.now());
        }, (err: unknown) => this.#d.logger.error({ err }, 'dns tcp handler failed')).finally(() => {
          if (--inFlight < this.#d.maxPipelined) c.resume();
        });
      }
    });
  }

  /** Bound `host:port` of every UDP and TCP listener. */
  addresses(): DnsAddresses {
    return {
      udp: this.#udp.map((s) => joinHostPort(s.address().address, s.address().port)),
      tcp: this.#tcp.map((s) => {
        const a = s.address() as net.AddressInfo;
        return joinHostPort(a.address, a.port);
      }),
    };
  }

  /** Closes listeners and open connections. */
  async close(): Promise<void> {
    for (const c of this.#conns) c.destroy();
    await Promise.all([
      ...this.#udp.map((s) => new Promise<void>((r) => s.close(() => r()))),
      ...this.#tcp.map((s) => new Promise<void>((r) => s.close(() => r()))),
    ]);
    this.#udp.length = 0;
    this.#tcp.length = 0;
  }
}

/** Longest a reply waits in a batch for the ones after it, ms. */
const BATCH_WAIT_MS = 0.1;

/**
 * Replies answered while the loop reads one burst of datagrams (libuv reads up to 32 per poll),
 * sent together once it is done (setImmediate, the check phase right after the poll): a client
 * whose receiving thread sleeps is woken once per burst, instead of every send paying for a
 * cross-CPU wake-up. The first reply since the last flush goes at once (a lone datagram has
 * nothing to be batched with, so a paced client sees no added delay), and a batch is sent as soon
 * as its oldest reply has waited BATCH_WAIT_MS, so a long burst does not hold early replies back.
 */
class ReplyBatch {
  readonly #sock: dgram.Socket;
  readonly #bufs: (Buffer | undefined)[] = [];
  readonly #ports: number[] = [];
  readonly #addrs: string[] = [];
  #n = 0;
  /** When the batch's oldest reply was queued (performance.now()). */
  #since = 0;
  #scheduled = false;
  #closed = false;
  readonly #flush = (): void => {
    this.#scheduled = false;
    this.#sendAll();
  };

  constructor(sock: dgram.Socket) {
    this.#sock = sock;
  }

  /** Queues or sends a reply; returns the performance.now() reading the batch took, or -1 when it took none. */
  push(buf: Buffer, port: number, address: string): number {
    if (this.#closed) return -1;
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flush);
      this.#send(buf, port, address);
      return -1;
    }
    const i = this.#n++;
    this.#bufs[i] = buf;
    this.#ports[i] = port;
    this.#addrs[i] = address;
    const now = performance.now();
    if (i === 0) this.#since = now;
    else if (now - this.#since >= BATCH_WAIT_MS) this.#sendAll();
    return now;
  }

  close(): void {
    this.#closed = true;
  }

  #sendAll(): void {
    const n = this.#n;
    this.#n = 0;
    for (let i = 0; i < n; i++) {
      const buf = this.#bufs[i]!;
      this.#bufs[i] = undefined;
      this.#send(buf, this.#ports[i], this.#addrs[i]);
    }
  }

  #send(buf: Buffer, port: number, address: string): void {
    // Once the socket has closed under the batch there is nothing more to send.
    if (!this.#closed && sendTo(this.#sock, buf, port, address) === 'closed') this.#closed = true;
  }
}

/**
 * Sends one reply; a send that throws is dropped, never thrown: 'closed' when the socket is no
 * longer running, otherwise the sender's own address was unusable (a datagram from source port 0
 * makes send throw ERR_SOCKET_BAD_PORT), which must not stop replies to anyone else.
 */
function sendTo(sock: dgram.Socket, buf: Buffer, port: number, address: string): 'sent' | 'closed' | 'dropped' {
  try {
    sock.send(buf, port, address);
    return 'sent';
  } catch (err) {
    return (err as { code?: string }).code === 'ERR_SOCKET_DGRAM_NOT_RUNNING' ? 'closed' : 'dropped';
  }
}

/** dgram's lookup for addresses that are already IP literals (rinfo.address). */
function literalLookup(address: string, family: number | object, cb: (err: Error | null, address: string, family: number) => void): void {
  cb(null, address, address.includes(':') ? 6 : 4);
}

function frame(reply: Buffer): Buffer {
  const out = Buffer.allocUnsafe(reply.length + 2);
  out.writeUInt16BE(reply.length, 0);
  reply.copy(out, 2);
  return out;
}

/**
 * Whether the question names a reverse lookup (its last label is `arpa`), which Consul's DNS
 * server hands to its PTR handler; read from the wire without decoding the message.
 */
export function isReverse(msg: Buffer): boolean {
  let i = 12;
  let last = -1;
  while (i < msg.length) {
    const len = msg[i];
    if (len === 0) break;
    // A compression pointer cannot start a question name; treat it as not reverse.
    if (len > 63) return false;
    last = i;
    i += len + 1;
  }
  if (last < 0 || msg[last] !== 4 || last + 5 > msg.length) return false;
  return (msg[last + 1] | 0x20) === 0x61 && (msg[last + 2] | 0x20) === 0x72 && (msg[last + 3] | 0x20) === 0x70 && (msg[last + 4] | 0x20) === 0x61;
}

/**
 * Whether the question's name is `suffix` or under it, `suffix` in wire form (`\x06consul\x00`,
 * lower case), compared ignoring ASCII case without decoding the message; false for a broken or
 * compressed question name.
 */
export function questionUnder(msg: Buffer, suffix: Uint8Array): boolean {
  let end = 12;
  while (end < msg.length) {
    const len = msg[end];
    if (len === 0) break;
    if (len > 63) return false;
    end += len + 1;
  }
  if (end >= msg.length) return false;
  const start = end + 1 - suffix.length;
  if (start < 12) return false;
  let i = 12;
  while (i < start) i += msg[i] + 1;
  if (i !== start) return false;
  for (let k = 0; k < suffix.length; k++) {
    const c = msg[start + k];
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== suffix[k]) return false;
  }
  return true;
}

/** A domain (`consul.`) in the wire form questionUnder compares, lower case. */
export function wireName(domain: string): Uint8Array {
  const labels = domain.toLowerCase().split('.').filter(Boolean);
  return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([Buffer.byteLength(l)]), Buffer.from(l)])), Buffer.from([0])]);
}
