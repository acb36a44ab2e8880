// The real-socket transport: one UDP socket for probes and gossip and one TCP listener
// for streams, both bound to the same address and port (Consul's serf_lan 8301 layout).
// Streams carry one length-prefixed request and one length-prefixed response.
import dgram from 'node:dgram';
import net from 'node:net';
import type { Address } from './address.ts';
import type { GossipStatsHooks } from './stats.ts';
import type { Transport, TransportHandlers } from './transport.ts';

/** Options for the socket transport. */
export interface NetTransportOptions {
  bindAddr: string;
  bindPort: number;
  /** Largest stream frame accepted, in bytes (default 32 MiB). */
  maxFrame?: number;
  /** Counts datagrams and streams (memberlist's udp.* and tcp.* metrics); absent: not counted. */
  stats?: GossipStatsHooks;
}

/** Creates a UDP+TCP transport bound to `bindAddr:bindPort` when started. */
export function createNetTransport(opts: NetTransportOptions): Transport {
  return new NetTransport(opts);
}

class NetTransport implements Transport {
  #opts: NetTransportOptions;
  #udp: dgram.Socket | undefined;
  #tcp: net.Server | undefined;
  #port = 0;
  #conns = new Set<net.Socket>();
  readonly #stats: GossipStatsHooks | undefined;

  constructor(opts: NetTransportOptions) {
    this.#opts = opts;
    this.#stats = opts.stats;
  }

  async start(handlers: TransportHandlers): Promise<void> {
    // With port 0 the UDP socket picks a port and TCP must get the same one; retry on a clash.
    for (let attempt = 0; ; attempt++) {
      const udp = await this.#bindUdp(this.#opts.bindPort, handlers);
      const port = udp.address().port;
      try {
        this.#tcp = await this.#listenTcp(port, handlers);
        this.#udp = udp;
        this.#port = port;
        return;
      } catch (err) {
        udp.close();
        if (this.#opts.bindPort !== 0 || attempt >= 10) throw err;
      }
    }
  }

  address(): Address {
    return { host: this.#opts.bindAddr, port: this.#port };
  }

  sendPacket(to: Address, data: Buffer): void {
    const udp = this.#udp;
    if (!udp) return;
    // Counted before the send, as memberlist's udp.sent: bytes handed to the socket.
    this.#stats?.udpSent(data.length);
    udp.send(data, to.port, to.host, () => { /* best effort, like UDP itself */ });
  }

  request(to: Address, data: Buffer, timeoutMs: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: to.host, port: to.port });
      this.#conns.add(sock);
      sock.setTimeout(timeoutMs, () => sock.destroy(new Error(`i/o timeout after ${timeoutMs}ms`)));
      sock.on('connect', () => {
        const f = frame(data);
        this.#stats?.tcpConnect();
        this.#stats?.tcpSent(f.length);
        sock.write(f);
      });
      readFrame(sock, this.#maxFrame(), (err, body) => {
        this.#conns.delete(sock);
        sock.destroy();
        if (err) reject(err);
        else resolve(body!);
      });
    });
  }

  async close(): Promise<void> {
    for (const c of this.#conns) c.destroy();
    this.#conns.clear();
    const udp = this.#udp;
    const tcp = this.#tcp;
    this.#udp = undefined;
    this.#tcp = undefined;
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
    if (tcp) await new Promise<void>((r) => tcp.close(() => r()));
  }

  #maxFrame(): number {
    return this.#opts.maxFrame ?? 32 * 1024 * 1024;
  }

  #bindUdp(port: number, handlers: TransportHandlers): Promise<dgram.Socket> {
    const type = net.isIPv6(this.#opts.bindAddr) ? 'udp6' : 'udp4';
    const udp = dgram.createSocket({ type });
    const stats = this.#opts.stats;
    udp.on('message', (msg, rinfo) => {
      stats?.udpReceived(msg.length);
      handlers.packet(msg, { host: rinfo.address, port: rinfo.port });
    });
    return new Promise((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, this.#opts.bindAddr, () => {
        udp.off('error', reject);
        udp.on('error', () => { /* ICMP errors from dead peers are expected */ });
        resolve(udp);
      });
    });
  }

  #listenTcp(port: number, handlers: TransportHandlers): Promise<net.Server> {
    const server = net.createServer((sock) => this.#serve(sock, handlers));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.#opts.bindAddr, () => {
        server.off('error', reject);
        resolve(server);
      });
    });
  }

  #serve(sock: net.Socket, handlers: TransportHandlers): void {
    this.#conns.add(sock);
    this.#stats?.tcpAccept();
    sock.on('close', () => this.#conns.delete(sock));
    sock.setTimeout(30_000, () => sock.destroy());
    const from = { host: sock.remoteAddress ?? '', port: sock.remotePort ?? 0 };
    readFrame(sock, this.#maxFrame(), (err, body) => {
      if (err) return sock.destroy();
      handlers.stream(body!, from).then(
        (resp) => {
          const f = frame(resp);
          this.#stats?.tcpSent(f.length);
          sock.end(f);
        },
        () => sock.destroy(),
      );
    });
  }
}

function frame(data: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(data.length);
  return Buffer.concat([head, data]);
}

/** Reads one length-prefixed frame from `sock`, then calls `done` exactly once. */
function readFrame(sock: net.Socket, max: number, done: (err: Error | null, body?: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (err: Error | null, body?: Buffer) => {
    if (finished) return;
    finished = true;
    sock.removeAllListeners('data');
    done(err, body);
  };
  sock.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
    const buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    if (buf.length < 4) return;
    const len = buf.readUInt32BE(0);
    if (len > max) return finish(new Error(`stream frame of ${len} bytes exceeds the ${max}-byte limit`));
    if (size >= 4 + len) finish(null, buf.subarray(4, 4 + len));
  });
  sock.on('error', (err) => finish(err));
  sock.on('close', () => finish(new Error('EOF: connection closed before a full response')));
}
