// Virtual IPs of the catalog ops of one /v1/txn (Consul's txn runs ensureServiceTxn and
// deleteServiceTxn, which assign and free them): a VIP is handed out when a mesh service is
// written, from the replica's rows plus what this txn already handed out; frees are decided once
// every op ran, from what the txn leaves. Like the name guards, its compares and ops go last, one per key.
import { InternalError } from '../errors.ts';
import {
  VIP_COUNTER_KEY, MAX_VIP_OFFSET, vipServiceKey, vipFreeKey, vipAddress, encodeRecord, configEntriesOf, configEntryStoreKey,
  DEFAULT_ENT, type EnterpriseMeta, type ServiceVirtualIPRecord,
} from '../state/index.ts';
import type { Compare, Op } from '../store/index.ts';
import { pinRecord } from './commit.ts';
import { KEEPING_KINDS, storedRow } from './virtual-ips.ts';
import type { EndpointDeps } from './deps.ts';
import { linkingGateway } from './virtual-ips-gateway.ts';

type Row = ServiceVirtualIPRecord & { ModifyIndex: number };

/** The VIP changes of one transaction. */
export class TxnVirtualIPs {
  readonly #deps: EndpointDeps;
  /** Rows this txn creates, by store key. */
  readonly #created = new Map<string, ServiceVirtualIPRecord>();
  /** Existing rows it read (pinned), and whether a new instance re-writes them (see planVirtualIP's `touch`). */
  readonly #existing = new Map<string, { row: Row; touch: boolean }>();
  /** Freed offsets it takes. */
  readonly #taken = new Map<number, number>();
  #counter: number | undefined;
  /** Names whose instances it deleted: freed at the end if nothing holds them. */
  readonly #removed = new Map<string, { ent: EnterpriseMeta; name: string; peer: string }>();

  constructor(deps: EndpointDeps) {
    this.#deps = deps;
  }

  /**
   * The VIP address of service `name` for a mesh instance this txn writes (`isNew`: no instance
   * with its ID existed; `peer`: an instance imported from that peer).
   */
  address(ent: EnterpriseMeta | undefined, name: string, isNew: boolean, peer = ''): string {
    const e = ent ?? DEFAULT_ENT;
    const key = vipServiceKey(e, name, peer);
    const created = this.#created.get(key);
    if (created) return vipAddress(created.Offset);
    const t = this.#deps.replica.virtualIPs;
    const row = t.service(e, name, peer);
    if (row) {
      const seen = this.#existing.get(key);
      this.#existing.set(key, { row, touch: isNew || (seen?.touch ?? false) });
      return row.address;
    }
    const offset = this.#nextOffset();
    this.#created.set(key, { Service: name, Namespace: e.namespace, Partition: e.partition, Offset: offset, ManualIPs: null, ...(peer ? { Peer: peer } : {}) });
    return vipAddress(offset);
  }

  /** The lowest freed offset not yet taken, else the counter's next one. */
  #nextOffset(): number {
    const t = this.#deps.replica.virtualIPs;
    const free = t.freeOffsets().find(([o]) => !this.#taken.has(o));
    if (free) {
      this.#taken.set(free[0], free[1]);
      return free[0];
    }
    const next = (this.#counter ?? t.counter?.Offset ?? 0) + 1;
    if (next >= MAX_VIP_OFFSET) throw new InternalError('failed updating virtual IP: cannot allocate any more unique service virtual IPs');
    this.#counter = next;
    return next;
  }

  /** Notes a deleted instance of `name` (`peer`: one imported from that peer). */
  removed(ent: EnterpriseMeta | undefined, name: string, peer = ''): void {
    const e = ent ?? DEFAULT_ENT;
    this.#removed.set(vipServiceKey(e, name, peer), { ent: e, name, peer });
  }

  /**
   * The txn's VIP compares and ops; `hasInstances` tells whether a service name still has an
   * instance once every op ran, as the compare pinning one it leaves untouched or as true for one
   * it writes (the freed VIPs are those of names left with none and no keeping entry).
   */
  finish(hasInstances: (ent: EnterpriseMeta, name: string, peer: string) => Compare | boolean): { compares: Compare[]; ops: Op[] } {
    const compares: Compare[] = [];
    const ops: Op[] = [];
    const t = this.#deps.replica.virtualIPs;
    if (this.#counter !== undefined) {
      compares.push(pinRecord(VIP_COUNTER_KEY, t.counter));
      ops.push({ type: 'put', key: VIP_COUNTER_KEY, value: encodeRecord({ Offset: this.#counter }) });
    }
    for (const [offset, revision] of this.#taken) {
      compares.push(pinRecord(vipFreeKey(offset), { ModifyIndex: revision }));
      ops.push({ type: 'delete', key: vipFreeKey(offset) });
    }
    for (const [key, row] of this.#created) {
      compares.push(pinRecord(key, undefined));
      ops.push({ type: 'put', key, value: encodeRecord(row) });
    }
    for (const [key, { row, touch }] of this.#existing) {
      compares.push(pinRecord(key, row));
      if (touch) ops.push({ type: 'put', key, value: encodeRecord(storedRow(row)) });
    }
    for (const [key, { ent, name, peer }] of this.#removed) {
      const row = t.service(ent, name, peer);
      if (!row || this.#created.has(key) || this.#existing.has(key)) continue;
      // A VIP kept is pinned to what keeps it, as planFreeVirtualIPs does: concurrent deletes that
      // together leave it unused then conflict, and the one re-planned frees it.
      const held = hasInstances(ent, name, peer);
      if (held !== false) {
        if (held !== true) compares.push(held);
        continue;
      }
      const entries = configEntriesOf(this.#deps.replica, ent);
      const keeping = KEEPING_KINDS.find((kind) => entries.get(kind, name) !== undefined);
      if (keeping) {
        const entry = entries.get(keeping, name)!;
        compares.push(pinRecord(configEntryStoreKey(ent, keeping, entry.Name), entry));
        continue;
      }
      const gateway = peer ? undefined : linkingGateway(this.#deps, ent, name, '');
      if (gateway) {
        compares.push(pinRecord(configEntryStoreKey(ent, 'terminating-gateway', gateway.Name), gateway));
        continue;
      }
      compares.push(pinRecord(key, row), pinRecord(vipFreeKey(row.Offset), undefined));
      ops.push({ type: 'delete', key }, { type: 'put', key: vipFreeKey(row.Offset), value: encodeRecord({}) });
    }
    return { compares, ops };
  }
}
