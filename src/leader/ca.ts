// Leader duty at start-up: give the cluster its identity (cluster id) and, with Connect
// enabled, a built-in CA root, each written once with create-only compares so that
// concurrent leaders or restarts never produce two.
import { randomUUID } from 'node:crypto';
import { agentCASettings, generateRoot, type PrivateKeyType } from '../connect/index.ts';
import { encodeRecord } from '../state/index.ts';
import type { EndpointDeps } from '../endpoint/index.ts';

/** Store key of the cluster identity. */
export const CLUSTER_KEY = 'meta/cluster';
/** Store key naming the active root; its absence means "no CA yet". */
export const CA_ACTIVE_KEY = 'ca/active';

/** Ensures `meta/cluster` exists; returns the cluster id. */
export async function ensureClusterId(deps: EndpointDeps): Promise<string> {
  const existing = deps.replica.meta.get('cluster');
  if (existing) return existing.ClusterID;
  const id = randomUUID();
  const res = await deps.store.txn({
    compares: [{ key: CLUSTER_KEY, target: 'createRevision', op: '=', value: 0 }],
    success: [{ type: 'put', key: CLUSTER_KEY, value: encodeRecord({ ClusterID: id }) }],
  });
  await deps.replica.waitFor(res.revision);
  return deps.replica.meta.get('cluster')!.ClusterID;
}

/**
 * Ensures an active built-in CA root exists (Consul's consul provider at first leader start), made
 * with the configured key type, size and root TTL. A configuration Consul's provider refuses leaves
 * the CA uninitialized, as Consul's leader does (it logs and retries; here a restart with a fixed
 * configuration retries).
 */
export async function ensureCARoot(deps: EndpointDeps, clusterId: string, connect: { caProvider: string; caConfig: Record<string, unknown> }): Promise<void> {
  const ca = agentCASettings(connect);
  if (!ca.ok) {
    deps.logger.error({ error: `error configuring provider: ${ca.error}` }, 'Failed to initialize Connect CA');
    return;
  }
  if (deps.replica.caRoots.all().some((r) => r.Active)) return;
  const { root, privateKeyPem } = await generateRoot({
    clusterId, datacenter: deps.config.datacenter, clock: deps.clock,
    privateKeyType: ca.config.privateKeyType as PrivateKeyType, privateKeyBits: ca.config.privateKeyBits, rootCertTtlMs: ca.config.rootCertTtlMs,
  });
  const res = await deps.store.txn({
    compares: [{ key: CA_ACTIVE_KEY, target: 'createRevision', op: '=', value: 0 }],
    success: [
      { type: 'put', key: `ca/root/${root.ID}`, value: encodeRecord(root) },
      { type: 'put', key: `ca/key/${root.ID}`, value: Buffer.from(privateKeyPem) },
      { type: 'put', key: CA_ACTIVE_KEY, value: Buffer.from(root.ID) },
    ],
  });
  await deps.replica.waitFor(res.revision);
  deps.logger.info({ id: root.ID, trust_domain: `${clusterId}.consul` }, 'initialized built-in CA root');
}
