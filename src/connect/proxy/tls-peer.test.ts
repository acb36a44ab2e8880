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

test('the server identity check compares the first URI without case and with the certificate\'s trust domain (verifyServerCertMatchesURI)', () => {
  const check = serverIdentityCheck('spiffe://11111111-2222.consul/ns/default/dc/dc1/svc/db');
  const san = (s: string) => ({ subjectaltname: s }) as PeerCertificate;
  assert.equal(check('h', san('URI:spiffe://other-domain.consul/ns/default/dc/dc1/svc/db')), undefined);
  assert.equal(check('h', san('URI:spiffe://11111111-2222.consul/ns/default/dc/DC1/svc/DB')), undefined);
  assert.equal(check('h', san('URI:spiffe://x.consul/ns/default/dc/dc1/svc/web, URI:spiffe://x.consul/ns/default/dc/dc1/svc/db'))?.message,
    'peer certificate mismatch got spiffe://x.consul/ns/default/dc/dc1/svc/web, want spiffe://11111111-2222.consul/ns/default/dc/dc1/svc/db');
  assert.equal(check('h', san('DNS:db'))?.message, 'peer certificate mismatch');
});

test('a URI SAN Node writes as a JSON string is one URI, its escaped commas kept', () => {
  const cert = { subjectaltname: 'URI:"spiffe://evil/x\\u002c URI:spiffe://t.consul/ns/default/dc/dc1/svc/db", DNS:foo, URI:spiffe://a/b' } as PeerCertificate;
  assert.deepEqual(certUris(cert), ['spiffe://evil/x, URI:spiffe://t.consul/ns/default/dc/dc1/svc/db', 'spiffe://a/b']);
  assert.ok(serverIdentityCheck('spiffe://t.consul/ns/default/dc/dc1/svc/db')('h', cert));
});
