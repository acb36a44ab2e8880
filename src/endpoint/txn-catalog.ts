// Node, Service and Check verbs of /v1/txn (Consul's txnNode/txnService/txnCheck): a catalog
// overlay over the replica so later ops see earlier ones, Consul's error texts, and results
// whose indexes are filled in with the commit revision.
import {
  encodeRecord, nodeKey, serviceKey, checkKey, coordinateKey, coordinateNodePrefix, foldName, entKey, parseTenantKey, tenantKey,
  DEFAULT_ENT, DEFAULT_TENANCY_NAME, foldTenancyName, isDefaultEnt, partitionEnt, type EnterpriseMeta,
} from '../state/index.ts';
import { catalogOf, namespaceCatalogs, partitionCatalog } from '../state/catalog-tenants.ts';
import { withTenancy } from './catalog-tenancy.ts';
import { writableEnt } from './tenancy.ts';
import type { Node, NodeService, HealthCheck } from '../api/catalog-types.ts';
import type { Compare, Op } from '../store/index.ts';
import { sameRecord, invalidateSessions, claimNode, releaseNode } from './catalog-write.ts';
import { pinRecord } from './commit.ts';
import { checkNodeId, type NodeLookup } from './catalog-node-id.ts';
import { Guards } from './name-guards.ts';
import { TxnVirtualIPs } from './virtual-ips-txn.ts';
import { TAGGED_ADDRESS_VIRTUAL_IP, virtualIPTarget } from './virtual-ips.ts';
import type { EndpointDeps } from './deps.ts';

/** Stands for "the commit's revision" until the commit is known. */
export const PENDING = -1;

type Rec = { CreateIndex: number; ModifyIndex: number } & object;

/** A catalog op as the API carries it. */
export interface CatalogTxnOp {
  Verb: string;
  /** Node ops: the node; Service ops: the node name; Check ops: unused. */
  Node?: Partial<Node> | string;
  Service?: Partial<NodeService>;
  Check?: Partial<HealthCheck>;
  /**
   * Service and Check ops: the namespace and partition the op names (its `Namespace`/`Partition`, else the
   * token's scope), as Consul Enterprise's TxnServiceOp/TxnCheckOp carry an EnterpriseMeta; absent: the default
   * one, named by no one (results then show no tenancy fields). The node and node checks are the partition's.
   */
  ent?: EnterpriseMeta;
}

/** One result: exactly one member set. */
export type CatalogResult = { Node?: Node; Service?: NodeService; Check?: HealthCheck };

/** The catalog view of one transaction. */
export class CatalogTxnOverlay {
  readonly #deps: EndpointDeps;
  readonly #overlay = new Map<string, Rec | null>();
  readonly #read = new Map<string, Rec | undefined>();
  readonly ops: Op[] = [];
  readonly results: CatalogResult[] = [];
  readonly #extraCompares: Compare[] = [];
  /** Node names and IDs this transaction claims or releases (see name-guards.ts). */
  readonly guards: Guards;
  /** The VIPs its mesh services take and the ones its deletes free. */
  readonly virtualIPs: TxnVirtualIPs;
  /**
   * Spellings written by this transaction, by folded form: `n\0<node>` for nodes, `s\0<node>\0<id>`
   * and `c\0<node>\0<id>` for service and check IDs, and `i\0<id>` (node ID → node name).
   */
  readonly #names = new Map<string, string>();

  constructor(deps: EndpointDeps) {
    this.#deps = deps;
    this.guards = new Guards(deps.replica.appliedRevision);
    this.virtualIPs = new TxnVirtualIPs(deps);
  }

  /** A node's stored name, matched case-insensitively (this transaction's writes first; Node ops write the default partition only). */
  nodeName(name: string, partition = DEFAULT_TENANCY_NAME): string {
    if (partition !== DEFAULT_TENANCY_NAME) return partitionCatalog(this.#deps.replica, partition).nodeName(name);
    return this.#names.get(`n\0${foldName(name)}`) ?? this.#deps.replica.catalog.nodeName(name);
  }

  /** A service ID on a node as stored (in namespace `ent`), matched case-insensitively. */
  serviceId(node: string, id: string, ent?: EnterpriseMeta): string {
    return this.#names.get(`s\0${nsPart(ent)}${node}\0${foldName(id)}`) ?? this.#catalog(ent).serviceId(node, id);
  }

  /** A check ID on a node as stored (in namespace `ent`), matched case-insensitively. */
  checkId(node: string, id: string, ent?: EnterpriseMeta): string {
    return this.#names.get(`c\0${nsPart(ent)}${node}\0${foldName(id)}`) ?? this.#catalog(ent).checkId(node, id);
  }

  /** The replica's namespaces and partitions (a write's tenant must exist). */
  get tenants() {
    return this.#deps.replica.tenants;
  }

  #catalog(ent: EnterpriseMeta | undefined) {
    return isDefaultEnt(ent) ? this.#deps.replica.catalog : catalogOf(this.#deps.replica, ent);
  }

