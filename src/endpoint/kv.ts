// The KV endpoint (Consul's KVS.Get/List/ListKeys/Apply): reads from the replica's kvs table
// with blocking on the key or prefix, writes planned against the replica and committed with
// compares on the key's revisions.
import {
  KVS_TABLE, KV_PREFIX, WILDCARD_NAMESPACE, encodeKV, sameKV, kvsOf, namespacesFor, tenantKey, tenantTableName, isDefaultEnt,
  NAMESPACES_TABLE, type EnterpriseMeta, type KVEntry, type KVRecord, type KvsTable,
} from '../state/index.ts';
import { InternalError } from '../errors.ts';
import type { Compare } from '../store/index.ts';
import { blockingQuery, type QueryOptions, type QueryResult } from './query.ts';
import { commitPlanned, pinRecord, type Plan } from './commit.ts';
import type { EndpointDeps } from './deps.ts';
import { planAcquire } from './locks.ts';
import { authorize, filterAllowed, allowed, entContext } from './acl-enforce.ts';
import type { AclIdentity } from './acl-resolver.ts';
import { entPins, writableEnt } from './tenancy.ts';
import type { WatchSet } from '../state/notify.ts';

/** Options of a KV write. `cas` 0 means create-only. */
export interface KVPutOptions {
  /** The caller's identity (key:write is required). */
  authz?: AclIdentity;
  flags?: bigint;
  cas?: number;
  acquire?: string;
  release?: string;
  /** The tenant written in (absent: default); it must exist and not be being deleted. */
  ent?: EnterpriseMeta;
}

/** Options of a KV delete. */
export interface KVDeleteOptions {
  /** The caller's identity (key:write, or write on every key under a prefix for recurse). */
  authz?: AclIdentity;
  recurse?: boolean;
  cas?: number;
  /** The tenant written in (absent: default). */
  ent?: EnterpriseMeta;
}

/** The compare that pins a key to the state the planner read. */
export function pinKey(key: string, existing: KVEntry | undefined, ent?: EnterpriseMeta): Compare {
  return pinRecord(kvStoreKey(ent, key), existing);
}

/** The store key of a KV key in a tenant (`kv/<key>` in the default tenant). */
export function kvStoreKey(ent: EnterpriseMeta | undefined, key: string): string {
  return ent === undefined ? KV_PREFIX + key : tenantKey(ent, KV_PREFIX + key);
}

