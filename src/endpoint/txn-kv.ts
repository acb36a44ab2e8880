// The KV working copy of one transaction: reads fall through to the replica (and are pinned
// for the commit's compares), writes land in an overlay and become Store ops in op order.
import { KV_PREFIX, encodeKV, sameKV, type KvsTable, type KVEntry, type KVRecord } from '../state/index.ts';
import type { Compare, Op } from '../store/index.ts';
import { pinKey } from './kv.ts';

/** Stands for "the commit's revision" until the commit is known. */
const PENDING = -1;

/** A transaction's view of the KV table. */
export class KvTxnWorkspace {
  readonly #kvs: KvsTable;
  readonly #overlay = new Map<string, KVEntry | null>();
  readonly #read = new Map<string, KVEntry | undefined>();
  readonly #treeDeletes: string[] = [];
  readonly #ops: Op[] = [];
  readonly #extraCompares: Compare[] = [];
  /** Results in op order; write results carry no Value, as in Consul. */
  readonly results: { KV: KVEntry }[] = [];

  constructor(kvs: KvsTable) {
    this.#kvs = kvs;
  }

  /** The entry as this transaction currently sees it. */
  get(key: string): KVEntry | undefined {
    if (this.#overlay.has(key)) return this.#overlay.get(key) ?? undefined;
    if (this.#treeDeletes.some((p) => key.startsWith(p))) return undefined;
    const e = this.#kvs.get(key);
    if (!this.#read.has(key)) this.#read.set(key, e);
    return e;
  }

  /** Entries under a prefix as this transaction sees them, in key order. */
  list(prefix: string): KVEntry[] {
    const out = new Map<string, KVEntry>();
    for (const e of this.#kvs.list(prefix).entries) {
      const seen = this.get(e.Key);
      if (seen) out.set(e.Key, seen);
    }
    for (const [k, e] of this.#overlay) if (e && k.startsWith(prefix)) out.set(k, e);
    return [...out.keys()].sort().map((k) => out.get(k)!);
  }

  /** Writes a record (skipped when nothing would change, like Consul's kvsSetTxn). */
  set(key: string, rec: KVRecord): void {
    const existing = this.get(key);
    if (existing && sameKV(existing, rec)) {
      this.result(existing, false);
      return;
    }
    const entry: KVEntry = {
      ...rec, Key: key, CreateIndex: existing ? existing.CreateIndex : PENDING, ModifyIndex: PENDING,
    };
    this.#overlay.set(key, entry);
    this.#ops.push({ type: 'put', key: KV_PREFIX + key, value: encodeKV(rec) });
    this.result(entry, false);
  }

  /** Deletes one key if present. */
  delete(key: string): void {
    if (!this.get(key)) return;
    this.#overlay.set(key, null);
    this.#ops.push({ type: 'delete', key: KV_PREFIX + key });
  }

  /** Deletes every key under a prefix. */
  deleteTree(prefix: string): void {
    for (const e of this.list(prefix)) this.#overlay.set(e.Key, null);
    this.#treeDeletes.push(prefix);
    this.#ops.push({ type: 'deletePrefix', prefix: KV_PREFIX + prefix });
  }

  /** Records a result entry, with or without its value. */
  result(entry: KVEntry, withValue: boolean): void {
    this.results.push({ KV: withValue ? entry : { ...entry, Value: null } });
  }

  /** Adds guards and writes outside the KV table (session guards, invalidations), in op order. */
  extra(compares: Compare[], ops: Op[]): void {
    this.#extraCompares.push(...compares);
    this.#ops.push(...ops);
  }

  /** Compares pinning every key read from the replica to the state that was read. */
  compares(): Compare[] {
    return [...[...this.#read].map(([k, e]) => pinKey(k, e)), ...this.#extraCompares];
  }

  /** The Store ops, in op order. */
  writes(): Op[] {
    return this.#ops;
  }

  /** Results with pending indexes replaced by the commit revision. */
  finish(revision: number): { KV: KVEntry }[] {
    const fix = (n: number): number => (n === PENDING ? revision : n);
    return this.results.map(({ KV }) => ({ KV: { ...KV, CreateIndex: fix(KV.CreateIndex), ModifyIndex: fix(KV.ModifyIndex) } }));
  }
}
