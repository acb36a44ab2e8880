// Coordinates of admin partitions other than `default` (Consul Enterprise keeps coordinates per
// partition): a partition's are stored in its default namespace, `t/<ap>/default/coordinate/<node>/<segment>`,
// one CoordinatesTable per partition with its own notifier table (`coordinates@<ap>/default`). The
// default partition's stay `replica.coordinates`, keys and table byte for byte.
import { CoordinatesTable, COORDINATE_PREFIX, COORDINATES_TABLE, coordinateKey, coordinateNodePrefix } from './coordinates.ts';
import { PerTenant, type TenantHandler, type TenantTables } from './tenancy-tables.ts';
import { DEFAULT_TENANCY_NAME, foldTenancyName, partitionEnt, tenantKey, tenantTableName } from './tenancy.ts';

const byReplica = new WeakMap<TenantTables, PerTenant<CoordinatesTable>>();
/** An empty table standing for a partition with no coordinate (never written to). */
const EMPTY = new CoordinatesTable();

const isDefault = (partition: string | undefined): boolean => !partition || foldTenancyName(partition) === DEFAULT_TENANCY_NAME;

/** The tenant applier of partition coordinates (one line in tenant-appliers.ts). */
export function coordinatesTenantApplier(tenants: TenantTables): TenantHandler {
  // A deleted partition's emptied table goes when another partition's is made.
  const tables: PerTenant<CoordinatesTable> = new PerTenant<CoordinatesTable>(() => {
    tables.dropDeleted(tenants, (t) => t.size === 0);
    return new CoordinatesTable();
  });
  byReplica.set(tenants, tables);
  return {
    prefix: COORDINATE_PREFIX,
    apply: (ent, ev, out) => {
      // Partition-level: only a partition's default namespace holds them.
      if (foldTenancyName(ent.namespace) !== DEFAULT_TENANCY_NAME) return;
      const name = tenantTableName(COORDINATES_TABLE, ent);
      for (const [, key] of tables.of(ent).apply(ev)) out.push(name, key);
    },
    reset: () => tables.clear(),
  };
}

/** What the coordinate helpers need of the replica. */
export interface CoordinatesHolder {
  readonly coordinates: CoordinatesTable;
  readonly tenants: TenantTables;
}

/** The coordinates of a partition: the replica's own for the default partition (absent too). */
export function coordinatesOf(replica: CoordinatesHolder, partition: string | undefined): CoordinatesTable {
  if (isDefault(partition)) return replica.coordinates;
  return byReplica.get(replica.tenants)?.get(partitionEnt(partition!)) ?? EMPTY;
}

/** The notifier table of a partition's coordinates. */
export function coordinatesTableName(partition: string | undefined): string {
  return isDefault(partition) ? COORDINATES_TABLE : tenantTableName(COORDINATES_TABLE, partitionEnt(partition!));
}

/** Store key of a node's coordinate in a segment of a partition. */
export function partitionCoordinateKey(partition: string | undefined, node: string, segment: string): string {
  return isDefault(partition) ? coordinateKey(node, segment) : tenantKey(partitionEnt(partition!), coordinateKey(node, segment));
}

/** Store prefix of every coordinate of a node of a partition (deleted with the node). */
export function partitionCoordinateNodePrefix(partition: string | undefined, node: string): string {
  return isDefault(partition) ? coordinateNodePrefix(node) : tenantKey(partitionEnt(partition!), coordinateNodePrefix(node));
}
