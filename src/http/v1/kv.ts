// /v1/kv/*: Consul's KVS HTTP handlers. Parse, call the KV endpoint, return data.
import type { KvEndpoint, QueryResult } from '../../endpoint/index.ts';
import type { KVEntry } from '../../state/index.ts';
import type { KVPair } from '../../api/types.ts';
import { BadRequestError } from '../../errors.ts';
import { settled, type DirectJson, type HttpResult } from '../router.ts';
import { requestEnt } from '../tenancy.ts';
import { DEFAULT_TENANCY_NAME } from '../../state/index.ts';
import { flag, queryOptions, parseOptions, checkDatacenter, uintParam, uint64Param, kvTooLarge, authzOf, type HttpRequest, type RequestConfig } from '../request.ts';

/**
 * The wire form of an entry: base64 value, Session only when locked. Namespace and Partition (Consul
 * Enterprise's EnterpriseMeta) only on a non-default tenant's entries, or on every entry when the
 * request named a tenant (`named`): Consul CE clients keep CE's exact answers.
 */
export function toKVPair(e: KVEntry, withValue = true, named = false): KVPair {
  // Field order as Consul's DirEntry; Session is omitted when the key is not locked.
  const tenant = e.Namespace !== undefined || named;
  return {
    // Flags is a uint64: written as a raw JSON number so values above 2^53 stay exact.
    LockIndex: e.LockIndex, Key: e.Key, Flags: JSON.rawJSON(e.Flags.toString()) as number,
    Value: withValue && e.Value ? e.Value.toString('base64') : null,
    ...(e.Session ? { Session: e.Session } : {}),
    ...(tenant ? { Namespace: e.Namespace ?? DEFAULT_TENANCY_NAME, Partition: e.Partition ?? DEFAULT_TENANCY_NAME } : {}),
    CreateIndex: e.CreateIndex, ModifyIndex: e.ModifyIndex,
  };
}

/** toKVPair's JSON text written directly: the same text `JSON.stringify(toKVPair(e, true, named))` gives, without the object. */
export function kvPairJson(e: KVEntry, named = false): string {
  // Base64 needs no escaping; numbers and the uint64 Flags print as JSON writes them.
  const value = e.Value ? `"${e.Value.toString('base64')}"` : 'null';
  const session = e.Session ? `,"Session":${JSON.stringify(e.Session)}` : '';
  const tenant = e.Namespace !== undefined || named
    ? `,"Namespace":${JSON.stringify(e.Namespace ?? DEFAULT_TENANCY_NAME)},"Partition":${JSON.stringify(e.Partition ?? DEFAULT_TENANCY_NAME)}` : '';
  return `{"LockIndex":${e.LockIndex},"Key":${JSON.stringify(e.Key)},"Flags":${e.Flags},"Value":${value}${session}${tenant},` +
    `"CreateIndex":${e.CreateIndex},"ModifyIndex":${e.ModifyIndex}}`;
}

/** A KV read's body: the pairs' JSON written directly; the wire objects are built only for ?pretty. */
class KvPairsJson implements DirectJson {
  readonly #entries: KVEntry[];
  readonly #named: boolean;

  constructor(entries: KVEntry[], named = false) {
    this.#entries = entries;
    this.#named = named;
  }

  text(): string {
    const entries = this.#entries;
    const named = this.#named;
    if (entries.length === 1) return `[${kvPairJson(entries[0], named)}]`;
    let out = '[';
    for (let i = 0; i < entries.length; i++) out += (i ? ',' : '') + kvPairJson(entries[i], named);
    return out + ']';
  }

  value(): KVPair[] {
    return this.#entries.map((e) => toKVPair(e, true, this.#named));
  }
}

