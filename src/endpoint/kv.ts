// The KV endpoint (Consul's KVS.Get/List/ListKeys/Apply): reads from the replica's kvs table
// with blocking on the key or prefix, writes planned against the replica and committed with
// compares on the key's revisions.
import { KVS_TABLE, KV_PREFIX, encodeKV, sameKV, type KVEntry, type KVRecord } from '../state/index.ts';
import { InternalError } from '../errors.ts';
import type { Compare } from '../store/index.ts';
import { blockingQuery, type QueryOptions, type QueryResult } from './query.ts';
import { commitPlanned, pinRecord, type Plan } from './commit.ts';
import type { EndpointDeps } from './deps.ts';
import { planAcquire } from './locks.ts';
import { authorize, filterAllowed, allowed } from './acl-enforce.ts';
import type { AclIdentity } from './acl-resolver.ts';

/** Options of a KV write. `cas` 0 means create-only. */
export interface KVPutOptions {
  /** The caller's identity (key:write is required). */
  authz?: AclIdentity;
  flags?: bigint;
  cas?: number;
  acquire?: string;
  release?: string;
}

/** Options of a KV delete. */
export interface KVDeleteOptions {
  /** The caller's identity (key:write, or write on every key under a prefix for recurse). */
  authz?: AclIdentity;
  recurse?: boolean;
  cas?: number;
}

/** The compare that pins a key to the state the planner read. */
export function pinKey(key: string, existing: KVEntry | undefined): Compare {
  return pinRecord(KV_PREFIX + key, existing);
}

/** KV settings: Consul's acl.enable_key_list_policy makes `keys`/`recurse` require `list`. */
export interface KvOptions {
  enableKeyListPolicy?: boolean;
  /** Records each write's duration in ms (Consul's consul.kvs.apply). */
  applyTimer?: (ms: number) => void;
}

/** KV reads and writes. */
export class KvEndpoint {
  readonly #deps: EndpointDeps;
  readonly #listPolicy: boolean;
  readonly #applyTimer: ((ms: number) => void) | undefined;

  constructor(deps: EndpointDeps, opts: KvOptions = {}) {
    this.#deps = deps;
    this.#listPolicy = opts.enableKeyListPolicy ?? false;
    this.#applyTimer = opts.applyTimer;
  }

