// The virtual IP tables (Consul's service-virtual-ips and free-virtual-ips): each mesh service's
// VIP from 240.0.0.0/4 (`vip/service/<ap>/<ns>/<folded name>[/<peer>]`, a peer's imported
// service apart from the local one of the same name), the IPs freed by services that
// went away (`vip/free/<offset>`), and the counter of the highest offset ever handed out (`vip/counter`).
import type { WatchEvent } from '../store/index.ts';
import { entKey, type EnterpriseMeta } from './tenancy.ts';

/** Store prefix of the virtual IP tables. */
export const VIP_PREFIX = 'vip/';
/** Notifier table of the virtual IPs (keys: `<ap>/<ns>/<folded name>`). */
export const VIRTUAL_IPS_TABLE = 'virtual-ips';
/** Store key of the counter. */
export const VIP_COUNTER_KEY = `${VIP_PREFIX}counter`;
/** The first address of the range: offsets are added to it (Consul's startingVirtualIP). */
const START = 240 << 24 >>> 0;
/** The offset the counter may not reach (Consul's virtualIPMaxOffset, 15.255.255.254). */
export const MAX_VIP_OFFSET = 0x0ffffffe;

/** A service's virtual IP as stored: the service as first named, its auto VIP's offset and its manual VIPs. */
export interface ServiceVirtualIPRecord {
  Service: string;
  Namespace: string;
  Partition: string;
  /** Offset from 240.0.0.0 (1 is 240.0.0.1). */
  Offset: number;
  ManualIPs: string[] | null;
  /** The peer an imported service came from (absent: a local service). */
  Peer?: string;
}

/** The counter as stored: the highest offset handed out. */
export interface VipCounterRecord {
  Offset: number;
}

/** A stored row with the store revisions it needs for compares. */
export type VipRow<T> = T & { CreateIndex: number; ModifyIndex: number };

/**
 * A service's row in the replica: its auto VIP's address precomputed, and ContentIndex, the
 * revision that last changed what it says (a re-write of the same content leaves it).
 */
export type VipServiceRow = VipRow<ServiceVirtualIPRecord> & { address: string; ContentIndex: number };

/** The notifier key of a row re-written unchanged: no reader watches it. */
const UNCHANGED = 'unchanged';

/** The id of a service's row: `<ap>/<ns>/<folded name>`, then `/<peer>` for an imported one, names URI-encoded. */
export function vipServiceId(ent: EnterpriseMeta, name: string, peer = ''): string {
  const id = `${entKey(ent)}/${encodeURIComponent(name.toLowerCase())}`;
  return peer ? `${id}/${encodeURIComponent(peer.toLowerCase())}` : id;
}

/** Store key of a service's virtual IP (`peer`: of the service imported from that peer). */
export const vipServiceKey = (ent: EnterpriseMeta, name: string, peer = ''): string => `${VIP_PREFIX}service/${vipServiceId(ent, name, peer)}`;

/** Store key of a freed offset (fixed-width hex, so keys sort as offsets do). */
export const vipFreeKey = (offset: number): string => `${VIP_PREFIX}free/${offset.toString(16).padStart(8, '0')}`;

