// How the Store's keyspace lives inside etcd: a namespace prefix holding one meta key (its
// create revision is the namespace's revision 0; its value names the live generation) and the
// data keys under `<prefix>g<generation>/`. Translates keys, revisions and records both ways.
import type { IKeyValue } from 'etcd3';
import type { KeyValue } from '../store.ts';

/** The meta record stored as JSON in `<prefix>meta`. */
export interface MetaRecord {
  /** Generation of the data keys; a snapshot restore writes a new one atomically. */
  gen: number;
}

/** The smallest key greater than every key that starts with `prefix` (etcd's range_end). */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // all 0xff: to the end of the keyspace
}

/** Maps logical keys and revisions onto one etcd namespace. */
export class Keyspace {
  readonly prefix: string;
  readonly metaKey: Buffer;
  /** What every data key starts with: the prefix, then `g` and the generation. */
  readonly #dataStart: string;
  /** etcd revision that is the Store's revision 0 (the meta key's create revision). */
  base = 0;
  /** Live data generation, as last read from the meta key. */
  gen = 1;
  /** Mod revision of the meta key when `gen` was read; pins reads and writes to that generation. */
  metaMod = 0;

  constructor(prefix: string) {
    this.prefix = prefix;
    this.metaKey = Buffer.from(`${prefix}meta`);
    this.#dataStart = `${prefix}g`;
  }

  /** Prefix of every data key of a generation (the live one by default). */
  dataPrefix(gen = this.gen): Buffer {
    return Buffer.from(`${this.prefix}g${gen}/`);
  }

  /** The etcd key for a logical key in the live generation. */
  physical(key: string, gen = this.gen): Buffer {
    return Buffer.from(`${this.prefix}g${gen}/${key}`);
  }

  /** `[key, range_end)` covering every logical key with the prefix, in the live generation. */
  range(prefix: string, gen = this.gen): { key: Buffer; range_end: Buffer } {
    const key = this.physical(prefix, gen);
    return { key, range_end: prefixEnd(key) };
  }

  /** The logical key of an etcd data key, or null for the meta key and foreign keys. */
  logical(physical: Buffer): { key: string; gen: number } | null {
    const s = physical.toString();
    const at = this.#genEnd(s);
    return at < 0 ? null : { key: s.slice(at + 1), gen: Number(s.slice(this.#dataStart.length, at)) };
  }

  /** The logical key alone (any generation), or null: what logical() gives without the generation. */
  logicalKey(physical: Buffer): string | null {
    const s = physical.toString();
    const at = this.#genEnd(s);
    return at < 0 ? null : s.slice(at + 1);
  }

  /** Index of the `/` after a data key's generation, or -1 when `s` is not a data key. */
  #genEnd(s: string): number {
    const start = this.#dataStart.length;
    if (!s.startsWith(this.#dataStart)) return -1;
    const slash = s.indexOf('/', start);
    return slash > start && Number.isInteger(Number(s.slice(start, slash))) ? slash : -1;
  }

  /** Store revision for an etcd revision (never below 0). */
  rev(etcdRevision: string | number): number {
    const r = Number(etcdRevision);
    return r === 0 ? 0 : Math.max(0, r - this.base);
  }

  /** etcd revision for a Store revision. */
  etcdRev(storeRevision: number): number {
    return storeRevision + this.base;
  }

  /** A Store record from an etcd record (revisions shifted, key stripped of the namespace). */
  kv(e: IKeyValue, key?: string): KeyValue {
    return {
      key: key ?? this.logicalKey(e.key) ?? e.key.toString(),
      value: Buffer.from(e.value ?? []),
      createRevision: this.rev(e.create_revision),
      modRevision: this.rev(e.mod_revision),
      version: Number(e.version),
      lease: Number(e.lease ?? 0),
    };
  }

  /** Decodes the meta key's value; a missing or unreadable one means generation 1. */
  static parseMeta(value: Buffer | undefined): MetaRecord {
    try {
      const rec = JSON.parse(String(value ?? '')) as Partial<MetaRecord>;
      return { gen: typeof rec.gen === 'number' ? rec.gen : 1 };
    } catch {
      return { gen: 1 };
    }
  }
}
