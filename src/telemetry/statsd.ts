// go-metrics' StatsdSink: `name:value|type` lines over UDP, label values appended to the dotted
// name, batched into packets of at most 1400 bytes and flushed every 100 ms. A write error
// makes the sink discard metrics for 5 s and then start again, as go-metrics' WAIT loop does.
import dgram from 'node:dgram';
import dns from 'node:dns/promises';
import type { Clock, TimerHandle } from '../clock.ts';
import type { Logger } from '../log.ts';
import { FLUSH_INTERVAL_MS, goFixed6, MAX_QUEUED_LINES, NameCache, RECONNECT_WAIT_MS, sanitize, type Label, type MetricSink } from './sink.ts';

/** go-metrics' statsdMaxLen. */
export const STATSD_MAX_PACKET = 1400;

/** A metric type's statsd suffix. */
export type StatsdType = 'g' | 'c' | 'ms';

/** The dotted name with label values appended (go-metrics' flattenKeyLabels). */
export function flattenKeyLabels(key: readonly string[], labels: readonly Label[]): string {
  return sanitize([...key, ...labels.map((l) => l.value)].join('.'));
}

/** One statsd line, newline included: `consul.api.http.GET.v1_kv_:1.500000|ms\n`. */
export function statsdLine(type: StatsdType, key: readonly string[], value: number, labels: readonly Label[]): string {
  return `${flattenKeyLabels(key, labels)}:${goFixed6(value)}|${type}\n`;
}

/** How a sink's packets are cut. */
export interface PacketOptions {
  /** Packet size limit in bytes. */
  max: number;
  /** A line longer than a packet is dropped (datadog-go); otherwise it goes out alone (go-metrics). */
  dropOversize?: boolean;
  /** Put between lines (datadog-go's '\n'); go-metrics' lines end in their own newline. */
  separator?: string;
}

/** Lines batched into packets of at most `max` bytes: a line that would overflow the packet sends the packet first. */
export class PacketBuffer {
  readonly #max: number;
  readonly #dropOversize: boolean;
  readonly #sep: string;
  #lines: string[] = [];
  #bytes = 0;

  constructor(opts: PacketOptions) {
    this.#max = opts.max;
    this.#dropOversize = opts.dropOversize ?? false;
    this.#sep = opts.separator ?? '';
  }

  /** Bytes buffered. */
  get size(): number {
    return this.#bytes;
  }

  /** Adds a line; returns the packet it pushed out, if any. */
  add(line: string): Buffer | undefined {
    const len = Buffer.byteLength(line);
    if (this.#dropOversize && len > this.#max) return undefined;
    const sepLen = this.#lines.length > 0 ? this.#sep.length : 0;
    const out = this.#bytes > 0 && this.#bytes + sepLen + len > this.#max ? this.take() : undefined;
    this.#bytes += (this.#lines.length > 0 ? this.#sep.length : 0) + len;
    this.#lines.push(line);
    return out;
  }

  /** The buffered packet (empty when nothing is buffered), leaving the buffer empty. */
  take(): Buffer {
    const packet = Buffer.from(this.#lines.join(this.#sep));
    this.#lines = [];
    this.#bytes = 0;
    return packet;
  }
}

/** Splits `host:port` (IPv6 hosts in brackets); the port must be numeric. */
export function splitAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m) throw new Error(`address ${addr}: missing port in address`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port: Number(m[3]) };
}

/** Resolves a sink's host once per connection (dns.lookup's shape, first address). */
export type Lookup = (host: string) => Promise<{ address: string; family: number }>;

const systemLookup: Lookup = (host) => dns.lookup(host);

/** Packets held while the address resolves and the socket connects. */
const MAX_PENDING_PACKETS = 64;

/**
 * Shared by the UDP sinks: packets out through one connected socket, flushed on a timer. As
 * go-metrics dials its UDP socket, a hostname resolves once per connection, not per packet;
 * after an error the sink waits, then resolves and connects again (a collector that moved).
 */
export class UdpPackets {
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #host: string;
  readonly #port: number;
  readonly #lookup: Lookup;
  readonly #buffer: PacketBuffer;
  #socket: dgram.Socket | undefined;
  /** Set while the address resolves and the socket connects: packets wait here. */
  #pending: Buffer[] | undefined;
  #opening: dgram.Socket | undefined;
  #timer: TimerHandle | undefined;
  #inFlight = 0;
  #downUntil = 0;
  #closed = false;

