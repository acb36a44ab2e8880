import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../clock.ts';
import { generateRoot, rootsResponse, type CARoot, type CARootList } from '../connect/index.ts';
import { parseCsr } from '../connect/csr.ts';
import { signLeaf } from '../connect/leaf-cert.ts';
import { goTime } from '../connect/ca-root.ts';
import { PermissionDeniedError, RateLimitedError } from '../errors.ts';
import { silentLogger } from '../log.ts';
import type { ServiceLeaf } from '../endpoint/connect-ca-sign.ts';
import { LeafCertManager, softExpiry } from './leaf-certs.ts';

const HOUR = 3_600_000;
const CLUSTER = '11111111-2222-3333-4444-555555555555';

/** A fake cluster: roots that can rotate, a signer with a 10 h leaf TTL and a failure switch. */
async function cluster(clock: ManualClock) {
  const make = () => generateRoot({ clusterId: CLUSTER, datacenter: 'dc1', clock });
  let active = await make();
  let rootsIndex = 1;
  let index = 100;
  let fail: Error | null = null;
  let signed = 0;
  const rootWaiters: (() => void)[] = [];
  const watchSignals: AbortSignal[] = [];
  const list = (): CARootList => rootsResponse([{ ...active.root, Active: true } as CARoot], CLUSTER);
  const manager = new LeafCertManager({
    datacenter: 'dc1', clock, random: () => 0, logger: silentLogger(),
    roots: async () => list(),
    watchRoots: (after, signal) => new Promise((resolve, reject) => {
      watchSignals.push(signal);
      if (rootsIndex > after) return resolve({ value: list(), index: rootsIndex });
      rootWaiters.push(() => resolve({ value: list(), index: rootsIndex }));
      signal.addEventListener('abort', () => reject(new Error('aborted')));
    }),
    sign: async (csrPem, token): Promise<ServiceLeaf> => {
      if (token === 'bad') throw new PermissionDeniedError(`Permission denied: token lacks permission 'service:write'`);
      if (fail) throw fail;
      const csr = await parseCsr(csrPem);
      const leaf = signLeaf({ spki: csr.spki, uris: csr.uris, dnsNames: csr.dnsNames, ipAddresses: [], ttlMs: 10 * HOUR, nowMs: clock.now() }, active.root.RootCert, active.privateKeyPem);
      signed++;
      index += 5;
      return {
        SerialNumber: leaf.serialNumber, CertPEM: leaf.certPem, PrivateKeyPEM: '', Service: 'web', ServiceURI: csr.uris[0],
        ValidAfter: goTime(leaf.validAfter), ValidBefore: goTime(leaf.validBefore), CreateIndex: index, ModifyIndex: index,
      };
    },
  });
  return {
    manager,
    signed: () => signed,
    /** Whether a roots watch is running (its latest read not aborted). */
    watchingRoots: () => watchSignals.length > 0 && !watchSignals[watchSignals.length - 1].aborted,
    failWith: (err: Error | null) => { fail = err; },
    rotate: async () => {
      active = await make();
      rootsIndex++;
      for (const w of rootWaiters.splice(0)) w();
    },
  };
}

/** Lets pending promises run, firing timers now due, until `p` settles. */
async function settle<T>(clock: ManualClock, p: Promise<T>): Promise<T> {
  let done = false;
  void p.finally(() => { done = true; }).catch(() => {});
  for (let i = 0; i < 500 && !done; i++) {
    await new Promise((r) => setImmediate(r));
    clock.advance(0);
  }
  return p;
}

test('softExpiry: renew between 60% and 90% of the lifetime, at once past 90% or for short lives', () => {
  assert.deepEqual(softExpiry(0, 0, 10 * HOUR), [6 * HOUR, 9 * HOUR]);
  assert.deepEqual(softExpiry(7 * HOUR, 0, 10 * HOUR), [7 * HOUR, 9 * HOUR]);
  assert.deepEqual(softExpiry(9.5 * HOUR, 0, 10 * HOUR), [9.5 * HOUR, 9.5 * HOUR]);
  assert.deepEqual(softExpiry(5, 0, 5 * 60_000), [5, 5]);
});

