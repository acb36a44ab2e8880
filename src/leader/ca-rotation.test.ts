// CA root rotation and pruning on one server's store and replica, with a manual clock: the new
// root becomes active with the old root's cross-signature, the old one stays listed with its
// RotatedOutAt until the pruning duty drops it (and its key) once twice the leaf TTL has passed.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { setImmediate as tick } from 'node:timers/promises';
import { test } from 'node:test';
import { ManualClock } from '../clock.ts';
import type { CARoot } from '../connect/index.ts';
import { ConnectCAEndpoint, soloLeadership, type EndpointDeps } from '../endpoint/index.ts';
import { ConnectCASignEndpoint } from '../endpoint/connect-ca-sign.ts';
import { serviceUri } from '../connect/index.ts';
import { createCsr } from '../connect/csr.ts';
import { silentLogger } from '../log.ts';
import { Replica } from '../state/index.ts';
import { MemoryStore, type Store, type WatchBatch, type WatchHandlers } from '../store/index.ts';
import { ensureCAConfig, ensureCARoot, ensureClusterId } from './ca.ts';
import { caRootPruning, CA_ROOT_PRUNE_INTERVAL_MS } from './ca-prune.ts';
import { CANNOT_CROSS_SIGN, rotateCARoot } from './ca-rotation.ts';

const HOUR = 3_600_000;

async function setup() {
  const clock = new ManualClock(Date.now());
  const store = new MemoryStore({ clock });
  await store.open();
  const logger = silentLogger();
  const replica = new Replica({ store, clock, logger });
  await replica.start();
  const deps: EndpointDeps = {
    store, replica, clock, logger, leadership: soloLeadership('127.0.0.1:8300'), random: Math.random,
    config: { datacenter: 'dc1', nodeName: 'n1', kvMaxValueSize: 512 * 1024, txnMaxReqLen: 512 * 1024, defaultQueryTime: 300_000, maxQueryTime: 600_000, sessionTtlMin: 10_000 },
  };
  const connect = { caProvider: 'consul', caConfig: { LeafCertTTL: '10h', IntermediateCertTTL: '30h' } };
  const ca: ConnectCAEndpoint = new ConnectCAEndpoint(deps, {
    connectEnabled: true, agent: connect, rotate: (r) => rotateCARoot(deps, r),
  });
  const clusterId = await ensureClusterId(deps);
  await ensureCAConfig(deps, connect);
  await ensureCARoot(deps, clusterId, ca);
  const roots = () => replica.caRoots.all() as unknown as CARoot[];
  return { clock, store, replica, deps, ca, clusterId, roots, stop: () => replica.stop() };
}

test('a new PrivateKeyType rotates: new active root cross-signed by the old, which stays with RotatedOutAt; pruned after 2 x LeafCertTTL', async () => {
  const s = await setup();
  try {
    const [old] = s.roots();
    assert.equal(old.Active, true);
    const rootsIndex = s.replica.caRoots.index;
    const rotatedAt = s.clock.now();
    await s.ca.setConfiguration({ Provider: 'consul', Config: { LeafCertTTL: '10h', IntermediateCertTTL: '30h', PrivateKeyType: 'rsa', PrivateKeyBits: 2048 }, State: null, ForceWithoutCrossSigning: false }, undefined);
    assert.ok(s.replica.caRoots.index > rootsIndex, 'the roots index moved (blocking watchers wake)');
    const [retired, fresh] = s.roots();
    assert.equal(retired.ID, old.ID);
    assert.equal(retired.Active, false);
    assert.equal(Date.parse(retired.RotatedOutAt!), rotatedAt);
    assert.equal(fresh.Active, true);
    assert.deepEqual([fresh.PrivateKeyType, fresh.PrivateKeyBits], ['rsa', 2048]);
    assert.equal(fresh.ExternalTrustDomain, s.clusterId);
    assert.equal(fresh.IntermediateCerts?.length, 1);
    const xc = new X509Certificate(fresh.IntermediateCerts![0]);
    assert.ok(xc.verify(new X509Certificate(old.RootCert).publicKey), 'cross-signed by the old root');
    assert.ok(xc.publicKey.equals(new X509Certificate(fresh.RootCert).publicKey));
    assert.ok(await s.store.get(`ca/key/${fresh.ID}`));
    assert.equal(await s.store.get(`ca/key/${old.ID}`), null, 'the old key is dropped with the rotation');
    assert.equal((s.ca.current().Config as Record<string, unknown>).PrivateKeyType, 'rsa');

    // Leaf-TTL-only changes keep the root.
    await s.ca.setConfiguration({ Provider: 'consul', Config: { LeafCertTTL: '11h', IntermediateCertTTL: '33h', PrivateKeyType: 'rsa', PrivateKeyBits: 2048 }, State: null, ForceWithoutCrossSigning: false }, undefined);
    assert.deepEqual(s.roots().map((r) => r.ID), [old.ID, fresh.ID]);

    const loop = caRootPruning(s.deps, () => s.ca.settings());
    await loop.start();
    const settle = async () => { for (let i = 0; i < 50; i++) await tick(); };
    // 2 x LeafCertTTL (now 11h) = 22h: still listed after 22 hourly runs, gone after the 23rd.
    for (let h = 1; h <= 22; h++) {
      s.clock.advance(CA_ROOT_PRUNE_INTERVAL_MS);
      await settle();
    }
    assert.equal(s.roots().length, 2);
    s.clock.advance(CA_ROOT_PRUNE_INTERVAL_MS);
    await settle();
    assert.deepEqual(s.roots().map((r) => r.ID), [fresh.ID]);
    assert.ok(await s.store.get(`ca/key/${fresh.ID}`));
    await loop.stop();
    assert.equal(s.clock.now() - rotatedAt, 23 * HOUR);
  } finally {
    s.stop();
  }
});

