// mesh.active-signing-ca.expiry follows the certificate that signs leaves: in the primary after a
// root rotation that is the new root, not the old root's short-lived cross-signature the rotation
// put in IntermediateCerts (Consul's built-in provider reports the root's expiry there).
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { generateRoot } from '../connect/ca-root.ts';
import { crossSignCA } from '../connect/ca-cross-sign.ts';
import { SigningPem } from './server-metrics.ts';

test('the primary signing CA after a rotation is the new root, not its cross-signature', async () => {
  const clock = { now: () => Date.now() };
  const old = await generateRoot({ clusterId: 'c0ffee00-0000-0000-0000-000000000000', datacenter: 'dc1', clock });
  const next = await generateRoot({ clusterId: 'c0ffee00-0000-0000-0000-000000000000', datacenter: 'dc1', clock });
  const cross = crossSignCA(next.root.RootCert, old.root.RootCert, old.privateKeyPem, Date.now());
  const root = { RootCert: next.root.RootCert, SigningKeyID: next.root.SigningKeyID, IntermediateCerts: [cross] };
  const pem = new SigningPem().of(root);
  assert.equal(pem, next.root.RootCert);
  assert.ok(Date.parse(new X509Certificate(pem).validTo) > Date.parse(new X509Certificate(cross).validTo));
  assert.equal(new SigningPem().of({ ...root, IntermediateCerts: null }), next.root.RootCert);
});
