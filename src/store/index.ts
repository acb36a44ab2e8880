// Public surface of the store layer: the contract, the backends and a factory.
export type * from './store.ts';
export { MemoryStore } from './memory/memory.ts';
export { readSnapshot, writeSnapshot, SNAPSHOT_FORMAT_VERSION } from './snapshot.ts';
// The embedded (SQLite) backend and the managed store's TLS helpers are loaded where used, only
// for those backends (issue #9): code wanting the classes imports their files directly.
export type { EmbeddedStore, EmbeddedStoreDeps } from './embedded/embedded.ts';
// The etcd backends are exported as types only so that importing the store layer never loads
// etcd3/@grpc/grpc-js; the agent builds them through ./lazy.ts, code wanting the classes imports
// ./etcd/etcd.ts or ./etcd/managed.ts directly.
export type { EtcdStore, EtcdStoreOptions } from './etcd/etcd.ts';
export type { HoldOptions } from './etcd/hold.ts';
export type { ManagedEtcdStore, ManagedEtcdOptions, ManagedMember, LocalRole } from './etcd/managed.ts';
export type { ManagedTls } from './etcd/managed-tls.ts';
export { LazyStore, LazyManagedEtcdStore, lazyEtcdStore } from './lazy.ts';
