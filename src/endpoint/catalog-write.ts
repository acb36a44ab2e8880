// Catalog writes (Consul's Catalog.Register/Deregister and ensureRegistrationTxn): validation
// with Consul's texts, records written only when they change, and the sessions tied to a
// check that turns critical or is removed, or to a removed node, invalidated in the same txn.
import { randomUUID } from 'node:crypto';
import { InternalError } from '../errors.ts';
import {
  encodeOwnedRecord, encodeRecord, nodeKey, serviceKey, checkKey, coordinateKey, coordinateNodePrefix, DEFAULT_PROXY, DEFAULT_WEIGHTS, EMPTY_OBJECT, NO_TAGS, foldName,
  sameId, sessionStoreKey, catalogOf, namespaceCatalogs, tenantKey, DEFAULT_TENANCY_NAME, type CatalogTables, type EnterpriseMeta,
} from '../state/index.ts';
import type { Node, NodeService, HealthCheck, Locality, RegisterRequest, DeregisterRequest } from '../api/catalog-types.ts';
import { pinRecord, type WritePlan } from './commit.ts';
import { planInvalidate } from './locks.ts';
import { checkNodeId, replicaNodes } from './catalog-node-id.ts';
import { Guards, nodeIdGuard, nodeNameGuard } from './name-guards.ts';
import { planFreeVirtualIPs, tagVirtualIP } from './virtual-ips.ts';
import type { EndpointDeps } from './deps.ts';

type Indexed = { CreateIndex: number; ModifyIndex: number };

/** True when two records are equal apart from their indexes (Consul's IsSame). */
export function sameRecord(a: object | undefined, b: object): boolean {
  if (!a) return false;
  // The same answer as comparing JSON.stringify of both without their indexes (same fields in the
  // same order, equal JSON values), field by field: no stripped copies and no whole-record strings.
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const n = jsonKeys(ra, keysA);
  if (jsonKeys(rb, keysB) !== n) return false;
  for (let i = 0; i < n; i++) {
    const k = keysA[i];
    if (k !== keysB[i]) return false;
    const x = ra[k];
    const y = rb[k];
    if (x !== y && JSON.stringify(x) !== JSON.stringify(y)) return false;
  }
  return true;
}

// Scratch key lists for sameRecord (it never re-enters): no two arrays per registration. Only the
// first jsonKeys() entries count; the lists are never shortened, so they never reallocate.
const keysA: string[] = [];
const keysB: string[] = [];

/** Writes the keys JSON.stringify writes for a record, in order, without the indexes, into `out`; returns how many. */
function jsonKeys(r: Record<string, unknown>, out: string[]): number {
  let n = 0;
  // for-in walks own keys in Object.keys order (inherited ones after: skipped) without a copy.
  for (const k in r) {
    if (k === 'CreateIndex' || k === 'ModifyIndex' || !Object.hasOwn(r, k)) continue;
    const v = r[k];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    out[n++] = k;
  }
  return n;
}

/**
 * Adds the invalidation of every session using `check` (or, with no check, every session of the
 * node). A session names its checks in any spelling session create accepted: they match
 * case-insensitively, as in Consul's lower-cased session_checks index. `ent`: the check's namespace
 * and partition (absent: default/default; a node check is its partition's default namespace's);
 * only sessions of that partition are touched (a node name is unique per partition only).
 */
export function invalidateSessions(deps: EndpointDeps, plan: WritePlan, node: string, checkId?: string, ent?: EnterpriseMeta): void {
  const folded = checkId === undefined ? '' : foldName(checkId);
  const names = (id: string): boolean => id === checkId || foldName(id) === folded;
  // A session names a service check with its namespace; node checks are the partition's (its default namespace's).
  const ns = ent === undefined ? DEFAULT_TENANCY_NAME : ent.namespace.toLowerCase();
  const ap = ent === undefined ? undefined : ent.partition.toLowerCase();
  // Sessions of the default partition carry no Partition.
  const partition = ap === DEFAULT_TENANCY_NAME ? undefined : ap;
  const nodeLevel = ns === DEFAULT_TENANCY_NAME;
  const inNs = (c: { Namespace?: string }): boolean => (c.Namespace ? c.Namespace.toLowerCase() : DEFAULT_TENANCY_NAME) === ns;
  for (const s of deps.replica.sessions.byNode(node)) {
    if (s.Partition !== partition) continue;
    const uses = checkId === undefined
      || (nodeLevel && (s.NodeChecks ?? []).some(names)) || (s.ServiceChecks ?? []).some((c) => names(c.ID) && inNs(c));
    if (!uses || plan.ops.some((o) => o.type === 'delete' && o.key === sessionStoreKey(s))) continue;
    const inv = planInvalidate(deps, s.ID);
    if (inv) {
      plan.compares.push(...inv.compares);
      plan.ops.push(...inv.ops);
    }
  }
}