test('the first read signs, the next is kept; a blocking read returns the renewal at the soft expiry', async () => {
  const clock = new ManualClock();
  const c = await cluster(clock);
  const first = await c.manager.get('web', 't', { minIndex: 0, waitMs: 0 });
  assert.equal(first.hit, false);
  assert.equal(first.value.ServiceURI, `spiffe://${CLUSTER}.consul/ns/default/dc/dc1/svc/web`);
  assert.match(first.value.PrivateKeyPEM, /BEGIN EC PRIVATE KEY/);
  const again = await c.manager.get('web', 't', { minIndex: 0, waitMs: 0 });
  assert.equal(again.hit, true);
  assert.equal(again.value.SerialNumber, first.value.SerialNumber);
  assert.equal(c.signed(), 1);
  const blocked = c.manager.get('web', 't', { minIndex: first.index, waitMs: 10 * HOUR });
  // random() = 0: renewal at 60% of a life that began a drift minute before signing.
  clock.advance(6 * HOUR - 90_000);
  await settle(clock, new Promise((r) => setTimeout(r, 100)));
  assert.equal(c.signed(), 1, 'not renewed before the soft expiry');
  clock.advance(1 * HOUR);
  const renewed = await settle(clock, blocked);
  assert.equal(c.signed(), 2);
  assert.ok(renewed.index > first.index);
  assert.notEqual(renewed.value.SerialNumber, first.value.SerialNumber);
  assert.equal(renewed.value.ModifyIndex, renewed.index);
  c.manager.stop();
});

test('a blocking read with no renewal answers the kept leaf when its wait ends', async () => {
  const clock = new ManualClock();
  const c = await cluster(clock);
  const first = await c.manager.get('web', 't', { minIndex: 0, waitMs: 0 });
  const blocked = c.manager.get('web', 't', { minIndex: first.index, waitMs: 60_000 });
  clock.advance(60_000);
  const res = await settle(clock, blocked);
  assert.equal(res.index, first.index);
  assert.equal(res.value.SerialNumber, first.value.SerialNumber);
  c.manager.stop();
});

test('a new active root renews the leaf within the jitter window', async () => {
  const clock = new ManualClock();
  const c = await cluster(clock);
  const first = await c.manager.get('web', 't', { minIndex: 0, waitMs: 0 });
  const blocked = c.manager.get('web', 't', { minIndex: first.index, waitMs: 10 * HOUR });
  await c.rotate();
  const res = await settle(clock, blocked);
  assert.equal(c.signed(), 2);
  assert.ok(res.index > first.index);
  c.manager.stop();
});

test('a refused first signing is the caller\'s error and nothing is kept; a failed renewal keeps the leaf and retries', async () => {
  const clock = new ManualClock();
  const c = await cluster(clock);
  await assert.rejects(c.manager.get('web', 'bad', { minIndex: 0, waitMs: 0 }), PermissionDeniedError);
  const first = await c.manager.get('web', 't', { minIndex: 0, waitMs: 0 });
  c.failWith(new RateLimitedError());
  clock.advance(9 * HOUR);
  await settle(clock, new Promise((r) => setTimeout(r, 50)));
  const kept = await c.manager.get('web', 't', { minIndex: 0, waitMs: 0 });
  assert.equal(kept.value.SerialNumber, first.value.SerialNumber);
  c.failWith(null);
  const blocked = c.manager.get('web', 't', { minIndex: first.index, waitMs: HOUR });
  clock.advance(30_000);
  const res = await settle(clock, blocked);
  assert.ok(res.index > first.index);
  c.manager.stop();
});

