// A downstream request body as Envoy's router handles it: streamed to the first attempt as it
// arrives, and held (up to a limit, Envoy's 1 MiB connection buffer) so a retry can send it
// again; a body past the limit is streamed only, and the request is not retried.
import { PassThrough, type Readable } from 'node:stream';

/** Envoy's default per-connection buffer limit, which bounds what a retry can replay. */
export const RETRY_BUFFER_BYTES = 1024 * 1024;

/** What all the bodies held for retries in one process may take together; past it a body is streamed only. */
export const RETRY_BUFFER_TOTAL_BYTES = 64 * 1024 * 1024;

const EMPTY = Buffer.alloc(0);

/** Bytes held for retries across requests, bounded so many concurrent large requests cannot exhaust memory. */
export class BufferBudget {
  #free: number;

  constructor(total: number) {
    this.#free = total;
  }

  /** Takes `n` bytes; false (nothing taken) when fewer are left. */
  take(n: number): boolean {
    if (n > this.#free) return false;
    this.#free -= n;
    return true;
  }

  give(n: number): void {
    this.#free += n;
  }

  get free(): number {
    return this.#free;
  }
}

const sharedBudget = new BufferBudget(RETRY_BUFFER_TOTAL_BYTES);

/** A downstream request as a body source: node:http's IncomingMessage or node:http2's compatibility request. */
export type BodySource = Readable & { headers: Record<string, string | string[] | undefined>; complete: boolean };

/** The body of one downstream request; consume it through first() once, then replay(). */
export class RequestBody {
  #stream = new PassThrough();
  #chunks: Buffer[] = [];
  #size = 0;
  #overflow = false;
  #taken = false;
  #empty = false;
  #req: BodySource;
  #budget: BufferBudget;
  /** Resolves when the whole body has arrived (or the client went away). */
  readonly ended: Promise<void>;

  /** `empty` says the request has no body (HTTP/2: the stream ended with its headers); by default, HTTP/1.1's rule. */
  constructor(
    req: BodySource, limit = RETRY_BUFFER_BYTES, empty = req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined,
    budget = sharedBudget,
  ) {
    this.#req = req;
    this.#budget = budget;
    // Without a length or chunking an HTTP/1.1 request has no body: nothing to stream or hold.
    if (empty) {
      this.#empty = true;
      req.resume();
      this.ended = Promise.resolve();
      return;
    }
    this.ended = new Promise((resolve) => {
      req.on('end', () => { this.#stream.end(); resolve(); });
      req.on('close', resolve);
      req.on('error', () => resolve());
    });
    req.on('data', (c: Buffer) => {
      if (!this.#overflow) {
        if (this.#size + c.length > limit || !budget.take(c.length)) this.release();
        else {
          this.#size += c.length;
          this.#chunks.push(c);
        }
      }
      // Backpressure from the first attempt's connection holds the client back.
      if (!this.#stream.write(c)) {
        req.pause();
        this.#stream.once('drain', () => req.resume());
      }
    });
  }

  /** Lets go of what is held (past the limits, or once no attempt can follow): replay() is null from now on. */
  release(): void {
    if (this.#overflow) return;
    this.#overflow = true;
    this.#chunks = [];
    this.#budget.give(this.#size);
    this.#size = 0;
  }

  /** The body as it streams in, for the first attempt. */
  first(): Readable | Buffer {
    if (this.#empty) return EMPTY;
    this.#taken = true;
    return this.#stream;
  }

  /**
   * The whole body for another attempt, once it has arrived; null when it was too large to hold
   * or the client did not send all of it.
   * What the first attempt no longer reads is discarded, so the client can finish sending.
   */
  async replay(): Promise<Buffer | null> {
    if (this.#empty) return EMPTY;
    if (this.#taken) this.#stream.resume();
    await this.ended;
    return this.#overflow || !this.#req.complete ? null : Buffer.concat(this.#chunks);
  }
}
