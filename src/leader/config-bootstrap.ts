// Leader duty at leadership start (Consul's bootstrapConfigEntries): the primary datacenter's
// leader writes each config_entries.bootstrap entry that does not exist yet; existing ones,
// whatever they now hold, are left alone.
import type { RuntimeConfig } from '../agent/config/runtime.ts';
import { decodeConfigEntry, takeEntryTenancy, type ConfigEntryEndpoint } from '../endpoint/config-entries.ts';
import { DEFAULT_TENANCY_NAME, configEntriesOf, configEntryEnt, isDefaultEnt, type EnterpriseMeta, type Replica } from '../state/index.ts';
import type { LeaderLoop } from './loops.ts';

/** What the duty needs. */
export interface ConfigBootstrapDeps {
  config: Pick<RuntimeConfig, 'datacenter' | 'primaryDatacenter' | 'connect' | 'configEntriesBootstrap'>;
  replica: Pick<Replica, 'configEntries' | 'tenants'>;
  entries: () => Pick<ConfigEntryEndpoint, 'apply'>;
}

/** Writes the absent bootstrap entries; throws Consul's texts (the leader retries the duty). */
export async function bootstrapConfigEntries(d: ConfigBootstrapDeps): Promise<void> {
  const { config } = d;
  // Only the primary datacenter bootstraps; secondaries get entries by replication.
  if (config.primaryDatacenter !== '' && config.primaryDatacenter !== config.datacenter) return;
  const entries = (config.configEntriesBootstrap ?? []).map((given) => {
    // An entry's own Namespace/Partition (Consul Enterprise) choose where it is written.
    const raw = given && typeof given === 'object' ? { ...given as Record<string, unknown> } : given;
    return { raw, ent: bootstrapEnt(takeEntryTenancy(raw)), e: decodeConfigEntry(raw) };
  });
  for (const { e } of entries) {
    if (e.Kind === 'service-intentions' && !config.connect.enabled) {
      throw new Error(`Refusing to apply configuration entry ${JSON.stringify(e.Kind)} / ${JSON.stringify(e.Name)} because Connect must be enabled to bootstrap intentions`);
    }
  }
  for (const { raw, ent, e } of entries) {
    const kind = String(e.Kind);
    const name = String(e.Name ?? '');
    const tenant = configEntryEnt(kind, ent);
    if (configEntriesOf(d.replica, tenant).get(kind, name)) continue;
    try {
      // CAS 0: written only while still absent, so a concurrent API write wins.
      await d.entries().apply(raw, 0, undefined, ent);
    } catch (err) {
      throw new Error(`Failed to apply configuration entry ${JSON.stringify(kind)} / ${JSON.stringify(name)}: ${(err as Error).message}`);
    }
  }
}

/** The tenant a bootstrap entry names (absent or empty: `default`); a missing namespace fails the write as an API write does. */
function bootstrapEnt(f: { namespace?: unknown; partition?: unknown }): EnterpriseMeta | undefined {
  const name = (v: unknown): string => (typeof v === 'string' && v !== '' ? v : DEFAULT_TENANCY_NAME);
  const ent = { namespace: name(f.namespace), partition: name(f.partition) };
  return isDefaultEnt(ent) ? undefined : ent;
}

/** The duty, run once each time this server becomes leader. */
export function configBootstrapDuty(d: ConfigBootstrapDeps): LeaderLoop {
  return { name: 'config-entries-bootstrap', start: () => bootstrapConfigEntries(d), stop: () => undefined };
}
