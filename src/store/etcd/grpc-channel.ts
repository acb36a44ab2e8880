// The store's gRPC calls on one etcd member as bare gRPC over node:http2: one HTTP/2 session, one
// stream per unary KV call (Txn, Range; our own codec, kv-codec.ts) or watch (grpc-stream.ts).
// grpc-js's unary call stack
// (resolving, retrying, load-balancing and subchannel calls, interceptors, metadata objects) cost
// ≈ 180–280 µs of CPU per call here against ≈ 65 for a bare HTTP/2 request: most of the agent's
// CPU per KV write. Failures keep grpc-js's shapes (code, `<code> <NAME>: <details>`) cast by
// etcd3's castGrpcError, so errors.ts and settle.ts judge them as before: a call is "not sent"
// only when its session never connected.
import type { ClientHttp2Session, ClientHttp2Stream, OutgoingHttpHeaders } from 'node:http2';
import type { IRangeRequest, ITxnRequest } from 'etcd3';
import { nodeHttp2 } from '../../node-http.ts';
import type { EtcdTls } from './etcd.ts';
import { GrpcStream } from './grpc-stream.ts';
import { CallStatus, DEADLINE_EXCEEDED, grpcError, INTERNAL, UNAVAILABLE } from './grpc-status.ts';
import { decodeRange, decodeTxn, encodeRange, encodeTxn, type RangeAnswer, type TxnAnswer } from './kv-codec.ts';

/** The unary KV calls the store makes; etcd3's KVClient fits it too. */
export interface KvCalls {
  txn(req: ITxnRequest): Promise<TxnAnswer>;
  range(req: IRangeRequest): Promise<RangeAnswer>;
}

/** A session is replaced before its client stream ids (odd, below 2^31) run out. */
const MAX_STREAMS_PER_SESSION = 1_000_000_000;
/** After a deadline, a session that does not answer a ping within this is dropped (a dead peer). */
const PING_TIMEOUT_MS = 1_000;

/** The one uncompressed message of a unary answer's body, or null. */
function unframe(chunks: Buffer[]): Buffer | null {
  const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  if (body.length < 5 || body[0] !== 0) return null;
  const len = body.readUInt32BE(1);
  return body.length < 5 + len ? null : body.subarray(5, 5 + len);
}

/** One HTTP/2 session with its state. */
export interface Session {
  h2: ClientHttp2Session;
  connected: boolean;
  lastError: Error | null;
  streams: number;
}

/** gRPC calls to one etcd member. */
export class GrpcChannel {
  readonly #url: string;
  readonly #timeoutMs: number;
  #tls: EtcdTls | undefined;
  #session: Session | null = null;
  #closed = false;

  /** `endpoint`: the member's client URL (`http://` or `https://`; bare `host:port` as etcd3 takes it). */
  constructor(endpoint: string, opts: { tls?: EtcdTls; timeoutMs: number }) {
    this.#tls = opts.tls;
    this.#timeoutMs = opts.timeoutMs;
    this.#url = endpoint.includes('://') ? endpoint : `${opts.tls ? 'https' : 'http'}://${endpoint}`;
  }

  /** New TLS material for the sessions opened from now on (the open one is kept). */
  renewTls(tls: EtcdTls): void {
    this.#tls = tls;
  }

  /** Ends the session; calls in flight fail. */
  close(): void {
    this.#closed = true;
    this.#session?.h2.destroy();
    this.#session = null;
  }

