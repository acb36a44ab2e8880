// Stores whose backend module is imported when the agent first uses them (normally open()), so
// etcd3 and @grpc/grpc-js — about a tenth of a CLI start — load only for `store = "etcd"` or
// `"managed"`, never for the memory (`-dev`) or embedded stores.
import type { EtcdStore, EtcdStoreOptions } from './etcd/etcd.ts';
import type { LocalRole, ManagedEtcdOptions, ManagedEtcdStore, ManagedMember } from './etcd/managed.ts';
import type { ManagedTls } from './etcd/managed-tls.ts';
import type { JoinReply } from './etcd/managed-bootstrap.ts';
import type { KeyValue, LeaseGrant, RangeResult, Store, TxnRequest, TxnResponse, Watch, WatchHandlers } from './store.ts';

/** A Store that builds its backend on first use and then forwards every call to it. */
export class LazyStore<S extends Store = Store> implements Store {
  readonly kind: string;
  readonly #build: () => Promise<S>;
  #loading: Promise<S> | undefined;
  #inner: S | undefined;

  constructor(kind: string, build: () => Promise<S>) {
    this.kind = kind;
    this.#build = build;
  }

  /** The backend, imported and constructed on the first call. */
  backend(): Promise<S> {
    this.#loading ??= this.#build().then((s) => (this.#inner = s));
    return this.#loading;
  }

  async open(): Promise<void> { return (await this.backend()).open(); }
  async close(): Promise<void> {
    // Never used: nothing was built, so nothing to close.
    if (!this.#loading) return;
    return (await this.#loading).close();
  }
  async currentRevision(): Promise<number> { return (await this.backend()).currentRevision(); }
  async range(prefix: string): Promise<RangeResult> { return (await this.backend()).range(prefix); }
  async get(key: string): Promise<KeyValue | null> { return (await this.backend()).get(key); }
  async txn(req: TxnRequest): Promise<TxnResponse> { return (await this.backend()).txn(req); }
  async leaseGrant(ttlSeconds: number): Promise<LeaseGrant> { return (await this.backend()).leaseGrant(ttlSeconds); }
  async leaseKeepAlive(id: number): Promise<void> { return (await this.backend()).leaseKeepAlive(id); }
  async leaseRevoke(id: number): Promise<void> { return (await this.backend()).leaseRevoke(id); }
  async *snapshot(): AsyncIterable<Uint8Array> { yield* (await this.backend()).snapshot(); }
  async restore(stream: AsyncIterable<Uint8Array>): Promise<number> { return (await this.backend()).restore(stream); }

  watch(afterRevision: number, handlers: WatchHandlers): Watch {
    if (this.#inner) return this.#inner.watch(afterRevision, handlers);
    // Watched before the backend exists (open() not awaited yet): start once it does.
    let inner: Watch | undefined;
    let cancelled = false;
    this.backend().then(
      (s) => { if (!cancelled) inner = s.watch(afterRevision, handlers); },
      (err: unknown) => { if (!cancelled) handlers.onError?.(err instanceof Error ? err : new Error(String(err))); },
    );
    return { cancel: () => { cancelled = true; inner?.cancel(); } };
  }
}

/** An EtcdStore (store = "etcd") whose etcd3 client is imported on first use. */
export function lazyEtcdStore(options: EtcdStoreOptions): LazyStore<EtcdStore> {
  return new LazyStore('etcd', async () => new (await import('./etcd/etcd.ts')).EtcdStore(options));
}

/** A ManagedEtcdStore (store = "managed") imported on first use, with the membership calls autopilot makes. */
export class LazyManagedEtcdStore extends LazyStore<ManagedEtcdStore> {
  readonly #built: { store?: ManagedEtcdStore };

  constructor(options: ManagedEtcdOptions) {
    const built: { store?: ManagedEtcdStore } = {};
    super('etcd', async () => (built.store = new (await import('./etcd/managed.ts')).ManagedEtcdStore(options)));
    this.#built = built;
  }

  /** This server's place in the etcd cluster ('starting' until the backend is open). */
  localRole(): LocalRole { return this.#built.store?.localRole() ?? 'starting'; }
  async joinAsLearner(): Promise<void> { return (await this.backend()).joinAsLearner(); }
  /** Moves etcd's leadership to this server's member (see ManagedEtcdStore.leadEtcd). */
  async leadEtcd(): Promise<boolean> { return (await this.backend()).leadEtcd(); }

  /** A reload's TLS material (see ManagedEtcdStore.reloadTls); before the backend exists, open() reads it. */
  reloadTls(next: ManagedTls | null): void { this.#built.store?.reloadTls(next); }

  async members(): Promise<ManagedMember[]> { return (await this.backend()).members(); }
  async promote(id: string): Promise<void> { return (await this.backend()).promote(id); }
  async remove(id: string): Promise<void> { return (await this.backend()).remove(id); }
  async admit(name: string, peerUrl: string): Promise<JoinReply> { return (await this.backend()).admit(name, peerUrl); }
}
