// Leader duty at start-up: give the cluster its identity (cluster id) and, with Connect
// enabled, its CA configuration and a built-in CA root, each written once with create-only compares so that
// concurrent leaders or restarts never produce two.
import { randomUUID } from 'node:crypto';
import { agentCAConfiguration, generateRoot, RootCertError, type CommonCAConfig, type PrivateKeyType } from '../connect/index.ts';
import { InternalError } from '../errors.ts';
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

/** The key material of a `consul` provider configuration (`PrivateKey`, `RootCert`), matched ignoring case. */
export function configuredKeyMaterial(config: Record<string, unknown>): { privateKeyPem?: string; rootCertPem?: string } {
  const get = (name: string): string | undefined => {
    const v = Object.entries(config).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  return { privateKeyPem: get('PrivateKey'), rootCertPem: get('RootCert') };
}

/** Makes the root a configuration describes (the provider's GenerateRoot); errors carry Consul's prefix. */
export async function rootForConfig(deps: EndpointDeps, clusterId: string, settings: CommonCAConfig, config: Record<string, unknown>) {
  try {
    return await generateRoot({
      clusterId, datacenter: deps.config.datacenter, clock: deps.clock,
      privateKeyType: settings.privateKeyType as PrivateKeyType, privateKeyBits: settings.privateKeyBits, rootCertTtlMs: settings.rootCertTtlMs,
      ...configuredKeyMaterial(config),
    });
  } catch (err) {
    // Consul reads the root certificate after GenerateRoot returned, and answers its parse error as it is.
    if (err instanceof RootCertError) throw new InternalError(err.message, { cause: err });
    throw new InternalError(`error generating CA root certificate: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Ensures an active built-in CA root exists (Consul's consul provider at first leader start), made
 * with the stored configuration's key type, size and root TTL, or its PrivateKey and RootCert. A configuration Consul's provider
 * refuses leaves the CA uninitialized, as Consul's leader does (there it retries; here a valid
 * PUT /v1/connect/ca/configuration, or a restart, initializes it).
 */
export async function ensureCARoot(deps: EndpointDeps, clusterId: string, ca: Pick<ConnectCAEndpoint, 'settings' | 'current'>): Promise<void> {
  const settings = ca.settings();
  if (!settings.ok) {
    deps.logger.error({ error: `error configuring provider: ${settings.error}` }, 'Failed to initialize Connect CA');
    return;
  }
  if (deps.replica.caRoots.all().some((r) => r.Active)) return;
  let made;
  try {
    made = await rootForConfig(deps, clusterId, settings.config, ca.current().Config);
  } catch (err) {
    deps.logger.error({ error: (err as Error).message }, 'Failed to initialize Connect CA');
    return;
  }
  const { root, privateKeyPem } = made;
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
