// The KV working copy of one transaction: reads fall through to the replica (and are pinned
// for the commit's compares), writes land in an overlay and become Store ops in op order.
// Every method takes the op's tenant (absent: default); each tenant's keys are apart.
import { encodeKV, entKey, kvsOf, sameKV, type EnterpriseMeta, type KvsTable, type KVEntry, type KVRecord } from '../state/index.ts';
import type { Compare, Op } from '../store/index.ts';
import { kvStoreKey, pinKey } from './kv.ts';

/** Stands for "the commit's revision" until the commit is known. */
const PENDING = -1;

/** What the workspace reads: the replica's KV tables (default and per tenant). */
export type KvTables = Parameters<typeof kvsOf>[0];

/**
 * The workspace's key of a KV key: `\0<key>` in the default tenant, `<ap>/<ns>\0<key>` in another
 * (a tenant's never starts with NUL, so a default key spelling a tenant and NUL stays apart).
 */
function wsKey(ent: EnterpriseMeta | undefined, key: string): string {
  return ent ? `${entKey(ent)}\0${key}` : `\0${key}`;
}

/** A transaction's view of the KV tables. */
export class KvTxnWorkspace {
  readonly #tables: KvTables;
  readonly #overlay = new Map<string, KVEntry | null>();
  readonly #read = new Map<string, { ent: EnterpriseMeta | undefined; key: string; entry: KVEntry | undefined }>();
  /** Prefixes deleted by delete-tree ops, with their tenant ('' for the default tenant). */
  readonly #treeDeletes: { tenant: string; prefix: string }[] = [];
  readonly #ops: Op[] = [];
  readonly #extraCompares: Compare[] = [];
  /** Results in op order; write results carry no Value, as in Consul. */
  readonly results: { KV: KVEntry }[] = [];

  constructor(tables: KvTables) {
    this.#tables = tables;
  }

  #kvs(ent: EnterpriseMeta | undefined): KvsTable {
    return kvsOf(this.#tables, ent);
  }

  /** The entry as this transaction currently sees it. */
  get(key: string, ent?: EnterpriseMeta): KVEntry | undefined {
    const k = wsKey(ent, key);
    if (this.#overlay.has(k)) return this.#overlay.get(k) ?? undefined;
    const tenant = ent ? entKey(ent) : '';
    if (this.#treeDeletes.some((d) => d.tenant === tenant && key.startsWith(d.prefix))) return undefined;
    const e = this.#kvs(ent).get(key);
    if (!this.#read.has(k)) this.#read.set(k, { ent, key, entry: e });
    return e;
  }

  /** Entries under a prefix as this transaction sees them, in key order. */
  list(prefix: string, ent?: EnterpriseMeta): KVEntry[] {
    const out = new Map<string, KVEntry>();
    for (const e of this.#kvs(ent).list(prefix).entries) {
      const seen = this.get(e.Key, ent);
      if (seen) out.set(e.Key, seen);
    }
    const p = wsKey(ent, prefix);
    const tenantLen = p.length - prefix.length;
    for (const [k, e] of this.#overlay) {
      if (e && k.startsWith(p)) out.set(k.slice(tenantLen), e);
    }
    return [...out.keys()].sort().map((k) => out.get(k)!);
  }

  /** Writes a record (skipped when nothing would change, like Consul's kvsSetTxn). */
  set(key: string, rec: KVRecord, ent?: EnterpriseMeta): void {
    const existing = this.get(key, ent);
    if (existing && sameKV(existing, rec)) {
      this.result(existing, false);
      return;
    }
    const entry: KVEntry = {
      ...rec, Key: key, CreateIndex: existing ? existing.CreateIndex : PENDING, ModifyIndex: PENDING,
    };
    if (ent) {
      entry.Namespace = ent.namespace;
      entry.Partition = ent.partition;
    }
    this.#overlay.set(wsKey(ent, key), entry);
    this.#ops.push({ type: 'put', key: kvStoreKey(ent, key), value: encodeKV(rec) });
    this.result(entry, false);
  }

  /** Deletes one key if present. */
  delete(key: string, ent?: EnterpriseMeta): void {
    if (!this.get(key, ent)) return;
    this.#overlay.set(wsKey(ent, key), null);
    this.#ops.push({ type: 'delete', key: kvStoreKey(ent, key) });
  }

  /** Deletes every key under a prefix. */
  deleteTree(prefix: string, ent?: EnterpriseMeta): void {
    for (const e of this.list(prefix, ent)) this.#overlay.set(wsKey(ent, e.Key), null);
    this.#treeDeletes.push({ tenant: ent ? entKey(ent) : '', prefix });
    this.#ops.push({ type: 'deletePrefix', prefix: kvStoreKey(ent, prefix) });
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
    return [...[...this.#read.values()].map((r) => pinKey(r.key, r.entry, r.ent)), ...this.#extraCompares];
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
