// Fast detection of a dead leader process, ahead of its lease TTL: every server answers
// `GET /v1/internal/rpc/liveness` on its server port (the internal RPC listener) with its node
// and current lease, and holds the answer open; followers keep one such request open to the
// leader. When it ends and a new connection is *refused* (the host answers, nothing listens: the
// process is gone), the lease it greeted with belongs to a dead process and may be revoked at
// once. A timeout or an unreachable host proves nothing (machine loss, partition, a stopped
// process): those cases wait for the lease TTL as before. The listener must refuse connections
// only once the process is gone or its election has stopped (revoked its lease), and the
// advertised address must reach the server itself: a proxy or virtual IP that refuses
// connections on its own (e.g. a load balancer with no ready backend) would fake the proof.
// The address is published as `Liveness` in the server and leader records.
import type http from 'node:http';
import net from 'node:net';
import tls, { type ConnectionOptions } from 'node:tls';
import type { Clock, TimerHandle } from '../clock.ts';
import type { Logger } from '../log.ts';
import { joinHostPort } from '../host-port.ts';
import { nodeHttp } from '../node-http.ts';

/** The path of the greeting on the server port. */
export const LIVENESS_PATH = '/v1/internal/rpc/liveness';
/** The greeting's prefix; an answer that does not start with it is not a Proconsul server's. */
const HELLO = 'proconsul-leader ';
/** A connection that brings no greeting within this long is dropped and retried later. */
const HELLO_TIMEOUT_MS = 2_000;
/** Longest answer head (status line, headers, chunk size) plus greeting a probe reads. */
const MAX_HELLO = 4_096;

/** Where a leader's greeting answers and the lease it must greet with. */
export interface LivenessTarget {
  /** `host:port` as the leader advertises it. */
  address: string;
  lease: number;
}

/** Where an election serves its greeting: the server port's listener, or a listener of its own. */
export interface LivenessHost {
  /** Starts greeting with `node` and the lease `lease()` returns then; resolves to the advertised `host:port`. */
  listen(node: string, lease: () => number): Promise<string>;
  /** Stops greeting; the election calls it once its lease is revoked. */
  close(): Promise<void>;
}

/** A streamed greeting: written once, then held open until `signal` aborts or the greeting is withdrawn. */
export type LivenessStream = (write: (chunk: string) => void, signal: AbortSignal) => Promise<void>;

/** `host:port`, with an IPv6 host in brackets. */
export function livenessAddress(host: string, port: number): string {
  return joinHostPort(host, port);
}

/**
 * The greeting served by a listener this election does not own (the agent's internal RPC on
 * ports.server, whose route calls answer()); that listener refuses connections only after the
 * election has stopped, so a refusal still proves the process gone or its lease revoked.
 */
export class LivenessGreeter implements LivenessHost {
  readonly #address: () => string;
  readonly #open = new Set<() => void>();
  #hello: string | null = null;
  #lease: () => number = () => 0;

  /** `address`: the advertised `host:port` of the listener that calls answer(), read at listen(). */
  constructor(address: () => string) {
    this.#address = address;
  }

  async listen(node: string, lease: () => number): Promise<string> {
    this.#hello = node;
    this.#lease = lease;
    return this.#address();
  }

  /** The answer to a probe now: null while no election greets here (not started, or stopped). */
  answer(): LivenessStream | null {
    const node = this.#hello;
    if (node === null) return null;
    return (write, signal) => new Promise<void>((resolve) => {
      const end = () => {
        this.#open.delete(end);
        signal.removeEventListener('abort', end);
        resolve();
      };
      if (signal.aborted) return resolve();
      this.#open.add(end);
      signal.addEventListener('abort', end);
      write(`${HELLO}${JSON.stringify({ Node: node, Lease: this.#lease() })}\n`);
    });
  }

  /** How many probes are connected now. */
  connections(): number {
    return this.#open.size;
  }

