// CA root rotation (Consul's primaryUpdateRootCA, consul provider): new key material makes a new
// root, cross-signed by the old one and made active in one transaction with the configuration;
// the old root stays listed (RotatedOutAt) until ca-prune.ts drops it, its key is dropped at once.
import { caSettings, goTime, type CARoot, type CommonCAConfig } from '../connect/index.ts';
import { InternalError } from '../errors.ts';
import type { Compare, Op } from '../store/index.ts';
import { encodeRecord, type CAConfigRecord } from '../state/index.ts';
import { CA_CONFIG_KEY, consistentRead, type EndpointDeps } from '../endpoint/index.ts';
import { CA_ACTIVE_KEY, rootForConfig } from './ca.ts';

/** Consul's text when the old CA cannot cross-sign and ForceWithoutCrossSigning is not set. */
export const CANNOT_CROSS_SIGN = 'The current CA Provider does not support cross-signing. '
  + 'You can try again with ForceWithoutCrossSigningSet but this may cause disruption - see documentation for more.';

/** Consul's text when the roots or the configuration changed between the read and the commit. */
const CONFLICT = 'could not atomically update roots and config';

/** What a rotation stores: the new configuration, the one it replaces (by index), and its settings. */
export interface RootRotation {
  config: CAConfigRecord;
  /** ModifyIndex of the configuration read before deciding to rotate (the CAS pin). */
  configIndex: number;
  settings: CommonCAConfig;
}

/**
 * Rotates to the root `r.config` describes and stores `r.config`, atomically; refused with
 * Consul's errors, and with 'could not atomically update roots and config' when the roots or the
 * configuration changed meanwhile.
 */
export async function rotateCARoot(deps: EndpointDeps, r: RootRotation): Promise<void> {
  const { replica, store, clock, logger } = deps;
  const log = logger.child({ sub: 'connect.ca' });
  const old = (replica.caRoots.all() as unknown as CARoot[]).find((x) => x.Active);
  if (!old) throw new InternalError('internal error: CA provider is nil');
  const clusterId = replica.meta.get('cluster')?.ClusterID ?? old.ExternalTrustDomain;
  const { root, privateKeyPem } = await rootForConfig(deps, clusterId, r.settings, r.config.Config);
  if (root.ID === old.ID) {
    // The same root (its RootCert configured again): only the configuration changes.
    await commit(deps, r, [], []);
    return;
  }
  root.IntermediateCerts = await crossSigned(deps, old, root, r.config.ForceWithoutCrossSigning);
  const now = clock.now();
  const retired: CARoot = { ...old, Active: false, RotatedOutAt: goTime(new Date(now)) };
  await commit(deps, r, [{ key: `ca/root/${old.ID}`, target: 'modRevision', op: '=', value: old.ModifyIndex }], [
    { type: 'put', key: `ca/root/${old.ID}`, value: encodeRecord(retired) },
    { type: 'put', key: `ca/root/${root.ID}`, value: encodeRecord(root) },
    { type: 'put', key: `ca/key/${root.ID}`, value: Buffer.from(privateKeyPem) },
    { type: 'put', key: CA_ACTIVE_KEY, value: Buffer.from(root.ID) },
    // The old key has signed its last certificate (the cross-signature): dropped now, as Consul's
    // provider Cleanup drops the old provider state.
    { type: 'delete', key: `ca/key/${old.ID}` },
  ]);
  log.info({ provider: r.config.Provider, old: old.ID, new: root.ID }, 'CA rotated to new root under provider');
}

/** The new root's IntermediateCerts: the old root's cross-signature, or none when forced without. */
async function crossSigned(deps: EndpointDeps, old: CARoot, root: CARoot, force: boolean): Promise<string[] | null> {
  const log = deps.logger.child({ sub: 'connect.ca' });
  // The provider being replaced decides whether it can cross-sign (Consul's SupportsCrossSigning).
  const current = deps.replica.caConfig.get('current');
  const replaced = current ? caSettings(current.Provider, current.Config) : undefined;
  if (replaced?.ok && replaced.config.disableCrossSigning && !force) throw new InternalError(CANNOT_CROSS_SIGN);
  if (force) {
    log.warn({}, 'ForceWithoutCrossSigning set, CA reconfiguration skipping cross-signing');
    return null;
  }
  // The old root's key is what signs; without it (a root stored by another provider) there is no cross-signing.
  const oldKey = await deps.store.get(`ca/key/${old.ID}`);
  if (!oldKey) {
    // The key also goes when another rotation retired the root meanwhile (this server's replica
    // had not seen it yet): that is the lost race the commit's compares would refuse.
    await consistentRead(deps);
    if (deps.replica.caRoots.get(old.ID)?.ModifyIndex !== old.ModifyIndex) throw new InternalError(CONFLICT);
    throw new InternalError(CANNOT_CROSS_SIGN);
  }
  const { crossSignCA } = await import('../connect/ca-cross-sign.ts');
  return [crossSignCA(root.RootCert, old.RootCert, Buffer.from(oldKey.value).toString('utf8'), deps.clock.now())];
}

async function commit(deps: EndpointDeps, r: RootRotation, compares: Compare[], ops: Op[]): Promise<void> {
  const res = await deps.store.txn({
    compares: [{ key: CA_CONFIG_KEY, target: 'modRevision', op: '=', value: r.configIndex }, ...compares],
    success: [...ops, { type: 'put', key: CA_CONFIG_KEY, value: encodeRecord(r.config) }],
  });
  if (!res.succeeded) throw new InternalError(CONFLICT);
  await deps.replica.waitFor(res.revision);
}
