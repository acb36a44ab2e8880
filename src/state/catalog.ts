// The catalog tables of the replica (Consul's nodes, services, checks): records by node, the
// by-name service index, table indexes, and per-service and per-node indexes so that a
// blocking health query wakes only when its service's instances, checks or nodes change.
// Names are matched as Consul's lower-cased memdb indexes match them: node names, service IDs,
// check IDs and service names case-insensitively; records keep the casing they were stored with.
import type { WatchEvent } from '../store/index.ts';
import type { CheckServiceNode, Node, NodeService, HealthCheck } from '../api/catalog-types.ts';
import { SharedValues } from './shared-values.ts';
import { ServiceUsageCounts } from './service-usage.ts';
import { decodeRecord, takeRecord } from './records.ts';

/** Store prefix of the catalog. */
export const CATALOG_PREFIX = 'catalog/';
/** Notifier tables. */
export const NODES_TABLE = 'nodes';
export const SERVICES_TABLE = 'services';
export const CHECKS_TABLE = 'checks';
/** Per-service-name health view (`health/service`, `catalog/service`). */
export const SERVICE_HEALTH = 'service-health';
/** Per-destination mesh view (`catalog/connect`, `health/connect`): proxies and native services. */
export const CONNECT_HEALTH = 'connect-health';
/** Per-node view (`catalog/node`, `health/node`). */
export const NODE_VIEW = 'node-view';

/** Store key of a node record. */
export const nodeKey = (node: string): string => `${CATALOG_PREFIX}node/${encodeURIComponent(node)}`;
/** Store key of a service instance. */
export const serviceKey = (node: string, id: string): string =>
  `${CATALOG_PREFIX}service/${encodeURIComponent(node)}/${encodeURIComponent(id)}`;
/** Store key of a check. */
export const checkKey = (node: string, id: string): string =>
  `${CATALOG_PREFIX}check/${encodeURIComponent(node)}/${encodeURIComponent(id)}`;

type Change = [table: string, key: string];
/** Changed notifier keys as flat pairs: table, key, table, key, ... (no tuple per change). */
export type Changes = string[];

/**
 * The key a catalog name has in the case-insensitive indexes and watch keys (Consul's lowercase
 * node, service-name, service-ID and check-ID indexes): service names in `byName`, `byConnect`
 * and `serviceIndex`, and the SERVICE_HEALTH, CONNECT_HEALTH and NODE_VIEW notifier keys.
 */
export const foldName = (name: string): string => name.toLowerCase();

/** A name part of a catalog key; most need no decoding. */
function name(part: string): string {
  return part.includes('%') ? decodeURIComponent(part) : part;
}

/** End of the key part starting at `from`. */
function nextSlash(key: string, from: number): number | undefined {
  const i = key.indexOf('/', from);
  return i < 0 ? undefined : i;
}

function decode<T>(ev: WatchEvent): T {
  // A record the register endpoint handed over becomes the table's record (no copy).
  const own = takeRecord<T & { CreateIndex: number; ModifyIndex: number }>(ev.kv.value);
  if (own) {
    own.CreateIndex = ev.kv.createRevision;
    own.ModifyIndex = ev.kv.modRevision;
    return own;
  }
  const rec = decodeRecord<T & { KeptCreateIndex?: number }>(ev.kv.value);
  // Values written by f05b630 and 88d8077 (never released) may hold KeptCreateIndex, an index that
  // values never store (DESIGN.md §4): it is dropped.
  if (rec.KeptCreateIndex !== undefined) {
    const { KeptCreateIndex: _dropped, ...fields } = rec;
    return { ...fields, CreateIndex: ev.kv.createRevision, ModifyIndex: ev.kv.modRevision } as T;
  }
  return { ...rec, CreateIndex: ev.kv.createRevision, ModifyIndex: ev.kv.modRevision };
}

