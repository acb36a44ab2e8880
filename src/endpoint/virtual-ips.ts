// Virtual IPs of mesh services, planned into the catalog's own txns (Consul's assignServiceVirtualIP
// and freeServiceVirtualIP): a connect-native service, or a connect proxy for its destination, gets
// the service's VIP from 240.0.0.0/4 (the lowest freed one first, else the next from the counter)
// and carries it as the `consul-virtual` tagged address; the last instance of a name going away
// frees its VIP unless a routing or intentions config entry still names it.
import { createRequire } from 'node:module';
import { InternalError } from '../errors.ts';
import {
  VIP_COUNTER_KEY, MAX_VIP_OFFSET, vipServiceKey, vipFreeKey, vipAddress, encodeRecord, catalogOf, configEntriesOf, configEntryStoreKey, foldName,
  serviceKey, tenantKey, DEFAULT_ENT, type EnterpriseMeta, type ServiceVirtualIPRecord,
} from '../state/index.ts';
import type { Compare } from '../store/index.ts';
import type { NodeService, ServiceAddress } from '../api/catalog-types.ts';
import { pinRecord, type WritePlan } from './commit.ts';
import type { EndpointDeps } from './deps.ts';

const require = createRequire(import.meta.url);
let gatewayModule: typeof import('./virtual-ips-gateway.ts') | undefined;
/** Terminating gateways' VIPs (virtual-ips-gateway.ts), loaded by the first write that involves one, not at start (issue #9). */
const gateways = () => gatewayModule ??= require('./virtual-ips-gateway.ts') as typeof import('./virtual-ips-gateway.ts');

/** The tagged address a mesh service's instances carry their VIP in (Consul's TaggedAddressVirtualIP). */
export const TAGGED_ADDRESS_VIRTUAL_IP = 'consul-virtual';

/** Config entry kinds whose entry keeps a service's VIP after its last instance (Consul's configEntryVIPKinds). */
export const KEEPING_KINDS = ['service-resolver', 'service-router', 'service-splitter', 'service-defaults', 'service-intentions'];

/** The service a registration's VIP is for: a connect proxy's destination, a native service itself; '' for none. */
export function virtualIPTarget(s: Pick<NodeService, 'Kind' | 'Service' | 'Proxy' | 'Connect'>): string {
  if (s.Kind === 'connect-proxy') return String(s.Proxy?.DestinationServiceName ?? '');
  return (s.Connect as { Native?: boolean } | undefined)?.Native ? s.Service : '';
}

/**
 * Plans the VIP of service `name` and returns its address: the one it has, else the lowest freed
 * offset, else the counter's next one. `touch`: a new instance re-writes an existing VIP's row, so
 * that a concurrent write freeing it (pinned to the row) re-plans instead of freeing a VIP in use.
 */
export function planVirtualIP(deps: EndpointDeps, plan: WritePlan, ent: EnterpriseMeta, name: string, touch: boolean): string {
  const t = deps.replica.virtualIPs;
  const key = vipServiceKey(ent, name);
  const have = t.service(ent, name);
  if (have) {
    plan.compares.push(pinRecord(key, have));
    if (touch) plan.ops.push({ type: 'put', key, value: encodeRecord(storedRow(have)) });
    return have.address;
  }
  let offset: number;
  const free = t.lowestFree();
  if (free) {
    offset = free.offset;
    plan.compares.push(pinRecord(vipFreeKey(offset), { ModifyIndex: free.revision }));
    plan.ops.push({ type: 'delete', key: vipFreeKey(offset) });
  } else {
    const counter = t.counter;
    offset = (counter?.Offset ?? 0) + 1;
    if (offset >= MAX_VIP_OFFSET) throw new InternalError('failed updating virtual IP: cannot allocate any more unique service virtual IPs');
    plan.compares.push(pinRecord(VIP_COUNTER_KEY, counter));
    plan.ops.push({ type: 'put', key: VIP_COUNTER_KEY, value: encodeRecord({ Offset: offset }) });
  }
  const row: ServiceVirtualIPRecord = { Service: name, Namespace: ent.namespace, Partition: ent.partition, Offset: offset, ManualIPs: null };
  plan.compares.push(pinRecord(key, undefined));
  plan.ops.push({ type: 'put', key, value: encodeRecord(row) });
  return vipAddress(offset);
}