/** A record as a write plans it: index placeholders last. */
export type Planned<T> = T & { CreateIndex: 0; ModifyIndex: 0 };

/**
 * A service instance record as the register endpoint stores it. Records are built whole, in their
 * JSON order, with the index placeholders last (the shape the replica keeps them in, see
 * encodeOwnedRecord) and Consul's defaults as the replica's shared copies.
 */
export function normalizeService(s: Partial<NodeService>, datacenter: string): Planned<NodeService> {
  const name = s.Service ?? '';
  if (!name) throw new InternalError(s.ID ? 'Must provide service name with ID' : 'Must provide service name');
  if (s.Address === '0.0.0.0' || s.Address === '::' || s.Address === '[::]') throw new InternalError('Invalid service address');
  const weights = s.Weights ?? DEFAULT_WEIGHTS as NodeService['Weights'];
  const proxy = s.Proxy ?? DEFAULT_PROXY as NodeService['Proxy'];
  const connect = s.Connect ?? EMPTY_OBJECT;
  const locality = givenLocality(s.Locality);
  if (!s.Kind && !s.SocketPath && !locality) {
    return {
      ID: s.ID || name, Service: name, Tags: s.Tags ?? null, Address: s.Address ?? '', TaggedAddresses: s.TaggedAddresses ?? null,
      Meta: s.Meta ?? null, Port: s.Port ?? 0, Weights: weights, EnableTagOverride: s.EnableTagOverride ?? false, Proxy: proxy,
      Connect: connect, PeerName: '', Datacenter: datacenter, CreateIndex: 0, ModifyIndex: 0,
    };
  }
  // Kind first, SocketPath after Port and Locality after EnableTagOverride (Consul's NodeService
  // field order), only when given: the same order, field by field.
  const out: Partial<Planned<NodeService>> = {};
  if (s.Kind) out.Kind = s.Kind;
  out.ID = s.ID || name;
  out.Service = name;
  out.Tags = s.Tags ?? null;
  out.Address = s.Address ?? '';
  out.TaggedAddresses = s.TaggedAddresses ?? null;
  out.Meta = s.Meta ?? null;
  out.Port = s.Port ?? 0;
  if (s.SocketPath) out.SocketPath = s.SocketPath;
  out.Weights = weights;
  out.EnableTagOverride = s.EnableTagOverride ?? false;
  if (locality) out.Locality = locality;
  out.Proxy = proxy;
  out.Connect = connect;
  out.PeerName = '';
  out.Datacenter = datacenter;
  out.CreateIndex = 0;
  out.ModifyIndex = 0;
  return out as Planned<NodeService>;
}

/** A locality with at least one part, as stored (Consul's omitempty parts); undefined for none or an empty one. */
function givenLocality(l: Locality | undefined): Locality | undefined {
  if (!l || (!l.Region && !l.Zone)) return undefined;
  return { ...(l.Region ? { Region: l.Region } : {}), ...(l.Zone ? { Zone: l.Zone } : {}) };
}

/** The node record a registration stores, in its JSON order: Locality (only when given) before the index placeholders. */
export function nodeRecord(req: RegisterRequest, id: string, name: string, datacenter: string): Planned<Node> {
  const locality = req.Locality ? givenLocality(req.Locality) : undefined;
  const tagged = req.TaggedAddresses ?? null;
  const meta = req.NodeMeta ?? null;
  if (!locality) {
    return { ID: id, Node: name, Address: req.Address, Datacenter: datacenter, TaggedAddresses: tagged, Meta: meta, CreateIndex: 0, ModifyIndex: 0 };
  }
  return {
    ID: id, Node: name, Address: req.Address, Datacenter: datacenter, TaggedAddresses: tagged, Meta: meta, Locality: locality,
    CreateIndex: 0, ModifyIndex: 0,
  };
}

/**
 * Where a registration's service and service checks go: a non-default namespace's tables and its
 * tenant-prefixed keys (node and node checks stay the partition's). Undefined: the default namespace.
 * Also the node-level scope of a partition other than default (catalog-partition.ts).
 */
