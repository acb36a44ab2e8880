// Public surface of the endpoint layer: one class per Consul area plus the read/write plumbing.
export { KvEndpoint, type KVPutOptions, type KVDeleteOptions } from './kv.ts';
export { TxnEndpoint, isReadOnly, type TxnOpInput, type TxnKVOp, type TxnOutcome, type TxnError } from './txn.ts';
export {
  blockingQuery, queryMeta, defaultQueryOptions,
  type QueryOptions, type QueryMeta, type QueryResult, type Consistency,
} from './query.ts';
export { soloLeadership, type EndpointDeps, type EndpointConfig, type Leadership } from './deps.ts';
export { SessionEndpoint, SESSION_TTL_MAX_MS, type SessionCreate, type SessionHealth, type SessionTtlHooks } from './session.ts';
export { planAcquire, planInvalidate, SESSION_LOCKS_PREFIX } from './locks.ts';
export { CatalogEndpoint, toServiceNode, type CatalogFilters } from './catalog.ts';
export { HealthEndpoint, HEALTH_STATES } from './health.ts';
export { planRegister, planDeregister, invalidateSessions, type CatalogPlan } from './catalog-write.ts';
export type { CatalogTxnOp, CatalogResult } from './txn-catalog.ts';
export { DnsView, type DnsInstance } from './dns-view.ts';