/** A row as stored: without its indexes and the precomputed address. */
export function storedRow(r: ServiceVirtualIPRecord): ServiceVirtualIPRecord {
  return { Service: r.Service, Namespace: r.Namespace, Partition: r.Partition, Offset: r.Offset, ManualIPs: r.ManualIPs };
}

/**
 * Gives a registered mesh service its VIP as the `consul-virtual` tagged address (with the
 * instance's port), planning the VIP's assignment. `isNew`: no instance with this ID exists yet.
 */
export function tagVirtualIP(deps: EndpointDeps, plan: WritePlan, ent: EnterpriseMeta | undefined, service: NodeService, isNew: boolean): void {
  if (service.Kind === 'terminating-gateway') return tagGatewayVirtualIPs(deps, plan, ent, service);
  const target = virtualIPTarget(service);
  if (!target) return;
  const address = planVirtualIP(deps, plan, ent ?? DEFAULT_ENT, target, isNew);
  const tagged: Record<string, ServiceAddress> = { ...(service.TaggedAddresses ?? {}) };
  tagged[TAGGED_ADDRESS_VIRTUAL_IP] = { Address: address, Port: service.Port };
  service.TaggedAddresses = tagged;
}

/**
 * A terminating gateway's instance carries the VIPs of the services its entry links, as
 * `consul-virtual:<service>` tagged addresses (Consul's ensureServiceTxn), planning any not assigned
 * yet; the entry is pinned, so that a concurrent change of its links re-plans this registration.
 */
function tagGatewayVirtualIPs(deps: EndpointDeps, plan: WritePlan, ent: EnterpriseMeta | undefined, service: NodeService): void {
  const entry = configEntriesOf(deps.replica, ent).get('terminating-gateway', service.Service);
  if (!entry) return;
  plan.compares.push(pinRecord(configEntryStoreKey(ent, 'terminating-gateway', entry.Name), entry));
  const { planGatewayVirtualIPs, withGatewayTags } = gateways();
  service.TaggedAddresses = withGatewayTags(service.TaggedAddresses, planGatewayVirtualIPs(deps, plan, ent, entry), true);
}

/**
 * Frees the VIPs of the service names whose last instances `deleted` removes (Consul's
 * freeServiceVirtualIP after deleteServiceTxn): the row goes and its offset joins the freed ones,
 * unless a resolver, router, splitter, service-defaults or intentions entry still names the service.
 */
export function planFreeVirtualIPs(deps: EndpointDeps, plan: WritePlan, ent: EnterpriseMeta | undefined, deleted: readonly NodeService[]): void {
  const t = deps.replica.virtualIPs;
  if (deleted.length === 0) return;
  const e = ent ?? DEFAULT_ENT;
  // Folded name → a spelling of the names that have a VIP.
  const gone = new Map<string, string>();
  for (const s of deleted) if (t.service(e, s.Service)) gone.set(foldName(s.Service), s.Service);
  if (gone.size === 0) return;
  const removed = new Set(deleted);
  for (const [folded, name] of gone) freeUnused(deps, plan, ent, folded, name, removed, '');
}

/**
 * Frees a service's VIP when the plan leaves it unused: no instance stays but those in `removed`
 * (which the plan deletes), and no keeping config entry but one of `deletedKind` (which the plan
 * deletes) names it. A VIP kept is kept with a pin on what keeps it (one remaining instance, or the
 * entry): concurrent deletes that each see the other's instance or entry, and together leave
 * nothing, then conflict, and the one that re-plans frees the VIP, as one of Consul's serial applies would.
 */
