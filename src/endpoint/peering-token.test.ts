// Peer names, peering tokens and meta are refused with Consul's texts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePeeringToken, encodePeeringToken, validatePeerName, validatePeeringMeta, validatePeeringToken } from './peering-token.ts';
import type { PeeringToken } from '../api/peering.ts';

const TOKEN: PeeringToken = {
  CA: null, ManualServerAddresses: null, ServerAddresses: ['10.0.0.1:8500'], ServerName: 'server.dc1.peering.x.consul',
  PeerID: 'a0affd3e-f1c8-4bb9-9168-90fd902c441d', EstablishmentSecret: 's', Remote: { Partition: 'default', Datacenter: 'dc1' },
};

test('peer names are lower-case DNS labels', () => {
  for (const ok of ['a', 'peer1-usw1', 'x'.repeat(63)]) validatePeerName(ok);
  for (const bad of ['', '--AA--', 'Upper', 'under_score', '-lead', 'trail-', 'x'.repeat(64)]) {
    assert.throws(() => validatePeerName(bad), { message: `${bad} is not a valid peer name: a valid peering name must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character` });
  }
});

test('a token round-trips through base64 JSON with Consul\'s field order', () => {
  const raw = encodePeeringToken(TOKEN);
  assert.deepEqual(Object.keys(JSON.parse(Buffer.from(raw, 'base64').toString())), Object.keys(TOKEN));
  assert.deepEqual(decodePeeringToken(raw), TOKEN);
});

test('undecodable tokens are refused as Go decodes them', () => {
  assert.throws(() => decodePeeringToken('+++/+++'), { message: 'failed to decode token: illegal base64 data at input byte 4' });
  assert.throws(() => decodePeeringToken('ab!c'), { message: 'failed to decode token: illegal base64 data at input byte 2' });
  assert.throws(() => decodePeeringToken(''), { message: 'unexpected end of JSON input' });
  // A token cut short in copying, junk before or after the JSON: Go's encoding/json texts.
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  for (const cut of ['{"CA":null,"Man', '{"CA":null,', '{"CA":nu', '{"CA"', '{']) {
    assert.throws(() => decodePeeringToken(b64(cut)), { message: 'unexpected end of JSON input' }, cut);
  }
  assert.throws(() => decodePeeringToken(b64('x{}')), { message: "invalid character 'x' looking for beginning of value" });
  assert.throws(() => decodePeeringToken(b64('{}x')), { message: "invalid character 'x' after top-level value" });
  assert.throws(() => decodePeeringToken(b64('{} {}')), { message: "invalid character '{' after top-level value" });
  // Errors inside the value: json.Unmarshal's scanner texts, not a generic approximation.
  assert.throws(() => decodePeeringToken(b64('{"CA" null}')), { message: "invalid character 'n' after object key" });
  assert.throws(() => decodePeeringToken(b64('{"CA":nul}')), { message: "invalid character '}' in literal null (expecting 'l')" });
  assert.throws(() => decodePeeringToken(b64('{"PeerID":"a" "b"}')), { message: `invalid character '"' after object key:value pair` });
  assert.throws(() => decodePeeringToken(b64('[]')), { message: 'json: cannot unmarshal array into Go value of type structs.PeeringToken' });
  assert.throws(() => decodePeeringToken(b64('"s"')), { message: 'json: cannot unmarshal string into Go value of type structs.PeeringToken' });
  assert.throws(() => validatePeeringToken(decodePeeringToken(b64('null'))), { message: 'peering token server addresses value is empty' });
});

test('token contents are validated in Consul\'s order', () => {
  const bad = (patch: Partial<PeeringToken>, message: string) => assert.throws(() => validatePeeringToken({ ...TOKEN, ...patch }), { message });
  bad({ CA: ['junk'] }, 'peering token invalid CA: no PEM data found');
  bad({ ServerAddresses: [] }, 'peering token server addresses value is empty');
  bad({ ServerAddresses: ['10.0.0.1'] }, '10.0.0.1 is not a valid peering server address');
  bad({ ServerAddresses: ['10.0.0.1:0'] }, '10.0.0.1:0 is not a valid peering server address');
  bad({ ServerAddresses: ['10.0.0.1:65536'] }, '10.0.0.1:65536 is not a valid peering server address');
  bad({ CA: ['-----BEGIN CERTIFICATE-----\n'], ServerName: '' }, 'peering token server name value is empty');
  bad({ PeerID: '' }, 'peering token peer ID value is empty');
  validatePeeringToken({ ...TOKEN, ServerAddresses: null, ManualServerAddresses: ['lb.example.com:443'] });
});

test('meta is checked as ValidateMetaTags does', () => {
  validatePeeringMeta({ env: 'prod', Team_1: 'edge' });
  assert.throws(() => validatePeeringMeta({ 'consul-x': 'v' }), { message: "meta tags failed validation: Couldn't load metadata pair ('consul-x', 'v'): Key prefix 'consul-' is reserved for internal use" });
  assert.throws(() => validatePeeringMeta({ 'bad key': 'v' }), { message: "meta tags failed validation: Couldn't load metadata pair ('bad key', 'v'): Key contains invalid characters" });
  assert.throws(() => validatePeeringMeta({ k: 'v'.repeat(513) }), /Value is too long \(limit: 512 characters\)$/);
  const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
  assert.throws(() => validatePeeringMeta(many), { message: 'meta tags failed validation: Node metadata cannot contain more than 64 key/value pairs' });
});

test('server addresses are split as Go\'s net.SplitHostPort does, manual ones checked first', () => {
  const bad = (patch: Partial<PeeringToken>, message: string) => assert.throws(() => validatePeeringToken({ ...TOKEN, ...patch }), { message });
  bad({ ServerAddresses: ['10.0.0.1:x'], ManualServerAddresses: ['lb:0'] }, 'lb:0 is not a valid peering server address');
  bad({ ServerAddresses: ['::1:8500'] }, '::1:8500 is not a valid peering server address');
  bad({ ServerAddresses: ['[::1]8500'] }, '[::1]8500 is not a valid peering server address');
  bad({ ServerAddresses: ['[::1'] }, '[::1 is not a valid peering server address');
  bad({ ServerAddresses: ['a]:80'] }, 'a]:80 is not a valid peering server address');
  for (const ok of ['[::1]:8500', ':8500', 'host:+80', 'host:08500']) validatePeeringToken({ ...TOKEN, ServerAddresses: [ok] });
});