  /** Remembers what a write of this transaction stored: a node (`n`), a node's ID (`i`), a service (`s`) or check (`c`) ID. */
  named(kind: 'n' | 'i' | 's' | 'c', node: string, id = node, ent?: EnterpriseMeta): void {
    if (kind === 'n') this.#names.set(`n\0${foldName(node)}`, node);
    else if (kind === 'i') this.#names.set(`i\0${id.toLowerCase()}`, node);
    else this.#names.set(`${kind}\0${nsPart(ent)}${node}\0${foldName(id)}`, id);
  }

  /** Nodes by name and ID and their checks as this transaction sees them. */
  readonly nodes: NodeLookup = {
    node: (name) => this.get<Node>(nodeKey(this.nodeName(name))),
    nodeById: (id) => {
      const name = this.#names.get(`i\0${id.toLowerCase()}`) ?? this.#deps.replica.catalog.nodeById(id)?.Node;
      const node = name === undefined ? undefined : this.get<Node>(nodeKey(name));
      return node && node.ID.toLowerCase() === id.toLowerCase() ? node : undefined;
    },
    checkStatus: (node, checkId) => this.get<HealthCheck>(checkKey(node, this.checkId(node, checkId)))?.Status,
  };

  /** The record under a store key as this transaction sees it. */
  get<T extends Rec>(key: string): T | undefined {
    if (this.#overlay.has(key)) return (this.#overlay.get(key) ?? undefined) as T | undefined;
    // Default-tenant keys (no `t/` prefix) are split as they always were; tenant keys read their namespace's tables.
    let cat = this.#deps.replica.catalog;
    let kind: string, a: string, b: string;
    if (key.charCodeAt(0) === 116 /* t */) {
      const p = keyParts(key);
      [cat, kind, a, b] = [this.#catalog(p.ent), p.kind, p.a, p.b];
    } else [, kind, a, b] = key.split('/').map(decodeURIComponent);
    const rec = kind === 'node' ? cat.nodes.get(a) : kind === 'service' ? cat.services.get(a)?.get(b) : cat.checks.get(a)?.get(b);
    if (!this.#read.has(key)) this.#read.set(key, rec);
    return rec as T | undefined;
  }

  /** Writes a record unless unchanged; returns what the result should show. */
  put<T extends Rec>(key: string, rec: Omit<T, 'CreateIndex' | 'ModifyIndex'>): T {
    const existing = this.get<T>(key);
    if (existing && sameRecord(existing, rec)) return existing;
    const next = { ...rec, CreateIndex: existing ? existing.CreateIndex : PENDING, ModifyIndex: PENDING } as unknown as T;
    this.#overlay.set(key, next);
    this.ops.push({ type: 'put', key, value: encodeRecord(rec) });
    return next;
  }

  /**
   * Writes a service or check whose ID the op spells `id` and the catalog holds as `storedId`:
   * a new spelling moves the record to its key, as Consul stores the ID as last written (see
   * catalog-write's write).
   */
  write<T extends Rec>(keyOf: (id: string) => string, id: string, storedId: string, rec: Omit<T, 'CreateIndex' | 'ModifyIndex'>): T {
    // The moved record gets this commit's CreateIndex, not Consul's kept one: no index is stored in a value (DESIGN.md §4).
    if (id !== storedId && this.get<T>(keyOf(storedId))) this.delete(keyOf(storedId));
    return this.put<T>(keyOf(id), rec);
  }

  /** Deletes a record if present (a service's name may then free its VIP). */
  delete(key: string): void {
    const rec = this.get(key);
    if (!rec) return;
    const p = keyParts(key);
    if (p.kind === 'service') this.virtualIPs.removed(p.ent, (rec as unknown as NodeService).Service);
    this.#overlay.set(key, null);
    this.ops.push({ type: 'delete', key });
  }

  /** Services and checks of a node of `partition`, in every namespace, as this transaction sees them. */
  nodeChildren(node: string, partition = DEFAULT_TENANCY_NAME): string[] {
    const keys: string[] = [];
    const add = (ent: EnterpriseMeta | undefined, cat: ReturnType<typeof catalogOf>): void => {
      for (const id of cat.services.get(node)?.keys() ?? []) keys.push(tenantKey(ent, serviceKey(node, id)));
      for (const id of cat.checks.get(node)?.keys() ?? []) keys.push(tenantKey(ent, checkKey(node, id)));
    };
    const inDefault = partition === DEFAULT_TENANCY_NAME;
    add(inDefault ? undefined : partitionEnt(partition), partitionCatalog(this.#deps.replica, partition));
    // A node's records in the partition's namespaces go with it (Consul deletes them across namespaces).
    for (const { ent, table } of namespaceCatalogs(this.#deps.replica, partition)) add(ent, table);
    for (const k of this.#overlay.keys()) {
      const p = keyParts(k);
      if (p.kind !== 'node' && p.a === node && (p.ent?.partition ?? DEFAULT_TENANCY_NAME) === partition) keys.push(k);
    }
    return [...new Set(keys)];
  }

  /**
   * Moves the services, checks (their Node field too) and coordinates of node `from` to the keys of
   * its new spelling `to` (the caller moves the node record), so every record names the node as stored.
   */
  respellChildren(from: string, to: string): void {
    for (const k of this.nodeChildren(from)) {
      const rec = this.get<Rec & { Node?: string }>(k);
      if (!rec) continue;
      const { ent, kind, b: id } = keyParts(k);
      this.delete(k);
      if (kind === 'service') this.put(tenantKey(ent, serviceKey(to, id)), rec);
      else this.put(tenantKey(ent, checkKey(to, id)), { ...rec, Node: to });
      this.named(kind === 'service' ? 's' : 'c', to, id, ent);
    }
    const coordinates = this.#deps.replica.coordinates.node(from);
    if (coordinates.length === 0) return;
    // Deleted before they are put again: the coordinates table keys them by the folded name.
    this.ops.push({ type: 'deletePrefix', prefix: coordinateNodePrefix(from) });
    for (const e of coordinates) {
      this.ops.push({ type: 'put', key: coordinateKey(to, e.Segment), value: Buffer.from(JSON.stringify({ ...e, Node: to })) });
    }
  }

  /**
   * Whether service `name` of `ent` has an instance as this transaction leaves the catalog: the
   * compare pinning one it leaves untouched, true for one it writes, false for none.
   */
  hasInstances(ent: EnterpriseMeta, name: string): Compare | boolean {
    const e = isDefaultEnt(ent) ? undefined : ent;
    const folded = foldName(name);
    const named = (rec: Rec | null | undefined): boolean => !!rec && foldName((rec as unknown as NodeService).Service) === folded;
    const cat = this.#catalog(e);
    for (const ref of cat.byName.get(folded) ?? []) {
      const [node, id] = ref.split('\0');
      const key = tenantKey(e, serviceKey(node, id));
      if (!this.#overlay.has(key)) {
        const rec = cat.services.get(node)?.get(id);
        if (rec) return pinRecord(key, rec);
      } else if (named(this.#overlay.get(key))) return true;
    }
    const tenant = e === undefined ? '' : entKey(e);
    for (const [k, rec] of this.#overlay) {
      const p = keyParts(k);
      if (p.kind === 'service' && (p.ent === undefined || isDefaultEnt(p.ent) ? '' : entKey(p.ent)) === tenant && named(rec)) return true;
    }
    return false;
  }

  /** Invalidates the sessions of a deleted node (or of one of its checks), as Consul does. */
  invalidateSessions(node: string, checkId?: string, ent?: EnterpriseMeta): void {
    const plan = { compares: this.#extraCompares, ops: this.ops };
    invalidateSessions(this.#deps, plan, node, checkId, isDefaultEnt(ent) ? undefined : ent);
  }

  /** Compares pinning every record read from the replica, and the claimed guards. */
  compares(): Compare[] {
    return [...[...this.#read].map(([k, e]) => pinRecord(k, e)), ...this.#extraCompares, ...this.guards.compares()];
  }

  /** Results with pending indexes replaced by the commit revision. */
  finish(revision: number): CatalogResult[] {
    const fix = <T extends Rec>(r: T): T => ({
      ...r, CreateIndex: r.CreateIndex === PENDING ? revision : r.CreateIndex, ModifyIndex: r.ModifyIndex === PENDING ? revision : r.ModifyIndex,
    });
    return this.results.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, fix(v as Rec)])) as CatalogResult);
  }
}

/** The names-map part of a namespace (none for the default one). */
function nsPart(ent: EnterpriseMeta | undefined): string {
  return isDefaultEnt(ent) ? '' : `${entKey(ent!)}\0`;
}

/** A catalog store key taken apart: its tenant (undefined: default), kind, node and record ID. */
function keyParts(key: string): { ent: EnterpriseMeta | undefined; kind: string; a: string; b: string } {
  const t = parseTenantKey(key);
  const [, kind, a, b] = (t ? t.inner : key).split('/').map(decodeURIComponent);
  return { ent: t?.ent, kind, a, b };
}

function casFails(existing: Rec | undefined, index: number): boolean {
  return (index === 0 && !!existing) || (index !== 0 && (!existing || existing.ModifyIndex !== index));
}

/** What one catalog op's verbs act on: the record `existing`, how to write and remove it. */
interface VerbTarget<K extends keyof CatalogResult> {
  /** The result member: `Node`, `Service` or `Check`. */
  kind: K;
  /** How Consul's error texts name the record (`"web" on node "n1"`). */
  where: string;
  existing: NonNullable<CatalogResult[K]> | undefined;
  /** The op's ModifyIndex, for the cas verbs. */
  modifyIndex: number;
  /** set and cas: writes the record and pushes the result, or returns an error text. */
  write: () => string | null;
  remove: () => void;
}

/** Consul's catalog txn verbs (get, set, cas, delete, delete-cas) over one record; returns Consul's error text or null. */
function runVerb<K extends keyof CatalogResult>(ov: CatalogTxnOverlay, verb: string, t: VerbTarget<K>): string | null {
  const noun = t.kind.toLowerCase();
  switch (verb) {
    case 'get':
      if (!t.existing) return `${noun} ${t.where} doesn't exist`;
      ov.results.push({ [t.kind]: t.existing });
      return null;
    case 'cas':
      if (casFails(t.existing, t.modifyIndex)) return `failed to set ${noun} ${t.where}, index is stale`;
      return t.write();
    case 'set':
      return t.write();
    case 'delete-cas':
      // A record that is not there fails too (Consul's delete*CASTxn return false for it), unlike KV's.
      if (!t.existing || t.existing.ModifyIndex !== t.modifyIndex) return `failed to delete ${noun} ${t.where}, index is stale`;
      t.remove();
      return null;
    case 'delete':
      t.remove();
      return null;
    default:
      return `unknown ${t.kind} verb ${JSON.stringify(verb)}`;
  }
}

/** Runs a Node op; returns Consul's error text or null. */
export function runNodeOp(ov: CatalogTxnOverlay, op: CatalogTxnOp, datacenter: string): string | null {
  const n = (typeof op.Node === 'object' && op.Node) || {};
  const name = n.Node ?? '';
  // Node ops act in the default partition only so far: one naming another must not write there what was meant elsewhere.
  const ap = (n as { Partition?: unknown }).Partition;
  if (typeof ap === 'string' && ap !== '' && ap.toLowerCase() !== DEFAULT_TENANCY_NAME) {
    return `Partition ${JSON.stringify(ap)}: Node operations in a transaction serve only the default partition yet`;
  }
  // Named case-insensitively; a get with an ID finds the node by ID, as Consul's getNode does.
  const stored = ov.nodeName(name);
  const key = nodeKey(stored);
  const remove = (node: string): void => {
    for (const k of ov.nodeChildren(node)) ov.delete(k);
    const existing = ov.get<Node>(nodeKey(node));
    if (existing) releaseNode(ov.guards, existing);
    ov.delete(nodeKey(node));
    ov.invalidateSessions(node);
  };
  return runVerb(ov, op.Verb, {
    kind: 'Node', where: JSON.stringify(name), modifyIndex: n.ModifyIndex ?? 0,
    existing: op.Verb === 'get' && n.ID ? ov.nodes.nodeById(n.ID) : ov.get<Node>(key),
    write: () => {
      const id = n.ID ?? '';
      const found = checkNodeId(ov.nodes, { ID: id, Node: name, Address: n.Address ?? '' });
      if (found.error) return found.error;
      // A renamed node gets this commit's CreateIndex, not Consul's kept one: no index is stored in a value (DESIGN.md §4).
      if (found.renames) remove(found.renames.Node);
      const existing = ov.get<Node>(key);
      claimNode(ov.guards, existing, stored, id);
      const rec = {
        ID: id, Node: stored, Address: n.Address ?? '', Datacenter: n.Datacenter || datacenter,
        TaggedAddresses: n.TaggedAddresses ?? null, Meta: n.Meta ?? null,
      };
      // A node that changes is stored as sent, in the op's spelling (Consul's ensureNodeTxn: IsSame
      // compares names with EqualFold); a case-only difference changes nothing. Its records follow.
      let at = stored;
      if (existing && name !== stored && !sameRecord(existing, rec)) {
        at = rec.Node = name;
        ov.delete(key);
        ov.respellChildren(stored, name);
      }
      ov.results.push({ Node: ov.put<Node>(nodeKey(at), rec) });
      ov.named('n', at);
      if (id) ov.named('i', at, id);
      return null;
    },
    remove: () => remove(stored),
  });
}

/** The partition an op acts in (folded; `default` when it names none). */
function partitionOf(ent: EnterpriseMeta | undefined): string {
  return ent === undefined ? DEFAULT_TENANCY_NAME : foldTenancyName(ent.partition);
}

/** The store key of node `node` of partition `ap`. */
function partitionNodeKey(ap: string, node: string): string {
  return ap === DEFAULT_TENANCY_NAME ? nodeKey(node) : tenantKey(partitionEnt(ap), nodeKey(node));
}

/** Consul's text for a write into a namespace that does not exist or is being deleted; null when writable. */
function unwritable(ov: CatalogTxnOverlay, verb: string, ent: EnterpriseMeta | undefined): string | null {
  if (ent === undefined || (verb !== 'set' && verb !== 'cas')) return null;
  try {
    writableEnt(ov.tenants, ent);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** A result in the op's namespace shows it, as Consul Enterprise's do; an op naming none shows none. */
function shown<T extends object>(rec: T, ent: EnterpriseMeta | undefined): T {
  return ent === undefined ? rec : withTenancy(rec, ent);
}

/** Runs a Service op; returns Consul's error text or null. */
export function runServiceOp(ov: CatalogTxnOverlay, op: CatalogTxnOp, datacenter: string): string | null {
  const given = typeof op.Node === 'string' ? op.Node : '';
  const s = op.Service ?? {};
  const ent = op.ent;
  const refused = unwritable(ov, op.Verb, ent);
  if (refused) return refused;
  const asked = s.ID || s.Service || '';
  const ap = partitionOf(ent);
  // Node (of the op's partition) and service ID named case-insensitively, as Consul's indexes match them.
  const node = ov.nodeName(given, ap);
  const id = ov.serviceId(node, asked, ent);
  const keyOf = (i: string): string => tenantKey(ent, serviceKey(node, i));
  const key = keyOf(id);
  const existing = ov.get<NodeService>(key);
  return runVerb(ov, op.Verb, {
    kind: 'Service', where: `${JSON.stringify(asked)} on node ${JSON.stringify(given)}`, existing: existing && shown(existing, ent), modifyIndex: s.ModifyIndex ?? 0,
    write: () => {
      if (!ov.get(partitionNodeKey(ap, node))) return 'Missing node registration';
      // The ID as the op spells it (a new spelling moves the instance, as Consul stores it).
      const rec = {
        ID: asked, Service: s.Service ?? asked, Tags: s.Tags ?? null, Address: s.Address ?? '', TaggedAddresses: s.TaggedAddresses ?? null,
        Meta: s.Meta ?? null, Port: s.Port ?? 0, Weights: s.Weights ?? { Passing: 1, Warning: 1 },
        EnableTagOverride: s.EnableTagOverride ?? false, Proxy: s.Proxy ?? { Mode: '', MeshGateway: {}, Expose: {} },
        Connect: s.Connect ?? {}, PeerName: '', Datacenter: datacenter,
      } as Omit<NodeService, 'CreateIndex' | 'ModifyIndex'>;
      // A mesh service carries its VIP, as catalog registrations do (catalog-write's tagVirtualIP).
      const target = virtualIPTarget(rec);
      if (target) {
        const address = ov.virtualIPs.address(ent, target, !existing);
        rec.TaggedAddresses = { ...rec.TaggedAddresses, [TAGGED_ADDRESS_VIRTUAL_IP]: { Address: address, Port: rec.Port } };
      }
      ov.results.push({ Service: shown(ov.write<NodeService>(keyOf, asked, id, rec), ent) });
      ov.named('s', node, asked, ent);
      return null;
    },
    remove: () => {
      ov.delete(key);
      if (!existing) return;
      // Its checks go with it, invalidating their sessions (Consul's deleteServiceTxn).
      const prefix = tenantKey(ent, checkKey(node, ''));
      for (const k of ov.nodeChildren(node, ap)) {
        const check = k.startsWith(prefix) ? ov.get<HealthCheck>(k) : undefined;
        if (!check || check.ServiceID === '' || foldName(check.ServiceID) !== foldName(existing.ID)) continue;
        ov.delete(k);
        ov.invalidateSessions(node, check.CheckID, ent);
      }
    },
  });
}

/** Runs a Check op; returns Consul's error text or null. */
export function runCheckOp(ov: CatalogTxnOverlay, op: CatalogTxnOp): string | null {
  const c = op.Check ?? {};
  const named = op.ent;
  const refused = c.ServiceID ? unwritable(ov, op.Verb, named) : null;
  if (refused) return refused;
  const given = c.Node ?? '';
  const asked = c.CheckID ?? '';
  const ap = partitionOf(named);
  const node = ov.nodeName(given, ap);
  // A service check lives in the op's namespace; a node check (no ServiceID, and none of that ID in
  // the namespace) is the partition's, as a registration's node checks are.
  const inNs = named !== undefined && (!!c.ServiceID || !!ov.get(tenantKey(named, checkKey(node, ov.checkId(node, asked, named)))));
  const ent = inNs ? named : ap === DEFAULT_TENANCY_NAME ? undefined : partitionEnt(ap);
  const id = ov.checkId(node, asked, ent);
  const keyOf = (i: string): string => tenantKey(ent, checkKey(node, i));
  const key = keyOf(id);
  const existing = ov.get<HealthCheck>(key);
  const show = (h: HealthCheck): HealthCheck => (named === undefined ? h : withTenancy(h, ent ?? DEFAULT_ENT));
  return runVerb(ov, op.Verb, {
    kind: 'Check', where: `${JSON.stringify(asked)} on node ${JSON.stringify(given)}`, existing: existing && show(existing), modifyIndex: c.ModifyIndex ?? 0,
    write: () => {
      if (!ov.get(partitionNodeKey(ap, node))) return 'Missing node registration';
      // The check's service named in any spelling; its ServiceID and CheckID stored as the op spells them, as Consul does.
      const svc = c.ServiceID ? ov.get<NodeService>(tenantKey(ent, serviceKey(node, ov.serviceId(node, c.ServiceID, ent)))) : undefined;
      if (c.ServiceID && !svc) return 'Missing service registration';
      if ((c.Status || 'critical') === 'critical' && existing?.Status !== 'critical') ov.invalidateSessions(node, asked, ent);
      ov.results.push({ Check: show(ov.write<HealthCheck>(keyOf, asked, id, {
        Node: node, CheckID: asked, Name: c.Name || asked, Status: c.Status || 'critical', Notes: c.Notes ?? '', Output: c.Output ?? '',
        ServiceID: c.ServiceID ?? '', ServiceName: svc?.Service ?? '', ServiceTags: svc?.Tags ?? [], Type: c.Type ?? '',
        Interval: c.Interval ?? '', Timeout: c.Timeout ?? '', ExposedPort: 0, Definition: c.Definition ?? {},
      })) });
      ov.named('c', node, asked, ent);
      return null;
    },
    remove: () => {
      ov.delete(key);
      ov.invalidateSessions(node, id, ent);
    },
  });
}
