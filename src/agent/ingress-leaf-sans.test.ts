import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allowedIngressSans, checkIngressSans, type IngressSanDeps } from './ingress-leaf-sans.ts';

const entry = { Listeners: [{ Services: [{ Hosts: ['a.example.com'] }, { Hosts: null }, { Hosts: ['*'] }] }, { Services: [{ Hosts: ['b.example.com'] }] }] };
const deps = (over: Partial<IngressSanDeps> = {}): IngressSanDeps => ({
  isLocalIngress: (s) => s === 'gw', entry: async (s) => (s === 'gw' ? entry : null), domain: 'consul.', altDomain: 'alt.', datacenter: 'dc1', ...over,
});

test('allowed SANs: every listed host and the *.ingress forms of the domain and alt domain', () => {
  assert.deepEqual([...allowedIngressSans(entry, { domain: 'consul.', altDomain: 'alt.', datacenter: 'dc1' })].sort(), [
    '*.ingress.alt', '*.ingress.consul', '*.ingress.dc1.alt', '*.ingress.dc1.consul', 'a.example.com', 'b.example.com',
  ]);
});

test('a caller cannot get a SAN the entry does not list, nor any SAN for a service that is not a local ingress gateway', async () => {
  await checkIngressSans(deps(), 'gw', '', ['a.example.com', '*.ingress.dc1.consul']);
  await assert.rejects(checkIngressSans(deps(), 'gw', '', ['a.example.com', 'evil.example.com']), { name: 'PermissionDeniedError', message: /evil\.example\.com/ });
  await assert.rejects(checkIngressSans(deps(), 'web', '', ['a.example.com']), { name: 'PermissionDeniedError' });
  // A bare '*' Host (allowed on a listener without the gateway's TLS) would match any single-label name.
  await assert.rejects(checkIngressSans(deps(), 'gw', '', ['*']), { name: 'PermissionDeniedError' });
  await assert.rejects(checkIngressSans(deps({ entry: async () => null }), 'gw', '', ['*.ingress.consul']), { name: 'PermissionDeniedError' });
  await checkIngressSans(deps({ isLocalIngress: () => false }), 'web', '', []);
});