export interface NsScope {
  ent: EnterpriseMeta;
  cat: CatalogTables;
  serviceKey: (node: string, id: string) => string;
  checkKey: (node: string, id: string) => string;
}

/** The namespace scope of a non-default tenant's catalog writes. */
export function nsScope(deps: EndpointDeps, ent: EnterpriseMeta): NsScope {
  return {
    ent, cat: catalogOf(deps.replica, ent),
    serviceKey: (node, id) => tenantKey(ent, serviceKey(node, id)),
    checkKey: (node, id) => tenantKey(ent, checkKey(node, id)),
  };
}

/**
 * Plans a catalog registration; throws Consul's errors for invalid input. `ent`: the namespace of
 * the service and its checks (absent: default); the node and node checks are partition-level.
 */
export function planRegister(deps: EndpointDeps, req: RegisterRequest, ent?: EnterpriseMeta): WritePlan {
  const cat = deps.replica.catalog;
  if (!req.Node) throw new InternalError('Must provide node');
  if (!req.Address && !req.SkipNodeUpdate) throw new InternalError('Must provide address if SkipNodeUpdate is not set');
  if (req.ID && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(req.ID)) {
    throw new InternalError(`Bad node ID: uuid string is wrong length`);
  }
  const plan: WritePlan = { compares: [], ops: [] };
  const guards = new Guards(deps.replica.appliedRevision);
  const existingNode = cat.node(req.Node);
  // Names that differ only in case name the same node, service and check (Consul's catalog
  // indexes are lower-cased): the records are read under the node's stored name.
  const at: NodeAt = { stored: existingNode?.Node ?? req.Node, name: existingNode?.Node ?? req.Node, moved: undefined };
  if (!req.SkipNodeUpdate) {
    // Only an ID the node does not already carry can clash (Consul checks it when the node changes).
    if (req.ID && req.ID !== existingNode?.ID) planNodeId(deps, plan, guards, req);
    claimNode(guards, existingNode, at.stored, req.ID);
    const node = nodeRecord(req, req.ID ?? existingNode?.ID ?? '', at.stored, req.Datacenter || deps.config.datacenter);
    // Agents re-register their node with every service: the key is only built for a change.
    // A node renamed by its ID gets this write's CreateIndex, not Consul's kept one: no index is stored in a value (DESIGN.md §4).
    if (!sameRecord(existingNode, node)) {
      // A case-only difference changes nothing (Consul's ChangesNode and IsSame compare names with
      // EqualFold), but a node that changes otherwise is stored as sent, in the request's spelling.
      if (existingNode && req.Node !== at.stored) respellNode(plan, at, node, req.Node, existingNode);
      else put(plan, nodeKey(at.name), existingNode, node);
    }
  } else if (!existingNode) throw new InternalError('Missing node registration');

  // Service and check IDs take the spelling of the latest registration, as Consul stores them.
  let service: Planned<NodeService> | undefined;
  const ns = ent === undefined ? undefined : nsScope(deps, ent);
  if (req.Service) {
    service = normalizeService(req.Service, req.Datacenter || deps.config.datacenter);
    const scat = ns === undefined ? cat : ns.cat;
    const storedId = scat.serviceId(at.stored, service.ID);
    const existing = scat.services.get(at.stored)?.get(storedId);
    tagVirtualIP(deps, plan, ent, service, existing === undefined);
    write(plan, at, ns === undefined ? serviceKey : ns.serviceKey, storedId, service.ID, existing, service);
  }
  if (req.Check) planCheck(deps, plan, at, req.Check, service, ns);
  for (const c of req.Checks ?? []) planCheck(deps, plan, at, c, service, ns);
  if (at.moved) moveNodeRecords(deps, plan, at);
  return guards.addTo(plan);
}

/**
 * Where a registration reads and writes its node's records: `stored` is the name the catalog holds
 * them under, `name` the one they are written under (the same unless the node is re-spelled);
 * `moved` holds the store keys of the records already moved to `name` while it is.
 */
export interface NodeAt {
  stored: string;
  name: string;
  moved: Set<string> | undefined;
}

/** Moves the node record to the key of its new spelling `name`; its services, checks and coordinates follow (moveNodeRecords). */
function respellNode(plan: WritePlan, at: NodeAt, node: Planned<Node>, name: string, existing: Node): void {
  const from = nodeKey(at.stored);
  plan.compares.push(pinRecord(from, existing));
  plan.ops.push({ type: 'delete', key: from });
  node.Node = at.name = name;
  // The moved node gets this write's CreateIndex, not Consul's kept one: no index is stored in a value (DESIGN.md §4).
  put(plan, nodeKey(name), undefined, node);
  at.moved = new Set();
}