  /** Times a write as Consul's KVS.Apply does (refused writes included). */
  #timed<T>(write: () => Promise<T>): Promise<T> {
    const timer = this.#applyTimer;
    if (!timer) return write();
    const start = performance.now();
    return write().finally(() => timer(performance.now() - start));
  }

  /** One key; index is the key's ModifyIndex, or the table index when missing. */
  get(key: string, opts: QueryOptions): Promise<QueryResult<KVEntry | null>> {
    authorize(opts.authz, 'keyRead', key);
    const kvs = this.#deps.replica.kvs;
    return blockingQuery(this.#deps, opts, (ws) => {
      ws.addKey(KVS_TABLE, key);
      const e = kvs.get(key);
      return { index: e ? e.ModifyIndex : kvs.index, value: e ?? null };
    });
  }

  /** Every entry under a prefix (`?recurse`). */
  list(prefix: string, opts: QueryOptions): Promise<QueryResult<KVEntry[]>> {
    if (this.#listPolicy) authorize(opts.authz, 'keyList', prefix);
    const kvs = this.#deps.replica.kvs;
    return blockingQuery(this.#deps, opts, (ws) => {
      ws.addPrefix(KVS_TABLE, prefix);
      const { index, entries } = kvs.list(prefix);
      const { items, filtered } = filterAllowed(opts.authz, entries, (e) => allowed(opts.authz, 'keyRead', e.Key));
      return { index, value: items, filtered };
    });
  }

  /** Keys under a prefix, rolled up at `separator` (`?keys`). */
  keys(prefix: string, separator: string, opts: QueryOptions): Promise<QueryResult<string[]>> {
    if (this.#listPolicy) authorize(opts.authz, 'keyList', prefix);
    const kvs = this.#deps.replica.kvs;
    return blockingQuery(this.#deps, opts, (ws) => {
      ws.addPrefix(KVS_TABLE, prefix);
      const { index, keys } = kvs.keys(prefix, separator);
      const { items, filtered } = filterAllowed(opts.authz, keys, (k) => allowed(opts.authz, 'keyRead', k));
      return { index, value: items, filtered };
    });
  }

  /** Sets a key; false when a CAS or lock condition fails. */
  put(key: string, value: Buffer | null, opts: KVPutOptions = {}): Promise<boolean> {
    return this.#timed(() => this.#put(key, value, opts));
  }

  #put(key: string, value: Buffer | null, opts: KVPutOptions): Promise<boolean> {
    authorize(opts.authz, 'keyWrite', key);
    const session = opts.acquire ?? opts.release;
    if (session === '') throw new InternalError('missing session');
    if (opts.acquire !== undefined) return commitPlanned(this.#deps, () => this.#planLock(key, value, opts.acquire!, opts.flags ?? 0n));
    if (opts.release !== undefined) return commitPlanned(this.#deps, () => this.#planUnlock(key, value, opts));
    return commitPlanned(this.#deps, () => this.#planSet(key, value, opts));
  }

  #planLock(key: string, value: Buffer | null, session: string, flags: bigint): Plan<boolean> {
    const existing = this.#deps.replica.kvs.get(key);
    const d = planAcquire(this.#deps, key, existing, session, flags, value);
    if ('error' in d) throw new InternalError(d.error);
    if ('held' in d) {
      if (d.delayed) this.#deps.logger.warn({ key, session }, 'Rejecting lock of key due to lock-delay');
      return { answer: false };
    }
    if (existing && sameKV(existing, d.rec)) return { answer: true };
    return { txn: { compares: d.compares, success: d.ops }, done: () => true };
  }

  // Consul's kvsUnlockTxn: no session check, just "is the lock held by this session".
  #planUnlock(key: string, value: Buffer | null, opts: KVPutOptions): Plan<boolean> {
    const existing = this.#deps.replica.kvs.get(key);
    if (!existing || existing.Session !== opts.release) return { answer: false };
    const rec: KVRecord = { Flags: opts.flags ?? 0n, LockIndex: existing.LockIndex, Session: '', Value: value };
    if (sameKV(existing, rec)) return { answer: true };
    return {
      txn: { compares: [pinKey(key, existing)], success: [{ type: 'put', key: KV_PREFIX + key, value: encodeKV(rec) }] },
      done: () => true,
    };
  }

  #planSet(key: string, value: Buffer | null, opts: KVPutOptions): Plan<boolean> {
    const existing = this.#deps.replica.kvs.get(key);
    if (opts.cas !== undefined) {
      if (opts.cas === 0 && existing) return { answer: false };
      if (opts.cas !== 0 && (!existing || existing.ModifyIndex !== opts.cas)) return { answer: false };
    }
    const rec: KVRecord = { Flags: opts.flags ?? 0n, LockIndex: 0, Session: existing?.Session ?? '', Value: value };
    if (existing && sameKV(existing, rec)) return { answer: true };
    return {
      txn: { compares: [pinKey(key, existing)], success: [{ type: 'put', key: KV_PREFIX + key, value: encodeKV(rec) }] },
      done: () => true,
    };
  }

  /** Deletes a key or a tree; false only when a CAS fails. */
  delete(key: string, opts: KVDeleteOptions = {}): Promise<boolean> {
    return this.#timed(() => this.#delete(key, opts));
  }

  #delete(key: string, opts: KVDeleteOptions): Promise<boolean> {
    authorize(opts.authz, opts.recurse ? 'keyWritePrefix' : 'keyWrite', key);
    if (opts.recurse && opts.cas === undefined) {
      return commitPlanned<boolean>(this.#deps, () => ({
        txn: { success: [{ type: 'deletePrefix', prefix: KV_PREFIX + key }] },
        done: () => true,
      }));
    }
    return commitPlanned<boolean>(this.#deps, () => {
      const existing = this.#deps.replica.kvs.get(key);
      if (!existing) return { answer: true };
      if (opts.cas !== undefined && existing.ModifyIndex !== opts.cas) return { answer: false };
      return {
        txn: { compares: [pinKey(key, existing)], success: [{ type: 'delete', key: KV_PREFIX + key }] },
        done: () => true,
      };
    });
  }
}
