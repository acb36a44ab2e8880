// HTTP/1.1 request bodies taken as node:http's parser hands them over. A request read through the
// stream interface ('data' and 'end' listeners) goes through flowing mode: resume() and the end
// each schedule a tick, and every chunk is emitted. Proconsul reads a whole (small) body at once,
// so the HTTP/1.1 listeners build their requests from this subclass, whose capture() takes the
// parser's chunks directly and answers when the body is complete (≈2 µs less per request).
// A captured body is the stream's whole content: unless something reads the stream too, it is
// never ended (no 'end' or 'close' after the answer), which spares node:http's dump of it and its
// end, destroy and close ticks.
import type http from 'node:http';
import { nodeHttp } from '../node-http.ts';

/** What capture() calls: once, with the whole body, or with the error that ended the request. */
export interface BodySink {
  body(body: Buffer): void;
  failed(err: Error): void;
}

/** A body chunk over the limit: the rest is discarded as it arrives. */
const DISCARD: BodySink = { body() {}, failed() {} };

interface ReadableInternals {
  _readableState: { length: number; ended: boolean; flowing: boolean | null };
  /** node:http dumps (resumes) a request it thinks unread once its answer is finished, unless set. */
  _consuming: boolean;
}

/** The parser of a socket, whose `incoming` is the message it is parsing (null between messages). */
interface ParsedSocket {
  parser?: { incoming: unknown } | null;
}

/**
 * An IncomingMessage whose body can be captured: until capture() is called, or when it could not
 * be (the body started flowing through the stream), it is a plain IncomingMessage.
 */
export class CapturingMessage extends nodeHttp.IncomingMessage {
  #sink: BodySink | null = null;
  #chunks: Buffer | Buffer[] | null = null;
  #size = 0;
  #limit = 0;
  #tooLarge: ((size: number) => void) | null = null;
  /** The body went to a sink whole: the stream holds nothing and is never ended. */
  #taken = false;

  /**
   * Takes the body as the parser delivers it: `sink.body()` once it is complete, `sink.failed()`
   * if the request ends first (the client left); `tooLarge(size)` (instead of either) as soon as
   * it passes `limit` bytes, and the rest is discarded. False when the body cannot be captured
   * (already capturing, or some of it was read or buffered by the stream): read it as a stream.
   */
  capture(limit: number, sink: BodySink, tooLarge: (size: number) => void): boolean {
    // Read again: nothing is left, as an ended stream would give.
    if (this.#taken) {
      sink.body(Buffer.alloc(0));
      return true;
    }
    const state = (this as unknown as ReadableInternals)._readableState;
    if (this.#sink !== null || state.length > 0 || state.ended || state.flowing || this.destroyed) return false;
    this.#sink = sink;
    this.#limit = limit;
    this.#tooLarge = tooLarge;
    return true;
  }

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    const sink = this.#sink;
    if (sink === null) return super.push(chunk, encoding);
    if (chunk === null) {
      // The sink and tooLarge hold the body read's promise and its context: let go of them now,
      // not when the answered request is (each request in flight otherwise keeps ≈ 0.3 KB more).
      this.#sink = null;
      this.#tooLarge = null;
      const chunks = this.#chunks;
      this.#chunks = null;
      // A refused body's stream ends as before (node:http may be dumping it already).
      if (sink === DISCARD) return super.push(null);
      this.#taken = true;
      const body = chunks === null ? Buffer.alloc(0) : Buffer.isBuffer(chunks) ? chunks : Buffer.concat(chunks);
      // Read through the stream as well (a second read while this one captured, or node:http's
      // dump of a request answered before its body was in): it ends, empty, or that read never does.
      if ((this as unknown as ReadableInternals)._readableState.flowing !== null) {
        sink.body(body);
        return super.push(null);
      }
      // The body is complete and the sink's. The stream is left as it is (nothing was pushed into
      // it), marked consumed so node:http does not resume it after the answer, and the parser lets
      // go of it as it would on its end (the next message replaces it anyway).
      (this as unknown as ReadableInternals)._consuming = true;
      const parser = (this.socket as unknown as ParsedSocket | null)?.parser;
      if (parser && parser.incoming === this) parser.incoming = null;
      sink.body(body);
      return false;
    }
    if (sink === DISCARD) return true;
    const buf = chunk as Buffer;
    this.#size += buf.length;
    if (this.#size > this.#limit) {
      const tooLarge = this.#tooLarge!;
      this.#sink = DISCARD;
      this.#chunks = null;
      this.#tooLarge = null;
      tooLarge(this.#size);
      return true;
    }
    // A small body arrives in one chunk: no list, no copy.
    const held = this.#chunks;
    if (held === null) this.#chunks = buf;
    else if (Buffer.isBuffer(held)) this.#chunks = [held, buf];
    else held.push(buf);
    return true;
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const sink = this.#sink;
    if (sink !== null) {
      this.#sink = null;
      this.#chunks = null;
      this.#tooLarge = null;
      sink.failed(err ?? Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    }
    super._destroy(err, cb);
  }
}

/** The HTTP/1.1 server options that make requests CapturingMessages. */
export const CAPTURING: { IncomingMessage: typeof http.IncomingMessage } = { IncomingMessage: CapturingMessage };
