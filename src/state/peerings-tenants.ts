// Peerings of admin partitions other than `default` (Consul Enterprise: peerings are
// partition-level, names unique per partition) and the services imported over them, which land in
// the exporter's namespace of the peering's partition. A partition's peering is stored at
// `t/<ap>/default/peering/<id>` and joins the replica's one peerings table (IDs are cluster-unique:
// the stream, secrets and status records find a peering by ID alone), with `Partition` set from
// the key, never stored. Imports of a tenant are `t/<ap>/<ns>/peerimport/<peer>/<svc>`, one
// PeerImportsTable per tenant (notifier table `peer-imports@<ap>/<ns>`). The default partition's
// peerings and default namespace's imports keep their keys and tables byte for byte.
import { PEERING_PREFIX, PEER_IMPORT_PREFIX, PEER_IMPORTS_TABLE, PeerImportsTable, peeringKey, type PeeringsTable } from './peerings.ts';
import { PerTenant, type TenantHandler, type TenantTables } from './tenancy-tables.ts';
import {
  DEFAULT_TENANCY_NAME, foldTenancyName, isDefaultEnt, partitionEnt, tenantKey, tenantTableName, type EnterpriseMeta,
} from './tenancy.ts';
import type { Changes } from './catalog.ts';

/** The partition of a peering record (absent: `default`), folded. */
export function peeringPartition(p: { Partition?: string }): string {
  return p.Partition ? foldTenancyName(p.Partition) : DEFAULT_TENANCY_NAME;
}

/** Store key of a peering of `partition` (absent or `default`: today's `peering/<id>`). */
export function peeringStoreKey(id: string, partition?: string): string {
  return partition ? tenantKey(partitionEnt(partition), peeringKey(id)) : peeringKey(id);
}

/** A peering record as stored: no indexes, no Partition (the key says it). */
export function storedPeering<T extends { Partition?: string; CreateIndex?: number; ModifyIndex?: number }>(p: T): Omit<T, 'Partition' | 'CreateIndex' | 'ModifyIndex'> {
  const { Partition: _p, CreateIndex: _c, ModifyIndex: _m, ...rest } = p;
  return rest;
}

/** The tenant handler feeding a partition's peerings into the shared table (registered by the Replica). */
export function peeringTenantApplier(peerings: PeeringsTable): TenantHandler {
  return {
    prefix: PEERING_PREFIX,
    apply: (ent, ev, out) => {
      // Peerings are partition-level: only a partition's default namespace holds them.
      if (foldTenancyName(ent.namespace) !== DEFAULT_TENANCY_NAME) return;
      const id = peerings.apply(ev);
      const rec = peerings.get(id);
      if (rec) rec.Partition = foldTenancyName(ent.partition);
      out.push(peerings.name, id);
    },
    reset: () => {},
  };
}

const byReplica = new WeakMap<TenantTables, PerTenant<PeerImportsTable>>();
/** An empty table standing for a tenant with no import (never written to). */
const EMPTY = new PeerImportsTable();

/** The tenant applier of imported services (one line in tenant-appliers.ts). */
export function peerImportsTenantApplier(tenants: TenantTables): TenantHandler {
  // A deleted namespace's emptied table goes when another tenant's is made.
  const tables: PerTenant<PeerImportsTable> = new PerTenant<PeerImportsTable>(() => {
    tables.dropDeleted(tenants, (t) => t.size === 0);
    return new PeerImportsTable();
  });
  byReplica.set(tenants, tables);
  return {
    prefix: PEER_IMPORT_PREFIX,
    apply: (ent, ev, out: Changes) => void out.push(tenantTableName(PEER_IMPORTS_TABLE, ent), tables.of(ent).apply(ev)),
    reset: () => tables.clear(),
  };
}

/** What the import helpers need of the replica. */
export interface PeerImportsHolder {
  readonly peerImports: PeerImportsTable;
  readonly tenants: TenantTables;
}

/** The imports of a tenant: the replica's own for the default tenant. */
export function peerImportsOf(replica: PeerImportsHolder, ent: EnterpriseMeta | undefined): PeerImportsTable {
  if (isDefaultEnt(ent)) return replica.peerImports;
  return byReplica.get(replica.tenants)?.get(ent!) ?? EMPTY;
}

/** Every tenant's imports table of one partition (the default namespace's first). */
export function partitionPeerImports(replica: PeerImportsHolder, partition: string): { ent: EnterpriseMeta | undefined; table: PeerImportsTable }[] {
  const ap = foldTenancyName(partition);
  const out: { ent: EnterpriseMeta | undefined; table: PeerImportsTable }[] = [];
  if (ap === DEFAULT_TENANCY_NAME) out.push({ ent: undefined, table: replica.peerImports });
  for (const e of byReplica.get(replica.tenants)?.entries() ?? []) if (e.ent.partition === ap) out.push(e);
  return out;
}