test('without the old root\'s key the rotation is refused with Consul\'s cross-signing error, unless forced', async () => {
  const s = await setup();
  try {
    const [old] = s.roots();
    await s.store.txn({ compares: [], success: [{ type: 'delete', key: `ca/key/${old.ID}` }] });
    const update = (force: boolean) => ({ Provider: 'consul', Config: { LeafCertTTL: '10h', IntermediateCertTTL: '30h', PrivateKeyBits: 384 }, State: null, ForceWithoutCrossSigning: force });
    await assert.rejects(s.ca.setConfiguration(update(false), undefined), { name: 'InternalError', message: CANNOT_CROSS_SIGN });
    assert.equal(s.roots().length, 1);
    await s.ca.setConfiguration(update(true), undefined);
    const [retired, fresh] = s.roots();
    assert.equal(retired.Active, false);
    assert.equal(fresh.Active, true);
    assert.equal(fresh.IntermediateCerts, null);
    assert.equal(fresh.PrivateKeyBits, 384);
  } finally {
    s.stop();
  }
});

test('a leaf asked for while a rotation commits is signed under the new root, not refused for the old root\'s dropped key', async () => {
  const s = await setup();
  try {
    const [old] = s.roots();
    const rotate = () => s.ca.setConfiguration({ Provider: 'consul', Config: { LeafCertTTL: '10h', IntermediateCertTTL: '30h', PrivateKeyBits: 384 }, State: null, ForceWithoutCrossSigning: false }, undefined);
    // The rotation commits between the signer's read of the active root and its read of that root's key.
    let raced = false;
    const get = async (key: string) => {
      if (key === `ca/key/${old.ID}` && !raced) {
        raced = true;
        await rotate();
      }
      return s.store.get(key);
    };
    const store = new Proxy(s.store, {
      get: (t, p) => (p === 'get' ? get : typeof Reflect.get(t, p) === 'function' ? Reflect.get(t, p).bind(t) : Reflect.get(t, p)),
    });
    const sign = new ConnectCASignEndpoint({ ...s.deps, store }, { connectEnabled: true, ca: () => s.ca.settings() });
    const { csrPem } = await createCsr(serviceUri({ host: `${s.clusterId}.consul`, namespace: 'default', datacenter: 'dc1', service: 'web' }), [], []);
    const leaf = await sign.sign({ Datacenter: 'dc1', CSR: csrPem }, undefined);
    assert.ok(raced);
    const fresh = s.roots().find((r) => r.Active)!;
    assert.notEqual(fresh.ID, old.ID);
    assert.ok(new X509Certificate(leaf.CertPEM).verify(new X509Certificate(fresh.RootCert).publicKey), 'signed by the new root');
    assert.ok(leaf.CertPEM.endsWith(fresh.IntermediateCerts![0]), 'with the cross-signature');
  } finally {
    s.stop();
  }
});