  #open(): Session {
    const tls = this.#tls;
    const h2 = nodeHttp2().connect(this.#url, tls ? {
      ca: tls.ca, cert: tls.cert, key: tls.key, ...(tls.servername ? { servername: tls.servername } : {}),
    } : {});
    const s: Session = { h2, connected: false, lastError: null, streams: 0 };
    h2.on('connect', () => { s.connected = true; });
    h2.on('error', (err: Error) => { s.lastError = err; });
    const drop = () => { if (this.#session === s) this.#session = null; };
    h2.on('close', drop);
    h2.on('goaway', drop);
    h2.unref();
    return s;
  }

  #current(): Session {
    const s = this.#session;
    if (s && !s.h2.closed && !s.h2.destroyed && s.streams < MAX_STREAMS_PER_SESSION) return s;
    if (s) s.h2.close(); // calls in flight finish on it
    this.#session = this.#open();
    return this.#session;
  }

  /** A new stream on the current session; throws a never-sent UNAVAILABLE when none can be made. */
  #request(path: string, unary: boolean): { h2: ClientHttp2Stream; s: Session } {
    if (this.#closed) throw grpcError(UNAVAILABLE, 'No connection established. Last error: channel closed');
    const s = this.#current();
    const headers: OutgoingHttpHeaders = { ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' };
    if (unary) {
      headers['grpc-timeout'] = `${this.#timeoutMs}m`;
      // etcd refuses at once, before proposing, while the member has no leader (see etcd.ts).
      headers.hasleader = 'true';
    }
    if (this.#tls?.servername) headers[':authority'] = this.#tls.servername;
    try {
      const h2 = s.h2.request(headers);
      s.streams++;
      return { h2, s };
    } catch (err) {
      throw grpcError(UNAVAILABLE, `No connection established. Last error: ${(err as Error).message}`);
    }
  }

  /**
   * Opens a bidirectional stream to `path` (no deadline: it lives until ended or cancelled);
   * `encode` and `decode` turn messages to and from their protobuf bytes.
   */
  stream<Req, Res>(path: string, encode: (req: Req) => Buffer, decode: (buf: Buffer) => Res): GrpcStream<Req, Res> {
    const { h2, s } = this.#request(path, false);
    return new GrpcStream(h2, s, encode, decode);
  }

  /** Sends one request message (a gRPC frame) to `path`; resolves with the answer's message. */
  call(path: string, frame: Buffer): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      let h2: ClientHttp2Stream;
      let s: Session;
      try {
        ({ h2, s } = this.#request(path, true));
      } catch (err) {
        reject(err);
        return;
      }
      const status = new CallStatus(h2);
      const chunks: Buffer[] = [];
      const timer = setTimeout(() => {
        reject(grpcError(DEADLINE_EXCEEDED, `Deadline exceeded after ${this.#timeoutMs / 1000}s`));
        h2.close(nodeHttp2().constants.NGHTTP2_CANCEL);
        this.#probe(s);
      }, this.#timeoutMs);
      h2.on('data', (c: Buffer) => { chunks.push(c); });
      h2.on('close', () => {
        clearTimeout(timer);
        const err = status.failure(s, h2.rstCode);
        if (err) return reject(err);
        const msg = unframe(chunks);
        if (msg) resolve(msg);
        else reject(grpcError(INTERNAL, 'etcd answered without a readable message'));
      });
      h2.end(frame);
    });
  }

  /** After a deadline: a session whose peer no longer answers a ping is dropped, so the next call reconnects. */
  #probe(s: Session): void {
    if (s.h2.destroyed || s.h2.closed) return;
    const timer = setTimeout(() => s.h2.destroy(), PING_TIMEOUT_MS);
    try {
      s.h2.ping((err) => {
        clearTimeout(timer);
        if (err) s.h2.destroy();
      });
    } catch {
      clearTimeout(timer);
      s.h2.destroy();
    }
  }
}

/** KV calls on one member through a GrpcChannel. */
export class ChannelKv implements KvCalls {
  readonly #ch: GrpcChannel;

  constructor(ch: GrpcChannel) {
    this.#ch = ch;
  }

  async txn(req: ITxnRequest): Promise<TxnAnswer> {
    return decodeTxn(await this.#ch.call('/etcdserverpb.KV/Txn', encodeTxn(req)));
  }

  async range(req: IRangeRequest): Promise<RangeAnswer> {
    return decodeRange(await this.#ch.call('/etcdserverpb.KV/Range', encodeRange(req)));
  }
}
