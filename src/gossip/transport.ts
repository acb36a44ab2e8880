// The gossip transport contract: unreliable packets (UDP) for probes and gossip, and
// reliable request/response streams (TCP) for push-pull, joins and keyring queries.
// Implementations: transport-net.ts (real sockets) and transport-memory.ts (simulation).
import type { Address } from './address.ts';

/** Callbacks a transport delivers inbound traffic to. */
export interface TransportHandlers {
  /** One inbound datagram and the address it came from. */
  packet(data: Buffer, from: Address): void;
  /** One inbound stream request; the resolved bytes are the response. */
  stream(data: Buffer, from: Address): Promise<Buffer>;
}

/** A bound endpoint for gossip traffic. */
export interface Transport {
  /** Binds sockets and starts delivering traffic to `handlers`. */
  start(handlers: TransportHandlers): Promise<void>;
  /** The bound address (the real port when 0 was asked for). */
  address(): Address;
  /** Sends one datagram; delivery is not guaranteed and errors are swallowed. */
  sendPacket(to: Address, data: Buffer): void;
  /** Sends one request over a stream and resolves the peer's response. */
  request(to: Address, data: Buffer, timeoutMs: number): Promise<Buffer>;
  /** Releases sockets; pending requests fail. */
  close(): Promise<void>;
}