test('a leaf nobody asks for in 72 hours is dropped instead of renewed', async () => {
  const clock = new ManualClock();
  const c = await cluster(clock);
  await c.manager.get('web', 't', { minIndex: 0, waitMs: 0 });
  await settle(clock, new Promise((r) => setTimeout(r, 5)));
  assert.equal(c.watchingRoots(), true);
  for (let h = 0; h < 84; h++) {
    clock.advance(HOUR);
    await settle(clock, new Promise((r) => setTimeout(r, 5)));
  }
  const renewals = c.signed();
  assert.ok(renewals > 1 && renewals <= 14, `renewed while wanted (${renewals})`);
  clock.advance(24 * HOUR);
  await settle(clock, new Promise((r) => setTimeout(r, 20)));
  assert.equal(c.signed(), renewals, 'no renewal once dropped');
  assert.equal(c.watchingRoots(), false, 'the roots watch ends with the last leaf');
  const next = await c.manager.get('web', 't', { minIndex: 0, waitMs: 0 });
  assert.equal(next.hit, false);
  await settle(clock, new Promise((r) => setTimeout(r, 5)));
  assert.equal(c.watchingRoots(), true, 'a new leaf watches the roots again');
  c.manager.stop();
});

test('extra DNS SANs get a certificate of their own carrying them; the plain one stays without', async () => {
  const clock = new ManualClock(Date.parse('2024-01-01T00:00:00Z'));
  const c = await cluster(clock);
  const plain = await c.manager.get('web', 't', { minIndex: 0, waitMs: 0 });
  const withSans = await c.manager.get('web', 't', { minIndex: 0, waitMs: 0, dnsSans: ['web.example.com', '*.ingress.consul'] });
  const again = await c.manager.get('web', 't', { minIndex: 0, waitMs: 0, dnsSans: ['*.ingress.consul', 'web.example.com'] });
  assert.equal(c.signed(), 2);
  assert.equal(again.value.SerialNumber, withSans.value.SerialNumber);
  const { X509Certificate } = await import('node:crypto');
  assert.match(new X509Certificate(withSans.value.CertPEM).subjectAltName ?? '', /DNS:\*\.ingress\.consul, DNS:web\.example\.com/);
  assert.doesNotMatch(new X509Certificate(plain.value.CertPEM).subjectAltName ?? '', /DNS:/);
  c.manager.stop();
});

test('a service of another namespace or partition gets a certificate of its own for its SPIFFE ID; default named is the plain one', async () => {
  const clock = new ManualClock(Date.parse('2024-01-01T00:00:00Z'));
  const c = await cluster(clock);
  const plain = await c.manager.get('web', 't', { minIndex: 0, waitMs: 0 });
  const named = await c.manager.get('web', 't', { minIndex: 0, waitMs: 0, ent: { namespace: 'default', partition: 'default' } });
  assert.equal(named.hit, true);
  const a = await c.manager.get('web', 't', { minIndex: 0, waitMs: 0, ent: { namespace: 'team-a', partition: 'default' } });
  const p = await c.manager.get('web', 't', { minIndex: 0, waitMs: 0, ent: { namespace: 'team-a', partition: 'p1' } });
  const again = await c.manager.get('web', 't', { minIndex: 0, waitMs: 0, ent: { namespace: 'team-a', partition: 'default' } });
  assert.equal(c.signed(), 3);
  assert.equal(again.value.SerialNumber, a.value.SerialNumber);
  assert.equal(plain.value.ServiceURI, `spiffe://${CLUSTER}.consul/ns/default/dc/dc1/svc/web`);
  assert.equal(a.value.ServiceURI, `spiffe://${CLUSTER}.consul/ns/team-a/dc/dc1/svc/web`);
  assert.equal(p.value.ServiceURI, `spiffe://${CLUSTER}.consul/ap/p1/ns/team-a/dc/dc1/svc/web`);
  c.manager.stop();
});
