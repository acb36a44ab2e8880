// go-metrics' StatsdSink: `name:value|type` lines over UDP, label values appended to the dotted
// name, batched into packets of at most 1400 bytes and flushed every 100 ms. A write error
// makes the sink discard metrics for 5 s and then start again, as go-metrics' WAIT loop does.
import dgram from 'node:dgram';
import net from 'node:net';
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

/** Shared by the UDP sinks: packets out through one unconnected socket, flushed on a timer. */
export class UdpPackets {
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #host: string;
  readonly #port: number;
  readonly #buffer: PacketBuffer;
  #socket: dgram.Socket | undefined;
  #timer: TimerHandle | undefined;
  #inFlight = 0;
  #downUntil = 0;
  #closed = false;

  constructor(addr: string, packets: PacketOptions, clock: Clock, log: Logger) {
    this.#buffer = new PacketBuffer(packets);
    this.#clock = clock;
    this.#log = log;
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
    if (this.#closed || this.#clock.now() < this.#downUntil || this.#inFlight >= MAX_QUEUED_LINES) return;
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
    // After the sends already queued on it.
    if (s) setImmediate(() => s.close());
  }

  #send(packet: Buffer): void {
    if (packet.length === 0) return;
    const socket = this.#socket ??= this.#open();
    this.#inFlight += 1;
    socket.send(packet, this.#port, this.#host, (err) => {
      this.#inFlight -= 1;
      if (err) this.#fail(err);
    });
  }

  #open(): dgram.Socket {
    const socket = dgram.createSocket(net.isIPv6(this.#host) ? 'udp6' : 'udp4');
    socket.on('error', (err) => this.#fail(err));
    socket.unref();
    return socket;
  }

  #fail(err: Error): void {
    this.#log.error({ error: err.message }, 'Error writing to statsd');
    this.#buffer.take();
    this.#downUntil = this.#clock.now() + RECONNECT_WAIT_MS;
  }
}

/** Sends metrics to a statsd server over UDP (telemetry.statsd_address). */
export class StatsdSink implements MetricSink {
  readonly #out: UdpPackets;
  readonly #names = new NameCache(flattenKeyLabels);

  constructor(addr: string, clock: Clock, log: Logger) {
    this.#out = new UdpPackets(addr, { max: STATSD_MAX_PACKET }, clock, log);
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
