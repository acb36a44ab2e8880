// A Store watch on etcd's raw watch stream: one stream per watch over the namespace's data,
// events grouped into one batch per revision, delivered in order. When the stream
// breaks (member killed, leader change) it resumes from the revision after the last delivered
// one, so nothing is lost or repeated; a compacted start is reported through onCompacted.
import type { ClientDuplexStream } from '@grpc/grpc-js';
import type { ICallable } from 'etcd3';
import { CompactedError } from '../../errors.ts';
import type { Watch, WatchBatch, WatchEvent, WatchHandlers } from '../store.ts';
import { prefixEnd, type Keyspace } from './keyspace.ts';
import { decodeWatchResponse, encodeWatchCreate, type WatchCreate, type WireEvent, type WireWatchResponse } from './watch-codec.ts';

/** Minimal logger surface the watch reports reconnects to. */
export interface WatchLogger {
  warn(obj: object, msg: string): void;
}

const RETRY_MIN_MS = 50;
const WATCH_METHOD = '/etcdserverpb.Watch/Watch';

type WatchStream = ClientDuplexStream<WatchCreate, WireWatchResponse>;

/**
 * Opens a Watch stream on a member through etcd3's connection pool (its fault handling and auth
 * metadata), with this file's codec instead of etcd3's generic one; a stream error counts
 * against the member as etcd3's own watch stream does. Streams get no deadline.
 */
export function openStream(calls: ICallable<unknown>): Promise<WatchStream> {
  return calls.withConnection('Watch', ({ resource, client, metadata }) => {
    const stream = client.makeBidiStreamRequest(WATCH_METHOD, encodeWatchCreate, decodeWatchResponse, metadata, {});
    stream.on('error', (err: Error) => { if (stream.writable) calls.markFailed(resource, err); });
    return stream;
  });
}
const RETRY_MAX_MS = 1000;

/** One running watch; `cancel()` ends the stream and any pending reconnect. */
export class EtcdWatch implements Watch {
  readonly #calls: ICallable<unknown>;
  readonly #ks: Keyspace;
  readonly #handlers: WatchHandlers;
  readonly #log: WatchLogger;
  readonly #onEnd: (w: EtcdWatch) => void;
  /** Next Store revision to deliver. */
  #next: number;
  #stream: WatchStream | null = null;
  #cancelled = false;
  #retryMs = RETRY_MIN_MS;
  #timer: NodeJS.Timeout | null = null;

  constructor(calls: ICallable<unknown>, ks: Keyspace, afterRevision: number, handlers: WatchHandlers, deps: { log: WatchLogger; onEnd: (w: EtcdWatch) => void }) {
    this.#calls = calls;
    this.#ks = ks;
    this.#handlers = handlers;
    this.#log = deps.log;
    this.#onEnd = deps.onEnd;
    this.#next = afterRevision + 1;
    void this.#connect();
  }

  /** Stops delivery; no batch is delivered after this returns. */
  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#close();
    this.#onEnd(this);
  }

  #close(): void {
    const s = this.#stream;
    this.#stream = null;
    if (s) endStream(s);
  }

  async #connect(): Promise<void> {
    if (this.#cancelled) return;
    let stream: WatchStream;
    try {
      stream = await openStream(this.#calls);
    } catch (err) {
      this.#retry(err);
      return;
    }
    if (this.#cancelled) {
      endStream(stream);
      return;
    }
    this.#stream = stream;
    stream.on('data', (res) => { if (this.#stream === stream) this.#onResponse(res); });
    stream.on('error', (err) => { if (this.#stream === stream) this.#retry(err); });
    stream.on('end', () => { if (this.#stream === stream) this.#retry(new Error('watch stream ended')); });
    // Data keys of every generation; the meta key alone never changes what a reader sees. No
    // prev_kv: it would make etcd read, and send, every changed key's previous record, values
    // included, for deletes that the contract describes by key and revision only.
    const key = Buffer.from(`${this.#ks.prefix}g`);
    stream.write({ key, rangeEnd: prefixEnd(key), startRevision: this.#ks.etcdRev(this.#next) });
  }

  #retry(err: unknown): void {
    this.#close();
    if (this.#cancelled) return;
    this.#log.warn({ err: String(err), next: this.#next, retryMs: this.#retryMs }, 'etcd watch broke; resuming');
    this.#timer = setTimeout(() => { this.#timer = null; void this.#connect(); }, this.#retryMs);
    this.#retryMs = Math.min(RETRY_MAX_MS, this.#retryMs * 2);
  }

  #onResponse(res: WireWatchResponse): void {
    if (this.#cancelled) return;
    if (res.compactRevision > 0) {
      this.#compacted(this.#ks.rev(res.compactRevision));
      return;
    }
    if (res.canceled) {
      this.#retry(new Error(`etcd cancelled the watch: ${res.cancelReason || 'no reason given'}`));
      return;
    }
    if (res.created) this.#retryMs = RETRY_MIN_MS;
    // etcd 3.4 never splits one revision across responses unless `fragment` is requested
    // (watchable_store cuts batches only at revision boundaries), so every group is complete.
    for (const batch of this.#group(res.events)) {
      if (this.#cancelled) return;
      if (batch.revision < this.#next) continue; // already delivered before a reconnect
      if (batch.events.length === 0) continue;
      this.#next = batch.revision + 1;
      try {
        this.#handlers.onBatch(batch);
      } catch (err) {
        this.#handlers.onError?.(err as Error);
      }
    }
  }

  #compacted(compactRevision: number): void {
    this.#cancelled = true;
    this.#close();
    this.#onEnd(this);
    if (this.#handlers.onCompacted) this.#handlers.onCompacted(compactRevision);
    else this.#handlers.onError?.(new CompactedError(compactRevision));
  }

  /** Groups events by revision, keeping data keys only. */
  #group(events: WireEvent[]): WatchBatch[] {
    const out: WatchBatch[] = [];
    for (const ev of events) {
      const revision = this.#ks.rev(ev.modRevision);
      let batch = out.at(-1);
      if (!batch || batch.revision !== revision) {
        batch = { revision, events: [] };
        out.push(batch);
      }
      const e = this.#event(ev, revision);
      if (e) batch.events.push(e);
    }
    return out;
  }

  #event(ev: WireEvent, revision: number): WatchEvent | null {
    const key = this.#ks.logicalKey(ev.key);
    if (key === null) return null;
    if (ev.type === 'Put') {
      const ks = this.#ks;
      return { type: 'put', kv: { key, value: ev.value, createRevision: ks.rev(ev.createRevision), modRevision: revision, version: ev.version, lease: ev.lease } };
    }
    // A delete carries its key and the delete's revision, as the contract says.
    return { type: 'delete', kv: { key, value: EMPTY, createRevision: 0, modRevision: revision, version: 0, lease: 0 } };
  }
}

const EMPTY = new Uint8Array(0);

/**
 * Ends a watch stream: half-closes it, then cancels it. Cancelling alone makes the stream fail
 * with CANCELLED while still writable, which etcd3 counts against the member (markFailed): it
 * closes every client of that member, so the next call of any kind opens a new connection.
 */
export function endStream(s: { end(): unknown; cancel(): void }): void {
  try {
    s.end();
    s.cancel();
  } catch { /* already gone */ }
}
