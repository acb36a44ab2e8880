// The KV table of the replica (Consul's `kvs` + `tombstones`): entries by key, the table
// index including deletes, per-key and per-prefix indexes, and the record codec for `kv/<key>`.
import { sortedMap, forPrefix, type BTree } from '../sorted-map.ts';
import type { WatchEvent } from '../store/index.ts';

/** Store prefix of the KV table. */
export const KV_PREFIX = 'kv/';
/** Notifier table name. */
export const KVS_TABLE = 'kvs';

/** One KV entry as the replica holds it; indexes come from store revisions. */
export interface KVEntry {
  Key: string;
  /** Consul's uint64 flags (lock helpers use values above 2^53). */
  Flags: bigint;
  LockIndex: number;
  Session: string;
  /** Null for an empty value, as Consul stores a nil slice. */
  Value: Buffer | null;
  CreateIndex: number;
  ModifyIndex: number;
  /** Set only on entries of a non-default tenant's table (derived from the store key, never stored). */
  Namespace?: string;
  /** Set with Namespace. */
  Partition?: string;
}

/** The stored part of an entry (revisions live in the store, not in the value). */
export type KVRecord = Pick<KVEntry, 'Flags' | 'LockIndex' | 'Session' | 'Value'>;

/**
 * Encodes a KV record: a JSON header line `{"Flags":…,"LockIndex":…,"Session":…}` (written
 * directly, the text JSON.stringify gives), then the raw value bytes, in one buffer.
 */
export function encodeKV(rec: KVRecord): Uint8Array {
  const plain = rec.Flags === 0n && rec.LockIndex === 0 && rec.Session === '';
  const head = plain ? '' : `{"Flags":${rec.Flags},"LockIndex":${rec.LockIndex},"Session":${JSON.stringify(rec.Session)}}\n`;
  const headBytes = plain ? PLAIN_LINE.length : Buffer.byteLength(head);
  const value = rec.Value;
  const out = Buffer.allocUnsafe(headBytes + (value ? value.length : 0));
  if (plain) PLAIN_LINE.copy(out, 0);
  else out.write(head, 0, 'utf8');
  if (value) value.copy(out, headBytes);
  return out;
}

/** Decodes a stored `kv/<key>` record into an entry. */
export function decodeKV(key: string, bytes: Uint8Array, createIndex: number, modifyIndex: number): KVEntry {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nl = buf.indexOf(0x0a);
  const head = nl === PLAIN_HEAD.length && buf.compare(PLAIN_HEAD, 0, nl, 0, nl) === 0 ? PLAIN : parseHead(buf.toString('utf8', 0, nl));
  const value = buf.subarray(nl + 1);
  return {
    Key: key,
    Flags: head.Flags,
    LockIndex: head.LockIndex,
    Session: head.Session,
    Value: value.length ? value : null,
    CreateIndex: createIndex,
    ModifyIndex: modifyIndex,
  };
}

type Head = Pick<KVEntry, 'Flags' | 'LockIndex' | 'Session'>;

/** The header of most records (no flags, never locked), recognised by its bytes instead of parsed. */
const PLAIN: Head = { Flags: 0n, LockIndex: 0, Session: '' };
const PLAIN_HEAD = Buffer.from(`{"Flags":0,"LockIndex":0,"Session":""}`);
const PLAIN_LINE = Buffer.from(`{"Flags":0,"LockIndex":0,"Session":""}\n`);

function parseHead(text: string): Head {
  const head = JSON.parse(text) as { Flags: number | bigint; LockIndex: number; Session: string };
  // Flags is a uint64: read as a number when that is exact, from its digits (a reviver) when not.
  const flags = Number.isSafeInteger(head.Flags) ? BigInt(head.Flags) : exactFlags(text);
  return { Flags: flags, LockIndex: head.LockIndex, Session: head.Session };
}

function exactFlags(text: string): bigint {
  const head = JSON.parse(text, (k, v, ctx?: { source?: string }) => (k === 'Flags' ? BigInt(ctx?.source ?? v) : v)) as { Flags: bigint };
  return head.Flags;
}

