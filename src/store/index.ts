// Public surface of the store layer: the contract, the backends and a factory.
export type * from './store.ts';
export { MemoryStore } from './memory/memory.ts';
export { readSnapshot, writeSnapshot, SNAPSHOT_FORMAT_VERSION } from './snapshot.ts';
export { EmbeddedStore, type EmbeddedStoreDeps } from './embedded/embedded.ts';
export { EtcdStore, type EtcdStoreOptions } from './etcd/etcd.ts';
export { ManagedEtcdStore, type ManagedEtcdOptions, type ManagedMember } from './etcd/managed.ts';
