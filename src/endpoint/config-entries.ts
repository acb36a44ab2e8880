// The config entry endpoint (Consul's ConfigEntry.Apply/Get/List/Delete): decoding with Consul's
// rules, Normalize and Validate, check-and-set writes and deletes pinned by store compares, and
// blocking reads of one entry or one kind, filtered by the caller's ACLs.
import { createRequire } from 'node:module';
import { BadRequestError, InternalError } from '../errors.ts';
import {
  CONFIG_ENTRIES_TABLE, NAMESPACES_TABLE, WILDCARD_NAMESPACE, DEFAULT_TENANCY_NAME, configEntryKey, encodeRecord, isDefaultEnt,
  foldTenancyName, configEntriesOf, wildcardNamespaceOf, PARTITION_LEVEL_KINDS, configEntryEnt, configEntryStoreKey, configEntriesTableName, namespacesFor,
  type ConfigEntry, type ConfigEntriesTable, type EnterpriseMeta,
} from '../state/index.ts';
import type { AuthorizerMethod } from '../acl/index.ts';
import { permissionDenied } from '../acl/errors.ts';
import { filterList } from '../filter/index.ts';
import { blockingQuery, type QueryOptions, type QueryResult } from './query.ts';
import { commitPlanned, pinRecord, type Plan } from './commit.ts';
import type { EndpointDeps } from './deps.ts';
import type { AclIdentity } from './acl-resolver.ts';
import { allowed, authorize, entContext, filterAllowed } from './acl-enforce.ts';
import { inTenant } from './kv.ts';
import type { ChainTenancy } from './config-entry-graph.ts';
import type { ServiceConfigRequest, ServiceConfigResponse } from '../api/service-config-types.ts';

type KindTables = typeof import('./config-entry-kinds.ts') & typeof import('./config-entry-decode.ts') & typeof import('./config-entry-validate.ts') & typeof import('./config-entry-graph.ts');
let kindTables: KindTables | undefined;
const require = createRequire(import.meta.url);

/**
 * The kinds' field shapes, defaults, decoding and validation and the discovery-chain graph checks (5 modules), loaded on
 * the first config entry request: an agent answers its first request without them (issue #9). With require
 * (synchronous, sharing the ES module cache): reads run in synchronous blocking-query bodies.
 */
function kinds(): KindTables {
  return kindTables ??= {
    ...require('./config-entry-kinds.ts') as typeof import('./config-entry-kinds.ts'),
    ...require('./config-entry-decode.ts') as typeof import('./config-entry-decode.ts'),
    ...require('./config-entry-validate.ts') as typeof import('./config-entry-validate.ts'),
    ...require('./config-entry-graph.ts') as typeof import('./config-entry-graph.ts'),
  };
}

type Obj = Record<string, unknown>;

/** Consul's error for a kind it does not know. */
export const invalidKind = (kind: string): string => `invalid config entry kind: ${kind}`;

/** True when Consul knows the kind. */
export function isConfigEntryKind(kind: string): boolean {
  return Object.hasOwn(kinds().KIND_SHAPES, kind);
}

/** DecodeConfigEntry: a raw body to a kind's canonical fields; throws Consul's 400 texts. */
export function decodeConfigEntry(raw: unknown): Obj {
  const fail = (msg: string): never => {
    throw new BadRequestError(`Request decoding failed: ${msg}`);
  };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return fail('Payload does not contain a kind/Kind key at the top level');
  const body = raw as Obj;
  const kind = 'Kind' in body ? body.Kind : body.kind;
  if (kind === undefined) return fail('Payload does not contain a kind/Kind key at the top level');
  if (typeof kind !== 'string') return fail('Kind value in payload is not a string');
  if (!isConfigEntryKind(kind)) return fail(invalidKind(kind));
  const { decodeObject, KIND_SHAPES, multiError, conversionError } = kinds();
  const errors: string[] = [];
  // The entry's own Namespace/Partition choose its tenant (takeEntryTenancy), whatever they name.
  const fields = Object.keys(body).some(isTenancyKey) ? Object.fromEntries(Object.entries(body).filter(([k]) => !isTenancyKey(k))) : body;
  const entry = decodeObject(KIND_SHAPES[kind], fields, '', errors) as Obj;
  const conversion = conversionError(errors);
  if (conversion) fail(conversion);
  delete entry.CreateIndex;
  delete entry.ModifyIndex;
  const err = multiError(errors.filter((e) => !/"(CreateIndex|ModifyIndex)"/.test(e)));
  if (err) fail(err);
  entry.Kind = kind;
  return entry;
}

