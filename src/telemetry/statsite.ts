// go-metrics' StatsiteSink: the statsd lines over one TCP connection, written through a 4 KiB
// buffer flushed every 100 ms. A failed connection or write discards metrics for 5 s and then
// connects again; nothing here waits on the collector or throws when it is down.
import net from 'node:net';
import type { Clock, TimerHandle } from '../clock.ts';
import type { Logger } from '../log.ts';
import { FLUSH_INTERVAL_MS, goFixed6, MAX_QUEUED_LINES, NameCache, RECONNECT_WAIT_MS, type Label, type MetricSink } from './sink.ts';
import { flattenKeyLabels, splitAddr } from './statsd.ts';

/** bufio.Writer's default size: a fuller buffer is written at once. */
const WRITE_BUFFER_BYTES = 4096;

/** Bytes the socket may hold unsent before lines are dropped (Go's queue filling up). */
const MAX_UNSENT_BYTES = 1 << 20;

/** Streams metrics to a statsite server over TCP (telemetry.statsite_address). */
export class StatsiteSink implements MetricSink {
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #host: string;
  readonly #port: number;
  #socket: net.Socket | undefined;
  #connected = false;
  #lines: string[] = [];
  #bytes = 0;
  #flushTimer: TimerHandle | undefined;
  #retryTimer: TimerHandle | undefined;
  #closed = false;
  readonly #names = new NameCache(flattenKeyLabels);

  constructor(addr: string, clock: Clock, log: Logger) {
    this.#clock = clock;
    this.#log = log;
    try {
      ({ host: this.#host, port: this.#port } = splitAddr(addr));
    } catch (err) {
      // go-metrics' statsite sink starts anyway and only its dial fails: nothing is ever sent.
      ({ host: this.#host, port: this.#port } = { host: '', port: 0 });
      this.#closed = true;
      log.error({ error: (err as Error).message }, 'Error connecting to statsite');
      return;
    }
    this.#connect();
  }

  setGauge(key: readonly string[], value: number, labels: readonly Label[]): void {
    this.#push(`${this.#names.get(key, labels)}:${goFixed6(value)}|g\n`);
  }

  incrCounter(key: readonly string[], value: number, labels: readonly Label[]): void {
    this.#push(`${this.#names.get(key, labels)}:${goFixed6(value)}|c\n`);
  }

  addSample(key: readonly string[], value: number, labels: readonly Label[]): void {
    this.#push(`${this.#names.get(key, labels)}:${goFixed6(value)}|ms\n`);
  }

  close(): void {
    if (this.#closed) return;
    this.#flush();
    this.#closed = true;
    this.#flushTimer?.cancel();
    this.#retryTimer?.cancel();
    this.#socket?.end();
    this.#socket = undefined;
  }

  #push(line: string): void {
    // While connecting, lines wait as in go-metrics' queue; while waiting to reconnect, none are kept.
    if (this.#closed || !this.#socket || this.#lines.length >= MAX_QUEUED_LINES) return;
    if (this.#socket.writableLength > MAX_UNSENT_BYTES) return;
    this.#lines.push(line);
    this.#bytes += line.length;
    if (this.#connected && this.#bytes >= WRITE_BUFFER_BYTES) this.#flush();
    this.#flushTimer ??= this.#clock.setTimer(FLUSH_INTERVAL_MS, () => {
      this.#flushTimer = undefined;
      this.#flush();
    });
  }

  #flush(): void {
    if (!this.#connected || !this.#socket || this.#lines.length === 0) return;
    this.#socket.write(this.#lines.join(''));
    this.#lines = [];
    this.#bytes = 0;
  }

  #connect(): void {
    if (this.#closed) return;
    const socket = net.connect({ host: this.#host, port: this.#port });
    socket.unref();
    socket.setNoDelay(true);
    this.#socket = socket;
    socket.on('connect', () => {
      this.#connected = true;
      this.#flush();
    });
    socket.on('error', (err) => this.#fail(socket, err));
    socket.on('close', () => this.#fail(socket, new Error('connection closed')));
  }

  #fail(socket: net.Socket, err: Error): void {
    if (this.#socket !== socket) return;
    this.#log.error({ error: err.message }, 'Error connecting to statsite');
    socket.destroy();
    this.#socket = undefined;
    this.#connected = false;
    this.#lines = [];
    this.#bytes = 0;
    this.#retryTimer = this.#clock.setTimer(RECONNECT_WAIT_MS, () => this.#connect());
  }
}
