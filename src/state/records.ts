// A generic replica table of JSON records under one store prefix (CA roots, cluster meta, …),
// with its table index and Consul's CreateIndex/ModifyIndex taken from store revisions.
import type { WatchEvent } from '../store/index.ts';

/** A record with the indexes the store gave it. */
export type Indexed<T> = T & { CreateIndex: number; ModifyIndex: number };

/** Records of one kind keyed by the part of the store key after the prefix. */
export class RecordTable<T extends object> {
  readonly name: string;
  readonly prefix: string;
  #rows = new Map<string, Indexed<T>>();
  /** Highest revision that changed the table, deletes included. */
  index = 0;

  constructor(name: string, prefix: string) {
    this.name = name;
    this.prefix = prefix;
  }

  /** Applies one store event; returns the record id it changed. */
  apply(ev: WatchEvent): string {
    const id = ev.kv.key.slice(this.prefix.length);
    if (ev.type === 'put') {
      const rec = JSON.parse(utf8.decode(ev.kv.value)) as T;
      this.#rows.set(id, { ...rec, CreateIndex: ev.kv.createRevision, ModifyIndex: ev.kv.modRevision });
    } else {
      this.#rows.delete(id);
    }
    this.index = Math.max(this.index, ev.kv.modRevision);
    return id;
  }

  /** Empties the table (before a re-list). */
  reset(): void {
    this.#rows.clear();
    this.index = 0;
  }

  /** One record by id. */
  get(id: string): Indexed<T> | undefined {
    return this.#rows.get(id);
  }

  /** Every record, in insertion order. */
  all(): Indexed<T>[] {
    return [...this.#rows.values()];
  }

  /** Number of records. */
  get size(): number {
    return this.#rows.size;
  }

  /** Every record with its id, in insertion order. */
  entries(): [string, Indexed<T>][] {
    return [...this.#rows.entries()];
  }
}

/** A base class whose constructor returns the object it is given (so subclass fields land on it). */
class Returns {
  constructor(o: object) {
    return o as this;
  }
}

/**
 * Records this process encoded, stamped on their bytes. A local write reaches the replica with
 * the very bytes it was committed with (memory and embedded stores pass them through), so the
 * replica can take the record instead of parsing it back: one JSON.parse less per record written
 * here. The stamp is a private field added to the Buffer (via Returns): invisible to anything
 * else that reads the bytes, and cheaper than a WeakMap entry (no ephemeron for the GC to trace;
 * 0.15 against 0.42 µs per record). An owned record (encodeOwnedRecord) is handed over whole:
 * the first takeRecord() gets it and drops the stamp, so later readers parse the bytes.
 */
class Encoded extends Returns {
  #record: object | undefined;
  readonly #owned: boolean;

  constructor(bytes: Uint8Array, record: object, owned: boolean) {
    super(bytes);
    this.#record = record;
    this.#owned = owned;
  }

  static record(bytes: Uint8Array): object | undefined {
    return #record in bytes ? (bytes as unknown as Encoded).#record : undefined;
  }

  static take(bytes: Uint8Array): object | undefined {
    if (!(#record in bytes)) return undefined;
    const e = bytes as unknown as Encoded;
    if (!e.#owned) return undefined;
    const rec = e.#record;
    e.#record = undefined;
    return rec;
  }
}

const utf8 = new TextDecoder();

/** Encodes a record for the store; indexes are never stored. */
export function encodeRecord<T extends object>(rec: T): Uint8Array {
  // Planned records rarely carry indexes: copy (and drop them) only when they do.
  let plain: object = rec;
  if (Object.hasOwn(rec, 'CreateIndex') || Object.hasOwn(rec, 'ModifyIndex')) {
    const { CreateIndex: _c, ModifyIndex: _m, ...rest } = rec as T & { CreateIndex?: number; ModifyIndex?: number };
    plain = rest;
  }
  const bytes = Buffer.from(JSON.stringify(plain));
  new Encoded(bytes, plain, false);
  return bytes;
}

/** What JSON.stringify ends an owned record with: its two index placeholders. */
const INDEX_TAIL = ',"CreateIndex":0,"ModifyIndex":0}';

/**
 * Encodes a record the caller hands over: built with `CreateIndex: 0, ModifyIndex: 0` as its last
 * two fields (so it already has the shape it will keep), never used by the caller again. The
 * bytes are the record's JSON without the indexes, as encodeRecord() writes them; takeRecord()
 * gives the object itself to the one reader that keeps it (the replica sets its indexes).
 */
export function encodeOwnedRecord<T extends { CreateIndex: number; ModifyIndex: number }>(rec: T): Uint8Array {
  const json = JSON.stringify(rec);
  if (!json.endsWith(INDEX_TAIL)) return encodeRecord(rec);
  // The JSON up to the placeholders and a closing brace, written straight into the buffer (the
  // tail is ASCII: it is the last INDEX_TAIL.length bytes).
  const size = Buffer.byteLength(json) - INDEX_TAIL.length + 1;
  const bytes = Buffer.allocUnsafe(size);
  bytes.write(json, 0, size - 1, 'utf8');
  bytes[size - 1] = 0x7d;
  new Encoded(bytes, rec, true);
  return bytes;
}

/**
 * The record an encodeOwnedRecord() call handed over with these bytes, once: the caller keeps it
 * (and may set its indexes); undefined for any other bytes, or when it was taken already.
 */
export function takeRecord<T>(bytes: Uint8Array): T | undefined {
  return Encoded.take(bytes) as T | undefined;
}

/**
 * Decodes a stored record. Records encoded in this process come back as the object that was
 * encoded: callers copy it and must not modify it, and it equals the parsed bytes only for
 * plain JSON data (no Dates or other objects that JSON.stringify converts), as catalog records are.
 */
export function decodeRecord<T>(bytes: Uint8Array): T {
  return (Encoded.record(bytes) as T | undefined) ?? (JSON.parse(utf8.decode(bytes)) as T);
}
