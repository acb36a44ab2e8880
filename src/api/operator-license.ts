// The licence document of GET /v1/operator/license (Consul Enterprise's api.LicenseReply) and the
// one Proconsul serves: it needs no licence, so every agent answers with the same open licence,
// valid from the Unix epoch and never expiring, listing the Enterprise features it implements.
import type { ConsulClient, QueryOptions } from './client.ts';

/** Consul's api.License (snake_case JSON, as Consul Enterprise writes it). */
export interface License {
  license_id: string;
  customer_id: string;
  installation_id: string;
  issue_time: string;
  start_time: string;
  expiration_time: string;
  termination_time: string;
  product: string;
  flags: Record<string, unknown>;
  modules: string[];
  features: string[];
  temporary: boolean;
}

/** Consul's api.LicenseReply. */
export interface LicenseReply {
  Valid: boolean;
  License: License;
  Warnings: string[];
}

/**
 * Consul Enterprise feature names (as its licences spell them, in their order) that Proconsul
 * implements in the open. Network Segments and Advanced Network Federation (network areas) are not
 * implemented; Namespaces and Admin Partitions join the list when they land.
 */
export const OPEN_FEATURES: readonly string[] = [
  'Automated Backups', 'Automated Upgrades', 'Enhanced Read Scalability', 'Redundancy Zone', 'SSO', 'Audit Logging',
];

/** The open licence every Proconsul agent reports: valid, permanent, no customer. */
export function openLicense(): LicenseReply {
  const nil = '00000000-0000-0000-0000-000000000000';
  return {
    Valid: true,
    License: {
      license_id: nil, customer_id: nil, installation_id: '*',
      issue_time: '1970-01-01T00:00:00Z', start_time: '1970-01-01T00:00:00Z',
      expiration_time: '9999-12-31T23:59:59Z', termination_time: '9999-12-31T23:59:59Z',
      product: 'consul', flags: { package: 'open' }, modules: [], features: [...OPEN_FEATURES], temporary: false,
    },
    Warnings: [],
  };
}

/** GET /v1/operator/license. */
export async function licenseGet(c: ConsulClient, options?: QueryOptions): Promise<LicenseReply> {
  return (await c.json<LicenseReply>({ method: 'GET', path: '/v1/operator/license', options })).data;
}

