// The typed HTTP client: one keep-alive connection pool, Consul's request conventions (token
// header, ?dc, blocking and consistency parameters) and response meta from X-Consul-* headers.

import type http from 'node:http';
import type https from 'node:https';
import { loadTls, resolveConfig, type ClientOptions, type ResolvedConfig } from './config.ts';
import { ApiError, TransportError, goDialError } from './errors.ts';
import { AclApi } from './acl.ts';
import { AgentApi } from './agent.ts';
import { CatalogApi } from './catalog.ts';
import { HealthApi } from './health.ts';
import { KVApi } from './kv.ts';
import { Lock, type LockOptions } from './lock.ts';
import { Semaphore, type SemaphoreOptions } from './semaphore.ts';
import { SessionApi } from './session.ts';
import { PreparedQueryApi } from './prepared-query.ts';
import { SnapshotApi } from './snapshot.ts';
import { CoordinateApi } from './coordinate.ts';
import { StatusApi } from './status.ts';
import { txn, type TxnReply } from './txn.ts';
import type { TxnOp } from './types.ts';
import { joinHostPort } from '../host-port.ts';
import { nodeHttp, nodeHttps } from '../node-http.ts';

/** What every response carries, from X-Consul-Index / -KnownLeader / -LastContact. */
export interface QueryMeta {
  index: number;
  knownLeader: boolean;
  /** Milliseconds since the answering server last heard from the leader. */
  lastContact: number;
}

/** A decoded response and its meta. */
export interface ApiResponse<T> {
  data: T;
  meta: QueryMeta;
}

/** Per-call options shared by reads and writes. */
export interface CallOptions {
  /** Overrides the client's datacenter. */
  datacenter?: string;
  /** Overrides the client's token. */
  token?: string;
  /** Overrides the client's namespace (`?ns=`), as Go's QueryOptions/WriteOptions.Namespace. */
  namespace?: string;
  /** Overrides the client's admin partition (`?partition=`), as Go's QueryOptions/WriteOptions.Partition. */
  partition?: string;
  signal?: AbortSignal;
}

/** Per-call options of reads: blocking and consistency modes. */
export interface QueryOptions extends CallOptions {
  /** Block until the result's index exceeds this one. */
  index?: number;
  /** Longest wait for a blocking query: milliseconds or a Go duration string. */
  wait?: number | string;
  consistent?: boolean;
  stale?: boolean;
  /** A sameness group to read through (`?sameness-group=`, health service reads), as Go's QueryOptions.SamenessGroup. */
  samenessGroup?: string;
}

/** One request as the areas describe it to `ConsulClient.request`. */
export interface RequestSpec {
  method: 'GET' | 'PUT' | 'DELETE' | 'POST';
  path: string;
  /** Query parameters; a list repeats the key (`?tag=a&tag=b`), false/undefined omit it. */
  query?: Record<string, string | number | bigint | boolean | string[] | undefined>;
  body?: Buffer | string;
  json?: unknown;
  /** Statuses other than 200 that are answers rather than errors (404 for KV reads, 409 for txn). */
  accept?: number[];
  options?: QueryOptions;
}

/** A raw response: status, body bytes and meta. */
export interface RawResponse {
  status: number;
  body: Buffer;
  meta: QueryMeta;
  /** The response headers as received (e.g. an X-Consul-Index beyond 2^53). */
  headers: http.IncomingHttpHeaders;
}

/** Client for a Consul-compatible agent's HTTP API. */
export class ConsulClient {
  readonly config: ResolvedConfig;
  /** The key/value store. */
  readonly kv: KVApi;
  /** Raft leader and peers. */
  readonly status: StatusApi;
  /** The local agent. */
  readonly agent: AgentApi;
  /** Sessions: create, destroy, renew, look up. */
  readonly session: SessionApi;
  /** Nodes, services and their registration. */
  readonly catalog: CatalogApi;
  /** Checks and healthy service instances. */
  readonly health: HealthApi;
  /** ACL bootstrap, tokens, policies, roles and login. */
  readonly acl: AclApi;
  /** Snapshot save and restore. */
  readonly snapshot: SnapshotApi;
  /** Network coordinates of nodes and datacenters. */
  readonly coordinate: CoordinateApi;
  /** Prepared queries: define, execute, explain. */
  readonly preparedQuery: PreparedQueryApi;
  readonly #agent: http.Agent;

  /** Builds a client; throws ConfigError for an unknown scheme or an unreadable token file. */
  constructor(options: ClientOptions = {}) {
    this.config = resolveConfig(options);
    this.#agent = this.config.scheme === 'https'
      ? new nodeHttps.Agent({ keepAlive: true, ...loadTls(this.config.tls) })
      : new nodeHttp.Agent({ keepAlive: true });
    this.kv = new KVApi(this);
    this.status = new StatusApi(this);
    this.agent = new AgentApi(this);
    this.session = new SessionApi(this);
    this.catalog = new CatalogApi(this);
    this.health = new HealthApi(this);
    this.acl = new AclApi(this);
    this.snapshot = new SnapshotApi(this);
    this.coordinate = new CoordinateApi(this);
    this.preparedQuery = new PreparedQueryApi(this);
  }

  /** A Lock on `key` with default options (Go's LockKey). */
  lockKey(key: string): Lock {
    return new Lock(this, { key });
  }

  /** A Lock with explicit options (Go's LockOpts). */
  lockOpts(options: LockOptions): Lock {
    return new Lock(this, options);
  }

  /** A Semaphore over `prefix` admitting `limit` holders (Go's SemaphorePrefix). */
  semaphorePrefix(prefix: string, limit: number): Semaphore {
    return new Semaphore(this, { prefix, limit });
  }