  /** Ends the open answers (probes reconnect); greeting goes on. */
  dropConnections(): void {
    for (const end of [...this.#open]) end();
  }

  async close(): Promise<void> {
    this.#hello = null;
    this.dropConnections();
  }
}

/** Options of a liveness listener. */
export interface LivenessListenerOptions {
  /** Address to bind (the agent's bind address). */
  bindAddr: string;
  /** Address others reach it on (the agent's advertise address). */
  advertiseAddr: string;
  /** Port to bind; 0 (default) for an ephemeral port, advertised in the server record. */
  port?: number;
  logger: Logger;
}

/**
 * A listener of the election's own, for a server with no internal RPC listener (an in-process
 * agent built without a gossip pool): the same greeting on an ephemeral port, open for the
 * whole life of its election.
 */
export class LivenessListener implements LivenessHost {
  readonly #o: LivenessListenerOptions;
  readonly #greeter = new LivenessGreeter(() => this.#address);
  #server: http.Server | null = null;
  #address = '';

  constructor(o: LivenessListenerOptions) {
    this.#o = o;
  }

  /** Starts listening; every probe is greeted with `node` and the lease `lease()` returns then. */
  listen(node: string, lease: () => number): Promise<string> {
    const server = nodeHttp.createServer((req, res) => this.#serve(req, res));
    server.on('error', (err) => this.#o.logger.warn({ err }, 'leader liveness listener error'));
    server.unref();
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#o.port ?? 0, this.#o.bindAddr, () => {
        server.off('error', reject);
        this.#address = livenessAddress(this.#o.advertiseAddr, (server.address() as net.AddressInfo).port);
        resolve(this.#greeter.listen(node, lease));
      });
    });
  }

  #serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    const stream = req.url === LIVENESS_PATH ? this.#greeter.answer() : null;
    if (!stream) {
      res.writeHead(404).end();
      return;
    }
    const ac = new AbortController();
    res.on('close', () => ac.abort());
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.flushHeaders();
    void stream((c) => res.write(c), ac.signal).then(() => res.end());
  }

  /** The advertised `host:port`, empty before listen(). */
  address(): string {
    return this.#address;
  }

  /** How many followers are connected now. */
  connections(): number {
    return this.#greeter.connections();
  }

  /** Ends the open answers (followers reconnect); the listener stays open. */
  dropConnections(): void {
    this.#greeter.dropConnections();
  }

  /** Stops listening and closes every connection: call only after the election has stopped. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (!server) return;
    const closed = new Promise((r) => server.close(r));
    await this.#greeter.close();
    server.closeAllConnections();
    await closed;
  }
}

/** Dependencies of a follower's probe. */
export interface LeaderProbeDeps {
  clock: Clock;
  logger: Logger;
  /** Called once per target when the leader's process is known dead; revoke `lease`. */
  onDead(lease: number): void;
  /** Longest wait between connection attempts that failed without proof (default 1 s). */
  retryMs?: number;
  /** TLS options for the leader's server port (tls.internal_rpc.verify_outgoing), read per connection; null: plain TCP. */
  tls?: () => ConnectionOptions | null;
}

/** A follower's connection to the leader's liveness listener. */
export class LeaderProbe {
  readonly #d: LeaderProbeDeps;
  #target: LivenessTarget | null = null;
  #socket: net.Socket | null = null;
  #timer: TimerHandle | null = null;
  /** A connection to the target greeted with its lease: the address is reachable and was that process. */
  #verified = false;
  #failures = 0;
  #dead = false;

  constructor(deps: LeaderProbeDeps) {
    this.#d = deps;
  }

  /** Follows `target` (null: none); a new address or lease starts over without any proof. */
  follow(target: LivenessTarget | null): void {
    if (target?.address === this.#target?.address && target?.lease === this.#target?.lease) return;
    this.#reset();
    this.#target = target;
    if (target) this.#connect();
  }

  /** Stops following. */
  stop(): void {
    this.follow(null);
  }

  /** Whether a connection to the current target has been verified (for tests and status). */
  verified(): boolean {
    return this.#verified;
  }

  #reset(): void {
    this.#timer?.cancel();
    this.#timer = null;
    this.#socket?.destroy();
    this.#socket = null;
    this.#verified = false;
    this.#failures = 0;
    this.#dead = false;
  }

