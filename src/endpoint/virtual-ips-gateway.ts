// Virtual IPs of the services a terminating gateway links (Consul's updateTerminatingGatewayVirtualIPs
// and getTermGatewayVirtualIPs): a terminating-gateway entry write gives each linked service a VIP,
// every instance of the gateway carries them as `consul-virtual:<service>` tagged addresses, and a
// link's removal frees the VIP when nothing else holds it. Planned into the entry's own txn.
import {
  catalogOf, configEntriesOf, configEntryStoreKey, foldName, foldTenancyName, serviceKey, tenantKey, DEFAULT_ENT, DEFAULT_TENANCY_NAME, type EnterpriseMeta,
} from '../state/index.ts';

/** An entry's body as written or stored. */
type EntryBody = Record<string, unknown>;
import type { NodeService, ServiceAddress } from '../api/catalog-types.ts';
import { pinRecord, type WritePlan } from './commit.ts';
import { put } from './catalog-write.ts';
import { TxnVirtualIPs } from './virtual-ips-txn.ts';
import type { EndpointDeps } from './deps.ts';

const KIND = 'terminating-gateway';
// TAGGED_ADDRESS_VIRTUAL_IP and a colon (a literal: virtual-ips.ts imports this module).
const PREFIX = 'consul-virtual:';

/** The names an entry links, as written (a wildcard `*` too: Consul gives it a VIP like any name). */
function linked(entry: EntryBody | undefined): string[] {
  const services = (entry as { Services?: Array<{ Name?: string }> } | undefined)?.Services ?? [];
  return services.map((s) => String(s.Name ?? ''));
}

/** The tagged address key of a linked service (Consul's ServiceGatewayVirtualIPTag: the name, tenancy-qualified outside default/default). */
export function gatewayVirtualIPTag(ent: EnterpriseMeta, name: string): string {
  const deflt = foldTenancyName(ent.partition) === DEFAULT_TENANCY_NAME && foldTenancyName(ent.namespace) === DEFAULT_TENANCY_NAME;
  return PREFIX + (deflt ? name : `${ent.partition}/${ent.namespace}/${name}`);
}

/** Plans the VIPs of the services `entry` links (in the gateway's tenancy) and returns them by tagged address key. */
export function planGatewayVirtualIPs(deps: EndpointDeps, plan: WritePlan, ent: EnterpriseMeta | undefined, entry: EntryBody | undefined): Map<string, ServiceAddress> {
  const e = ent ?? DEFAULT_ENT;
  const addrs = new Map<string, ServiceAddress>();
  // Several VIPs in one plan: the txn planner hands out distinct ones (each re-writes an existing row, against a concurrent free).
  const vips = new TxnVirtualIPs(deps);
  for (const name of linked(entry)) addrs.set(gatewayVirtualIPTag(e, name), { Address: vips.address(e, name, true), Port: 0 });
  const planned = vips.finish(() => true);
  plan.compares.push(...planned.compares);
  plan.ops.push(...planned.ops);
  return addrs;
}

/** A gateway instance's tagged addresses with its `consul-virtual:` ones replaced by `addrs`. */
export function withGatewayTags(tagged: Record<string, ServiceAddress> | null | undefined, addrs: Map<string, ServiceAddress>, keepOld: boolean): Record<string, ServiceAddress> {
  const out: Record<string, ServiceAddress> = {};
  for (const [k, v] of Object.entries(tagged ?? {})) if (keepOld || !k.startsWith(PREFIX)) out[k] = v;
  for (const [k, v] of addrs) out[k] = v;
  return out;
}

/**
 * Adds to a terminating-gateway entry write (`entry`) what it does to VIPs, when its linked services
 * change: each linked service's VIP, the gateway's instances re-tagged with them, and the VIPs of the
 * services it no longer links freed unless held (`free`, as virtual-ips.ts frees). The entry is pinned:
 * the removed links are those of the entry this plan saw.
 */
export function planGatewayEntryVirtualIPs(
  deps: EndpointDeps, plan: WritePlan, ent: EnterpriseMeta | undefined, name: string, entry: EntryBody,
  free: (plan: WritePlan, name: string, gateway: string) => void,
): void {
  const e = ent ?? DEFAULT_ENT;
  const cur = configEntriesOf(deps.replica, ent).get(KIND, name);
  const before = (cur as { Services?: unknown } | undefined)?.Services;
  if (cur && JSON.stringify(before ?? null) === JSON.stringify((entry as { Services?: unknown }).Services ?? null)) return;
  plan.compares.push(pinRecord(configEntryStoreKey(ent, KIND, name), cur));
  const addrs = planGatewayVirtualIPs(deps, plan, ent, entry);
  const cat = catalogOf(deps.replica, ent);
  for (const ref of cat.byName.get(foldName(name)) ?? []) {
    const [node, id] = ref.split('\0');
    const s = cat.services.get(node)?.get(id);
    if (!s) continue;
    const tagged = withGatewayTags(s.TaggedAddresses, addrs, false);
    if (JSON.stringify(tagged) === JSON.stringify(s.TaggedAddresses ?? {})) continue;
    const { CreateIndex: _c, ModifyIndex: _m, ...rest } = s as NodeService & { CreateIndex: number; ModifyIndex: number };
    const rec = { ...rest, TaggedAddresses: tagged, CreateIndex: 0 as const, ModifyIndex: 0 as const };
    put(plan, tenantKey(ent, serviceKey(node, id)), s as never, rec);
  }
  const kept = new Set(linked(entry).map((n) => gatewayVirtualIPTag(e, n)));
  for (const old of linked(cur)) {
    if (kept.has(gatewayVirtualIPTag(e, old)) || pinConnectInstance(plan, cat, ent, old)) continue;
    free(plan, old, name);
  }
}

/** Pins one proxy for (or native instance of) `name`, which keeps an unlinked service's VIP (Consul checks its connect index first); false for none. */
function pinConnectInstance(plan: WritePlan, cat: ReturnType<typeof catalogOf>, ent: EnterpriseMeta | undefined, name: string): boolean {
  for (const ref of cat.byConnect.get(foldName(name)) ?? []) {
    const [node, id] = ref.split('\0');
    const s = cat.services.get(node)?.get(id);
    if (!s) continue;
    plan.compares.push(pinRecord(tenantKey(ent, serviceKey(node, id)), s));
    return true;
  }
  return false;
}

/** The terminating-gateway entry, other than `exclude`'s, that links service `name`; undefined for none. */
export function linkingGateway(deps: EndpointDeps, ent: EnterpriseMeta | undefined, name: string, exclude: string): (EntryBody & { Name: string; ModifyIndex: number }) | undefined {
  const folded = foldName(name);
  const ex = foldName(exclude);
  return configEntriesOf(deps.replica, ent).list(KIND).find((g) => foldName(g.Name) !== ex && linked(g).some((n) => foldName(n) === folded));
}