  /** A Semaphore with explicit options (Go's SemaphoreOpts). */
  semaphoreOpts(options: SemaphoreOptions): Semaphore {
    return new Semaphore(this, options);
  }

  /** Runs a transaction; 200 means applied, 409 means rolled back with Errors. */
  txn(ops: TxnOp[], options?: QueryOptions): Promise<ApiResponse<TxnReply>> {
    return txn(this, ops, options);
  }

  /** Closes pooled connections; the client must not be used afterwards. */
  close(): void {
    this.#agent.destroy();
  }

  /** Sends a request and decodes a JSON body. */
  async json<T>(spec: RequestSpec): Promise<ApiResponse<T>> {
    const res = await this.request(spec);
    return { data: JSON.parse(res.body.toString('utf8')) as T, meta: res.meta };
  }

  /** Sends a request; non-2xx statuses not listed in `accept` become ApiError. */
  request(spec: RequestSpec): Promise<RawResponse> {
    return this.#send(spec, (res, resolve, reject) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const buf = Buffer.concat(chunks);
        if ((status < 200 || status > 299) && !spec.accept?.includes(status)) {
          reject(new ApiError(status, buf.toString('utf8').trim()));
          return;
        }
        resolve({ status, body: buf, meta: parseMeta(res.headers), headers: res.headers });
      });
    });
  }

  /**
   * Sends a request and resolves with the response as it arrives (agent/monitor streams until
   * closed); a non-2xx status is read to its end and becomes ApiError.
   */
  stream(spec: RequestSpec): Promise<http.IncomingMessage> {
    return this.#send(spec, (res, resolve, reject) => {
      const status = res.statusCode ?? 0;
      if (status >= 200 && status <= 299) return resolve(res);
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => reject(new ApiError(status, Buffer.concat(chunks).toString('utf8').trim())));
    });
  }

  #send<T>(spec: RequestSpec, onResponse: (res: http.IncomingMessage, resolve: (v: T) => void, reject: (e: Error) => void) => void): Promise<T> {
    const url = this.#url(spec);
    const headers: Record<string, string> = {};
    const token = spec.options?.token ?? this.config.token;
    if (token) headers['X-Consul-Token'] = token;
    if (this.config.basicAuth) headers.Authorization = this.config.basicAuth;
    let body: Buffer | undefined;
    if (spec.json !== undefined) {
      body = Buffer.from(JSON.stringify(spec.json));
      headers['Content-Type'] = 'application/json';
    } else if (spec.body !== undefined) {
      body = Buffer.isBuffer(spec.body) ? spec.body : Buffer.from(spec.body);
    }
    if (body) headers['Content-Length'] = String(body.length);
    const transport = this.config.scheme === 'https' ? nodeHttps : nodeHttp;
    const { host, port, socketPath } = this.config;
    return new Promise<T>((resolve, reject) => {
      const req = transport.request({
        method: spec.method, path: url, headers, agent: this.#agent, signal: spec.options?.signal,
        ...(socketPath ? { socketPath } : { host, port }),
      }, (res) => onResponse(res, resolve, reject));
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.name === 'AbortError') return reject(err);
        const op = spec.method[0] + spec.method.slice(1).toLowerCase();
        reject(new TransportError(`${op} "${this.#displayUrl(url)}": ${goDialError(err, this.config)}`, err.code, { cause: err }));
      });
      req.end(body);
    });
  }

  #url(spec: RequestSpec): string {
    const o = spec.options ?? {};
    const q: Record<string, string[]> = {};
    const dc = o.datacenter ?? this.config.datacenter;
    if (dc) q.dc = [dc];
    // Go's newRequest puts the client's namespace and partition on every request; a call's own
    // (setQueryOptions/setWriteOptions) replaces them when not empty.
    const ns = o.namespace || this.config.namespace;
    if (ns) q.ns = [ns];
    const partition = o.partition || this.config.partition;
    if (partition) q.partition = [partition];
    if (o.samenessGroup) q['sameness-group'] = [o.samenessGroup];
    if (o.stale) q.stale = [''];
    if (o.consistent) q.consistent = [''];
    if (o.index) q.index = [String(o.index)];
    if (o.wait !== undefined) q.wait = [typeof o.wait === 'number' ? waitParam(o.wait) : o.wait];
    for (const [k, v] of Object.entries(spec.query ?? {})) {
      if (v === undefined || v === false) continue;
      q[k] = Array.isArray(v) ? v : [v === true ? '' : String(v)];
    }
    // Go's url.Values.Encode sorts keys (values keep their order); a presence flag is sent as `key=`.
    const qs = Object.keys(q).sort()
      .flatMap((k) => q[k].map((v) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)).join('&');
    return this.config.pathPrefix + spec.path + (qs ? `?${qs}` : '');
  }

  #displayUrl(path: string): string {
    const c = this.config;
    if (c.socketPath) return `http://${c.host}${path}`;
    return `${c.scheme}://${joinHostPort(c.host, c.port)}${path}`;
  }
}

/** Go's durToMsec: whole milliseconds, at least 1ms for a positive wait. */
function waitParam(ms: number): string {
  const whole = Math.floor(ms);
  return `${ms > 0 && whole === 0 ? 1 : whole}ms`;
}

/** Reads the X-Consul-* response headers into QueryMeta. */
export function parseMeta(headers: http.IncomingHttpHeaders): QueryMeta {
  const one = (h: string | string[] | undefined): string => (Array.isArray(h) ? h[0] : h) ?? '';
  return {
    index: Number(one(headers['x-consul-index'])) || 0,
    knownLeader: one(headers['x-consul-knownleader']) === 'true',
    lastContact: Number(one(headers['x-consul-lastcontact'])) || 0,
  };
}
