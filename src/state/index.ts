// Public surface of the state layer: the replica, its tables and blocking-query watch sets.
export { Replica, type ReplicaDeps } from './replica.ts';
export { Notifier, WatchSet } from './notify.ts';
export { KvsTable, KV_PREFIX, KVS_TABLE, encodeKV, decodeKV, sameKV, type KVEntry, type KVRecord } from './kvs.ts';
export { RecordTable, encodeRecord, type Indexed } from './records.ts';
export type { ClusterMeta, CARootRecord } from './tables.ts';
export { SessionsTable, SESSION_PREFIX, SESSIONS_TABLE, type Session, type SessionRecord, type ServiceCheckRef } from './sessions.ts';
export { LockDelays } from './lock-delay.ts';
export {
  CatalogTables, CATALOG_PREFIX, NODES_TABLE, SERVICES_TABLE, CHECKS_TABLE, SERVICE_HEALTH, NODE_VIEW, CONNECT_HEALTH,
  nodeKey, serviceKey, checkKey,
} from './catalog.ts';