/**
 * Moves the records of a re-spelled node that this registration did not write itself to the keys
 * of its new spelling, so that every record names the node as it is now stored: services, checks
 * (their Node field too) and coordinates. The name guard is the folded name: it stays claimed.
 */
function moveNodeRecords(deps: EndpointDeps, plan: WritePlan, at: NodeAt): void {
  const cat = deps.replica.catalog;
  const move = (from: string, to: string, existing: Indexed, rec: object): void => {
    if (at.moved?.has(from)) return;
    plan.compares.push(pinRecord(from, existing), pinRecord(to, undefined));
    plan.ops.push({ type: 'delete', key: from }, { type: 'put', key: to, value: encodeRecord(rec) });
  };
  for (const s of cat.services.get(at.stored)?.values() ?? []) move(serviceKey(at.stored, s.ID), serviceKey(at.name, s.ID), s, s);
  for (const c of cat.checks.get(at.stored)?.values() ?? []) {
    move(checkKey(at.stored, c.CheckID), checkKey(at.name, c.CheckID), c, { ...c, Node: at.name });
  }
  // The node's services and checks in other namespaces move with it.
  for (const { ent, table } of namespaceCatalogs(deps.replica, DEFAULT_TENANCY_NAME)) {
    const key = (keyOf: (n: string, id: string) => string, n: string, id: string): string => tenantKey(ent, keyOf(n, id));
    for (const s of table.services.get(at.stored)?.values() ?? []) move(key(serviceKey, at.stored, s.ID), key(serviceKey, at.name, s.ID), s, s);
    for (const c of table.checks.get(at.stored)?.values() ?? []) {
      move(key(checkKey, at.stored, c.CheckID), key(checkKey, at.name, c.CheckID), c, { ...c, Node: at.name });
    }
  }
  const coordinates = deps.replica.coordinates.node(at.stored);
  if (coordinates.length === 0) return;
  // Deleted before they are put again: the coordinates table keys them by the folded name.
  plan.ops.push({ type: 'deletePrefix', prefix: coordinateNodePrefix(at.stored) });
  for (const e of coordinates) {
    plan.ops.push({ type: 'put', key: coordinateKey(at.name, e.Segment), value: Buffer.from(JSON.stringify({ ...e, Node: at.name })) });
  }
}

/**
 * Claims what a node write takes: the name of a node it creates and an ID the node did not
 * carry, so that concurrent writes creating one node under two spellings, or giving one ID to two
 * nodes, cannot both commit. Writes to an existing node with its own ID are pinned by its record.
 */
export function claimNode(guards: Guards, existing: Node | undefined, name: string, id: string | undefined): void {
  if (!existing) guards.claim(nodeNameGuard(name));
  if (!id || id === existing?.ID || id.toLowerCase() === (existing?.ID ?? '').toLowerCase()) return;
  if (existing?.ID) guards.release(nodeIdGuard(existing.ID));
  guards.claim(nodeIdGuard(id));
}

/** Releases the name and ID guards of a node being deleted. */
export function releaseNode(guards: Guards, node: Node): void {
  guards.release(nodeNameGuard(node.Node));
  if (node.ID) guards.release(nodeIdGuard(node.ID));
}

/** Refuses a node ID or name another node holds, with Consul's text; a node renamed by its ID is deleted first. */
function planNodeId(deps: EndpointDeps, plan: WritePlan, guards: Guards, req: RegisterRequest): void {
  const found = checkNodeId(replicaNodes(deps.replica.catalog), { ID: req.ID ?? '', Node: req.Node, Address: req.Address });
  if (found.error) throw new InternalError(`failed inserting node: ${found.error}`);
  // The renamed node's services may be registered again by this very write: their VIPs are kept.
  if (found.renames) deregisterInto(deps, plan, guards, { Node: found.renames.Node }, false);
}

/**
 * Writes a planned service or check unless unchanged (keys are built only for a write). One the
 * catalog holds as `storedId` under `at.stored` moves to the key of `id` under `at.name` when
 * either differs: its ID spelled in another case (Consul's ensureServiceTxn and ensureCheckTxn
 * find it case-insensitively but compare IDs exactly, so they store the ID as last registered),
 * or its node re-spelled.
 */
