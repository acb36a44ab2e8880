// The local front of a managed server's etcd clients: a loopback TCP listener that forwards each
// connection to a voting member (this server's own first while it votes). Membership changes at
// runtime — demoted to a non-member, joined as a learner (learners serve no client requests),
// every old voter replaced by an upgrade — only change the voter list: the gRPC clients above
// reconnect through the same address and their watches resume, nothing is rebuilt.
import { connect, createServer, type Server, type Socket } from 'node:net';

/** `http://host:port` → [host, port]. */
function hostPort(url: string): [string, number] {
  const u = new URL(url);
  return [u.hostname.replace(/^\[|\]$/g, ''), Number(u.port)];
}

function dial(url: string, timeoutMs: number): Promise<Socket> {
  const [host, port] = hostPort(url);
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`connect ${url} timed out`)); }, timeoutMs);
    s.once('connect', () => { clearTimeout(timer); resolve(s); });
    s.once('error', (err) => { clearTimeout(timer); reject(err); });
  });
}

/** Forwards loopback connections to the first reachable voter. */
export class VoterProxy {
  #voters: string[] = [];
  #server: Server | null = null;
  readonly #sockets = new Set<Socket>();
  #turn = 0;

  /** The client URLs to try, preferred first. */
  setVoters(urls: string[]): void {
    this.#voters = [...urls];
  }

  voters(): string[] {
    return [...this.#voters];
  }

  /** Listens on 127.0.0.1 (an ephemeral port); returns the URL clients use. */
  async listen(): Promise<string> {
    const srv = createServer({ pauseOnConnect: true }, (c) => void this.#forward(c));
    this.#server = srv;
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = srv.address();
    return `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  }

  async #forward(client: Socket): Promise<void> {
    this.#track(client);
    // The preferred voter first; if it is unreachable, the others in turn (spread across connections).
    const [first, ...rest] = this.#voters;
    const start = rest.length ? this.#turn++ % rest.length : 0;
    const order = first === undefined ? [] : [first, ...rest.slice(start), ...rest.slice(0, start)];
    for (const url of order) {
      if (client.destroyed) return;
      try {
        const up = await dial(url, 1000);
        this.#track(up);
        client.pipe(up);
        up.pipe(client);
        client.once('close', () => up.destroy());
        up.once('close', () => client.destroy());
        client.on('error', () => up.destroy());
        up.on('error', () => client.destroy());
        client.resume();
        return;
      } catch { /* next voter */ }
    }
    client.destroy();
  }

  #track(s: Socket): void {
    this.#sockets.add(s);
    s.once('close', () => this.#sockets.delete(s));
  }

  /** Drops every forwarded connection (clients reconnect through the current voters). */
  resetConnections(): void {
    for (const s of this.#sockets) s.destroy();
  }

  async close(): Promise<void> {
    const srv = this.#server;
    this.#server = null;
    this.resetConnections();
    if (srv) await new Promise((r) => srv.close(r));
  }
}
