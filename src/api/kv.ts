// The KV area of the client: /v1/kv reads (single, recurse, keys, raw) and writes (put, CAS,
// acquire/release, delete, delete-tree), with Consul's true/false write answers.

import { parseJSONExact } from './json.ts';
import type { ApiResponse, CallOptions, ConsulClient, QueryOptions } from './client.ts';
import type { KVPair } from './types.ts';

/** Options of a KV read. */
export interface KVGetOptions extends QueryOptions {
  /** Return the raw value bytes instead of the KVPair. */
  raw?: boolean;
}

/** Options of a KV write. */
export interface KVPutOptions extends CallOptions {
  /** uint64: pass a bigint for values above 2^53. */
  flags?: number | bigint;
  /** Check-and-set: write only if ModifyIndex equals this (0 = only if absent). */
  cas?: number;
  /** Session acquiring the lock. */
  acquire?: string;
  /** Session releasing the lock. */
  release?: string;
}

/** Options of a KV delete. */
export interface KVDeleteOptions extends CallOptions {
  recurse?: boolean;
  /** Check-and-set delete: only if ModifyIndex equals this. */
  cas?: number;
}

/** Client for `/v1/kv`. */
export class KVApi {
  readonly #c: ConsulClient;
  constructor(client: ConsulClient) {
    this.#c = client;
  }

  /** Reads one key: the pair (or raw bytes with `raw`), null when it does not exist. */
  get(key: string, options: KVGetOptions & { raw: true }): Promise<ApiResponse<Buffer | null>>;
  get(key: string, options?: KVGetOptions & { raw?: false }): Promise<ApiResponse<KVPair | null>>;
  async get(key: string, options: KVGetOptions = {}): Promise<ApiResponse<KVPair | Buffer | null>> {
    const res = await this.#c.request({
      method: 'GET', path: `/v1/kv/${escapeKey(key)}`, query: { raw: options.raw }, accept: [404], options,
    });
    if (res.status === 404) return { data: null, meta: res.meta };
    if (options.raw) return { data: res.body, meta: res.meta };
    const pairs = parseJSONExact<KVPair[]>(res.body.toString('utf8'));
    return { data: pairs[0] ?? null, meta: res.meta };
  }

  /** Lists every pair under a prefix (empty when none). */
  async list(prefix: string, options: QueryOptions = {}): Promise<ApiResponse<KVPair[]>> {
    const res = await this.#c.request({
      method: 'GET', path: `/v1/kv/${escapeKey(prefix)}`, query: { recurse: true }, accept: [404], options,
    });
    const data = res.status === 404 ? [] : parseJSONExact<KVPair[] | null>(res.body.toString('utf8')) ?? [];
    return { data, meta: res.meta };
  }

  /** Lists the keys under a prefix, rolled up at `separator` when given. */
  async keys(prefix: string, separator?: string, options: QueryOptions = {}): Promise<ApiResponse<string[]>> {
    const res = await this.#c.request({
      method: 'GET', path: `/v1/kv/${escapeKey(prefix)}`, query: { keys: true, separator: separator || undefined }, accept: [404], options,
    });
    const data = res.status === 404 ? [] : (JSON.parse(res.body.toString('utf8')) as string[] | null) ?? [];
    return { data, meta: res.meta };
  }

  /** Writes a value; false when a CAS, acquire or release did not apply. */
  async put(key: string, value: Buffer | string, options: KVPutOptions = {}): Promise<ApiResponse<boolean>> {
    const res = await this.#c.request({
      method: 'PUT',
      path: `/v1/kv/${escapeKey(key)}`,
      query: { flags: options.flags || undefined, cas: options.cas, acquire: options.acquire, release: options.release },
      body: value,
      options,
    });
    return { data: res.body.toString('utf8').trim() === 'true', meta: res.meta };
  }

  /** Deletes a key (or a whole prefix with `recurse`); false when a CAS delete did not apply. */
  async delete(key: string, options: KVDeleteOptions = {}): Promise<ApiResponse<boolean>> {
    const res = await this.#c.request({
      method: 'DELETE', path: `/v1/kv/${escapeKey(key)}`, query: { recurse: options.recurse, cas: options.cas }, options,
    });
    return { data: res.body.toString('utf8').trim() === 'true', meta: res.meta };
  }
}

/** Escapes a key for a URL path, keeping `/` separators. */
function escapeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}
