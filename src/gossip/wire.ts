// The gossip wire: encodes, encrypts and sends packets (piggybacking queued broadcasts up to
// the UDP budget) and stream requests, and decrypts and decodes inbound traffic for the
// handlers. Undecryptable streams are answered with a plaintext error the peer can show.
import type { Logger } from '../log.ts';
import type { Address } from './address.ts';
import type { BroadcastQueue } from './broadcast-queue.ts';
import {
  decodePacket, decodeStream, encodePacket, encodeStream, packetSize, type PacketMsg, type StreamMsg,
} from './messages.ts';
import { open, RemoteError, seal, sealError, type WireSecurity } from './security.ts';
import type { GossipStatsHooks } from './stats.ts';
import type { Transport, TransportHandlers } from './transport.ts';

/** Inbound message handlers. */
export interface WireHandlers {
  packet(msg: PacketMsg, from: Address): void;
  stream(msg: StreamMsg, from: Address): Promise<StreamMsg>;
}

// Room kept for the JSON envelope and the encryption header (kind, nonce, tag).
const OVERHEAD = 64;

/** Largest broadcast (packetSize) a packet of `udpBufferSize` can carry; a larger one would never be sent. */
export function broadcastBudget(udpBufferSize: number): number {
  return udpBufferSize - OVERHEAD;
}

/** Packets and streams for one gossip node. */
export class Wire {
  readonly #transport: Transport;
  readonly #queue: BroadcastQueue;
  readonly #sec: WireSecurity;
  readonly #log: Logger;
  readonly #udpBuffer: number;
  readonly #tcpTimeout: number;
  readonly #allowed: ((host: string) => boolean) | null;
  readonly #stats: Pick<GossipStatsHooks, 'sizeLocal' | 'sizeRemote'> | undefined;

  constructor(o: {
    transport: Transport; queue: BroadcastQueue; security: WireSecurity; log: Logger; udpBufferSize: number; tcpTimeoutMs: number;
    /** allowedCidrs as a matcher: alive messages from other sources are dropped (null: any source). */
    allowed?: ((host: string) => boolean) | null;
    /** Notes push-pull state sizes (memberlist's size.local and size.remote); absent: not noted. */
    stats?: Pick<GossipStatsHooks, 'sizeLocal' | 'sizeRemote'>;
  }) {
    this.#transport = o.transport;
    this.#queue = o.queue;
    this.#sec = o.security;
    this.#log = o.log;
    this.#udpBuffer = o.udpBufferSize;
    this.#tcpTimeout = o.tcpTimeoutMs;
    this.#allowed = o.allowed ?? null;
    this.#stats = o.stats;
  }

  /** Binds the transport and routes inbound traffic to `h`. */
  start(h: WireHandlers): Promise<void> {
    const handlers: TransportHandlers = {
      packet: (data, from) => this.#onPacket(data, from, h),
      stream: (data, from) => this.#onStream(data, from, h),
    };
    return this.#transport.start(handlers);
  }

  /** The transport's bound address. */
  address(): Address {
    return this.#transport.address();
  }

  /** Sends `msgs` with as many queued broadcasts piggybacked as fit. */
  send(to: Address, msgs: PacketMsg[]): void {
    const used = msgs.reduce((n, m) => n + packetSize(m), OVERHEAD);
    const all = [...msgs, ...this.#queue.take(this.#udpBuffer - used)];
    this.#transport.sendPacket(to, seal(this.#sec, encodePacket(all)));
  }

  /** Sends queued broadcasts only; false when there was nothing to send. */
  gossip(to: Address): boolean {
    const msgs = this.#queue.take(broadcastBudget(this.#udpBuffer));
    if (msgs.length === 0) return false;
    this.#transport.sendPacket(to, seal(this.#sec, encodePacket(msgs)));
    return true;
  }

  /** Sends one stream request and returns the decoded answer; remote errors reject. */
  async request(to: Address, msg: StreamMsg): Promise<StreamMsg> {
    const body = encodeStream(msg);
    if (msg.t === 'pushpull') this.#stats?.sizeLocal(body.length);
    const raw = await this.#transport.request(to, seal(this.#sec, body), this.#tcpTimeout);
    const plain = open(this.#sec, raw);
    const resp = decodeStream(plain);
    if (resp.t === 'pushpull') this.#stats?.sizeRemote(plain.length);
    if (resp.t === 'error') throw new RemoteError(resp.error);
    return resp;
  }

  /** Releases the transport. */
  close(): Promise<void> {
    return this.#transport.close();
  }

  #onPacket(data: Buffer, from: Address, h: WireHandlers): void {
    let msgs: PacketMsg[];
    try {
      msgs = decodePacket(open(this.#sec, data));
    } catch (err) {
      this.#log.warn({ from: `${from.host}:${from.port}`, error: (err as Error).message }, 'dropping gossip packet');
      return;
    }
    // memberlist's CIDRsAllowed checks the source of alive messages only (handleAlive's
    // ensureCanConnect): pings, acks and rumours from any source are taken, so a member whose
    // packets leave from another local address than the one it announces is never failed for it.
    // New members and address changes are checked against the announced address (Membership).
    const blockAlive = this.#allowed !== null && !this.#allowed(from.host);
    for (const m of msgs) {
      if (blockAlive && m.t === 'alive') {
        this.#log.debug({ from: `${from.host}:${from.port}`, node: m.node, error: `${from.host} is not allowed` }, 'blocked alive message');
        continue;
      }
      h.packet(m, from);
    }
  }

  // Streams are taken from any source, as memberlist's handleConn takes them: the members a
  // push-pull carries are checked against the allowed networks by address when merged.
  async #onStream(data: Buffer, from: Address, h: WireHandlers): Promise<Buffer> {
    let msg: StreamMsg;
    let size: number;
    try {
      const plain = open(this.#sec, data);
      size = plain.length;
      msg = decodeStream(plain);
    } catch (err) {
      this.#log.error({ from: `${from.host}:${from.port}`, error: (err as Error).message }, 'failed to receive stream');
      return sealError((err as Error).message);
    }
    if (msg.t === 'pushpull') this.#stats?.sizeRemote(size);
    try {
      const resp = await h.stream(msg, from);
      const body = encodeStream(resp);
      if (resp.t === 'pushpull') this.#stats?.sizeLocal(body.length);
      return seal(this.#sec, body);
    } catch (err) {
      return seal(this.#sec, encodeStream({ t: 'error', error: (err as Error).message }));
    }
  }
}
