// The Connect CA of a secondary datacenter (Consul's CAManager secondary path): no root of its own.
// The leader watches the primary's roots (a blocking read), and whenever the primary's active root
// is not the one stored here, or the intermediate is past half its life, it makes a new CA key and
// has the primary sign it as an intermediate (ConnectCA.SignIntermediate). The stored active root
// is then the primary's root (same ID and trust domain) with that intermediate appended to its
// IntermediateCerts and its key id as SigningKeyID; the intermediate's key signs this datacenter's
// leaves. A CA configuration written here asks for a new intermediate when its key settings change.
import { X509Certificate } from 'node:crypto';
import type { CARoot, CARootList, CASettings, CommonCAConfig } from '../connect/index.ts';
import { goTime, signingUri } from '../connect/index.ts';
import { InternalError } from '../errors.ts';
import type { Compare, Op } from '../store/index.ts';
import { encodeRecord, type CAConfigRecord } from '../state/index.ts';
import { CA_CONFIG_KEY, consistentRead, type EndpointDeps } from '../endpoint/index.ts';
import { CA_ACTIVE_KEY, CLUSTER_KEY, ensureCAConfig } from './ca.ts';
import type { LeaderLoop } from './loops.ts';
import type { RootRotation } from './ca-rotation.ts';

/** How the secondary reaches the primary datacenter's servers. */
export interface PrimaryCA {
  /** The primary's roots once their index passes `minIndex` (0: at once), blocking at most the server's wait. */
  roots(minIndex: number, signal?: AbortSignal): Promise<{ index: number; roots: CARootList }>;
  /** The primary's signature of an intermediate CSR (its PEM). */
  signIntermediate(csrPem: string): Promise<string>;
}

/** What the secondary CA works with. */
export interface SecondaryCADeps {
  deps: EndpointDeps;
  primary: PrimaryCA;
  primaryDatacenter: string;
  /** The stored CA configuration's common settings (key type and size of the intermediate). */
  settings: () => CASettings;
  /** The agent's connect stanza, stored as the configuration on the first leader start. */
  connect: { caProvider: string; caConfig: Record<string, unknown> };
  /** First delay after a failed replication round, doubled up to 30 s (default 1 s). */
  retryMs?: number;
}

const MAX_RETRY_MS = 30_000;

/** The secondary datacenter's CA: the leader's root watch and the configuration writes. */
export class SecondaryCA {
  readonly #d: SecondaryCADeps;
  /** One change of roots at a time on this server (Consul's CA state lock). */
  #queue: Promise<unknown> = Promise.resolve();
  #watch: AbortController | undefined;

  constructor(d: SecondaryCADeps) {
    this.#d = d;
  }