  #connect(): void {
    const target = this.#target;
    if (!target || this.#dead) return;
    const m = /^\[?([^\]]*)\]?:(\d+)$/.exec(target.address);
    if (!m) return;
    const secure = this.#d.tls?.();
    // Over TLS the request waits for the handshake; a refused connection still fails with ECONNREFUSED.
    const s = secure ? tls.connect({ ...secure, host: m[1], port: Number(m[2]) }) : net.connect({ host: m[1], port: Number(m[2]) });
    s.unref();
    this.#socket = s;
    let greeted = false;
    let error: NodeJS.ErrnoException | null = null;
    let buf = '';
    s.setNoDelay(true);
    s.setTimeout(HELLO_TIMEOUT_MS, () => s.destroy());
    s.on('error', (err) => { error = err; });
    // Connection: close, so the server closes the connection when it ends the answer.
    s.write(`GET ${LIVENESS_PATH} HTTP/1.1\r\nHost: ${target.address}\r\nConnection: close\r\n\r\n`);
    s.on('data', (chunk: Buffer) => {
      if (greeted) return;
      buf += chunk.toString('latin1');
      const lease = greetedLease(buf);
      if (lease === undefined) return;
      if (lease !== target.lease) {
        // Answered, but not by a process greeting with this lease (its election stopped, or
        // another process took the port): a refusal from now on proves nothing about the lease.
        this.#verified = false;
        s.destroy();
        return;
      }
      greeted = true;
      s.setTimeout(0);
      s.setKeepAlive(true, 1_000);
      this.#verified = true;
      this.#failures = 0;
    });
    s.on('close', () => {
      if (this.#socket !== s) return;
      this.#socket = null;
      this.#closed(target, greeted, error);
    });
  }

  /** After a connection ends: a refusal after a verified connection proves death; else try again. */
  #closed(target: LivenessTarget, greeted: boolean, error: NodeJS.ErrnoException | null): void {
    if (error?.code === 'ECONNREFUSED' && this.#verified) {
      this.#dead = true;
      this.#d.logger.info({ address: target.address, lease: target.lease }, 'leader\'s server port refuses connections after greeting with its lease: its process is gone');
      this.#d.onDead(target.lease);
      return;
    }
    // A verified connection that just closed is retried at once (a dying process closes its
    // connections and its listener in either order); anything else backs off.
    const delay = greeted ? 0 : Math.min(this.#d.retryMs ?? 1_000, 25 * 2 ** this.#failures++);
    this.#timer = this.#d.clock.setTimer(delay, () => {
      this.#timer = null;
      if (this.#target === target) this.#connect();
    });
  }
}

/** The lease an answer greets with: undefined while its head is incomplete, null when it is no greeting. */
function greetedLease(buf: string): number | null | undefined {
  const more = buf.length < MAX_HELLO ? undefined : null;
  const head = buf.indexOf('\r\n\r\n');
  if (head < 0) return more;
  if (!/^HTTP\/1\.[01] 200 /.test(buf)) return null;
  let body = buf.slice(head + 4);
  if (/\r\ntransfer-encoding: *chunked\r\n/i.test(buf.slice(0, head + 2))) {
    const size = /^[0-9a-fA-F]+(;[^\r]*)?\r\n/.exec(body);
    if (!size) return body.includes('\n') ? null : more;
    body = body.slice(size[0].length);
  }
  const nl = body.indexOf('\n');
  if (nl < 0) return more;
  const line = body.slice(0, nl);
  if (!line.startsWith(HELLO)) return null;
  try {
    const v = JSON.parse(line.slice(HELLO.length)) as { Lease?: unknown };
    return typeof v.Lease === 'number' ? v.Lease : null;
  } catch {
    return null;
  }
}