export function write(
  plan: WritePlan, at: NodeAt, keyOf: (node: string, id: string) => string, storedId: string, id: string,
  existing: Indexed | undefined, rec: Planned<object>,
): void {
  if (existing && (id !== storedId || at.name !== at.stored)) {
    const from = keyOf(at.stored, storedId);
    plan.compares.push(pinRecord(from, existing));
    plan.ops.push({ type: 'delete', key: from });
    at.moved?.add(from);
    // The moved record gets this write's CreateIndex, not Consul's kept one: no index is stored in a value (DESIGN.md §4).
    put(plan, keyOf(at.name, id), undefined, rec);
    return;
  }
  if (!sameRecord(existing, rec)) put(plan, keyOf(at.name, id), existing, rec);
}

/** Adds the put of a planned record, pinned to the record it replaces (or to its absence). */
export function put(plan: WritePlan, key: string, existing: Indexed | undefined, rec: Planned<object>): void {
  plan.compares.push(pinRecord(key, existing));
  plan.ops.push({ type: 'put', key, value: encodeOwnedRecord(rec) });
}

/**
 * Adds a check's write. `nsGiven`: the scope of a service check (absent: the default namespace);
 * `nodeScope`: the scope of a node check in a partition other than default (absent: the default
 * partition). A check turning critical invalidates the sessions of its partition tied to it.
 */
export function planCheck(
  deps: EndpointDeps, plan: WritePlan, at: NodeAt, c: Partial<HealthCheck>,
  service: Planned<NodeService> | undefined, nsGiven: NsScope | undefined, nodeScope?: NsScope,
): void {
  // Node checks are partition-level: only a service check goes into the namespace.
  const ns = c.ServiceID ? nsGiven : nodeScope;
  const cat = ns === undefined ? deps.replica.catalog : ns.cat;
  const node = at.stored;
  const given = c.CheckID || c.Name || '';
  if (!given) throw new InternalError('Must provide a CheckID or Name');
  if (c.Node && c.Node !== node && foldName(c.Node) !== foldName(node)) {
    throw new InternalError(`Check node ${JSON.stringify(c.Node)} does not match registration node ${JSON.stringify(node)}`);
  }
  const id = given;
  const storedId = cat.checkId(node, given);
  // The check's service, named case-insensitively: the one in this request, else one on the node.
  // Its ServiceID is stored as given, as Consul does (reads match it case-insensitively).
  const asked = c.ServiceID ?? '';
  const inRequest = service !== undefined && asked !== '' && sameId(service.ID, asked);
  const svc = !asked ? undefined : inRequest ? service : cat.services.get(node)?.get(cat.serviceId(node, asked));
  if (asked && !svc) throw new InternalError('Missing service registration');
  const existing = cat.checks.get(node)?.get(storedId);
  const check: Planned<HealthCheck> = {
    Node: at.name, CheckID: id, Name: c.Name || id, Status: c.Status || 'critical', Notes: c.Notes ?? '',
    Output: c.Output ?? '', ServiceID: asked, ServiceName: svc?.Service ?? '', ServiceTags: svc?.Tags ?? NO_TAGS as string[],
    Type: c.Type ?? '', Interval: c.Interval ?? '', Timeout: c.Timeout ?? '', ExposedPort: c.ExposedPort ?? 0,
    Definition: c.Definition ?? EMPTY_OBJECT as HealthCheck['Definition'], CreateIndex: 0, ModifyIndex: 0,
  };
  write(plan, at, ns === undefined ? checkKey : ns.checkKey, storedId, id, existing, check);
  if (check.Status === 'critical' && existing?.Status !== 'critical') invalidateSessions(deps, plan, node, id, ns?.ent);
}

/**
 * Plans a deregistration of a check, a service (with its checks) or a whole node (with its
 * services and checks in every namespace). `ent`: the namespace of the service or check (absent: default).
 */
export function planDeregister(deps: EndpointDeps, req: DeregisterRequest, ent?: EnterpriseMeta): WritePlan {
  const guards = new Guards(deps.replica.appliedRevision);
  if (ent !== undefined && (req.ServiceID || req.CheckID)) return guards.addTo(deregisterInNamespace(deps, req, nsScope(deps, ent)));
  return guards.addTo(deregisterInto(deps, { compares: [], ops: [] }, guards, req));
}