function freeUnused(
  deps: EndpointDeps, plan: WritePlan, ent: EnterpriseMeta | undefined, folded: string, name: string, removed: ReadonlySet<NodeService>, deletedKind: string,
  exceptGateway = '',
): void {
  const e = ent ?? DEFAULT_ENT;
  const row = deps.replica.virtualIPs.service(e, name);
  if (!row || pinRemainingInstance(deps, plan, ent, folded, removed)) return;
  const entries = configEntriesOf(deps.replica, ent);
  const keeping = KEEPING_KINDS.find((kind) => kind !== deletedKind && entries.get(kind, name) !== undefined);
  if (keeping) {
    const entry = entries.get(keeping, name)!;
    plan.compares.push(pinRecord(configEntryStoreKey(ent, keeping, entry.Name), entry));
    return;
  }
  // A terminating gateway linking the service keeps it too (Consul's freeServiceVirtualIP).
  const gateway = gateways().linkingGateway(deps, ent, name, exceptGateway);
  if (gateway) {
    plan.compares.push(pinRecord(configEntryStoreKey(ent, 'terminating-gateway', gateway.Name), gateway));
    return;
  }
  const key = vipServiceKey(e, name);
  plan.compares.push(pinRecord(key, row), pinRecord(vipFreeKey(row.Offset), undefined));
  plan.ops.push({ type: 'delete', key }, { type: 'put', key: vipFreeKey(row.Offset), value: encodeRecord({}) });
}

/** How many of a name's first instances a kept VIP's pin is picked from. */
const PIN_SPREAD = 64;

/** Pins one instance of the name that the plan does not delete; false when none stays. */
function pinRemainingInstance(deps: EndpointDeps, plan: WritePlan, ent: EnterpriseMeta | undefined, folded: string, removed: ReadonlySet<NodeService>): boolean {
  const cat = catalogOf(deps.replica, ent);
  const refs = cat.byName.get(folded);
  if (!refs) return false;
  // Picked at random among the first few, so that concurrent deletes seldom pin the same one.
  let skip = Math.floor(Math.random() * Math.min(refs.size, PIN_SPREAD));
  let pin: Compare | undefined;
  for (const ref of refs) {
    const [node, id] = ref.split('\0');
    const s = cat.services.get(node)?.get(id);
    if (!s || removed.has(s)) continue;
    pin = pinRecord(tenantKey(ent, serviceKey(node, id)), s);
    if (skip-- <= 0) break;
  }
  if (pin) plan.compares.push(pin);
  return pin !== undefined;
}

/** Frees the VIPs of the services imported from `peer` of partition `partition` (its peering is being removed). */
export function planFreePeerVirtualIPs(deps: EndpointDeps, plan: WritePlan, peer: string, partition: string): void {
  for (const row of deps.replica.virtualIPs.ofPeer(peer)) {
    if (row.Partition.toLowerCase() !== partition.toLowerCase()) continue;
    const key = vipServiceKey({ partition: row.Partition, namespace: row.Namespace }, row.Service, peer);
    plan.compares.push(pinRecord(key, row), pinRecord(vipFreeKey(row.Offset), undefined));
    plan.ops.push({ type: 'delete', key }, { type: 'put', key: vipFreeKey(row.Offset), value: encodeRecord({}) });
  }
}

/** Config entry kinds whose write gives the service its VIP (Consul's ensureConfigEntryTxn). */
const ROUTING_KINDS = new Set(['service-resolver', 'service-router', 'service-splitter']);

/**
 * Adds to a config entry write's compares and ops what it does to VIPs: writing a resolver, router
 * or splitter gives the service its VIP; deleting one frees it when nothing else holds it (Consul's
 * deleteConfigEntryTxn); a terminating gateway's gives its linked services theirs (virtual-ips-gateway.ts).
 * `entry`: the entry written, null for a delete. Other kinds: `plan` unchanged. Returns `plan`.
 */
export function withEntryVirtualIP<P extends WritePlan>(
  deps: EndpointDeps, plan: P, kind: string, name: string, ent: EnterpriseMeta | undefined, entry: Record<string, unknown> | null,
): P {
  const deleting = entry === null;
  if (kind === 'terminating-gateway' && entry) {
    gateways().planGatewayEntryVirtualIPs(deps, plan, ent, name, entry, (p, svc, gateway) => freeUnused(deps, p, ent, foldName(svc), svc, new Set(), '', gateway));
    return plan;
  }
  if (!ROUTING_KINDS.has(kind) || name === '*') return plan;
  if (deleting) freeUnused(deps, plan, ent, foldName(name), name, new Set(), kind);
  // A new entry re-writes the VIP's row, as a new instance does, against a concurrent free.
  else planVirtualIP(deps, plan, ent ?? DEFAULT_ENT, name, true);
  return plan;
}
