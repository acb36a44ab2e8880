// The per-tenant table handlers the replica routes `t/<ap>/<ns>/<inner>` events to, one line per
// table. Each tenancy slice adds its own line (single-line edits only): a tenant event whose
// inner prefix has no line here is ignored, as an older version ignores it.
import type { TenantHandler, TenantTables } from './tenancy-tables.ts';
import { kvTenantApplier } from './kvs-tenants.ts';
import { configEntriesTenantApplier, wildcardNamespaceTenantApplier } from './config-entries-tenants.ts';
import { peerImportsTenantApplier } from './peerings-tenants.ts';
import { coordinatesTenantApplier } from './coordinates-tenants.ts';

/** Makes a table's tenant handler from the replica's tenancy state. */
export type TenantApplierFactory = (tenants: TenantTables) => TenantHandler;

/** Every per-tenant handler, registered in this order. */
export const TENANT_APPLIERS: readonly TenantApplierFactory[] = [
  kvTenantApplier,
  configEntriesTenantApplier,
  wildcardNamespaceTenantApplier,
  peerImportsTenantApplier,
  coordinatesTenantApplier,
];
