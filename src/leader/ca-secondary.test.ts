// A secondary datacenter's CA against an in-process primary (two stores and replicas, one manual
// clock): no active root until the primary answers, then the primary's root with an intermediate it
// signed; leaves chain to the primary's root through it; the intermediate is renewed past half its
// life; and SignIntermediate is refused outside the primary.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { ManualClock } from '../clock.ts';
import { agentUri, serviceUri, type CARoot } from '../connect/index.ts';
import { AutoEncryptEndpoint } from '../endpoint/auto-encrypt.ts';
import { createCsr } from '../connect/csr.ts';
import { ConnectCAEndpoint, soloLeadership, type EndpointDeps } from '../endpoint/index.ts';
import { ConnectCASignEndpoint } from '../endpoint/connect-ca-sign.ts';
import { ConnectCAIntermediateEndpoint } from '../endpoint/connect-ca-intermediate.ts';
import { silentLogger } from '../log.ts';
import { Replica } from '../state/index.ts';
import { MemoryStore } from '../store/index.ts';
import { ensureCAConfig, ensureCARoot, ensureClusterId } from './ca.ts';
import { rotateCARoot } from './ca-rotation.ts';
import { pruneCARoots } from './ca-prune.ts';
import { SecondaryCA, type PrimaryCA } from './ca-secondary.ts';

const connect = { caProvider: 'consul', caConfig: { LeafCertTTL: '10h', IntermediateCertTTL: '30h' } };

async function server(dc: string, clock: ManualClock) {
  const store = new MemoryStore({ clock });
  await store.open();
  const logger = silentLogger();
  const replica = new Replica({ store, clock, logger });
  await replica.start();
  const deps: EndpointDeps = {
    store, replica, clock, logger, leadership: soloLeadership('127.0.0.1:8300'), random: Math.random,
    config: { datacenter: dc, nodeName: `${dc}-n1`, kvMaxValueSize: 512 * 1024, txnMaxReqLen: 512 * 1024, defaultQueryTime: 300_000, maxQueryTime: 600_000, sessionTtlMin: 10_000 },
  };
  const ca = new ConnectCAEndpoint(deps, { connectEnabled: true, agent: connect });
  const active = () => (replica.caRoots.all() as unknown as CARoot[]).find((r) => r.Active);
  return { deps, ca, replica, active, sign: new ConnectCASignEndpoint(deps, { connectEnabled: true, ca: () => ca.settings() }) };
}

type Server = Awaited<ReturnType<typeof server>>;

/** The certificates of a PEM chain, leaf first. */
function certs(pem: string): X509Certificate[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n?/g)!.map((p) => new X509Certificate(p));
}

/** The primary's roots as a secondary watches them: a blocking query (minIndex > 0) waits for the leadership's end. */
function primaryRoots(dc1: Server): PrimaryCA['roots'] {
  return async (minIndex, signal) => {
    if (minIndex > 0) await new Promise((r) => signal?.addEventListener('abort', r, { once: true }));
    const r = await dc1.ca.roots({ minIndex: 0, waitMs: 0, consistency: 'default', token: '' });
    return { index: r.meta.index, roots: r.value };
  };
}

async function until<T>(what: string, f: () => T | undefined | false): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const v = f();
    if (v) return v;
    await sleep(5);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function federation() {
  const clock = new ManualClock(Date.now());
  const dc1 = await server('dc1', clock);
  await ensureCAConfig(dc1.deps, connect);
  await ensureCARoot(dc1.deps, await ensureClusterId(dc1.deps), dc1.ca);
  const dc2 = await server('dc2', clock);
  const signer = new ConnectCAIntermediateEndpoint(dc1.deps, { connectEnabled: true, primaryDatacenter: 'dc1', ca: () => dc1.ca.settings() });
  let reachable = false;
  let signed = 0;
  let refusing = false;
  const roots = primaryRoots(dc1);
  const primary: PrimaryCA = {
    roots: async (minIndex, signal) => {
      if (!reachable) throw new Error('No path to datacenter');
      return roots(minIndex, signal);
    },
    signIntermediate: async (csrPem) => {
      if (refusing) throw new Error('Permission denied: token with AccessorID \'x\' lacks permission \'operator:write\'');
      signed++;
      return signer.sign({ CSR: csrPem }, undefined);
    },
  };
  const secondary = new SecondaryCA({ deps: dc2.deps, primary, primaryDatacenter: 'dc1', settings: () => dc2.ca.settings(), connect, retryMs: 1000 });
  const loop = secondary.loop();
  return {
    clock, dc1, dc2, loop, secondary, reach: () => { reachable = true; }, signed: () => signed, refuse: (on: boolean) => { refusing = on; },
    clusterId: () => dc1.replica.meta.get('cluster')!.ClusterID,
    close: async () => {
      await loop.stop();
      dc1.replica.stop();
      dc2.replica.stop();
    },
  };
}

