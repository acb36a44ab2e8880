// Public surface of the API client (`import { ConsulClient } from 'proconsul/api'`).

export { ConsulClient, parseMeta } from './client.ts';
export type { ApiResponse, CallOptions, QueryMeta, QueryOptions, RawResponse, RequestSpec } from './client.ts';
export { parseAddress, readTokenFile, resolveConfig } from './config.ts';
export type { ClientOptions, ResolvedConfig, TlsOptions } from './config.ts';
export { ApiError, ConfigError, TransportError } from './errors.ts';
export type { KVApi, KVDeleteOptions, KVGetOptions, KVPutOptions } from './kv.ts';
export type { StatusApi } from './status.ts';
export type { SnapshotApi } from './snapshot.ts';
export type {
  AclApi, ACLAuthMethodInput, ACLAuthMethodListEntry, ACLBindingRuleInput, ACLLoginParams, ACLOIDCAuthURLParams, ACLOIDCCallbackParams,
  ACLPolicyInput, ACLRoleInput, ACLTokenInput,
} from './acl.ts';
export type { AgentApi } from './agent.ts';
export type { AgentCheck, AgentService, AgentServiceCheck, AgentServiceRegistration, AgentServicesApi } from './agent-services.ts';
export type { CatalogApi, CatalogNode, CatalogServiceOptions, ListOptions } from './catalog.ts';
export type { HealthApi, HealthServiceOptions, HealthState } from './health.ts';
export type * from './catalog-types.ts';
export type * from './proxy-types.ts';
export type * from './service-config-types.ts';
export type { CoordinateApi } from './coordinate.ts';
export type { Coordinate, CoordinateEntry, CoordinateDatacenterMap } from './coordinate-types.ts';
export type { TxnReply } from './txn.ts';
export { SessionApi, SessionExpiredError } from './session.ts';
export { IntentionsApi, intentionString, type Intention } from './intentions.ts';
export { PreparedQueryApi, type PreparedQueryDefinition, type PreparedQueryEntry, type ExecuteOptions } from './prepared-query.ts';
export type { PreparedQueryRecord, PreparedQueryExecuteResponse, ServiceQuery, QueryFailoverTarget } from './prepared-query-types.ts';
export type { RenewOptions } from './session.ts';
export { Lock, LOCK_FLAG_VALUE, DEFAULT_LOCK_SESSION_NAME, DEFAULT_LOCK_SESSION_TTL, DEFAULT_LOCK_WAIT_TIME, DEFAULT_LOCK_RETRY_TIME, DEFAULT_MONITOR_RETRY_TIME } from './lock.ts';
export type { LockOptions } from './lock.ts';
export { Semaphore, SEMAPHORE_FLAG_VALUE, DEFAULT_SEMAPHORE_KEY, DEFAULT_SEMAPHORE_SESSION_NAME, DEFAULT_SEMAPHORE_SESSION_TTL, DEFAULT_SEMAPHORE_WAIT_TIME } from './semaphore.ts';
export type { SemaphoreOptions } from './semaphore.ts';
export { LockError } from './lock-holding.ts';
export type { ExactKVPair, LockErrorCode } from './lock-holding.ts';
export type * from './types.ts';
export { operatorUsage, CONNECT_USAGE_KINDS, type ServiceUsage, type UsageReply } from './operator-usage.ts';
export { exportedServices, type ResolvedExportedService, type ResolvedConsumers } from './exported-services.ts';
export { licenseGet, openLicense, OPEN_FEATURES, type License, type LicenseReply } from './operator-license.ts';
export { segmentList } from './operator-segment.ts';
export { auditHash } from './operator-audit.ts';
