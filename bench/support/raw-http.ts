// A lean HTTP/1.1 load client for benchmarks whose load generator shares the machine with the
// server: N keep-alive connections on raw sockets, one request in flight per connection, responses
// framed by Content-Length (chunked responses are refused); and RawResponse, which frames one
// response fed chunk by chunk (Content-Length or chunked), for clients that hold one request per
// socket (bench/support/watchers.ts). node:http's client spends about as
// much CPU per request as the agent does serving a small one; this spends a fraction of that.
import net from 'node:net';

interface Pending {
  resolve(body: Buffer): void;
  reject(err: Error): void;
  what: string;
}

const HEADER_END = Buffer.from('\r\n\r\n');

class Connection {
  readonly #sock: net.Socket;
  #buf: Buffer = Buffer.alloc(0);
  #pending: Pending | null = null;
  #error: Error | null = null;

  constructor(host: string, port: number) {
    this.#sock = net.connect({ host, port, noDelay: true });
    this.#sock.on('data', (c: Buffer) => this.#onData(c));
    this.#sock.on('error', (err) => this.#fail(err));
    this.#sock.on('close', () => this.#fail(new Error('connection closed')));
  }

  #fail(err: Error): void {
    this.#error ??= err;
    const p = this.#pending;
    this.#pending = null;
    p?.reject(err);
  }

  #onData(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const end = this.#buf.indexOf(HEADER_END);
    if (end < 0 || !this.#pending) return;
    const head = this.#buf.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!m) {
      this.#fail(new Error(`${this.#pending.what}: response without Content-Length`));
      return;
    }
    const total = end + 4 + Number(m[1]);
    if (this.#buf.length < total) return;
    const body = this.#buf.subarray(end + 4, total);
    this.#buf = this.#buf.subarray(total);
    const p = this.#pending;
    this.#pending = null;
    if (status === 200) p.resolve(body);
    else p.reject(new Error(`${p.what}: HTTP ${status}: ${body.toString().slice(0, 200)}`));
  }

  request(head: string, body: Buffer | undefined, what: string): Promise<Buffer> {
    if (this.#error) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject, what };
      this.#sock.write(body ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : head);
    });
  }

  close(): void {
    this.#sock.destroy();
  }
}

/** Keep-alive connections to one `host:port`; a request waits for a free connection. */
export class RawHttpClient {
  readonly #host: string;
  readonly #free: Connection[] = [];
  readonly #all: Connection[] = [];
  readonly #waiting: ((c: Connection) => void)[] = [];

  constructor(addr: string, connections: number) {
    const i = addr.lastIndexOf(':');
    this.#host = addr;
    for (let n = 0; n < connections; n++) {
      const c = new Connection(addr.slice(0, i), Number(addr.slice(i + 1)));
      this.#all.push(c);
      this.#free.push(c);
    }
  }

  /** Sends a request and resolves with the body; rejects unless the status is 200. */
  async request(method: string, path: string, body?: Buffer): Promise<Buffer> {
    const c = this.#free.pop() ?? (await new Promise<Connection>((r) => this.#waiting.push(r)));
    const head = `${method} ${path} HTTP/1.1\r\nHost: ${this.#host}\r\n` +
      (body ? `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n` : '') + '\r\n';
    try {
      return await c.request(head, body, `${method} ${path}`);
    } finally {
      const next = this.#waiting.shift();
      if (next) next(c);
      else this.#free.push(c);
    }
  }

  close(): void {
    for (const c of this.#all) c.close();
  }
}

const CRLF = Buffer.from('\r\n');

/**
 * One HTTP/1.1 response read off a raw socket: the head up to the blank line, then the body by
 * Content-Length or by chunked framing. `feed` returns the status once the response is complete,
 * 0 while more is needed, -1 when the response cannot be framed.
 */
export class RawResponse {
  #buf: Buffer | null = null;
  /** Bytes of body still expected (Content-Length framing), or -1 while chunked / before the head. */
  #left = -1;
  #chunked = false;
  #status = 0;

  feed(chunk: Buffer): number {
    let buf = this.#buf ? Buffer.concat([this.#buf, chunk]) : chunk;
    if (this.#status === 0) {
      const end = buf.indexOf(HEADER_END);
      if (end < 0) {
        this.#buf = buf;
        return 0;
      }
      const head = buf.toString('latin1', 0, end);
      this.#status = Number(head.slice(9, 12));
      const len = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
      if (len) this.#left = Number(len[1]);
      else if (/\r\ntransfer-encoding:[ \t]*chunked/i.test(head)) this.#chunked = true;
      else return -1;
      buf = buf.subarray(end + 4);
    }
    if (!this.#chunked) {
      this.#left -= buf.length;
      this.#buf = null;
      return this.#left <= 0 ? this.#status : 0;
    }
    // Chunked: skip whole chunks; keep an incomplete one (with its size line) for the next read.
    for (;;) {
      const eol = buf.indexOf(CRLF);
      if (eol < 0) break;
      const size = parseInt(buf.toString('latin1', 0, eol), 16);
      if (Number.isNaN(size)) return -1;
      if (size === 0) return this.#status; // the last chunk; no trailers are sent to us
      if (buf.length < eol + 2 + size + 2) break;
      buf = buf.subarray(eol + 2 + size + 2);
    }
    this.#buf = buf.length ? buf : null;
    return 0;
  }
}
