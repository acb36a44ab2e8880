// Leader duty at start-up: give the cluster its identity (cluster id) and, with Connect
// enabled, its CA configuration and a built-in CA root, each written once with create-only compares so that
// concurrent leaders or restarts never produce two.
import { randomUUID } from 'node:crypto';
import { agentCAConfiguration, generateRoot, type PrivateKeyType } from '../connect/index.ts';
import { encodeRecord } from '../state/index.ts';
import { CA_CONFIG_KEY, type ConnectCAEndpoint, type EndpointDeps } from '../endpoint/index.ts';

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
 * Ensures the CA configuration is stored (the agent's connect stanza, on the first leader start:
 * Consul's initializeCAConfig), written create-only.
 */
export async function ensureCAConfig(deps: EndpointDeps, connect: { caProvider: string; caConfig: Record<string, unknown> }): Promise<void> {
  if (deps.replica.caConfig.get('current')) return;
  const { Provider, Config, State, ForceWithoutCrossSigning } = agentCAConfiguration(connect);
  const res = await deps.store.txn({
    compares: [{ key: CA_CONFIG_KEY, target: 'createRevision', op: '=', value: 0 }],
    success: [{ type: 'put', key: CA_CONFIG_KEY, value: encodeRecord({ Provider, Config, State, ForceWithoutCrossSigning }) }],
  });
  await deps.replica.waitFor(res.revision);
}

/**
 * Ensures an active built-in CA root exists (Consul's consul provider at first leader start), made
 * with the stored configuration's key type, size and root TTL. A configuration Consul's provider
 * refuses leaves the CA uninitialized, as Consul's leader does (there it retries; here a valid
 * PUT /v1/connect/ca/configuration, or a restart, initializes it).
 */
export async function ensureCARoot(deps: EndpointDeps, clusterId: string, ca: Pick<ConnectCAEndpoint, 'settings'>): Promise<void> {
  const settings = ca.settings();
  if (!settings.ok) {
    deps.logger.error({ error: `error configuring provider: ${settings.error}` }, 'Failed to initialize Connect CA');
    return;
  }
  if (deps.replica.caRoots.all().some((r) => r.Active)) return;
  const { root, privateKeyPem } = await generateRoot({
    clusterId, datacenter: deps.config.datacenter, clock: deps.clock,
    privateKeyType: settings.config.privateKeyType as PrivateKeyType, privateKeyBits: settings.config.privateKeyBits, rootCertTtlMs: settings.config.rootCertTtlMs,
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
