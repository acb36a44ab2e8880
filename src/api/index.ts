// Public surface of the API client (`import { ConsulClient } from 'proconsul/api'`).

export { ConsulClient, parseMeta } from './client.ts';
export type { ApiResponse, CallOptions, QueryMeta, QueryOptions, RawResponse, RequestSpec } from './client.ts';
export { parseAddress, readTokenFile, resolveConfig } from './config.ts';
export type { ClientOptions, ResolvedConfig, TlsOptions } from './config.ts';
export { ApiError, ConfigError, TransportError } from './errors.ts';
export type { KVApi, KVDeleteOptions, KVGetOptions, KVPutOptions } from './kv.ts';
export type { StatusApi } from './status.ts';
export type { AgentApi } from './agent.ts';
export type { TxnReply } from './txn.ts';
export type * from './types.ts';