function conflicting(req: HttpRequest, ...names: string[]): void {
  if (names.filter((n) => flag(req, n)).length > 1) {
    const sorted = new URLSearchParams([...req.query].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    throw new BadRequestError(`Conflicting flags: ${sorted.toString()}\n`);
  }
}

/** A ?keys answer: 404 when no key has the prefix (the root prefix answers an empty list). */
function keysAnswer({ value, meta }: QueryResult<string[]>): HttpResult {
  if (value.length === 0) return { status: 404, meta };
  return { body: value, meta };
}

/** A ?keys answer for the root prefix: the list, even empty. */
function rootKeysAnswer({ value, meta }: QueryResult<string[]>): HttpResult {
  return { body: value, meta };
}

/** A ?recurse answer: 404 when no key has the prefix. */
function listAnswer({ value, meta }: QueryResult<KVEntry[]>): HttpResult {
  if (value.length === 0) return { status: 404, meta };
  return { json: new KvPairsJson(value), meta };
}

/** A ?recurse answer to a request that named a tenant: entries carry Namespace and Partition. */
function namedListAnswer({ value, meta }: QueryResult<KVEntry[]>): HttpResult {
  if (value.length === 0) return { status: 404, meta };
  return { json: new KvPairsJson(value, true), meta };
}

/** One key's answer as JSON. */
function jsonAnswer({ value, meta }: QueryResult<KVEntry | null>): HttpResult {
  if (!value) return { status: 404, meta };
  return { json: new KvPairsJson([value]), meta };
}

/** One key's answer as JSON to a request that named a tenant. */
function namedJsonAnswer({ value, meta }: QueryResult<KVEntry | null>): HttpResult {
  if (!value) return { status: 404, meta };
  return { json: new KvPairsJson([value], true), meta };
}

/** One key's answer with ?raw: its value alone. */
function rawAnswer({ value, meta }: QueryResult<KVEntry | null>): HttpResult {
  if (!value) return { status: 404, meta };
  return {
    raw: value.Value ?? Buffer.alloc(0), contentType: 'text/plain', meta,
    headers: { 'X-Content-Type-Options': 'nosniff', 'Content-Security-Policy': 'sandbox' },
  };
}

/** Handlers for the KV routes. */
export function kvHandlers(kv: KvEndpoint, cfg: RequestConfig & { kvMaxValueSize: number }) {
  return {
    // Not async: a blocked read (one key, ?keys, ?recurse) holds only a then() of a module-level
    // function, not a suspended frame (≈ 0.2 KiB per held query); throws still reach the caller
    // as a rejection.
    get: settled((req) => {
      const key = req.params.rest;
      const keys = flag(req, 'keys');
      const recurse = !keys && flag(req, 'recurse');
      // Consul Enterprise: `ns=*` for ?keys and ?recurse (parseEntMeta), not for one key.
      const opts = queryOptions(req, cfg, { tenancy: keys || recurse ? 'namespace' : 'namespace-no-wildcard' });
      if (keys) {
        return kv.keys(key, req.query.get('separator') ?? req.query.get('seperator') ?? '', opts).then(key === '' ? rootKeysAnswer : keysAnswer);
      }
      if (recurse) return kv.list(key, opts).then(opts.entNamed ? namedListAnswer : listAnswer);
      if (key === '') throw new BadRequestError('Missing key name');
      return kv.get(key, opts).then(flag(req, 'raw') ? rawAnswer : opts.entNamed ? namedJsonAnswer : jsonAnswer);
    }),

    async put(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      const authz = authzOf(req, cfg);
      const ent = requestEnt(req, cfg, 'namespace-no-wildcard', authz);
      // Consul's KVSEndpoint parses the read options for every method.
      parseOptions(req);
      const key = req.params.rest;
      if (key === '') throw new BadRequestError('Missing key name');
      conflicting(req, 'cas', 'acquire', 'release');
      const flags = uint64Param(req, 'flags');
      const cas = uintParam(req, 'cas');
      const acquire = flag(req, 'acquire') ? req.query.get('acquire') ?? '' : undefined;
      const release = flag(req, 'release') ? req.query.get('release') ?? '' : undefined;
      const body = await req.body(cfg.kvMaxValueSize, kvTooLarge(cfg.kvMaxValueSize));
      const ok = await kv.put(key, body.length ? body : null, { flags, cas, acquire, release, authz, ent });
      return { body: ok };
    },

    async delete(req: HttpRequest): Promise<HttpResult> {
      checkDatacenter(req, cfg);
      const authz = authzOf(req, cfg);
      const ent = requestEnt(req, cfg, 'namespace-no-wildcard', authz);
      parseOptions(req);
      const key = req.params.rest;
      conflicting(req, 'recurse', 'cas');
      const recurse = flag(req, 'recurse');
      if (!recurse && key === '') throw new BadRequestError('Missing key name');
      const ok = await kv.delete(key, { recurse, cas: uintParam(req, 'cas'), authz, ent });
      return { body: ok };
    },
  };
}