/** A top-level key naming the entry's namespace or partition (any case, snake_case). */
function isTenancyKey(k: string): boolean {
  const f = k.toLowerCase().replace(/_/g, '');
  return f === 'namespace' || f === 'partition';
}

/**
 * Normalize then Validate of a decoded entry of `kind` (in place) written in tenant `ent` (absent:
 * default); Consul's error text or null.
 */
export function checkConfigEntry(kind: string, entry: Obj, ent?: EnterpriseMeta): string | null {
  const { normalizeEntry, validateEntry } = kinds();
  return normalizeEntry(kind, entry, ent) ?? validateEntry(kind, entry, ent);
}

/** The tenant of an entry read from the primary datacenter (replication covers the default partition's namespaces). */
function replicatedTenant(e: ConfigEntry): EnterpriseMeta | undefined {
  const ns = typeof e.Namespace === 'string' ? e.Namespace : '';
  return writeTenant(e.Kind, ns && ns !== DEFAULT_TENANCY_NAME ? { partition: DEFAULT_TENANCY_NAME, namespace: ns } : undefined);
}

/**
 * The entry as Consul renders it: fields in struct order, zero values filled in, indexes last.
 * `named`: the request named a tenancy, so a default-tenant entry shows Consul Enterprise's
 * `Namespace`/`Partition` too (a non-default tenant's entry always carries them).
 */
export function renderEntry(e: ConfigEntry, named = false): ConfigEntry {
  const { KIND_DEFAULTS, KIND_SHAPES, orderLike } = kinds();
  const { CreateIndex, ModifyIndex, Namespace, Partition, ...rest } = e;
  const withDefaults = { ...KIND_DEFAULTS[e.Kind], ...rest };
  // The mesh entry has no Name field in Consul's JSON.
  if (e.Kind === 'mesh') delete (withDefaults as Obj).Name;
  const out = orderLike(KIND_SHAPES[e.Kind] ?? {}, withDefaults);
  if (Namespace !== undefined || named) {
    out.Namespace = Namespace ?? DEFAULT_TENANCY_NAME;
    out.Partition = Partition ?? DEFAULT_TENANCY_NAME;
    if (e.Kind === 'service-intentions') out.Sources = renderSourceTenancy(out.Sources);
  }
  return { ...out, CreateIndex, ModifyIndex } as ConfigEntry;
}

/** An intentions entry's sources with their (stored only when not default) Namespace and Partition spelled out. */
function renderSourceTenancy(sources: unknown): unknown {
  if (!Array.isArray(sources)) return sources;
  return sources.map((s: Obj) => (s.Peer || s.SamenessGroup ? s : { ...s, Namespace: s.Namespace ?? DEFAULT_TENANCY_NAME, Partition: s.Partition ?? DEFAULT_TENANCY_NAME }));
}

/** A tenant's part of a read: its table and notifier table (one per namespace for `ns=*`). */
interface TenantPart {
  ent: EnterpriseMeta | undefined;
  table: ConfigEntriesTable;
  name: string;
}

/**
 * Pulls the top-level `Namespace`/`Partition` out of a raw entry body (keys matched as Consul's
 * decoder does: any case, snake_case); the rest is decoded as the kind's fields.
 */
export function takeEntryTenancy(raw: unknown): { namespace?: unknown; partition?: unknown } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return {};
  const out: { namespace?: unknown; partition?: unknown } = {};
  for (const k of Object.keys(raw as Obj)) {
    const f = k.toLowerCase().replace(/_/g, '');
    if (f === 'namespace' || f === 'partition') {
      out[f] = (raw as Obj)[k];
      delete (raw as Obj)[k];
    }
  }
  return out;
}

/** The ACL method guarding reads or writes of an entry (Consul's CanRead/CanWrite), or null for none. */
function permission(kind: string, write: boolean): AuthorizerMethod | null {
  if (kind.startsWith('service-') && kind !== 'service-intentions') return write ? 'serviceWrite' : 'serviceRead';
  if (kind === 'service-intentions') return write ? 'intentionWrite' : 'intentionRead';
  if (kind === 'control-plane-request-limit') return write ? 'operatorWrite' : 'operatorRead';
  if (write) return 'meshWrite';
  // Routes and certificates (private keys) are mesh configuration: Consul reads them with mesh:read.
  if (['http-route', 'tcp-route', 'inline-certificate', 'file-system-certificate'].includes(kind)) return 'meshRead';
  return ['ingress-gateway', 'terminating-gateway', 'api-gateway', 'bound-api-gateway'].includes(kind) ? 'serviceRead' : null;
}