/** True when a write would not change the entry (Consul then skips it). */
export function sameKV(a: KVRecord, b: KVRecord): boolean {
  const va = a.Value ?? Buffer.alloc(0);
  const vb = b.Value ?? Buffer.alloc(0);
  return a.Flags === b.Flags && a.LockIndex === b.LockIndex && a.Session === b.Session && va.equals(vb);
}

/** The KV table: current entries plus tombstones of deleted keys. */
export class KvsTable {
  #entries: BTree<string, KVEntry> = sortedMap();
  #tombstones: BTree<string, number> = sortedMap();
  /** Keys locked by each session (Consul's `session` index on kvs). */
  #bySession = new Map<string, Set<string>>();
  /** Highest revision that changed the table, deletes included. */
  index = 0;
  /** The tenant of a non-default tenant's table: its entries carry Namespace and Partition. */
  readonly #tenant: { Namespace: string; Partition: string } | null;

  constructor(tenant?: { namespace: string; partition: string }) {
    this.#tenant = tenant ? { Namespace: tenant.namespace, Partition: tenant.partition } : null;
  }

  /** Applies one store event; returns the KV key it changed. */
  apply(ev: WatchEvent): string {
    const key = ev.kv.key.slice(KV_PREFIX.length);
    const prev = this.#entries.get(key);
    if (prev?.Session) this.#unlink(prev.Session, key);
    if (ev.type === 'put') {
      const e = decodeKV(key, ev.kv.value, ev.kv.createRevision, ev.kv.modRevision);
      if (this.#tenant) {
        e.Namespace = this.#tenant.Namespace;
        e.Partition = this.#tenant.Partition;
      }
      this.#entries.set(key, e);
      this.#tombstones.delete(key);
      if (e.Session) {
        let keys = this.#bySession.get(e.Session);
        if (!keys) this.#bySession.set(e.Session, (keys = new Set()));
        keys.add(key);
      }
    } else {
      this.#entries.delete(key);
      this.#tombstones.set(key, ev.kv.modRevision);
    }
    this.index = Math.max(this.index, ev.kv.modRevision);
    return key;
  }

  #unlink(session: string, key: string): void {
    const keys = this.#bySession.get(session);
    keys?.delete(key);
    if (keys?.size === 0) this.#bySession.delete(session);
  }

  /** Entries locked by a session, in key order. */
  heldBy(session: string): KVEntry[] {
    return [...(this.#bySession.get(session) ?? [])].sort().map((k) => this.#entries.get(k)!);
  }

  /** Empties the table (before a re-list). */
  reset(): void {
    this.#entries = sortedMap();
    this.#tombstones = sortedMap();
    this.#bySession.clear();
    this.index = 0;
  }

  /** One entry, or undefined. */
  get(key: string): KVEntry | undefined {
    return this.#entries.get(key);
  }

  /** Entries under a prefix in key order, with Consul's list index (entries and tombstones). */
  list(prefix: string): { index: number; entries: KVEntry[] } {
    const entries: KVEntry[] = [];
    let idx = 0;
    forPrefix(this.#entries, prefix, (_k, e) => {
      entries.push(e);
      if (e.ModifyIndex > idx) idx = e.ModifyIndex;
    });
    if (prefix === '') idx = this.index;
    else forPrefix(this.#tombstones, prefix, (_k, rev) => { if (rev > idx) idx = rev; });
    return { index: idx || this.index, entries };
  }

  /** Keys under a prefix, rolled up at the first `separator` after the prefix (Consul's `?keys`). */
  keys(prefix: string, separator: string): { index: number; keys: string[] } {
    const { index, entries } = this.list(prefix);
    const keys: string[] = [];
    let last = '';
    for (const e of entries) {
      let k = e.Key;
      if (separator) {
        const at = k.indexOf(separator, prefix.length);
        if (at >= 0) k = k.slice(0, at + separator.length);
      }
      if (k !== last) keys.push(k);
      last = k;
    }
    return { index, keys };
  }

  /** Removes tombstones at or below `revision` (Consul's tombstone GC). */
  reapTombstones(revision: number): number {
    const dead: string[] = [];
    for (const [k, rev] of this.#tombstones.entries()) if (rev <= revision) dead.push(k);
    for (const k of dead) this.#tombstones.delete(k);
    return dead.length;
  }

  /** Number of live entries. */
  get size(): number {
    return this.#entries.size;
  }
}
