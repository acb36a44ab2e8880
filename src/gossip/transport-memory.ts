// An in-memory network for deterministic gossip tests: every delivery is a Clock timer, so a
// ManualClock drives the whole simulation; packet loss and partitions are injectable.
import type { Clock } from '../clock.ts';
import { formatAddress, type Address } from './address.ts';
import type { Transport, TransportHandlers } from './transport.ts';

/** Options for a simulated network. */
export interface MemoryNetworkOptions {
  /** One-way delivery delay for packets and stream legs (default 1 ms), or one per direction of a link. */
  latencyMs?: number | ((from: Address, to: Address) => number);
  /** Random source for packet loss (default Math.random; pass a seeded one for determinism). */
  random?: () => number;
}

/** Rewrites a datagram in flight (selective loss in tests); null drops it. */
export type PacketFilter = (from: Address, to: Address, data: Buffer) => Buffer | null;

/** A simulated network joining in-memory transports by `host:port`. */
export class MemoryNetwork {
  readonly #clock: Clock;
  readonly #latency: (from: Address, to: Address) => number;
  readonly #random: () => number;
  readonly #nodes = new Map<string, TransportHandlers>();
  readonly #blocked = new Set<string>();
  #loss = 0;
  #filter: PacketFilter | undefined;
  /** Datagrams handed to the network, delivered or not. */
  packetsSent = 0;

  constructor(clock: Clock, opts: MemoryNetworkOptions = {}) {
    this.#clock = clock;
    const l = opts.latencyMs ?? 1;
    this.#latency = typeof l === 'number' ? () => l : l;
    this.#random = opts.random ?? Math.random;
  }

  /** Creates a transport that will listen on `host:port` once started. */
  transport(host: string, port: number): Transport {
    return new MemoryTransport(this, { host, port });
  }

  /** Drops each datagram with probability `p` (streams stay reliable, like TCP). */
  setLoss(p: number): void {
    this.#loss = p;
  }

  /** Cuts all traffic, both ways, between every member of `a` and every member of `b`. */
  partition(a: Address[], b: Address[]): void {
    for (const x of a) {
      for (const y of b) {
        this.#blocked.add(`${formatAddress(x)}>${formatAddress(y)}`);
        this.#blocked.add(`${formatAddress(y)}>${formatAddress(x)}`);
      }
    }
  }

  /** Passes every datagram through `filter` (which may rewrite or drop it); undefined removes it. */
  setFilter(filter: PacketFilter | undefined): void {
    this.#filter = filter;
  }

  /** Removes every partition. */
  heal(): void {
    this.#blocked.clear();
  }

  /** Whether traffic from `from` to `to` currently passes. */
  reachable(from: Address, to: Address): boolean {
    return !this.#blocked.has(`${formatAddress(from)}>${formatAddress(to)}`);
  }

  /** @internal Registers a started transport. */
  attach(addr: Address, handlers: TransportHandlers): void {
    const key = formatAddress(addr);
    if (this.#nodes.has(key)) throw new Error(`listen ${key}: address already in use`);
    this.#nodes.set(key, handlers);
  }

  /** @internal Unregisters a closed transport. */
  detach(addr: Address): void {
    this.#nodes.delete(formatAddress(addr));
  }

  /** @internal Schedules one datagram. */
  send(from: Address, to: Address, data: Buffer): void {
    this.packetsSent++;
    if (!this.reachable(from, to) || (this.#loss > 0 && this.#random() < this.#loss)) return;
    const passed = this.#filter ? this.#filter(from, to, data) : data;
    if (!passed) return;
    const copy = Buffer.from(passed);
    this.#clock.setTimer(this.#latency(from, to), () => this.#nodes.get(formatAddress(to))?.packet(copy, { ...from }));
  }

  /** @internal Runs one stream request through the simulated network. */
  request(from: Address, to: Address, data: Buffer, timeoutMs: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const timeout = this.#clock.setTimer(timeoutMs, () => reject(new Error(`i/o timeout after ${timeoutMs}ms`)));
      if (!this.reachable(from, to)) return;
      this.#clock.setTimer(this.#latency(from, to), () => {
        const handlers = this.#nodes.get(formatAddress(to));
        if (!handlers) {
          timeout.cancel();
          return reject(new Error(`dial tcp ${formatAddress(to)}: connect: connection refused`));
        }
        handlers.stream(Buffer.from(data), { ...from }).then((resp) => {
          if (!this.reachable(to, from)) return;
          this.#clock.setTimer(this.#latency(to, from), () => {
            timeout.cancel();
            resolve(Buffer.from(resp));
          });
        }, () => {
          timeout.cancel();
          reject(new Error('EOF: connection closed before a full response'));
        });
      });
    });
  }
}

class MemoryTransport implements Transport {
  readonly #net: MemoryNetwork;
  readonly #addr: Address;
  #open = false;

  constructor(network: MemoryNetwork, addr: Address) {
    this.#net = network;
    this.#addr = addr;
  }

  async start(handlers: TransportHandlers): Promise<void> {
    this.#net.attach(this.#addr, handlers);
    this.#open = true;
  }

  address(): Address {
    return { ...this.#addr };
  }

  sendPacket(to: Address, data: Buffer): void {
    if (this.#open) this.#net.send(this.#addr, to, data);
  }

  request(to: Address, data: Buffer, timeoutMs: number): Promise<Buffer> {
    if (!this.#open) return Promise.reject(new Error('transport closed'));
    return this.#net.request(this.#addr, to, data, timeoutMs);
  }

  async close(): Promise<void> {
    if (this.#open) this.#net.detach(this.#addr);
    this.#open = false;
  }
}
