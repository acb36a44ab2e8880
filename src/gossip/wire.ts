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

  constructor(o: {
    transport: Transport; queue: BroadcastQueue; security: WireSecurity; log: Logger; udpBufferSize: number; tcpTimeoutMs: number;
    /** allowedCidrs as a matcher: traffic from other sources is dropped (null: any source). */
    allowed?: ((host: string) => boolean) | null;
  }) {
    this.#transport = o.transport;
    this.#queue = o.queue;
    this.#sec = o.security;
    this.#log = o.log;
    this.#udpBuffer = o.udpBufferSize;
    this.#tcpTimeout = o.tcpTimeoutMs;
    this.#allowed = o.allowed ?? null;
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
    const raw = await this.#transport.request(to, seal(this.#sec, encodeStream(msg)), this.#tcpTimeout);
    const resp = decodeStream(open(this.#sec, raw));
    if (resp.t === 'error') throw new RemoteError(resp.error);
    return resp;
  }

  /** Releases the transport. */
  close(): Promise<void> {
    return this.#transport.close();
  }

  #onPacket(data: Buffer, from: Address, h: WireHandlers): void {
    if (this.#allowed && !this.#allowed(from.host)) {
      this.#log.debug({ from: `${from.host}:${from.port}`, error: `${from.host} is not allowed` }, 'blocked gossip packet');
      return;
    }
    let msgs: PacketMsg[];
    try {
      msgs = decodePacket(open(this.#sec, data));
    } catch (err) {
      this.#log.warn({ from: `${from.host}:${from.port}`, error: (err as Error).message }, 'dropping gossip packet');
      return;
    }
    for (const m of msgs) h.packet(m, from);
  }

  async #onStream(data: Buffer, from: Address, h: WireHandlers): Promise<Buffer> {
    // A rejected answer closes the connection unanswered (the transport drops it).
    if (this.#allowed && !this.#allowed(from.host)) {
      this.#log.debug({ from: `${from.host}:${from.port}`, error: `${from.host} is not allowed` }, 'blocked gossip stream');
      throw new Error(`${from.host} is not allowed`);
    }
    let msg: StreamMsg;
    try {
      msg = decodeStream(open(this.#sec, data));
    } catch (err) {
      this.#log.error({ from: `${from.host}:${from.port}`, error: (err as Error).message }, 'failed to receive stream');
      return sealError((err as Error).message);
    }
    try {
      return seal(this.#sec, encodeStream(await h.stream(msg, from)));
    } catch (err) {
      return seal(this.#sec, encodeStream({ t: 'error', error: (err as Error).message }));
    }
  }
}