/** Nodes, services and checks with the indexes catalog and health queries need. */
export class CatalogTables {
  /** node name → node; a namespace's tables share their partition's map (nodes are partition-level). */
  readonly nodes: Map<string, Node>;
  /** node → service id → instance */
  readonly services = new Map<string, Map<string, NodeService>>();
  /** folded service name → set of `node\0id` */
  readonly byName = new Map<string, Set<string>>();
  /** folded mesh destination name → set of `node\0id` (connect proxies for it, or itself when native) */
  readonly byConnect = new Map<string, Set<string>>();
  /** node → check id → check */
  readonly checks = new Map<string, Map<string, HealthCheck>>();
  readonly index = { nodes: 0, services: 0, checks: 0 };
  /** Moves on every applied event and every reset (unlike the indexes, never back): caches over these tables may skip re-checking while it stays. */
  generation = 0;
  /** Highest revision that changed each folded service name's health view (kept after deletion). */
  readonly serviceIndex = new Map<string, number>();
  readonly #shared = new SharedValues();
  /** Running instance counts for the usage report. */
  readonly usage = new ServiceUsageCounts();
  /**
   * Stored names that are not already lower case, by their folded form: `node` for nodes,
   * `node\0id` for service and check IDs. A lookup tries the name, then its folded form, then
   * these, so all-lower-case catalogs (the common case) keep no entries here.
   */
  readonly #nodeAlias = new Map<string, string>();
  readonly #serviceAlias = new Map<string, string>();
  readonly #checkAlias = new Map<string, string>();
  /** Lower-cased node ID → the node's stored name (Consul's node uuid index). */
  readonly #nodeIds = new Map<string, string>();
  /**
   * For a non-default namespace's tables (state/catalog-tenants.ts): its partition's tables, which
   * hold the nodes and the node-level checks. Undefined for a partition's own tables.
   */
  readonly #partition: CatalogTables | undefined;
  /** Told of every node-level change (a node record or node check), after this table's own services were touched: namespaces' tables touch theirs. */
  nodeListener: ((node: string, rev: number, out: Changes) => void) | undefined = undefined;

  constructor(partition?: CatalogTables) {
    this.#partition = partition;
    this.nodes = partition === undefined ? new Map() : partition.nodes;
  }

  /** Applies one store event; returns the notifier keys it changed. */
  apply(ev: WatchEvent): Change[] {
    const flat: Changes = [];
    this.applyInto(ev, flat);
    const out: Change[] = [];
    for (let i = 0; i < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
    return out;
  }

  /** Applies one store event; appends the notifier keys it changed to `out` as (table, key) pairs. */
  applyInto(ev: WatchEvent, out: Changes): void {
    this.generation++;
    // `catalog/<kind>/<node>[/<id>]`, each name URI-encoded (so without a raw '/').
    const key = ev.kv.key;
    const slash = key.indexOf('/', CATALOG_PREFIX.length);
    const kind = key.slice(CATALOG_PREFIX.length, slash);
    const second = key.indexOf('/', slash + 1);
    const node = name(key.slice(slash + 1, second < 0 ? undefined : second));
    const rev = ev.kv.modRevision;
    if (kind === 'node') return this.#applyNode(ev, node, rev, out);
    const id = second < 0 ? undefined : name(key.slice(second + 1, nextSlash(key, second + 1)));
    if (kind === 'service') return this.#applyService(ev, node, id as string, rev, out);
    if (kind === 'check') return this.#applyCheck(ev, node, id as string, rev, out);
  }

  /** Records (or, on delete, forgets) a stored name that is not all lower case under its folded form. */
  static #alias(aliases: Map<string, string>, node: string | null, stored: string, put: boolean): void {
    const folded = foldName(stored);
    if (folded === stored) return;
    const key = node === null ? folded : `${node}\0${folded}`;
    if (put) aliases.set(key, stored);
    else if (aliases.get(key) === stored) aliases.delete(key);
  }