test('a rotation that finds the old root\'s key gone because another rotation won is refused as a conflict, not as a provider that cannot cross-sign', async () => {
  const s = await setup();
  try {
    const [old] = s.roots();
    const config = (bits: number) => ({ Provider: 'consul', Config: { LeafCertTTL: '10h', IntermediateCertTTL: '30h', PrivateKeyBits: bits }, State: null, ForceWithoutCrossSigning: false });
    // Another server's rotation commits while this one is about to cross-sign with the old key.
    let raced = false;
    const get = async (key: string) => {
      if (key === `ca/key/${old.ID}` && !raced) {
        raced = true;
        await s.ca.setConfiguration(config(521), undefined);
      }
      return s.store.get(key);
    };
    const store = new Proxy(s.store, {
      get: (t, p) => (p === 'get' ? get : typeof Reflect.get(t, p) === 'function' ? Reflect.get(t, p).bind(t) : Reflect.get(t, p)),
    });
    const mine = new ConnectCAEndpoint({ ...s.deps, store }, {
      connectEnabled: true, agent: { caProvider: 'consul', caConfig: {} }, rotate: (r) => rotateCARoot({ ...s.deps, store }, r),
    });
    await assert.rejects(mine.setConfiguration(config(384), undefined), { name: 'InternalError', message: 'could not atomically update roots and config' });
    assert.ok(raced);
    const roots = s.roots();
    assert.equal(roots.length, 2);
    assert.equal(roots.filter((r) => r.Active).length, 1);
    assert.equal(roots.find((r) => r.Active)!.PrivateKeyBits, 521);
  } finally {
    s.stop();
  }
});