/** A service (with its checks) or a check of a non-default namespace; a node check named there is the partition's (node checks are). */
function deregisterInNamespace(deps: EndpointDeps, req: DeregisterRequest, ns: NsScope): WritePlan {
  if (!req.Node) throw new InternalError('Must provide node');
  const plan: WritePlan = { compares: [], ops: [] };
  const cat = ns.cat;
  const node = cat.nodeName(req.Node);
  const del = (key: string, existing: Indexed | undefined): void => {
    if (!existing) return;
    plan.compares.push(pinRecord(key, existing));
    plan.ops.push({ type: 'delete', key });
  };
  if (req.CheckID) {
    const checkId = cat.checkId(node, req.CheckID);
    const check = cat.checks.get(node)?.get(checkId);
    if (!check) {
      const partitionCheck = deps.replica.catalog.checks.get(node)?.get(deps.replica.catalog.checkId(node, req.CheckID));
      if (partitionCheck?.ServiceID === '') return deregisterInto(deps, plan, new Guards(deps.replica.appliedRevision), { Node: req.Node, CheckID: req.CheckID });
      return plan;
    }
    del(ns.checkKey(node, checkId), check);
    invalidateSessions(deps, plan, node, checkId, ns.ent);
    return plan;
  }
  const serviceId = cat.serviceId(node, req.ServiceID!);
  const service = cat.services.get(node)?.get(serviceId);
  del(ns.serviceKey(node, serviceId), service);
  if (service) planFreeVirtualIPs(deps, plan, ns.ent, [service]);
  for (const c of cat.nodeChecks(node)) {
    if (c.ServiceID === '' || !sameId(c.ServiceID, serviceId)) continue;
    del(ns.checkKey(node, c.CheckID), c);
    invalidateSessions(deps, plan, node, c.CheckID, ns.ent);
  }
  return plan;
}

/** Adds a deregistration to `plan`, its released guards to `guards`; `freeVips`: free the VIPs of services left without instances. */
function deregisterInto(deps: EndpointDeps, plan: WritePlan, guards: Guards, req: DeregisterRequest, freeVips = true): WritePlan {
  if (!req.Node) throw new InternalError('Must provide node');
  const cat = deps.replica.catalog;
  // Node, service and check named case-insensitively (their stored spelling), as Consul matches them.
  const node = cat.nodeName(req.Node);
  const checkId = req.CheckID && cat.checkId(node, req.CheckID);
  const serviceId = req.ServiceID && cat.serviceId(node, req.ServiceID);
  const del = (key: string, existing: Indexed | undefined): void => {
    if (!existing) return;
    plan.compares.push(pinRecord(key, existing));
    plan.ops.push({ type: 'delete', key });
  };
  const checksOf = (sid?: string) => cat.nodeChecks(node).filter((c) => sid === undefined || (c.ServiceID !== '' && sameId(c.ServiceID, sid)));
  if (checkId) {
    del(checkKey(node, checkId), cat.checks.get(node)?.get(checkId));
    invalidateSessions(deps, plan, node, checkId);
  } else if (serviceId) {
    const service = cat.services.get(node)?.get(serviceId);
    del(serviceKey(node, serviceId), service);
    if (service && freeVips) planFreeVirtualIPs(deps, plan, undefined, [service]);
    for (const c of checksOf(serviceId)) {
      del(checkKey(node, c.CheckID), c);
      invalidateSessions(deps, plan, node, c.CheckID);
    }
  } else {
    const existing = cat.nodes.get(node);
    del(nodeKey(node), existing);
    if (existing) releaseNode(guards, existing);
    const services = [...cat.services.get(node)?.values() ?? []];
    for (const s of services) del(serviceKey(node, s.ID), s);
    if (freeVips) planFreeVirtualIPs(deps, plan, undefined, services);
    for (const c of checksOf()) del(checkKey(node, c.CheckID), c);
    // Its services and checks in every other namespace go with it.
    for (const { ent, table } of namespaceCatalogs(deps.replica, DEFAULT_TENANCY_NAME)) {
      const inNs = [...table.services.get(node)?.values() ?? []];
      for (const s of inNs) del(tenantKey(ent, serviceKey(node, s.ID)), s);
      if (freeVips) planFreeVirtualIPs(deps, plan, ent, inNs);
      for (const c of table.checks.get(node)?.values() ?? []) del(tenantKey(ent, checkKey(node, c.CheckID)), c);
    }
    // A node's coordinates go with it (Consul's deleteNodeTxn).
    if (cat.nodes.has(node) && deps.replica.coordinates.node(node).length > 0) {
      plan.ops.push({ type: 'deletePrefix', prefix: coordinateNodePrefix(node) });
    }
    invalidateSessions(deps, plan, node);
  }
  return plan;
}

/** A node ID for registrations that carry none (agents send their own). */
export function newNodeId(): string {
  return randomUUID();
}