type Federation = Awaited<ReturnType<typeof federation>>;

/** Runs `fn` against a fresh federation, closed afterwards whatever happens. */
async function withFederation(fn: (f: Federation) => Promise<void>): Promise<void> {
  const f = await federation();
  try {
    await fn(f);
  } finally {
    await f.close();
  }
}

/** Lets dc2 reach the primary and starts its loop; resolves with dc2's first active root (the first intermediate). */
async function firstIntermediate(f: Federation): Promise<CARoot> {
  f.reach();
  await f.loop.start();
  return until('the first intermediate', () => f.dc2.active());
}

async function leafPem(s: Server, dc: string, clusterId: string): Promise<string> {
  const { csrPem } = await createCsr(serviceUri({ host: `${clusterId}.consul`, namespace: 'default', datacenter: dc, service: 'web' }), [], []);
  return (await s.sign.sign({ Datacenter: dc, CSR: csrPem }, undefined)).CertPEM;
}

test('no active root until the primary answers; then its root, with an intermediate it signed, signs dc2\'s leaves', () => withFederation(async (f) => {
  await f.loop.start();
  await sleep(20);
  assert.equal(f.dc2.active(), undefined, 'no root of its own');
  const { csrPem } = await createCsr(serviceUri({ host: 'x.consul', namespace: 'default', datacenter: 'dc2', service: 'web' }), [], []);
  await assert.rejects(f.dc2.sign.sign({ Datacenter: 'dc2', CSR: csrPem }, undefined), { message: 'CA is uninitialized and unable to sign certificates yet: no root certificate' });

  f.reach();
  f.clock.advance(1000);
  const root = await until('the primary\'s root in dc2', () => f.dc2.active());
  const primaryRoot = f.dc1.active()!;
  assert.equal(root.ID, primaryRoot.ID);
  assert.equal(root.RootCert, primaryRoot.RootCert);
  assert.notEqual(root.SigningKeyID, primaryRoot.SigningKeyID);
  const clusterId = f.clusterId();
  assert.equal(f.dc2.replica.meta.get('cluster')?.ClusterID, clusterId, 'the trust domain is the primary\'s');
  const roots = await f.dc2.ca.roots({ minIndex: 0, waitMs: 0, consistency: 'default', token: '' });
  assert.equal(roots.value.TrustDomain, `${clusterId}.consul`);

  const [leaf, inter] = certs(await leafPem(f.dc2, 'dc2', clusterId));
  assert.ok(leaf.verify(inter.publicKey) && leaf.checkIssued(inter), 'the leaf is the intermediate\'s');
  assert.ok(inter.verify(new X509Certificate(primaryRoot.RootCert).publicKey), 'the intermediate is the primary root\'s');
  assert.equal(f.signed(), 1);
}));

test('the intermediate is renewed once half its life has passed; not before', () => withFederation(async (f) => {
  const first = await firstIntermediate(f);
  await f.loop.stop();
  await f.loop.start();
  await sleep(30);
  assert.equal(f.dc2.active()!.SigningKeyID, first.SigningKeyID, 'a new leadership keeps a young intermediate');
  assert.equal(f.signed(), 1);
  await f.loop.stop();
  f.clock.advance(16 * 3_600_000); // IntermediateCertTTL 30h
  await f.loop.start();
  const renewed = await until('a renewed intermediate', () => f.dc2.active()!.SigningKeyID !== first.SigningKeyID && f.dc2.active());
  assert.equal(renewed.ID, first.ID, 'the same primary root');
  assert.equal(renewed.IntermediateCerts?.length, 1);
  assert.equal(f.signed(), 2);
}));

