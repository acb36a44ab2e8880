import assert from 'node:assert/strict';
import type { PeerCertificate } from 'node:tls';
import { test } from 'node:test';
import { certUris, encodeSerial, serverIdentityCheck } from './tls-peer.ts';

test('serial numbers are encoded as Consul\'s EncodeSerialNumber: lower-case colon-hex without leading zero bytes', () => {
  assert.equal(encodeSerial('0A1B2C'), '0a:1b:2c');
  assert.equal(encodeSerial('00FF'), 'ff');
  assert.equal(encodeSerial('ABC'), '0a:bc');
});

test('an upstream server must present the expected SPIFFE URI', () => {
  const cert = { subjectaltname: 'DNS:x, URI:spiffe://t.consul/ns/default/dc/dc1/svc/db' } as PeerCertificate;
  assert.deepEqual(certUris(cert), ['spiffe://t.consul/ns/default/dc/dc1/svc/db']);
  assert.equal(serverIdentityCheck('spiffe://t.consul/ns/default/dc/dc1/svc/db')('127.0.0.1', cert), undefined);
  assert.equal(
    serverIdentityCheck('spiffe://t.consul/ns/default/dc/dc1/svc/web')('127.0.0.1', cert)?.message,
    'peer certificate mismatch got spiffe://t.consul/ns/default/dc/dc1/svc/db, want spiffe://t.consul/ns/default/dc/dc1/svc/web',
  );
});