  constructor(addr: string, packets: PacketOptions, clock: Clock, log: Logger, lookup: Lookup = systemLookup) {
    this.#buffer = new PacketBuffer(packets);
    this.#clock = clock;
    this.#log = log;
    this.#lookup = lookup;
    try {
      ({ host: this.#host, port: this.#port } = splitAddr(addr));
    } catch (err) {
      // go-metrics' statsd sink starts anyway and only its dial fails: nothing is ever sent.
      ({ host: this.#host, port: this.#port } = { host: '', port: 0 });
      this.#closed = true;
      log.error({ error: (err as Error).message }, 'Error connecting to statsd');
    }
  }

  /** Queues one line (dropped while the sink waits after an error or the socket lags). */
  push(line: string): void {
    if (this.#closed || this.#inFlight >= MAX_QUEUED_LINES || (this.#downUntil !== 0 && this.#clock.now() < this.#downUntil)) return;
    const full = this.#buffer.add(line);
    if (full) this.#send(full);
    this.#timer ??= this.#clock.setTimer(FLUSH_INTERVAL_MS, () => {
      this.#timer = undefined;
      this.flush();
    });
  }

  /** Sends what is buffered now. */
  flush(): void {
    if (this.#buffer.size > 0) this.#send(this.#buffer.take());
  }

  close(): void {
    this.flush();
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    const s = this.#socket;
    this.#socket = undefined;
    // After the sends already queued on it (packets still waiting on the connect are dropped).
    if (s) setImmediate(() => s.close());
  }

  #send(packet: Buffer): void {
    if (packet.length === 0) return;
    if (this.#pending) {
      if (this.#pending.length < MAX_PENDING_PACKETS) this.#pending.push(packet);
      return;
    }
    const socket = this.#socket;
    if (!socket) {
      this.#pending = [packet];
      this.#open();
      return;
    }
    this.#inFlight += 1;
    socket.send(packet, (err) => {
      this.#inFlight -= 1;
      if (err) this.#fail(socket, err);
    });
  }

  #open(): void {
    this.#lookup(this.#host).then(({ address, family }) => {
      if (this.#closed) return;
      const socket = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
      this.#opening = socket;
      socket.on('error', (err) => this.#fail(socket, err));
      socket.unref();
      socket.connect(this.#port, address, () => {
        this.#opening = undefined;
        const pending = this.#pending ?? [];
        this.#pending = undefined;
        if (this.#closed) {
          socket.close();
          return;
        }
        this.#socket = socket;
        for (const p of pending) this.#send(p);
      });
    }, (err: Error) => this.#fail(undefined, err));
  }

  #fail(socket: dgram.Socket | undefined, err: Error): void {
    if (socket && socket !== this.#socket && socket !== this.#opening) return;
    this.#log.error({ error: err.message }, 'Error writing to statsd');
    this.#buffer.take();
    this.#pending = undefined;
    if (socket) {
      if (this.#socket === socket) this.#socket = undefined;
      if (this.#opening === socket) this.#opening = undefined;
      try {
        socket.close();
      } catch {
        // already closed
      }
    }
    this.#downUntil = this.#clock.now() + RECONNECT_WAIT_MS;
  }
}

/** Sends metrics to a statsd server over UDP (telemetry.statsd_address). */
export class StatsdSink implements MetricSink {
  readonly #out: UdpPackets;
  readonly #names = new NameCache(flattenKeyLabels);

  constructor(addr: string, clock: Clock, log: Logger, lookup?: Lookup) {
    this.#out = new UdpPackets(addr, { max: STATSD_MAX_PACKET }, clock, log, lookup);
  }

  setGauge(key: readonly string[], value: number, labels: readonly Label[]): void {
    this.#out.push(`${this.#names.get(key, labels)}:${goFixed6(value)}|g\n`);
  }

  incrCounter(key: readonly string[], value: number, labels: readonly Label[]): void {
    this.#out.push(`${this.#names.get(key, labels)}:${goFixed6(value)}|c\n`);
  }

  addSample(key: readonly string[], value: number, labels: readonly Label[]): void {
    this.#out.push(`${this.#names.get(key, labels)}:${goFixed6(value)}|ms\n`);
  }

  close(): void {
    this.#out.close();
  }
}