test('a configuration PUT on a server whose replica lags the store applies to the configuration stored, not to the one it last saw', async () => {
  const s = await setup();
  // Server B: the same store, with a replica whose watch delivers each batch a moment late.
  const lagging = new Proxy(s.store, {
    get: (t, p) => {
      if (p === 'watch') {
        return (after: number, h: WatchHandlers) => t.watch(after, { ...h, onBatch: (b: WatchBatch) => void setTimeout(() => h.onBatch(b), 20) });
      }
      const v = Reflect.get(t, p);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  }) as Store;
  const replicaB = new Replica({ store: lagging, clock: s.clock, logger: s.deps.logger });
  await replicaB.start();
  await replicaB.waitFor(await s.store.currentRevision());
  const depsB: EndpointDeps = { ...s.deps, store: lagging, replica: replicaB };
  const caB = new ConnectCAEndpoint(depsB, { connectEnabled: true, agent: { caProvider: 'consul', caConfig: {} }, rotate: (r) => rotateCARoot(depsB, r) });
  try {
    const original = s.ca.current().Config;
    const put = (ca: ConnectCAEndpoint, Config: Record<string, unknown>) => ca.setConfiguration({ Provider: 'consul', Config, State: null, ForceWithoutCrossSigning: false }, undefined);
    await put(s.ca, { ...original, LeafCertTTL: '11h', IntermediateCertTTL: '33h' });
    // Setting the original back through B is a change (not a no-op against B's stale view) and is stored.
    await put(caB, original);
    assert.deepEqual(s.ca.current().Config, original);
    // A further change through B is not refused as a conflict with a write B had not seen.
    await put(s.ca, { ...original, LeafCertTTL: '12h', IntermediateCertTTL: '36h' });
    await put(caB, { ...original, LeafCertTTL: '13h', IntermediateCertTTL: '39h' });
    assert.equal(s.ca.current().Config.LeafCertTTL, '13h');
    // And a rotation through B right after one through A cross-signs with the root A made active.
    await put(s.ca, { ...original, LeafCertTTL: '13h', IntermediateCertTTL: '39h', PrivateKeyBits: 384 });
    await put(caB, { ...original, LeafCertTTL: '13h', IntermediateCertTTL: '39h', PrivateKeyBits: 521 });
    const roots = s.roots();
    assert.deepEqual(roots.map((r) => [r.Active, r.PrivateKeyBits]), [[false, 256], [false, 384], [true, 521]]);
    const x = new X509Certificate(roots[2].IntermediateCerts![0]);
    assert.ok(x.verify(new X509Certificate(roots[1].RootCert).publicKey));
  } finally {
    replicaB.stop();
    s.stop();
  }
});

test('a second configuration change while one is under way on the same server is refused with Consul\'s CA state error', async () => {
  const s = await setup();
  try {
    const put = (bits: number) => s.ca.setConfiguration({ Provider: 'consul', Config: { LeafCertTTL: '10h', IntermediateCertTTL: '30h', PrivateKeyBits: bits }, State: null, ForceWithoutCrossSigning: false }, undefined);
    const results = await Promise.allSettled([put(384), put(521)]);
    assert.equal(results[0].status, 'fulfilled');
    assert.equal(results[1].status, 'rejected');
    assert.equal((results[1] as PromiseRejectedResult).reason.message, 'CA is already in state "RECONFIGURING"');
    assert.deepEqual(s.roots().map((r) => [r.Active, r.PrivateKeyBits]), [[false, 256], [true, 384]]);
    // Once it is done, the next change goes through.
    await put(521);
    assert.equal(s.roots().find((r) => r.Active)!.PrivateKeyBits, 521);
  } finally {
    s.stop();
  }
});

test('the pruning duty leaves no timer behind when leadership is lost and regained while a run is under way', async () => {
  const s = await setup();
  try {
    // Count the timers the duty has pending: armed, not yet fired nor cancelled.
    const live = new Set<number>();
    let next = 0;
    const clock = {
      now: () => s.clock.now(),
      setTimer: (ms: number, fn: () => void) => {
        const id = next++;
        live.add(id);
        const t = s.clock.setTimer(ms, () => { live.delete(id); fn(); });
        return { cancel: () => { live.delete(id); t.cancel(); } };
      },
    };
    const loop = caRootPruning({ ...s.deps, clock: clock as typeof s.clock }, () => s.ca.settings());
    await loop.start();
    s.clock.advance(CA_ROOT_PRUNE_INTERVAL_MS);
    // The run has started; leadership goes and comes back before it ends.
    loop.stop();
    await loop.start();
    for (let i = 0; i < 50; i++) await tick();
    assert.equal(live.size, 1, 'one timer: the new term\'s');
    loop.stop();
    assert.equal(live.size, 0, 'none once stopped');
  } finally {
    s.stop();
  }
});

test('key material the provider cannot read is refused with Consul\'s texts and changes nothing', async () => {
  const s = await setup();
  try {
    const [old] = s.roots();
    const put = (extra: Record<string, unknown>) => s.ca.setConfiguration({ Provider: 'consul', Config: { LeafCertTTL: '10h', IntermediateCertTTL: '30h', ...extra }, State: null, ForceWithoutCrossSigning: false }, undefined);
    const key = (await s.store.get(`ca/key/${old.ID}`))!.value.toString();
    await assert.rejects(put({ PrivateKey: key, RootCert: 'not a certificate' }), { name: 'InternalError', message: 'no PEM-encoded data found' });
    await assert.rejects(put({ PrivateKey: 'not a key' }), { name: 'InternalError', message: 'error generating CA root certificate: error generating CA: error parsing private key: no PEM-encoded data found' });
    await assert.rejects(put({ RootCert: old.RootCert }), { name: 'InternalError', message: 'error configuring provider: must provide a private key when providing a root cert' });
    assert.deepEqual(s.roots().map((r) => [r.ID, r.Active]), [[old.ID, true]]);
    assert.equal(s.ca.current().Config.PrivateKey, undefined);
  } finally {
    s.stop();
  }
});

test('a consul provider configured with DisableCrossSigning (Consul\'s test switch) refuses to cross-sign its successor unless forced', async () => {
  const s = await setup();
  try {
    const config = (extra: Record<string, unknown>, force = false) => ({ Provider: 'consul', Config: { LeafCertTTL: '10h', IntermediateCertTTL: '30h', ...extra }, State: null, ForceWithoutCrossSigning: force });
    await s.ca.setConfiguration(config({ DisableCrossSigning: true }), undefined);
    const [old] = s.roots();
    assert.equal(s.roots().length, 1, 'the switch alone is no new key material');
    await assert.rejects(s.ca.setConfiguration(config({ PrivateKeyBits: 384 }), undefined), { name: 'InternalError', message: CANNOT_CROSS_SIGN });
    assert.deepEqual(s.roots().map((r) => r.ID), [old.ID]);
    await s.ca.setConfiguration(config({ PrivateKeyBits: 384 }, true), undefined);
    const fresh = s.roots().find((r) => r.Active)!;
    assert.equal(fresh.PrivateKeyBits, 384);
    assert.equal(fresh.IntermediateCerts, null);
    // The new configuration has no switch: the next rotation is cross-signed.
    await s.ca.setConfiguration(config({ PrivateKeyBits: 521 }), undefined);
    assert.equal(s.roots().find((r) => r.Active)!.IntermediateCerts?.length, 1);
  } finally {
    s.stop();
  }
});
