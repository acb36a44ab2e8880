import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import type { DetailedPeerCertificate } from 'node:tls';
import { testCA } from '../../../test/support/tls-cert.ts';
import { appendXfcc, rfc2253, xfccElement } from './l7-xfcc.ts';

test('the element names this proxy, the client cert hash, cert, chain (no root), subject, URI and DNS SANs', async () => {
  const ca = await testCA();
  const uri = 'spiffe://td.consul/ns/default/dc/dc1/svc/web';
  const leaf = await ca.issue('web', 'client', [], undefined, [uri]);
  const x = new X509Certificate(leaf.cert);
  const root = { raw: new X509Certificate(ca.cert).raw } as DetailedPeerCertificate;
  root.issuerCertificate = root;
  const peer = { raw: x.raw, subjectaltname: x.subjectAltName, issuerCertificate: root } as DetailedPeerCertificate;
  const el = xfccElement('spiffe://td.consul/ns/default/dc/dc1/svc/api', peer);
  const pem = encodeURIComponent(x.toString());
  assert.equal(el, [
    'By=spiffe://td.consul/ns/default/dc/dc1/svc/api', `Hash=${createHash('sha256').update(x.raw).digest('hex')}`,
    `Cert="${pem}"`, `Chain="${pem}"`, 'Subject="CN=web"', `URI=${uri}`, 'DNS=web',
  ].join(';'));
  assert.match(el, /Cert="-----BEGIN%20CERTIFICATE-----%0A/);
});

test('RFC 2253 subjects and APPEND_FORWARD', () => {
  assert.equal(rfc2253('C=US\nO=Acme, Inc\nCN=web'), 'CN=web,O=Acme\\, Inc,C=US');
  assert.equal(appendXfcc(undefined, 'By=a'), 'By=a');
  assert.equal(appendXfcc('By=x;URI=y', 'By=a'), 'By=x;URI=y,By=a');
});
