// Fast detection of a dead leader process, ahead of its lease TTL: every server serves a tiny TCP
// listener that greets each connection with its node and current lease, and followers keep one
// connection to the leader's. When that connection closes and a new one is *refused* (the host
// answers, nothing listens: the process is gone), the lease it greeted with belongs to a dead
// process and may be revoked at once. A timeout or an unreachable host proves nothing (machine
// loss, partition, a stopped process): those cases wait for the lease TTL as before. The
// advertised address must reach the server itself: a proxy or virtual IP that refuses
// connections on its own (e.g. a load balancer with no ready backend) would fake the proof.
// The port is ephemeral unless configured, and published in the server and leader records.
import net from 'node:net';
import type { Clock, TimerHandle } from '../clock.ts';
import type { Logger } from '../log.ts';

/** The greeting's prefix; a listener that does not send it is not a Proconsul server. */
const HELLO = 'proconsul-leader ';
/** A connection that sends no greeting within this long is dropped and retried later. */
const HELLO_TIMEOUT_MS = 2_000;
const MAX_HELLO = 256;

/** Where a leader's liveness listener answers and the lease it must greet with. */
export interface LivenessTarget {
  /** `host:port` as the leader advertises it. */
  address: string;
  lease: number;
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

/** The liveness listener of one server: open for the whole life of its election. */
export class LivenessListener {
  readonly #o: LivenessListenerOptions;
  readonly #sockets = new Set<net.Socket>();
  #server: net.Server | null = null;
  #address = '';

  constructor(o: LivenessListenerOptions) {
    this.#o = o;
  }

  /** Starts listening; every connection is greeted with `node` and the lease `lease()` returns then. */
  listen(node: string, lease: () => number): Promise<string> {
    const server = net.createServer((s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
      s.on('error', () => undefined);
      s.on('data', () => undefined);
      s.setKeepAlive(true, 1_000);
      s.write(`${HELLO}${JSON.stringify({ Node: node, Lease: lease() })}\n`);
    });
    server.on('error', (err) => this.#o.logger.warn({ err }, 'leader liveness listener error'));
    server.unref();
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#o.port ?? 0, this.#o.bindAddr, () => {
        server.off('error', reject);
        const port = (server.address() as net.AddressInfo).port;
        const host = this.#o.advertiseAddr.includes(':') ? `[${this.#o.advertiseAddr}]` : this.#o.advertiseAddr;
        this.#address = `${host}:${port}`;
        resolve(this.#address);
      });
    });
  }

  /** The advertised `host:port`, empty before listen(). */
  address(): string {
    return this.#address;
  }

  /** How many followers are connected now. */
  connections(): number {
    return this.#sockets.size;
  }

  /** Closes the accepted connections (followers reconnect); the listener stays open. */
  dropConnections(): void {
    for (const s of this.#sockets) s.destroy();
  }

  /** Stops listening and closes every connection: call only after the election has stopped. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (!server) return;
    const closed = new Promise((r) => server.close(r));
    this.dropConnections();
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
    const s = net.connect({ host: m[1], port: Number(m[2]) });
    s.unref();
    this.#socket = s;
    let greeted = false;
    let error: NodeJS.ErrnoException | null = null;
    let buf = '';
    s.setNoDelay(true);
    s.setTimeout(HELLO_TIMEOUT_MS, () => s.destroy());
    s.on('error', (err) => { error = err; });
    s.on('data', (chunk: Buffer) => {
      if (greeted) return;
      buf += chunk.toString('latin1');
      const nl = buf.indexOf('\n');
      if (nl < 0 && buf.length < MAX_HELLO) return;
      if (this.#greeting(buf.slice(0, nl)) !== target.lease) { s.destroy(); return; }
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

  #greeting(line: string): number | null {
    if (!line.startsWith(HELLO)) return null;
    try {
      const v = JSON.parse(line.slice(HELLO.length)) as { Lease?: unknown };
      return typeof v.Lease === 'number' ? v.Lease : null;
    } catch {
      return null;
    }
  }

  /** After a connection ends: a refusal after a verified connection proves death; else try again. */
  #closed(target: LivenessTarget, greeted: boolean, error: NodeJS.ErrnoException | null): void {
    if (error?.code === 'ECONNREFUSED' && this.#verified) {
      this.#dead = true;
      this.#d.logger.info({ address: target.address, lease: target.lease }, 'leader liveness port refuses connections: its process is gone');
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