  /** The leader duty: store the configuration, then replicate the primary's roots while leading. */
  loop(): LeaderLoop {
    return {
      name: 'ca-secondary',
      start: async () => {
        this.#watch?.abort();
        await ensureCAConfig(this.#d.deps, this.#d.connect);
        const ctl = new AbortController();
        this.#watch = ctl;
        void this.#replicate(ctl.signal);
      },
      stop: () => {
        this.#watch?.abort();
        this.#watch = undefined;
      },
    };
  }

  /**
   * A configuration change whose key settings differ (the endpoint's rotation): a new intermediate
   * of those settings, stored with the configuration in one transaction.
   */
  async reconfigure(r: RootRotation): Promise<void> {
    try {
      const { roots } = await this.#d.primary.roots(0);
      await this.#serial(() => this.#update(roots, { config: r.config, configIndex: r.configIndex, settings: r.settings }));
    } catch (err) {
      throw new InternalError(`Error updating secondary datacenter CA config: ${(err as Error).message}`, { cause: err });
    }
    this.#d.deps.logger.child({ sub: 'connect.ca' }).info({}, 'Secondary CA provider config updated');
  }

  // Consul's secondaryCARootWatch: a blocking read of the primary's roots, retried with backoff.
  async #replicate(signal: AbortSignal): Promise<void> {
    const log = this.#d.deps.logger.child({ sub: 'connect.ca' });
    log.debug({ primary: this.#d.primaryDatacenter }, 'starting Connect CA root replication from primary datacenter');
    let index = 0;
    let retry = this.#d.retryMs ?? 1000;
    while (!signal.aborted) {
      try {
        const res = await this.#d.primary.roots(index, signal);
        if (signal.aborted) return;
        await this.#serial(() => this.#update(res.roots));
        // An index that went backwards (the primary restored a snapshot) starts over, as Consul's nextIndexVal.
        index = res.index < index ? 0 : res.index;
        retry = this.#d.retryMs ?? 1000;
      } catch (err) {
        if (signal.aborted) return;
        log.error({ error: (err as Error).message }, 'CA root replication failed, will retry');
        await this.#sleep(retry, signal);
        retry = Math.min(retry * 2, MAX_RETRY_MS);
      }
    }
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      // The listener goes with the timer: one per failed round on the leadership's signal leaked.
      const onAbort = (): void => { timer.cancel(); resolve(); };
      const timer = this.#d.deps.clock.setTimer(ms, () => { signal.removeEventListener('abort', onAbort); resolve(); });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  // Consul's secondaryInitializeIntermediateCA + persistNewRootAndConfig.
  async #update(primary: CARootList, change?: { config: CAConfigRecord; configIndex: number; settings: CommonCAConfig }): Promise<void> {
    const { deps } = this.#d;
    if (!primary.TrustDomain) throw new Error('trust domain from primary datacenter is not initialized');
    const active = primary.Roots.find((r) => r.ID === primary.ActiveRootID && r.Active);
    if (!active) throw new Error('primary datacenter does not have an active root CA for Connect');
    await consistentRead(deps);
    // The roots this change is decided on: it is stored only if they are still current when the
    // signature comes back (Consul's CAS on the roots index), else a change another server stored
    // meanwhile (a new key type, another leader's intermediate) would be overwritten.
    const seen = (await deps.store.get(CA_ACTIVE_KEY))?.modRevision ?? 0;
    const local = (deps.replica.caRoots.all() as unknown as CARoot[]).find((r) => r.Active);
    if (!change && local?.ID === active.ID && !(await this.#needsRenewal(local))) return;
    const settings = change?.settings ?? this.#commonSettings();
    const clusterId = primary.TrustDomain.split('.')[0];
    const { createIntermediateCsr, checkIntermediate } = await import('../connect/ca-intermediate.ts');
    const { csrPem, keyPem } = await createIntermediateCsr({ clusterId, privateKeyType: settings.privateKeyType, privateKeyBits: settings.privateKeyBits });
    const log = deps.logger.child({ sub: 'connect.ca' });
    let intermediate: string;
    try {
      intermediate = await this.#d.primary.signIntermediate(csrPem);
    } catch (err) {
      log.warn({ error: (err as Error).message }, 'Primary datacenter refused to sign our intermediate CA certificate');
      // Consul stores the primary's new root anyway and its provider keeps signing with the
      // intermediate it holds; so does this one (the old root stays listed, so those leaves verify).
      // Unlike Consul it also retries (the watch's backoff), as the old root will be pruned.
      if (!change && local && local.ID !== active.ID) await this.#carryOver(active, local, clusterId, seen);
      throw err;
    }
    let signingKeyId: string;
    try {
      signingKeyId = checkIntermediate(intermediate, keyPem, active.RootCert, signingUri(clusterId));
    } catch (err) {
      throw new Error(`Failed to set the intermediate certificate with the CA provider: ${(err as Error).message}`, { cause: err });
    }
    log.info({}, 'received new intermediate certificate from primary datacenter');
    const root: CARoot = {
      ...publicFields(active), IntermediateCerts: [...(active.IntermediateCerts ?? []), intermediate], SigningKeyID: signingKeyId, Active: true,
    };
    await this.#persist(root, keyPem, clusterId, local, seen, change);
    log.info({}, 'updated root certificates from primary datacenter');
  }

  // The primary's new root, stored active with the intermediate (and key) that signed under `local`.
  async #carryOver(active: CARoot, local: CARoot, clusterId: string, seen: number): Promise<void> {
    const { signingCert } = await import('../connect/leaf-cert.ts');
    const held = signingCert(local);
    const key = await this.#d.deps.store.get(`ca/key/${local.ID}`);
    if (held === local.RootCert || !key) return;
    const root: CARoot = {
      ...publicFields(active), IntermediateCerts: [...(active.IntermediateCerts ?? []), held], SigningKeyID: local.SigningKeyID, Active: true,
    };
    await this.#persist(root, Buffer.from(key.value).toString('utf8'), clusterId, local, seen);
    this.#d.deps.logger.child({ sub: 'connect.ca' }).info({}, 'updated root certificates from primary datacenter');
  }

  // The stored configuration's settings; the provider defaults when it refuses them.
  #commonSettings(): { privateKeyType: string; privateKeyBits: number } {
    const s = this.#d.settings();
    return s.ok ? s.config : { privateKeyType: 'ec', privateKeyBits: 256 };
  }

  // A root without an intermediate or its key, or an intermediate past half its life (Consul's RenewIntermediate).
  async #needsRenewal(local: CARoot): Promise<boolean> {
    const { signingCert } = await import('../connect/leaf-cert.ts');
    const inter = signingCert(local);
    if (inter === local.RootCert) return true;
    if (!(await this.#d.deps.store.get(`ca/key/${local.ID}`))) return true;
    const cert = new X509Certificate(inter);
    // An intermediate carried over from the previous root (its signing was refused).
    if (!cert.checkIssued(new X509Certificate(local.RootCert))) return true;
    const from = cert.validFromDate.getTime() + 60_000;
    const to = cert.validToDate.getTime();
    return this.#d.deps.clock.now() - from > (to - from) / 2;
  }

  async #persist(
    root: CARoot, keyPem: string, clusterId: string, local: CARoot | undefined, seen: number, change?: { config: CAConfigRecord; configIndex: number },
  ): Promise<void> {
    const { store, replica, clock } = this.#d.deps;
    const compares: Compare[] = [{ key: CA_ACTIVE_KEY, target: 'modRevision', op: '=', value: seen }];
    const ops: Op[] = [];
    if (local && local.ID !== root.ID) {
      const retired: CARoot = { ...local, Active: false, RotatedOutAt: goTime(new Date(clock.now())) };
      ops.push({ type: 'put', key: `ca/root/${local.ID}`, value: encodeRecord(retired) }, { type: 'delete', key: `ca/key/${local.ID}` });
    }
    ops.push(
      { type: 'put', key: `ca/root/${root.ID}`, value: encodeRecord(root) },
      { type: 'put', key: `ca/key/${root.ID}`, value: Buffer.from(keyPem) },
      { type: 'put', key: CA_ACTIVE_KEY, value: Buffer.from(root.ID) },
    );
    // The trust domain is the primary's (Consul stores the primary's cluster id in the secondary's CA configuration).
    if (replica.meta.get('cluster')?.ClusterID !== clusterId) ops.push({ type: 'put', key: CLUSTER_KEY, value: encodeRecord({ ClusterID: clusterId }) });
    if (change) {
      compares.push({ key: CA_CONFIG_KEY, target: 'modRevision', op: '=', value: change.configIndex });
      ops.push({ type: 'put', key: CA_CONFIG_KEY, value: encodeRecord(change.config) });
    }
    const res = await store.txn({ compares, success: ops });
    if (!res.succeeded) throw new Error('could not atomically update roots and config');
    await replica.waitFor(res.revision);
  }
}

// The fields a root record keeps (the primary's answer also carries its indexes).
function publicFields(r: CARoot): CARoot {
  return {
    ID: r.ID, Name: r.Name, SerialNumber: r.SerialNumber, SigningKeyID: r.SigningKeyID, ExternalTrustDomain: r.ExternalTrustDomain,
    NotBefore: r.NotBefore, NotAfter: r.NotAfter, RootCert: r.RootCert, IntermediateCerts: r.IntermediateCerts, Active: r.Active,
    PrivateKeyType: r.PrivateKeyType, PrivateKeyBits: r.PrivateKeyBits, CreateIndex: 0, ModifyIndex: 0,
  };
}