  /**
   * The stored form of `id` among `map`'s keys, matched case-insensitively; `id` itself when none.
   * `node` (with a NUL) prefixes the alias key; null for node names. No closure, and no alias key
   * built while every stored name is lower case (no aliases).
   */
  static #resolve(map: ReadonlyMap<string, unknown>, aliases: Map<string, string>, node: string | null, id: string): string {
    if (map.has(id)) return id;
    const folded = foldName(id);
    if (folded !== id && map.has(folded)) return folded;
    if (aliases.size === 0) return id;
    return aliases.get(node === null ? folded : `${node}\0${folded}`) ?? id;
  }

  /** A node's name as stored, matched case-insensitively (Consul's node index); `name` itself when unknown. */
  nodeName(name: string): string {
    if (this.#partition !== undefined) return this.#partition.nodeName(name);
    return CatalogTables.#resolve(this.nodes, this.#nodeAlias, null, name);
  }

  /** A node by name, case-insensitively. */
  node(name: string): Node | undefined {
    return this.nodes.get(name) ?? this.nodes.get(this.nodeName(name));
  }

  /** The node holding a node ID (compared case-insensitively, as a UUID), if any. */
  nodeById(id: string): Node | undefined {
    if (this.#partition !== undefined) return this.#partition.nodeById(id);
    const name = this.#nodeIds.get(id.toLowerCase());
    return name === undefined ? undefined : this.nodes.get(name);
  }

  /** A service ID on a node (its stored name) as stored, matched case-insensitively; `id` itself when unknown. */
  serviceId(node: string, id: string): string {
    const onNode = this.services.get(node);
    return onNode ? CatalogTables.#resolve(onNode, this.#serviceAlias, node, id) : id;
  }

  /** A check ID on a node (its stored name) as stored, matched case-insensitively; `id` itself when unknown. */
  checkId(node: string, id: string): string {
    const onNode = this.checks.get(node);
    return onNode ? CatalogTables.#resolve(onNode, this.#checkAlias, node, id) : id;
  }

  #touchNodeServices(node: string, rev: number, out: Changes): void {
    for (const s of this.services.get(node)?.values() ?? []) this.#touchService(s.Service, rev, out);
    if (this.nodeListener !== undefined) this.nodeListener(node, rev, out);
  }

  /** Touches the health views of this table's services on a node whose record or node checks changed (in the partition's tables). */
  touchNode(node: string, rev: number, out: Changes): void {
    this.generation++;
    for (const s of this.services.get(node)?.values() ?? []) this.#touchService(s.Service, rev, out);
  }

  #touchService(service: string, rev: number, out: Changes): void {
    const name = foldName(service);
    const index = this.serviceIndex;
    const was = index.get(name);
    if (was === undefined || was < rev) index.set(name, rev);
    out.push(SERVICE_HEALTH, name);
    // Only mesh names (proxies' and native services') have destinations: no lookup without any.
    const dest = this.#connectTargetOfName.size === 0 ? undefined : this.#connectTargetOfName.get(name);
    if (dest === undefined) return;
    for (const d of dest) {
      index.set(`connect:${d}`, Math.max(index.get(`connect:${d}`) ?? 0, rev));
      out.push(CONNECT_HEALTH, d);
    }
  }

  /** folded service name → folded mesh destinations it serves (maintained with byConnect). */
  #connectTargetOfName = new Map<string, Set<string>>();

  #linkConnect(svc: NodeService, ref: string, add: boolean): void {
    const target = svc.Kind === 'connect-proxy' ? String(svc.Proxy?.DestinationServiceName ?? '')
      : (svc.Connect as { Native?: boolean } | undefined)?.Native ? svc.Service : '';
    if (!target) return;
    const dest = foldName(target);
    let set = this.byConnect.get(dest);
    if (add) {
      if (!set) this.byConnect.set(dest, (set = new Set()));
      set.add(ref);
      const name = foldName(svc.Service);
      let targets = this.#connectTargetOfName.get(name);
      if (!targets) this.#connectTargetOfName.set(name, (targets = new Set()));
      targets.add(dest);
    } else {
      set?.delete(ref);
      if (set?.size === 0) this.byConnect.delete(dest);
    }
  }

  #applyNode(ev: WatchEvent, node: string, rev: number, out: Changes): void {
    out.push(NODES_TABLE, node, NODE_VIEW, foldName(node));
    const prevId = this.nodes.get(node)?.ID;
    let id: string | undefined;
    if (ev.type === 'put') {
      const rec = decode<Node>(ev);
      this.nodes.set(rec.Node === node ? rec.Node : node, rec);
      id = rec.ID;
    } else this.nodes.delete(node);
    if (prevId !== id) this.#linkNodeId(node, prevId, id);
    CatalogTables.#alias(this.#nodeAlias, null, node, ev.type === 'put');
    this.index.nodes = Math.max(this.index.nodes, rev);
    this.#touchNodeServices(node, rev, out);
  }

  #linkNodeId(node: string, prev: string | undefined, next: string | undefined): void {
    if (prev && this.#nodeIds.get(prev.toLowerCase()) === node) this.#nodeIds.delete(prev.toLowerCase());
    if (next) this.#nodeIds.set(next.toLowerCase(), node);
  }

  #applyService(ev: WatchEvent, node: string, id: string, rev: number, out: Changes): void {
    out.push(SERVICES_TABLE, node, NODE_VIEW, foldName(node));
    let onNode = this.services.get(node);
    const prev = onNode?.get(id);
    // The instance's entry in the by-name (and mesh) index sets, built once.
    const ref = `${node}\0${id}`;
    if (prev) {
      this.usage.count(prev, -1);
      this.#linkConnect(prev, ref, false);
      const was = foldName(prev.Service);
      const set = this.byName.get(was);
      set?.delete(ref);
      if (set?.size === 0) {
        this.byName.delete(was);
        this.#shared.forget(prev.Service);
      }
      this.#touchService(prev.Service, rev, out);
    }
    CatalogTables.#alias(this.#serviceAlias, node, id, ev.type === 'put');
    if (ev.type === 'put') {
      const svc = this.#shared.service(decode<NodeService>(ev));
      if (!onNode) this.services.set(this.nodes.get(node)?.Node ?? node, (onNode = new Map()));
      onNode.set(id, svc);
      const folded = foldName(svc.Service);
      let set = this.byName.get(folded);
      if (!set) this.byName.set(folded, (set = new Set()));
      set.add(ref);
      this.usage.count(svc, 1);
      this.#linkConnect(svc, ref, true);
      this.#touchService(svc.Service, rev, out);
    } else if (onNode) {
      onNode.delete(id);
      if (onNode.size === 0) this.services.delete(node);
    }
    this.index.services = Math.max(this.index.services, rev);
  }

  #applyCheck(ev: WatchEvent, node: string, id: string, rev: number, out: Changes): void {
    out.push(CHECKS_TABLE, node, NODE_VIEW, foldName(node));
    CatalogTables.#alias(this.#checkAlias, node, id, ev.type === 'put');
    let onNode = this.checks.get(node);
    const prev = onNode?.get(id);
    let next: HealthCheck | undefined;
    // The check's service instance and the node's stored name, looked up once for both uses.
    let svc: NodeService | undefined;
    let stored = node;
    if (ev.type === 'put') {
      const rec = decode<HealthCheck>(ev);
      svc = this.#checkService(node, rec.ServiceID);
      stored = this.nodes.get(node)?.Node ?? node;
      next = this.#shared.check(rec, stored, svc);
    }
    if (next) {
      if (!onNode) this.checks.set(stored, (onNode = new Map()));
      // The record's own CheckID string doubles as the map key (one copy per check, not two).
      onNode.set(next.CheckID === id ? next.CheckID : id, next);
    } else if (onNode) {
      onNode.delete(id);
      if (onNode.size === 0) this.checks.delete(node);
    }
    const c = next ?? prev;
    if (c?.ServiceID) {
      if (!next) svc = this.#checkService(node, c.ServiceID);
      this.#touchService(svc?.Service ?? c.ServiceName, rev, out);
    } else this.#touchNodeServices(node, rev, out);
    this.index.checks = Math.max(this.index.checks, rev);
  }

  /** Empties every table (before a re-list). */
  reset(): void {
    this.generation++;
    if (this.#partition === undefined) this.nodes.clear();
    this.services.clear();
    this.byName.clear();
    this.byConnect.clear();
    this.#connectTargetOfName.clear();
    this.checks.clear();
    this.serviceIndex.clear();
    this.#nodeAlias.clear();
    this.#serviceAlias.clear();
    this.#checkAlias.clear();
    this.#nodeIds.clear();
    this.#tagCache.clear();
    this.#shared.reset();
    this.usage.reset();
    this.index.nodes = this.index.services = this.index.checks = 0;
  }

  /**
   * Instances of a service name (or, with `connect`, its mesh endpoints), matched
   * case-insensitively, sorted by node then id.
   */
  instances(name: string, connect = false): { node: Node; service: NodeService }[] {
    const out: { node: Node; service: NodeService }[] = [];
    for (const ref of (connect ? this.byConnect : this.byName).get(foldName(name)) ?? []) {
      const [n, id] = ref.split('\0');
      const node = this.nodes.get(n);
      const service = this.services.get(n)?.get(id);
      if (node && service) out.push({ node, service });
    }
    return out.sort((a, b) => cmp(a.node.Node, b.node.Node) || cmp(a.service.ID, b.service.ID));
  }

  #tagCache = new Map<string, { index: number; tags: [string, string[]][] }>();

  /**
   * The stored spellings of a service name (`Web` and `web` stay apart, as in Consul's
   * catalog/services) with the union of their instances' tags in first-seen order; cached per
   * service index.
   */
  serviceTags(name: string): [name: string, tags: string[]][] {
    const folded = foldName(name);
    const index = this.serviceIndex.get(folded) ?? 0;
    const hit = this.#tagCache.get(folded);
    if (hit && hit.index === index) return hit.tags;
    const byStored = new Map<string, Set<string>>();
    for (const ref of this.byName.get(folded) ?? []) {
      const [n, id] = ref.split('\0');
      const svc = this.services.get(n)?.get(id);
      if (!svc) continue;
      let tags = byStored.get(svc.Service);
      if (!tags) byStored.set(svc.Service, (tags = new Set()));
      for (const t of svc.Tags ?? []) tags.add(t);
    }
    const entry = { index, tags: [...byStored].map(([n, t]): [string, string[]] => [n, [...t]]) };
    this.#tagCache.set(folded, entry);
    return entry.tags;
  }

  /** The instance a check on `node` belongs to: its ServiceID names it in any spelling (Consul's lower-cased node_service index). */
  #checkService(node: string, serviceId: string): NodeService | undefined {
    const onNode = this.services.get(node);
    return serviceId && onNode ? onNode.get(serviceId) ?? onNode.get(this.serviceId(node, serviceId)) : undefined;
  }

  /** Checks that apply to a service instance: the node's checks and the service's own (named in any spelling). */
  instanceChecks(node: string, serviceId: string): HealthCheck[] {
    const all = [...(this.checks.get(node)?.values() ?? [])];
    // A namespace's instances also have their node's checks, which live in the partition's tables.
    if (this.#partition !== undefined) for (const c of this.#partition.checks.get(node)?.values() ?? []) if (c.ServiceID === '') all.push(c);
    let folded: string | undefined;
    return all.filter((c) => c.ServiceID === '' || c.ServiceID === serviceId || foldName(c.ServiceID) === (folded ??= foldName(serviceId)))
      .sort((a, b) => cmp(a.CheckID, b.CheckID));
  }

  /** An instance with its node and service checks, in Consul's CheckServiceNode shape. */
  checkServiceNode(i: { node: Node; service: NodeService }): CheckServiceNode {
    return { Node: i.node, Service: i.service, Checks: this.instanceChecks(i.node.Node, i.service.ID) };
  }

  /** Every check of a node (named case-insensitively), sorted by id. */
  nodeChecks(node: string): HealthCheck[] {
    const checks = this.checks.get(node) ?? this.checks.get(this.nodeName(node));
    return [...(checks?.values() ?? [])].sort((a, b) => cmp(a.CheckID, b.CheckID));
  }

  /** The catalog-wide index (max of the three tables). */
  get maxIndex(): number {
    return Math.max(this.index.nodes, this.index.services, this.index.checks);
  }
}

/** Whether two catalog IDs name the same record (case-insensitively, as Consul's indexes match them). */
export function sameId(a: string, b: string): boolean {
  return a === b || foldName(a) === foldName(b);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