/** The address of an offset: 240.0.0.0 plus it. */
export function vipAddress(offset: number): string {
  const n = (START + offset) >>> 0;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

const utf8 = new TextDecoder();

/** The virtual IP rows of the replica, with the auto VIP's address precomputed per service. */
export class VirtualIPsTable {
  readonly #services = new Map<string, VipServiceRow>();
  /** Freed offsets → the revision that freed them. */
  readonly #free = new Map<number, number>();
  #counter: VipRow<VipCounterRecord> | undefined;
  /** Highest revision that changed the table, deletes included. */
  index = 0;

  /** Applies one store event; returns the notifier key it changed. */
  apply(ev: WatchEvent): string {
    const rest = ev.kv.key.slice(VIP_PREFIX.length);
    const rev = ev.kv.modRevision;
    this.index = Math.max(this.index, rev);
    const put = ev.type === 'put';
    if (rest === 'counter') {
      this.#counter = put ? { ...(JSON.parse(utf8.decode(ev.kv.value)) as VipCounterRecord), CreateIndex: ev.kv.createRevision, ModifyIndex: rev } : undefined;
      return rest;
    }
    if (rest.startsWith('free/')) {
      const offset = parseInt(rest.slice('free/'.length), 16);
      if (put) this.#free.set(offset, rev);
      else this.#free.delete(offset);
      return rest;
    }
    const id = rest.slice('service/'.length);
    if (!put) {
      this.#services.delete(id);
      return id;
    }
    const rec = JSON.parse(utf8.decode(ev.kv.value)) as ServiceVirtualIPRecord;
    const prev = this.#services.get(id);
    // A new instance re-writes its VIP's row unchanged (against a concurrent free): nothing a
    // reader sees changed, so the row's watchers (discovery chains) are not woken.
    const same = prev !== undefined && sameContent(prev, rec);
    this.#services.set(id, { ...rec, CreateIndex: ev.kv.createRevision, ModifyIndex: rev, ContentIndex: same ? prev.ContentIndex : rev, address: vipAddress(rec.Offset) });
    return same ? UNCHANGED : id;
  }

  /** Empties the tables (before a re-list). */
  reset(): void {
    this.#services.clear();
    this.#free.clear();
    this.#counter = undefined;
    this.index = 0;
  }

  /** A service's row, its name matched case-insensitively (`peer`: the one imported from that peer). */
  service(ent: EnterpriseMeta, name: string, peer = ''): (VipServiceRow) | undefined {
    return this.#services.size === 0 ? undefined : this.#services.get(vipServiceId(ent, name, peer));
  }

  /** A service's auto VIP address, or undefined when it has none. */
  address(ent: EnterpriseMeta, name: string, peer = ''): string | undefined {
    return this.service(ent, name, peer)?.address;
  }

  /** The rows of the services imported from `peer` (any tenant). */
  ofPeer(peer: string): (VipServiceRow)[] {
    const out = [];
    for (const r of this.#services.values()) if (r.Peer && r.Peer.toLowerCase() === peer.toLowerCase()) out.push(r);
    return out;
  }

  /** The lowest freed offset and the revision of its row, or undefined when none is free. */
  lowestFree(): { offset: number; revision: number } | undefined {
    let best: number | undefined;
    for (const o of this.#free.keys()) if (best === undefined || o < best) best = o;
    return best === undefined ? undefined : { offset: best, revision: this.#free.get(best)! };
  }

  /** Every freed offset with the revision of its row, lowest first. */
  freeOffsets(): [offset: number, revision: number][] {
    return [...this.#free].sort((a, b) => a[0] - b[0]);
  }

  /** The counter row (undefined before the first VIP). */
  get counter(): VipRow<VipCounterRecord> | undefined {
    return this.#counter;
  }

  /** The rows of a partition holding `ip` among their manual VIPs. */
  withManualIP(partition: string, ip: string): (VipServiceRow)[] {
    const out = [];
    for (const r of this.#services.values()) {
      if (!r.Peer && r.Partition.toLowerCase() === partition.toLowerCase() && r.ManualIPs?.includes(ip)) out.push(r);
    }
    return out;
  }
}

/** Whether a stored row says the same as `rec`. */
function sameContent(a: ServiceVirtualIPRecord, b: ServiceVirtualIPRecord): boolean {
  const [x, y] = [a.ManualIPs ?? [], b.ManualIPs ?? []];
  return a.Service === b.Service && a.Namespace === b.Namespace && a.Partition === b.Partition && a.Offset === b.Offset
    && (a.Peer ?? '') === (b.Peer ?? '') && x.length === y.length && x.every((ip, i) => ip === y[i]);
}
