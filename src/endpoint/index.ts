// Public surface of the endpoint layer: one class per Consul area plus the read/write plumbing.
// Not here (issue #9): the DNS view (dns-view.ts) and manual VIPs (virtual-ips-manual.ts), imported
// from their files by the DNS handlers and the VIP route, which load on first use; re-exported
// here, every agent start would load them.
export { KvEndpoint, type KVPutOptions, type KVDeleteOptions } from './kv.ts';
export { TxnEndpoint, isReadOnly, type TxnOpInput, type TxnKVOp, type TxnOutcome, type TxnError } from './txn.ts';
export {
  blockingQuery, consistentRead, queryMeta, defaultQueryOptions,
  type QueryOptions, type QueryMeta, type QueryResult, type Consistency,
} from './query.ts';
export { resolveEnt, writableEnt, type EntFields, type EntSources } from './tenancy.ts';
export { SharedReads } from './shared-reads.ts';
export { soloLeadership, type EndpointDeps, type EndpointConfig, type Leadership } from './deps.ts';
export { SessionEndpoint, SESSION_TTL_MAX_MS, type SessionCreate, type SessionHealth, type SessionTtlHooks } from './session.ts';
export { planAcquire, planInvalidate, SESSION_LOCKS_PREFIX } from './locks.ts';
export { CatalogEndpoint, toServiceNode, type CatalogFilters } from './catalog.ts';
export { serviceUsage } from './operator-usage.ts';
export { HealthEndpoint, HEALTH_STATES } from './health.ts';
export { planRegister, planDeregister, invalidateSessions } from './catalog-write.ts';
export type { CatalogTxnOp, CatalogResult } from './txn-catalog.ts';
export { AclResolver, tokenExpired, type AclIdentity, type AclResolverConfig } from './acl-resolver.ts';
export { allowed, authorize, entContext, filterAllowed, type Filtered } from './acl-enforce.ts';
export { AclTokenEndpoint, finishToken, type TokenInput, type TokenListFilters } from './acl-tokens.ts';
export { AclPolicyEndpoint, finishPolicy, type PolicyInput, type RoleInput } from './acl-policies.ts';
export { AclAuthEndpoint, AUTH_METHOD_TYPES, type AuthMethodInput, type BindingRuleInput } from './acl-auth.ts';
export { AclMiscEndpoint, type AuthorizationRequest, type AuthorizationResponse } from './acl.ts';
export { putOp } from './acl-write.ts';
export { commitWrite, pinRecord, type WritePlan } from './commit.ts';
export { Guards, aclNameGuard, GUARD_PREFIX } from './name-guards.ts';
export { SnapshotEndpoint, isServerLocalKey, type SnapshotHooks, type SavedSnapshot } from './snapshot.ts';
export { CoordinateEndpoint, COORDINATE_BATCHING, type CoordinateBatching, type CoordinateUpdate } from './coordinate.ts';
export { sortNear, computeDistance } from './near.ts';
export { PreparedQueryEndpoint, QUERY_NOT_FOUND, type ExecuteArgs, type PreparedQueryOptions } from './prepared-query.ts';
export type { ExecuteResult, QueryFailover, RemoteExecuteRequest } from './prepared-query-exec.ts';
export { ConnectCAEndpoint, CA_CONFIG_KEY, type ConnectCASettings, type CAConfigurationUpdate } from './connect-ca.ts';
export { TAGGED_ADDRESS_VIRTUAL_IP, virtualIPTarget } from './virtual-ips.ts';
