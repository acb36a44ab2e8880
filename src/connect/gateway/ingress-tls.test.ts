import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GatewayService } from '../../api/config-entries.ts';
import { ingressDnsSans, listenerTls } from './ingress-tls.ts';

test('TLS is on when the gateway or the listener enables it; the listener versions win, TLS 1.2 by default', () => {
  assert.equal(listenerTls(null, null), null);
  assert.equal(listenerTls({ Enabled: false }, { Enabled: false }), null);
  assert.deepEqual(listenerTls({ Enabled: true }, null), { minVersion: 'TLSv1.2' });
  assert.deepEqual(listenerTls(null, { Enabled: true, TLSMinVersion: 'TLSv1_3' }), { minVersion: 'TLSv1.3' });
  assert.deepEqual(listenerTls({ Enabled: true, TLSMinVersion: 'TLSv1_1', TLSMaxVersion: 'TLSv1_3' }, null), { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.3' });
  // A listener's TLS_AUTO is set, so it overrides the gateway's version with Envoy's default.
  assert.deepEqual(listenerTls({ Enabled: true, TLSMinVersion: 'TLSv1_3' }, { TLSMinVersion: 'TLS_AUTO' }), { minVersion: 'TLSv1.2' });
});

test("the leaf's DNS SANs: every linked service's Hosts, then *.ingress.<domain> and *.ingress.<dc>.<domain> for each domain", () => {
  const row = (name: string, hosts?: string[]): GatewayService => ({
    Gateway: { Name: 'ingress' }, Service: { Name: name }, GatewayKind: 'ingress-gateway', Port: 8080, ...(hosts ? { Hosts: hosts } : {}), CreateIndex: 1, ModifyIndex: 1,
  });
  assert.deepEqual(ingressDnsSans([row('web', ['web.example.com']), row('api'), row('db', ['*'])], { domain: 'consul.', altDomain: 'alt', datacenter: 'dc1' }),
    ['web.example.com', '*.ingress.consul', '*.ingress.dc1.consul', '*.ingress.alt', '*.ingress.dc1.alt']);
});