test('SignIntermediate is refused outside the primary datacenter, and without Connect', async () => {
  const clock = new ManualClock(Date.now());
  const dc2 = await server('dc2', clock);
  try {
    const inDc2 = new ConnectCAIntermediateEndpoint(dc2.deps, { connectEnabled: true, primaryDatacenter: 'dc1', ca: () => dc2.ca.settings() });
    await assert.rejects(inDc2.sign({ CSR: '' }, undefined), { message: 'not the primary datacenter' });
    const off = new ConnectCAIntermediateEndpoint(dc2.deps, { connectEnabled: false, primaryDatacenter: '', ca: () => dc2.ca.settings() });
    await assert.rejects(off.sign({ CSR: '' }, undefined), { message: 'Connect must be enabled in order to use this endpoint' });
  } finally {
    dc2.replica.stop();
  }
});

// A store whose watch holds back batches (a follower's lagging replica) until a linearizable read.
function laggingStore(inner: MemoryStore): MemoryStore {
  const held: (() => void)[] = [];
  let holding = false;
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'hold') return () => { holding = true; };
      if (prop === 'currentRevision') {
        return async () => {
          holding = false;
          for (const f of held.splice(0)) f();
          return target.currentRevision();
        };
      }
      if (prop === 'watch') {
        return (after: number, h: Parameters<MemoryStore['watch']>[1]) => target.watch(after, {
          ...h, onBatch: (b) => { if (holding) held.push(() => h.onBatch(b)); else h.onBatch(b); },
        });
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

test('a follower whose replica lags a renewed intermediate (same root ID) signs with a key and intermediate that match', async () => {
  const f = await federation();
  const lag = laggingStore(f.dc2.deps.store as MemoryStore);
  const replica = new Replica({ store: lag, clock: f.clock, logger: silentLogger() });
  await replica.start();
  try {
    const first = await firstIntermediate(f);
    await f.loop.stop();
    await until('the follower has the root', () => (replica.caRoots.all() as unknown as CARoot[]).find((r) => r.Active && r.SigningKeyID === first.SigningKeyID));
    (lag as unknown as { hold(): void }).hold();
    f.clock.advance(16 * 3_600_000);
    await f.loop.start();
    await until('a renewed intermediate', () => f.dc2.active()!.SigningKeyID !== first.SigningKeyID);
    const followerDeps: EndpointDeps = { ...f.dc2.deps, store: lag, replica };
    const sign = new ConnectCASignEndpoint(followerDeps, { connectEnabled: true, ca: () => f.dc2.ca.settings() });
    const { csrPem } = await createCsr(serviceUri({ host: `${f.clusterId()}.consul`, namespace: 'default', datacenter: 'dc2', service: 'web' }), [], []);
    const [leaf, ...inters] = certs((await sign.sign({ Datacenter: 'dc2', CSR: csrPem }, undefined)).CertPEM);
    const issuer = inters.find((c) => leaf.checkIssued(c));
    assert.ok(issuer, 'the chain carries the leaf\'s issuer');
    assert.ok(leaf.verify(issuer.publicKey), 'the leaf is signed by the key of the intermediate it names');
  } finally {
    await f.close();
    replica.stop();
  }
});

test('a primary rotation whose intermediate the primary refuses: the new root is stored (Consul), leaves still signed by the held intermediate and verifiable; a later signing replaces it', () => withFederation(async (f) => {
  // The leaf verifies through its chain to one of dc2's listed roots.
  const verifies = (pem: string) => {
    const [leaf, ...rest] = certs(pem);
    const roots = (f.dc2.replica.caRoots.all() as unknown as CARoot[]).map((r) => new X509Certificate(r.RootCert));
    let cert = leaf;
    for (let hops = 0; hops < 4; hops++) {
      const root = roots.find((r) => cert.checkIssued(r) && cert.verify(r.publicKey));
      if (root) return true;
      const next = rest.find((c) => cert.checkIssued(c) && cert.verify(c.publicKey));
      if (!next) return false;
      cert = next;
    }
    return false;
  };
  const first = await firstIntermediate(f);
  const clusterId = f.clusterId();
  await f.loop.stop();
  const dc1ca = new ConnectCAEndpoint(f.dc1.deps, { connectEnabled: true, agent: connect, rotate: (r) => rotateCARoot(f.dc1.deps, r) });
  await dc1ca.setConfiguration({ Provider: 'consul', Config: { ...connect.caConfig, PrivateKeyType: 'ec', PrivateKeyBits: 384 }, State: null, ForceWithoutCrossSigning: false }, undefined);
  const rotated = f.dc1.active()!;
  assert.notEqual(rotated.ID, first.ID);
  f.refuse(true);
  await f.loop.start();
  const carried = await until('the primary\'s new root in dc2', () => f.dc2.active()?.ID === rotated.ID && f.dc2.active());
  assert.equal(carried.SigningKeyID, first.SigningKeyID, 'still the held intermediate\'s key');
  const listed = f.dc2.replica.caRoots.all() as unknown as CARoot[];
  const byId = (a: [string, boolean], b: [string, boolean]) => (a[0] < b[0] ? -1 : 1);
  assert.deepEqual(listed.map((r): [string, boolean] => [r.ID, r.Active]).sort(byId), ([[first.ID, false], [rotated.ID, true]] as [string, boolean][]).sort(byId));
  assert.ok(verifies(await leafPem(f.dc2, 'dc2', clusterId)), 'dc2\'s leaf chains to a root dc2 lists');
  // Past 2 x LeafCertTTL (10h) the rotated-out root would be pruned, but it issued the intermediate still signing.
  f.clock.advance(21 * 3_600_000);
  assert.deepEqual(await pruneCARoots(f.dc2.deps, f.dc2.ca.settings()), []);
  assert.ok(verifies(await leafPem(f.dc2, 'dc2', clusterId)), 'still verifiable after a pruning round');

  f.refuse(false);
  f.clock.advance(60_000); // the watch's retry
  const renewed = await until('an intermediate of the new root', () => f.dc2.active()?.SigningKeyID !== first.SigningKeyID && f.dc2.active());
  assert.equal(renewed.ID, rotated.ID);
  const chain = await leafPem(f.dc2, 'dc2', clusterId);
  assert.ok(verifies(chain));
  const inter = certs(chain).find((c) => certs(chain)[0].checkIssued(c))!;
  assert.ok(inter.verify(new X509Certificate(rotated.RootCert).publicKey), 'the new intermediate is the new root\'s');
}));

test('failed rounds against an unreachable primary leave no abort listener behind on the leadership\'s signal', async () => {
  const clock = new ManualClock(Date.now());
  const dc2 = await server('dc2', clock);
  let signal: AbortSignal | undefined;
  let calls = 0;
  const primary: PrimaryCA = {
    roots: async (_min, s) => { signal = s; calls++; throw new Error('No path to datacenter'); },
    signIntermediate: async () => { throw new Error('unreachable'); },
  };
  const loop = new SecondaryCA({ deps: dc2.deps, primary, primaryDatacenter: 'dc1', settings: () => dc2.ca.settings(), connect, retryMs: 1000 }).loop();
  try {
    await loop.start();
    for (let round = 1; round <= 20; round++) {
      await until(`round ${round}`, () => calls >= round);
      clock.advance(30_000);
    }
    assert.ok(getEventListeners(signal!, 'abort').length <= 1, `${getEventListeners(signal!, 'abort').length} abort listeners`);
  } finally {
    await loop.stop();
    dc2.replica.stop();
  }
});

test('auto-encrypt in a secondary: an agent certificate in the primary\'s trust domain, signed by the intermediate and sent with it, and the roots dc2 lists', () => withFederation(async (f) => {
  const root = await firstIntermediate(f);
  const ae = new AutoEncryptEndpoint(f.dc2.deps, {
    connectEnabled: true, allowTls: true, ca: () => f.dc2.ca.settings(), manualCaPems: () => [], verifyServerHostname: () => false,
  });
  const { csrPem } = await createCsr(agentUri({ host: 'unknown', datacenter: 'dc2', agent: 'client-1' }), [], []);
  const res = await ae.sign({ Datacenter: 'dc2', CSR: csrPem }, undefined);
  const clusterId = f.clusterId();
  assert.equal(res.IssuedCert.AgentURI, `spiffe://${clusterId}.consul/agent/client/dc/dc2/id/client-1`);
  assert.equal(res.ConnectCARoots.TrustDomain, `${clusterId}.consul`);
  assert.deepEqual(res.ConnectCARoots.Roots.map((r) => r.ID), [root.ID]);
  const [leaf, inter] = certs(res.IssuedCert.CertPEM);
  assert.ok(leaf.checkIssued(inter) && leaf.verify(inter.publicKey), 'signed by the intermediate it carries');
  assert.ok(inter.verify(new X509Certificate(res.ConnectCARoots.Roots[0].RootCert).publicKey), 'which the listed root signed');
}));

test('a configuration change on another server that lands while the leader waits for a renewal\'s signature is not overwritten by the leader\'s older intermediate', () => withFederation(async (f) => {
  const first = await firstIntermediate(f);
  await f.loop.stop();
  // The leader's renewal waits on the primary while server B stores a new key type's intermediate.
  const signer = new ConnectCAIntermediateEndpoint(f.dc1.deps, { connectEnabled: true, primaryDatacenter: 'dc1', ca: () => f.dc1.ca.settings() });
  let release!: () => void;
  const held = new Promise<void>((r) => { release = r; });
  let waiting = false;
  const primary = (gate: boolean): PrimaryCA => ({
    roots: primaryRoots(f.dc1),
    signIntermediate: async (csrPem) => {
      if (gate) { waiting = true; await held; }
      return signer.sign({ CSR: csrPem }, undefined);
    },
  });
  const leader = new SecondaryCA({ deps: f.dc2.deps, primary: primary(true), primaryDatacenter: 'dc1', settings: () => f.dc2.ca.settings(), connect, retryMs: 1000 });
  const b = new SecondaryCA({ deps: f.dc2.deps, primary: primary(false), primaryDatacenter: 'dc1', settings: () => f.dc2.ca.settings(), connect, retryMs: 1000 });
  const caB = new ConnectCAEndpoint(f.dc2.deps, { connectEnabled: true, agent: connect, rotate: (r) => b.reconfigure(r) });
  f.clock.advance(16 * 3_600_000);
  const loop = leader.loop();
  try {
    await loop.start();
    await until('the leader asking for a renewal', () => waiting);
    await caB.setConfiguration({ Provider: 'consul', Config: { ...connect.caConfig, PrivateKeyType: 'ec', PrivateKeyBits: 384 }, State: null, ForceWithoutCrossSigning: false }, undefined);
    const fromB = f.dc2.active()!;
    assert.notEqual(fromB.SigningKeyID, first.SigningKeyID);
    release();
    for (let i = 0; i < 20; i++) await sleep(5);
    f.clock.advance(60_000);
    for (let i = 0; i < 20; i++) await sleep(5);
    const now = f.dc2.active()!;
    const key = (await f.dc2.deps.store.get(`ca/key/${now.ID}`))!;
    const { createPrivateKey } = await import('node:crypto');
    assert.equal(createPrivateKey(Buffer.from(key.value).toString('utf8')).asymmetricKeyDetails?.namedCurve, 'secp384r1', 'the intermediate key has the configured type');
    assert.equal(now.SigningKeyID, fromB.SigningKeyID, 'B\'s intermediate stays');
  } finally {
    await loop.stop();
  }
}));

test('an expired intermediate signs nothing: Consul\'s error, with Go\'s time text', () => withFederation(async (f) => {
  const root = await firstIntermediate(f);
  await f.loop.stop();
  const inter = new X509Certificate(root.IntermediateCerts!.at(-1)!);
  f.clock.advance(31 * 3_600_000); // IntermediateCertTTL 30h
  const clusterId = f.clusterId();
  const when = inter.validToDate.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC');
  await assert.rejects(leafPem(f.dc2, 'dc2', clusterId), { message: `intermediate expired: certificate expired, expiration date: ${when} ` });
}));