/** One tenant's part of a wildcard read. */
interface TenantPart {
  ent: EnterpriseMeta | undefined;
  kvs: KvsTable;
  table: string;
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
    const ent = opts.ent;
    if (ent !== undefined && !isDefaultEnt(ent)) return this.#tenantGet(key, ent, opts);
    authorize(opts.authz, 'keyRead', key);
    const kvs = this.#deps.replica.kvs;
    return blockingQuery(this.#deps, opts, (ws) => {
      ws.addKey(KVS_TABLE, key);
      const e = kvs.get(key);
      return { index: e ? e.ModifyIndex : kvs.index, value: e ?? null };
    });
  }

  /** One key of a non-default tenant (its own table and notifier table). */
  #tenantGet(key: string, ent: EnterpriseMeta, opts: QueryOptions): Promise<QueryResult<KVEntry | null>> {
    authorize(opts.authz, 'keyRead', key, entContext(ent));
    const table = tenantTableName(KVS_TABLE, ent);
    return blockingQuery(this.#deps, opts, (ws) => {
      ws.addKey(table, key);
      const kvs = kvsOf(this.#deps.replica, ent);
      const e = kvs.get(key);
      return { index: e ? e.ModifyIndex : kvs.index, value: e ?? null };
    });
  }

  /** The tenants a prefix read covers: the one named, or every namespace of its partition for `*`. */
  #parts(ent: EnterpriseMeta, ws: WatchSet): TenantPart[] {
    const replica = this.#deps.replica;
    if (ent.namespace !== WILDCARD_NAMESPACE) return [{ ent, kvs: kvsOf(replica, ent), table: tenantTableName(KVS_TABLE, ent) }];
    // A namespace created while the read blocks may hold matching keys by the time it is re-run.
    ws.addTable(NAMESPACES_TABLE);
    return namespacesFor(replica, ent.partition).map((t) => ({ ent: t, kvs: kvsOf(replica, t), table: tenantTableName(KVS_TABLE, t) }));
  }

  /**
   * The least index of a prefix read: for `ns=*`, the namespaces table's, so that a namespace purged
   * (its part gone from the read, with its table's index) never takes the answer's index back.
   */
  #baseIndex(ent: EnterpriseMeta): number {
    return ent.namespace === WILDCARD_NAMESPACE ? this.#deps.replica.tenants.namespaces.index : 0;
  }

  /** A prefix read of a non-default tenant or of every namespace (`ns=*`): entries in namespace, then key order. */
  #tenantList(prefix: string, ent: EnterpriseMeta, opts: QueryOptions): Promise<QueryResult<KVEntry[]>> {
    return this.#tenantRead(prefix, ent, opts, (kvs) => {
      const r = kvs.list(prefix);
      return { index: r.index, items: r.entries };
    }, (e) => e.Key);
  }

  /** `?keys` of a non-default tenant or of every namespace: keys in namespace order, each namespace's sorted. */
  #tenantKeys(prefix: string, separator: string, ent: EnterpriseMeta, opts: QueryOptions): Promise<QueryResult<string[]>> {
    return this.#tenantRead(prefix, ent, opts, (kvs) => {
      const r = kvs.keys(prefix, separator);
      return { index: r.index, items: r.keys };
    }, (k) => k);
  }

  /**
   * What #tenantList and #tenantKeys share: keyList on the prefix (per namespace for `ns=*`, whose
   * denied namespaces are left out), then each namespace's `read` in order, filtered by keyRead on `key`.
   */
  #tenantRead<T>(
    prefix: string, ent: EnterpriseMeta, opts: QueryOptions,
    read: (kvs: TenantPart['kvs']) => { index: number; items: T[] }, key: (item: T) => string,
  ): Promise<QueryResult<T[]>> {
    if (this.#listPolicy && ent.namespace !== WILDCARD_NAMESPACE) authorize(opts.authz, 'keyList', prefix, entContext(ent));
    return blockingQuery(this.#deps, opts, (ws) => {
      let index = this.#baseIndex(ent);
      let filtered = false;
      const value: T[] = [];
      for (const part of this.#parts(ent, ws)) {
        ws.addPrefix(part.table, prefix);
        const ctx = entContext(part.ent);
        if (this.#listPolicy && ent.namespace === WILDCARD_NAMESPACE && !allowed(opts.authz, 'keyList', prefix, ctx)) continue;
        const r = read(part.kvs);
        index = Math.max(index, r.index);
        const f = filterAllowed(opts.authz, r.items, (item) => allowed(opts.authz, 'keyRead', key(item), ctx));
        filtered ||= f.filtered;
        value.push(...f.items);
      }
      return { index, value, filtered };
    });
  }

  /** Every entry under a prefix (`?recurse`). */
  list(prefix: string, opts: QueryOptions): Promise<QueryResult<KVEntry[]>> {
    if (opts.ent !== undefined && !isDefaultEnt(opts.ent)) return this.#tenantList(prefix, opts.ent, opts);
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
    if (opts.ent !== undefined && !isDefaultEnt(opts.ent)) return this.#tenantKeys(prefix, separator, opts.ent, opts);
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
    const ent = tenantOf(opts.ent);
    authorize(opts.authz, 'keyWrite', key, entContext(ent));
    const session = opts.acquire ?? opts.release;
    if (session === '') throw new InternalError('missing session');
    const tenants = this.#deps.replica.tenants;
    if (opts.acquire !== undefined) return commitPlanned(this.#deps, inTenant(tenants, ent, () => this.#planLock(key, value, opts.acquire!, opts.flags ?? 0n, ent)));
    if (opts.release !== undefined) return commitPlanned(this.#deps, inTenant(tenants, ent, () => this.#planUnlock(key, value, opts, ent)));
    return commitPlanned(this.#deps, inTenant(tenants, ent, () => this.#planSet(key, value, opts, ent)));
  }

  #planLock(key: string, value: Buffer | null, session: string, flags: bigint, ent: EnterpriseMeta | undefined): Plan<boolean> {
    const existing = kvsOf(this.#deps.replica, ent).get(key);
    const d = planAcquire(this.#deps, key, existing, session, flags, value, ent);
    if ('error' in d) throw new InternalError(d.error);
    if ('held' in d) {
      if (d.delayed) this.#deps.logger.warn({ key, session }, 'Rejecting lock of key due to lock-delay');
      return { answer: false };
    }
    if (existing && sameKV(existing, d.rec)) return { answer: true };
    return { txn: { compares: d.compares, success: d.ops }, done: () => true };
  }

  // Consul's kvsUnlockTxn: no session check, just "is the lock held by this session".
  #planUnlock(key: string, value: Buffer | null, opts: KVPutOptions, ent: EnterpriseMeta | undefined): Plan<boolean> {
    const existing = kvsOf(this.#deps.replica, ent).get(key);
    if (!existing || existing.Session !== opts.release) return { answer: false };
    const rec: KVRecord = { Flags: opts.flags ?? 0n, LockIndex: existing.LockIndex, Session: '', Value: value };
    if (sameKV(existing, rec)) return { answer: true };
    return {
      txn: { compares: [pinKey(key, existing, ent)], success: [{ type: 'put', key: kvStoreKey(ent, key), value: encodeKV(rec) }] },
      done: () => true,
    };
  }

  #planSet(key: string, value: Buffer | null, opts: KVPutOptions, ent: EnterpriseMeta | undefined): Plan<boolean> {
    const existing = kvsOf(this.#deps.replica, ent).get(key);
    if (opts.cas !== undefined) {
      if (opts.cas === 0 && existing) return { answer: false };
      if (opts.cas !== 0 && (!existing || existing.ModifyIndex !== opts.cas)) return { answer: false };
    }
    const rec: KVRecord = { Flags: opts.flags ?? 0n, LockIndex: 0, Session: existing?.Session ?? '', Value: value };
    if (existing && sameKV(existing, rec)) return { answer: true };
    return {
      txn: { compares: [pinKey(key, existing, ent)], success: [{ type: 'put', key: kvStoreKey(ent, key), value: encodeKV(rec) }] },
      done: () => true,
    };
  }

  /** Deletes a key or a tree; false only when a CAS fails. */
  delete(key: string, opts: KVDeleteOptions = {}): Promise<boolean> {
    return this.#timed(() => this.#delete(key, opts));
  }

  #delete(key: string, opts: KVDeleteOptions): Promise<boolean> {
    const ent = tenantOf(opts.ent);
    authorize(opts.authz, opts.recurse ? 'keyWritePrefix' : 'keyWrite', key, entContext(ent));
    const tenants = this.#deps.replica.tenants;
    if (opts.recurse && opts.cas === undefined) {
      return commitPlanned<boolean>(this.#deps, inTenant<boolean>(tenants, ent, () => ({
        txn: { success: [{ type: 'deletePrefix', prefix: kvStoreKey(ent, key) }] },
        done: () => true,
      })));
    }
    return commitPlanned<boolean>(this.#deps, inTenant<boolean>(tenants, ent, () => {
      const existing = kvsOf(this.#deps.replica, ent).get(key);
      if (!existing) return { answer: true };
      if (opts.cas !== undefined && existing.ModifyIndex !== opts.cas) return { answer: false };
      return {
        txn: { compares: [pinKey(key, existing, ent)], success: [{ type: 'delete', key: kvStoreKey(ent, key) }] },
        done: () => true,
      };
    }));
  }
}

/** A write's tenant: undefined for the default tenant (today's keys and paths), else the tenant. */
function tenantOf(ent: EnterpriseMeta | undefined): EnterpriseMeta | undefined {
  return ent === undefined || isDefaultEnt(ent) ? undefined : ent;
}

/**
 * A write planner run in a non-default tenant: each (re)plan refuses a tenant that does not exist or
 * is being deleted, and the txn pins the tenant's records, so a write planned before a purge cannot
 * land under the purged prefix. The default tenant's planner is returned as is.
 */
export function inTenant<T>(tenants: Parameters<typeof writableEnt>[0], ent: EnterpriseMeta | undefined, plan: () => Plan<T>): () => Plan<T> {
  if (ent === undefined) return plan;
  return () => {
    writableEnt(tenants, ent);
    const p = plan();
    if ('txn' in p) p.txn.compares = [...(p.txn.compares ?? []), ...entPins(tenants, ent)];
    return p;
  };
}