/** Kinds whose Status only the API gateway controller writes (Consul's ControlledConfigEntry). */
const CONTROLLED_KINDS = new Set(['api-gateway', 'http-route', 'tcp-route']);

/** Consul's BoundAPIGatewayConfigEntry.CanWrite: only its controller writes one, whatever the token (ACLs on or off). */
function refuseControllerKind(kind: string): void {
  if (kind === 'bound-api-gateway') throw permissionDenied('only writeable by controller');
}

function readable(id: AclIdentity | undefined, e: ConfigEntry): boolean {
  const m = permission(e.Kind, false);
  return !m || allowed(id, m, e.Name, tenantCtx(e));
}

/** The ACL context of a stored entry (none in the default tenant). */
function tenantCtx(e: ConfigEntry) {
  return e.Namespace === undefined ? undefined : entContext({ namespace: String(e.Namespace), partition: String(e.Partition) });
}

/** The write tenant (undefined: default) of an entry of `kind` a request names `ent` for. */
function writeTenant(kind: string, ent: EnterpriseMeta | undefined): EnterpriseMeta | undefined {
  const t = configEntryEnt(kind, ent);
  return t === undefined || isDefaultEnt(t) ? undefined : t;
}

/**
 * Only service-intentions may be written in the wildcard namespace (`*`: the destination of every namespace);
 * for another kind `*` is refused as a request's wildcard is.
 */
function checkWildcardWrite(kind: string, ent: EnterpriseMeta | undefined): void {
  if (ent?.namespace === WILDCARD_NAMESPACE && kind !== 'service-intentions') {
    throw new BadRequestError('Invalid namespace: wildcard "*" is not allowed for this request');
  }
}

/** The tenant whose records a write checks and pins: the partition's for a wildcard-namespace entry. */
export function pinnedTenant(ent: EnterpriseMeta | undefined): EnterpriseMeta | undefined {
  return ent?.namespace === WILDCARD_NAMESPACE ? { partition: ent.partition, namespace: DEFAULT_TENANCY_NAME } : ent;
}

/** Consul Enterprise: an exported-services entry is named after its partition. */
function checkExportedName(kind: string, name: string, ent: EnterpriseMeta | undefined): void {
  if (kind !== 'exported-services' || ent === undefined) return;
  const ap = foldTenancyName(ent.partition);
  if (name !== ap) throw new InternalError(`exported-services Name must be ${JSON.stringify(ap)}`);
}

/** Config entry operations. */
export class ConfigEntryEndpoint {
  readonly #deps: EndpointDeps;

  constructor(deps: EndpointDeps) {
    this.#deps = deps;
  }

