// Public surface of the state layer: the replica, its tables and blocking-query watch sets.
export { Replica, type ReplicaDeps } from './replica.ts';
export { Notifier, WatchSet } from './notify.ts';
export { KvsTable, KV_PREFIX, KVS_TABLE, encodeKV, decodeKV, sameKV, type KVEntry, type KVRecord } from './kvs.ts';
export { kvsOf, allKvs, namespacesFor, lockDelayKey, kvTenantApplier } from './kvs-tenants.ts';
export { catalogOf, partitionCatalog, namespaceCatalogs, catalogTableName } from './catalog-tenants.ts';
export { RecordTable, encodeRecord, encodeOwnedRecord, type Indexed } from './records.ts';
export { EMPTY_OBJECT, DEFAULT_WEIGHTS, DEFAULT_PROXY, NO_TAGS } from './shared-values.ts';
export type { ClusterMeta, CARootRecord, CAConfigRecord } from './tables.ts';
export { SessionsTable, sessionInTenant, sessionEnt, sessionStoreKey, SESSION_PREFIX, SESSION_LOCKS_PREFIX, SESSION_RENEW_PREFIX, SESSIONS_TABLE, type Session, type SessionRecord, type ServiceCheckRef } from './sessions.ts';
export { LockDelays } from './lock-delay.ts';
export {
  CatalogTables, CATALOG_PREFIX, NODES_TABLE, SERVICES_TABLE, CHECKS_TABLE, SERVICE_HEALTH, NODE_VIEW, CONNECT_HEALTH,
  nodeKey, serviceKey, checkKey, foldName, sameId,
} from './catalog.ts';
export {
  AclTables, UniqueIndexTable, foldAclName, ACL_PREFIX, ACL_TOKEN_PREFIX, ACL_TOKENS_TABLE, ACL_POLICY_PREFIX, ACL_POLICIES_TABLE,
  ACL_ROLE_PREFIX, ACL_ROLES_TABLE, ACL_AUTH_METHOD_PREFIX, ACL_AUTH_METHODS_TABLE, ACL_BINDING_RULE_PREFIX,
  ACL_BINDING_RULES_TABLE, ACL_BOOTSTRAP_KEY,
  type ACLTokenRecord, type ACLPolicyRecord, type ACLRoleRecord, type ACLAuthMethodRecord, type ACLBindingRuleRecord,
  type ACLBootstrapRecord,
} from './acl-tables.ts';
export { ConfigEntriesTable, CONFIG_PREFIX, CONFIG_ENTRIES_TABLE, configEntryKey, type ConfigEntry } from './config-entries.ts';
export { configEntriesOf, configEntryEnt, configEntryStoreKey, configEntriesTableName, configEntriesTenantApplier, partitionConfigEntries, allConfigEntryTables, wildcardNamespaceOf, NS_WILDCARD_CONFIG_PREFIX, PARTITION_LEVEL_KINDS } from './config-entries-tenants.ts';
export {
  CoordinatesTable, COORDINATE_PREFIX, COORDINATES_TABLE, coordinateKey, coordinateNodePrefix, type CoordinateSet,
} from './coordinates.ts';
export {
  PreparedQueriesTable, QUERY_PREFIX, QUERY_GUARD_KEY, PREPARED_QUERIES_TABLE,
  type PreparedQuery, type PreparedQueryRecord, type ServiceQuery, type QueryFailoverTarget,
} from './prepared-queries.ts';
export {
  PeeringsTable, PeerImportsTable, PEERING_PREFIX, PEERINGS_TABLE, PEERING_SECRET_PREFIX, PEER_IMPORT_PREFIX, PEER_IMPORTS_TABLE,
  PeeringStatusTable, PEERING_STATUS_PREFIX, peeringKey, peeringSecretKey, peeringStatusKey, peerImportId, peerImportKey,
  type StoredPeering, type PeeringSecrets, type PeeringStatusRecord, type PeerImportRecord,
} from './peerings.ts';
export { peeringPartition, peeringStoreKey, storedPeering, peerImportsOf, partitionPeerImports } from './peerings-tenants.ts';
export { coordinatesOf, coordinatesTableName, partitionCoordinateKey, partitionCoordinateNodePrefix } from './coordinates-tenants.ts';
export {
  DEFAULT_ENT, DEFAULT_TENANCY_NAME, WILDCARD_NAMESPACE, TENANT_PREFIX, validTenancyName, foldTenancyName, isDefaultEnt,
  partitionEnt, entKey, tenantTableName, tenantKey, tenantPrefix, parseTenantKey, type EnterpriseMeta, type TenantKey,
} from './tenancy.ts';
export {
  TenantTables, PartitionsTable, NamespacesTable, PerTenant, PARTITION_PREFIX, NAMESPACE_PREFIX, PARTITIONS_TABLE, NAMESPACES_TABLE,
  partitionKey, namespaceKey, type PartitionRecord, type NamespaceRecord, type ACLLink, type TenantHandler,
} from './tenancy-tables.ts';
export {
  VirtualIPsTable, VIP_PREFIX, VIRTUAL_IPS_TABLE, VIP_COUNTER_KEY, MAX_VIP_OFFSET, vipServiceKey, vipFreeKey, vipAddress, vipServiceId,
  type ServiceVirtualIPRecord, type VipCounterRecord, type VipRow,
} from './virtual-ips.ts';
