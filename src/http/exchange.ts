// One request's life on the HTTP transport: the exchange of a socket request (its abort, body
// and answer writer, in one object) and the in-process source handle() uses.
import type http from 'node:http';
import type http2 from 'node:http2';
import { TooLargeError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { HttpRequest } from './request.ts';
import type { Abortable } from '../state/notify.ts';
import { readBody, type Outcome } from './response.ts';
import type { HttpMetrics, InjectRequest } from './server.ts';

/**
 * Why a request's signal aborts when its client leaves before the answer: one shared AbortError.
 * Building a DOMException (and its stack trace) per departed client was a fifth of the CPU when
 * thousands of blocked watchers disconnect at once.
 */
const CLIENT_LEFT = new DOMException('This operation was aborted', 'AbortError');

const MAX_DEFAULT_BODY = 32 * 1024 * 1024;

export type AnyRequest = http.IncomingMessage | http2.Http2ServerRequest;
export type AnyResponse = http.ServerResponse | http2.Http2ServerResponse;

/** What answering needs of a response; HTTP/1.1's and HTTP/2's compatibility API both have it. */
interface ResponseWriter {
  writeHead(status: number, headers: Record<string, string>): unknown;
  flushHeaders(): void;
  write(chunk: string | Buffer): unknown;
  end(body?: string | Buffer): unknown;
  destroy(): void;
  readonly writableNeedDrain: boolean;
  once(event: 'close' | 'drain', listener: () => void): unknown;
  on(event: 'close', listener: () => void): unknown;
}

/** True once the whole answer was handed over. HTTP/2 reports a reset stream as finished, so there it is end() having been called. */
function answered(res: AnyResponse): boolean {
  return isHttp2(res) ? res.writableEnded : res.writableFinished;
}

// By shape, not instanceof: node:http2 is loaded only when an HTTPS listener starts.
function isHttp2(res: AnyResponse): res is http2.Http2ServerResponse {
  return 'stream' in res;
}

/** True once the response can no longer be written (the client left or the stream was reset). */
function responseGone(res: AnyResponse): boolean {
  const destroyed = isHttp2(res) ? res.stream.destroyed : res.destroyed;
  return destroyed && !answered(res);
}

/**
 * True for a pipelined HTTP/1.1 response waiting for the answers ahead of it on its connection:
 * node:http gives it the socket only when they are done.
 */
function queued(res: AnyResponse): boolean {
  return !isHttp2(res) && res.socket === null && !res.writableFinished;
}

/** What every exchange of one server shares (one object per server, not per request). */
export interface Live {
  /** Set by close(): signals made after it start aborted. */
  closing: boolean;
  /** The signals made and not yet settled, aborted by close(). */
  inflight: Set<Exchange>;
  logger: Logger;
  metrics: HttpMetrics | undefined;
}

/** A listener of an Exchange's abort (a blocked query's waiter). */
type AbortListener = { handleEvent(): void };

/** Where a dispatched request comes from and its answer goes: a socket's exchange, or handle(). */
export interface RequestSource {
  readonly signal: AbortSignal;
  /** The same abort as a lighter listener target. */
  readonly aborts: Abortable;
  body: HttpRequest['body'];
  /** Takes the request's answer (called once). */
  answer(out: Outcome): void;
}

/**
 * One request over a socket: its abort, its body, and the writer of its answer, in one object
 * (the closures and context this took before were kept by every held blocking query). The abort
 * is wired on first use (most requests never look at it): it happens when the client leaves
 * before the answer is complete, or when the server closes. A blocking query listens on the
 * exchange itself (`aborts`); an AbortSignal is made only for a handler that asks for `signal`,
 * and aborts with it, with the same reason.
 */
export class Exchange implements RequestSource, Abortable {
  readonly #live: Live;
  readonly #req: AnyRequest;
  readonly #response: AnyResponse;
  readonly #started = performance.now();
  #ac: AbortController | undefined = undefined;
  /** 0: not wired yet; 1: wired, waiting; 2: aborted. */
  #state = 0;
  /** Why it aborted: undefined for a server close (AbortController's default reason). */
  #reason: unknown = undefined;
  /** Abort listeners: none, one, or several. */
  #listeners: AbortListener | AbortListener[] | undefined = undefined;

  constructor(live: Live, req: AnyRequest, response: AnyResponse) {
    this.#live = live;
    this.#req = req;
    this.#response = response;
  }

  get aborts(): Abortable {
    return this;
  }

  get signal(): AbortSignal {
    if (this.#ac) return this.#ac.signal;
    const ctl = this.#ac = new AbortController();
    if (this.#wire() === 2) ctl.abort(this.#reason);
    return ctl.signal;
  }

  get aborted(): boolean {
    return this.#wire() === 2;
  }

  addEventListener(_type: 'abort', listener: AbortListener): void {
    if (this.#wire() === 2) return; // as an aborted signal: added, never called
    const ls = this.#listeners;
    if (ls === undefined) this.#listeners = listener;
    else if (Array.isArray(ls)) ls.push(listener);
    else this.#listeners = [ls, listener];
  }

  removeEventListener(_type: 'abort', listener: AbortListener): void {
    const ls = this.#listeners;
    if (ls === listener) this.#listeners = undefined;
    else if (Array.isArray(ls)) {
      const i = ls.indexOf(listener);
      if (i >= 0) ls.splice(i, 1);
    }
  }

  /** Wires the abort on first use: aborted at once if the server is closing or the client left. */
  #wire(): number {
    if (this.#state !== 0) return this.#state;
    const response = this.#response;
    if (this.#live.closing || responseGone(response)) return this.#state = 2;
    const behind = queued(response);
    if (behind && this.#req.socket.destroyed) return this.#state = 2;
    this.#state = 1;
    this.#live.inflight.add(this);
    // 'close' comes once: on() spares the wrapper closure and context once() would add.
    (response as unknown as ResponseWriter).on('close', () => this.#closed());
    if (behind) this.#wireQueued();
    return 1;
  }

  /**
   * A queued response's client can leave before it has a socket. Node 24's node:http then closes
   * it; Node 22's never does, but on both the socket's close destroys the request (a request whose
   * body was read can close earlier, with its socket still open: that is no departure).
   */
  #wireQueued(): void {
    const req = this.#req;
    req.on('close', () => {
      if (req.socket.destroyed) this.#closed();
    });
  }

  #closed(): void {
    // Only a client that left early aborts its query; building an AbortError per finished
    // request costs measurable CPU.
    if (!answered(this.#response)) this.abort(CLIENT_LEFT);
    this.#live.inflight.delete(this);
  }

  /** Aborts (once): the signal if made, then the listeners, as AbortController.abort() would. */
  abort(reason?: unknown): void {
    if (this.#state === 2) return;
    this.#state = 2;
    this.#reason = reason;
    this.#ac?.abort(reason);
    const ls = this.#listeners;
    this.#listeners = undefined;
    if (ls === undefined) return;
    if (Array.isArray(ls)) for (const l of ls) l.handleEvent();
    else ls.handleEvent();
  }

  body(limit = MAX_DEFAULT_BODY, msg?: (size: number) => string): Promise<Buffer> {
    return readBody(this.#req, limit, msg);
  }

  answer(out: Outcome): void {
    const req = this.#req;
    const res = this.#response as unknown as ResponseWriter;
    try {
      if (out.label) this.#live.metrics?.observe(req.method ?? 'GET', out.label, (performance.now() - this.#started) / 1000);
      if (out.stream) {
        res.writeHead(out.status, out.headers);
        res.flushHeaders();
        const drained = () => new Promise<void>((resolve) => {
          if (!res.writableNeedDrain) resolve();
          else res.once('drain', () => resolve());
        });
        out.stream((c) => res.write(c), this.signal, drained).then(() => res.end()).catch((err: unknown) => this.#failed(err));
        return;
      }
      // A string body goes out with the headers in one socket write (a Buffer takes a writev).
      const headers = out.headers;
      headers['Content-Length'] = String(typeof out.body === 'string' ? Buffer.byteLength(out.body) : out.body.length);
      res.writeHead(out.status, headers);
      res.end(req.method === 'HEAD' ? undefined : out.body);
    } catch (err) {
      this.#failed(err);
    }
  }

  #failed(err: unknown): void {
    this.#live.logger.error({ err }, 'response failed');
    (this.#response as unknown as ResponseWriter).destroy();
  }
}

/** A request served by handle(): its given signal (or one never aborted) and body. */
export class Injected implements RequestSource {
  readonly signal: AbortSignal;
  get aborts(): Abortable {
    return this.signal;
  }

  readonly #body: Buffer;
  readonly outcome: Promise<Outcome>;
  answer!: (out: Outcome) => void;

  constructor(req: InjectRequest) {
    this.signal = req.signal ?? new AbortController().signal;
    this.#body = req.body === undefined ? Buffer.alloc(0) : Buffer.from(req.body);
    this.outcome = new Promise((resolve) => { this.answer = resolve; });
  }

  async body(limit?: number, msg?: (size: number) => string): Promise<Buffer> {
    if (limit !== undefined && this.#body.length > limit) throw new TooLargeError(msg ? msg(this.#body.length) : 'Request body too large');
    return this.#body;
  }
}