  /** How a chain check in `tenant` reads entries of other namespaces and partitions. */
  #chainTenancy(tenant: EnterpriseMeta | undefined): ChainTenancy {
    const replica = this.#deps.replica;
    return {
      namespace: tenant ? foldTenancyName(tenant.namespace) : DEFAULT_TENANCY_NAME,
      partition: tenant ? foldTenancyName(tenant.partition) : DEFAULT_TENANCY_NAME,
      get: (kind, name, namespace, partition) => configEntriesOf(replica, writeTenant(kind, { namespace, partition })).get(kind, name),
      partitionLevel: (kind) => PARTITION_LEVEL_KINDS.has(kind),
      others: () => {
        const ap = tenant ? foldTenancyName(tenant.partition) : DEFAULT_TENANCY_NAME;
        const ns = tenant ? foldTenancyName(tenant.namespace) : DEFAULT_TENANCY_NAME;
        return namespacesFor(replica, ap).filter((e) => e.namespace !== ns)
          .map((e) => ({ namespace: e.namespace, table: configEntriesOf(replica, writeTenant('service-router', e)) }));
      },
    };
  }

  /** Writes an entry; with `cas` only when its ModifyIndex matches (0: only when absent). */
  async apply(raw: unknown, cas: number | undefined, authz?: AclIdentity, ent?: EnterpriseMeta): Promise<boolean> {
    const entry = decodeConfigEntry(raw);
    const kind = String(entry.Kind);
    checkWildcardWrite(kind, ent);
    const tenant = writeTenant(kind, ent);
    const err = checkConfigEntry(kind, entry, tenant);
    if (err) throw new InternalError(err);
    const name = String(entry.Name);
    checkExportedName(kind, name, tenant);
    const ctx = entContext(tenant);
    refuseControllerKind(kind);
    authorize(authz, permission(kind, true)!, name, ctx);
    // Sending traffic elsewhere needs read on where it goes, in its own namespace (Consul's canWriteDiscoveryChain).
    const ns = tenant ? foldTenancyName(tenant.namespace) : DEFAULT_TENANCY_NAME;
    const ap = tenant ? foldTenancyName(tenant.partition) : DEFAULT_TENANCY_NAME;
    for (const svc of kinds().relatedServiceIds(entry as ConfigEntry, ns, ap)) {
      authorize(authz, 'serviceRead', svc.name, entContext({ namespace: foldTenancyName(svc.namespace), partition: foldTenancyName(svc.partition) }));
    }
    const key = configEntryStoreKey(tenant, kind, name);
    return commitPlanned<boolean>(this.#deps, inTenant(this.#deps.replica.tenants, pinnedTenant(tenant), (): Plan<boolean> => {
      const table = configEntriesOf(this.#deps.replica, tenant);
      kinds().checkChainGraph(table, kind, name, entry, this.#chainTenancy(tenant));
      const guard = kinds().entryWriteGuard(this.#deps, kind, name, tenant, entry);
      const cur = table.get(kind, name);
      // A user's write never sets the controller's Status: the stored one is kept (none on create), as Consul's ensureConfigEntryTxn does.
      const controlled = CONTROLLED_KINDS.has(kind);
      const put = { type: 'put' as const, key, value: encodeRecord(controlled ? { ...entry, Status: cur?.Status ?? { Conditions: null } } : entry) };
      const keep = controlled && cur ? [{ key, target: 'modRevision' as const, op: '=' as const, value: cur.ModifyIndex }] : [];
      if (cas === undefined) return { txn: { compares: [...keep, ...guard.compares], success: [put, ...guard.ops] }, done: () => true };
      if ((cur?.ModifyIndex ?? 0) !== cas) return { answer: false };
      const compare = cur
        ? { key, target: 'modRevision' as const, op: '=' as const, value: cur.ModifyIndex }
        : { key, target: 'createRevision' as const, op: '=' as const, value: 0 };
      return { txn: { compares: [compare, ...guard.compares], success: [put, ...guard.ops] }, done: () => true };
    }));
  }

  /** Deletes an entry (idempotent); with `cas`, only when its ModifyIndex matches. */
  async delete(kind: string, name: string, cas: number | undefined, authz?: AclIdentity, ent?: EnterpriseMeta): Promise<boolean> {
    if (!isConfigEntryKind(kind)) throw new BadRequestError(invalidKind(kind));
    const { FIXED_NAMES } = kinds();
    if (kind === 'mesh') name = FIXED_NAMES.mesh;
    else if (FIXED_NAMES[kind] && name !== FIXED_NAMES[kind]) {
      throw new InternalError(`invalid name (${JSON.stringify(name)}), only ${JSON.stringify(FIXED_NAMES[kind])} is supported`);
    }
    checkWildcardWrite(kind, ent);
    const tenant = writeTenant(kind, ent);
    refuseControllerKind(kind);
    authorize(authz, permission(kind, true)!, name, entContext(tenant));
    const key = configEntryStoreKey(tenant, kind, name);
    return commitPlanned<boolean>(this.#deps, inTenant(this.#deps.replica.tenants, pinnedTenant(tenant), (): Plan<boolean> => {
      const table = configEntriesOf(this.#deps.replica, tenant);
      const cur = table.get(kind, name);
      if (cas !== undefined && (!cur || cur.ModifyIndex !== cas)) return { answer: false };
      if (!cur) return { answer: true };
      kinds().checkChainGraph(table, kind, name, null, this.#chainTenancy(tenant));
      const guard = kinds().entryWriteGuard(this.#deps, kind, name, tenant, null);
      return {
        txn: { compares: [pinRecord(key, cur), ...guard.compares], success: [{ type: 'delete', key }, ...guard.ops] },
        done: () => true,
      };
    }));
  }

  /**
   * Stores an entry read from the primary datacenter as it is there (Consul's replication applies
   * it without validation); the chain-graph guard still serializes it with local writes.
   */
  async putReplicated(entry: ConfigEntry): Promise<void> {
    const { CreateIndex: _c, ModifyIndex: _m, Namespace: _n, Partition: _p, ...rest } = entry;
    const key = configEntryStoreKey(replicatedTenant(entry), entry.Kind, entry.Name);
    await commitPlanned<void>(this.#deps, (): Plan<void> => {
      const guard = kinds().entryWriteGuard(this.#deps, entry.Kind, entry.Name, replicatedTenant(entry), entry);
      if (!CONTROLLED_KINDS.has(entry.Kind)) {
        const put = { type: 'put' as const, key, value: encodeRecord(rest) };
        return { txn: { compares: guard.compares, success: [put, ...guard.ops] }, done: () => undefined };
      }
      // The primary's Status is its controller's: this datacenter's controller owns the local one, kept as a user's write keeps it
      // (Consul applies a replicated entry through ensureConfigEntryTxn), pinned so a status written meanwhile is not lost.
      const cur = configEntriesOf(this.#deps.replica, replicatedTenant(entry)).get(entry.Kind, entry.Name);
      const put = { type: 'put' as const, key, value: encodeRecord({ ...rest, Status: cur?.Status ?? { Conditions: null } }) };
      return { txn: { compares: [pinRecord(key, cur), ...guard.compares], success: [put, ...guard.ops] }, done: () => undefined };
    });
  }

  /** Deletes an entry the primary datacenter no longer has. */
  async deleteReplicated(kind: string, name: string, ent?: EnterpriseMeta): Promise<void> {
    const tenant = writeTenant(kind, ent);
    const key = configEntryStoreKey(tenant, kind, name);
    await commitPlanned<void>(this.#deps, (): Plan<void> => {
      const cur = configEntriesOf(this.#deps.replica, tenant).get(kind, name);
      if (!cur) return { answer: undefined };
      const guard = kinds().entryWriteGuard(this.#deps, kind, name, tenant, null);
      return { txn: { compares: [pinRecord(key, cur), ...guard.compares], success: [{ type: 'delete', key }, ...guard.ops] }, done: () => undefined };
    });
  }

  /**
   * Every entry as stored, by kind then name, that the caller may read (Consul's ConfigEntry.ListAll,
   * what a secondary datacenter replicates); blocks on the whole table.
   */
  listAll(opts: QueryOptions): Promise<QueryResult<ConfigEntry[]>> {
    const t = this.#deps.replica.configEntries;
    if (opts.ent?.namespace === WILDCARD_NAMESPACE) {
      // Every namespace of the partition (what a secondary datacenter replicates): entries carry their Namespace.
      return blockingQuery(this.#deps, opts, (ws) => {
        let index = this.#deps.replica.tenants.namespaces.index;
        const all: ConfigEntry[] = [];
        for (const part of this.#parts(opts.ent!, ws)) {
          ws.addTable(part.name);
          index = Math.max(index, part.table.kindIndex(''));
          const rows = part.table.list('');
          all.push(...(part.ent === undefined ? rows.map((e) => ({ ...e, Namespace: DEFAULT_TENANCY_NAME, Partition: DEFAULT_TENANCY_NAME })) : rows));
        }
        const { items, filtered } = filterAllowed(opts.authz, all, (e) => readable(opts.authz, e));
        return { index, value: items, filtered };
      });
    }
    return blockingQuery(this.#deps, opts, (ws) => {
      ws.addTable(CONFIG_ENTRIES_TABLE);
      const { items, filtered } = filterAllowed(opts.authz, t.list(''), (e) => readable(opts.authz, e));
      return { index: t.kindIndex(''), value: items, filtered };
    });
  }

  /** The tenants a read covers: the one named, or every namespace of its partition for `*`. */
  #parts(ent: EnterpriseMeta | undefined, ws: { addTable(t: string): void }): TenantPart[] {
    const replica = this.#deps.replica;
    const one = (e: EnterpriseMeta | undefined): TenantPart => {
      const t = e === undefined || isDefaultEnt(e) ? undefined : e;
      return { ent: t, table: configEntriesOf(replica, t), name: configEntriesTableName(t) };
    };
    if (ent?.namespace !== WILDCARD_NAMESPACE) return [one(ent)];
    // A namespace created while the read blocks may hold entries by the time it is re-run; the
    // partition's wildcard namespace (intentions to every namespace) is listed with the others.
    ws.addTable(NAMESPACES_TABLE);
    return [...namespacesFor(replica, ent.partition).map(one), one(wildcardNamespaceOf(ent))];
  }

  /** One entry, or null when it does not exist; blocks on that entry. */
  get(kind: string, name: string, opts: QueryOptions): Promise<QueryResult<ConfigEntry | null>> {
    if (!isConfigEntryKind(kind)) throw new InternalError(invalidKind(kind));
    const tenant = writeTenant(kind, opts.ent);
    const t = configEntriesOf(this.#deps.replica, tenant);
    const table = tenant === undefined ? CONFIG_ENTRIES_TABLE : configEntriesTableName(tenant);
    const named = opts.entNamed ?? false;
    return blockingQuery(this.#deps, opts, (ws) => {
      ws.addKey(table, `${kind}/${name}`);
      // The table of a tenant first written while this read blocks is made then: look it up each run.
      const cur = tenant === undefined ? t : configEntriesOf(this.#deps.replica, tenant);
      const e = cur.get(kind, name);
      if (e && !readable(opts.authz, e)) authorize(opts.authz, permission(kind, false)!, name, entContext(tenant));
      return { index: cur.kindIndex(kind), value: e ? renderEntry(e, named) : null };
    });
  }

  /** Entries of a kind sorted by name ('' for every kind), with `?filter`; blocks on the kind. */
  list(kind: string, opts: QueryOptions, filter?: string): Promise<QueryResult<ConfigEntry[]>> {
    if (kind !== '' && !isConfigEntryKind(kind)) throw new InternalError(invalidKind(kind));
    if (opts.ent !== undefined && !isDefaultEnt(opts.ent)) return this.#tenantList(kind, opts, filter);
    const t = this.#deps.replica.configEntries;
    const named = opts.entNamed ?? false;
    return blockingQuery(this.#deps, opts, (ws) => {
      if (kind === '') ws.addTable(CONFIG_ENTRIES_TABLE);
      else ws.addPrefix(CONFIG_ENTRIES_TABLE, `${kind}/`);
      const rows = filterList(t.list(kind).map((e) => renderEntry(e, named)), filter);
      const { items, filtered } = filterAllowed(opts.authz, rows, (e) => readable(opts.authz, e));
      return { index: t.kindIndex(kind), value: items, filtered };
    });
  }

  /**
   * A list in a non-default tenant, or in every namespace of a partition (`ns=*`: namespace order,
   * then kind and name). A partition-level kind is listed from the partition's default namespace.
   */
  #tenantList(kind: string, opts: QueryOptions, filter?: string): Promise<QueryResult<ConfigEntry[]>> {
    const ent = opts.ent!;
    const wildcard = ent.namespace === WILDCARD_NAMESPACE;
    // A partition-level kind lives in the partition's default namespace, `*` or not.
    const target = writeTenant(kind, ent);
    return blockingQuery(this.#deps, opts, (ws) => {
      let index = wildcard ? this.#deps.replica.tenants.namespaces.index : 0;
      const rows: ConfigEntry[] = [];
      for (const part of this.#parts(target, ws)) {
        if (kind === '') ws.addTable(part.name);
        else ws.addPrefix(part.name, `${kind}/`);
        index = Math.max(index, part.table.kindIndex(kind));
        rows.push(...part.table.list(kind).map((e) => renderEntry(e, true)));
      }
      const { items, filtered } = filterAllowed(opts.authz, filterList(rows, filter), (e) => readable(opts.authz, e));
      return { index, value: items, filtered };
    });
  }

  /**
   * The central defaults of a proxy or gateway registration (Consul's ConfigEntry.ResolveServiceConfig,
   * RPC only): needs service:read on the name; blocks on the proxy-defaults and service-defaults kinds.
   */
  resolveServiceConfig(req: ServiceConfigRequest, opts: QueryOptions): Promise<QueryResult<ServiceConfigResponse>> {
    const reqEnt = req.Namespace || req.Partition
      ? { namespace: req.Namespace || DEFAULT_TENANCY_NAME, partition: req.Partition || DEFAULT_TENANCY_NAME } : opts.ent;
    if (reqEnt !== undefined && !isDefaultEnt(reqEnt)) return this.#tenantResolve(req, reqEnt, opts);
    authorize(opts.authz, 'serviceRead', req.Name);
    const t = this.#deps.replica.configEntries;
    let first: string | undefined;
    return blockingQuery(this.#deps, opts, (ws) => {
      ws.addPrefix(CONFIG_ENTRIES_TABLE, 'proxy-defaults/');
      ws.addPrefix(CONFIG_ENTRIES_TABLE, 'service-defaults/');
      // Loaded on the first resolution: agents without proxies never need it (issue #9).
      const { computeResolvedServiceConfig } = require('./service-config-resolve.ts') as typeof import('./service-config-resolve.ts');
      let index = Math.max(1, t.kindIndex('proxy-defaults'), t.kindIndex('service-defaults'));
      const value = computeResolvedServiceConfig(req, {
        proxyDefaults: () => t.get('proxy-defaults', 'global'),
        serviceDefaults: (name, namespace, partition) => {
          if (isDefaultEnt({ namespace: namespace || DEFAULT_TENANCY_NAME, partition: partition || DEFAULT_TENANCY_NAME })) return t.get('service-defaults', name);
          // An upstream in another namespace: its own service-defaults (and its table's wakeups).
          const { entry, index: i } = this.#tenantEntry(ws, 'service-defaults', name, { namespace: namespace || DEFAULT_TENANCY_NAME, partition: partition || DEFAULT_TENANCY_NAME });
          index = Math.max(index, i);
          return entry;
        },
      });
      // A blocked resolution woken by a change that leaves its answer as it was keeps waiting
      // (Consul's priorHash check): another service's defaults must not wake every proxy's watch.
      const json = JSON.stringify(value);
      if (first === undefined) first = json;
      else if (opts.minIndex > 0 && json === first) return { index: Math.min(index, opts.minIndex), value };
      return { index, value };
    });
  }

  /** One entry of `kind` in a tenant (partition-level kinds from the partition), watched on its key; with its kind's index. */
  #tenantEntry(ws: { addKey(t: string, k: string): unknown }, kind: string, name: string, ent: EnterpriseMeta): { entry: ConfigEntry | undefined; index: number } {
    const tenant = writeTenant(kind, ent);
    ws.addKey(configEntriesTableName(tenant), `${kind}/${name}`);
    const table = configEntriesOf(this.#deps.replica, tenant);
    return { entry: table.get(kind, name), index: table.kindIndex(kind) };
  }

  /**
   * ResolveServiceConfig of a registration in a non-default namespace or partition: the
   * partition's proxy-defaults, the namespace's service-defaults, each upstream's in its own
   * namespace (default: the registration's).
   */
  #tenantResolve(req: ServiceConfigRequest, ent: EnterpriseMeta, opts: QueryOptions): Promise<QueryResult<ServiceConfigResponse>> {
    authorize(opts.authz, 'serviceRead', req.Name, entContext(ent));
    // An upstream named without a namespace or partition is in the registration's (Consul's agent fills them).
    const upstreams = req.UpstreamServiceNames?.map((u) => (u.Peer ? u : {
      ...u, ServiceName: { ...u.ServiceName, Namespace: u.ServiceName.Namespace || ent.namespace, Partition: u.ServiceName.Partition || ent.partition },
    }));
    if (upstreams) req = { ...req, UpstreamServiceNames: upstreams };
    let first: string | undefined;
    return blockingQuery(this.#deps, opts, (ws) => {
      const { computeResolvedServiceConfig } = require('./service-config-resolve.ts') as typeof import('./service-config-resolve.ts');
      let index = 1;
      const read = (kind: string, name: string, at: EnterpriseMeta) => {
        const r = this.#tenantEntry(ws, kind, name, at);
        index = Math.max(index, r.index);
        return r.entry;
      };
      const value = computeResolvedServiceConfig(req, {
        proxyDefaults: () => read('proxy-defaults', 'global', ent),
        serviceDefaults: (name, namespace, partition) => read('service-defaults', name, { namespace: namespace || ent.namespace, partition: partition || ent.partition }),
      });
      const json = JSON.stringify(value);
      if (first === undefined) first = json;
      else if (opts.minIndex > 0 && json === first) return { index: Math.min(index, opts.minIndex), value };
      return { index, value };
    });
  }
}
