// WAN address translation: which tagged address wins for each accepted kind, and what stays.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ACCEPT, acceptFor, pickAddress, translateCheckServiceNode, translateNode, translateService, translateServiceNode,
  wanNodeAddress, wanServiceAddress, wanServicePort,
} from './translate-addr.ts';

const nodeTags = { lan: '10.0.0.1', wan: '198.51.100.1', wan_ipv4: '198.51.100.4', wan_ipv6: '2001:db8::1' };
const svcTags = { lan: { Address: '10.0.0.2', Port: 80 }, wan: { Address: '203.0.113.2', Port: 8080 } };

test('a node shows its wan address; A prefers wan_ipv4, AAAA wan_ipv6', () => {
  assert.equal(wanNodeAddress('10.0.0.1', nodeTags, ACCEPT.any), '198.51.100.1');
  assert.equal(wanNodeAddress('10.0.0.1', nodeTags, acceptFor('A')), '198.51.100.4');
  assert.equal(wanNodeAddress('10.0.0.1', nodeTags, acceptFor('AAAA')), '2001:db8::1');
  assert.equal(wanNodeAddress('10.0.0.1', nodeTags, acceptFor('SRV')), '198.51.100.1');
});

test('without WAN tags the LAN address (or lan_ipv4/lan_ipv6 for A/AAAA) stays', () => {
  assert.equal(wanNodeAddress('10.0.0.1', null, ACCEPT.any), '10.0.0.1');
  assert.equal(wanNodeAddress('10.0.0.1', { lan: '10.0.0.1' }, acceptFor('A')), '10.0.0.1');
  assert.equal(wanNodeAddress('10.0.0.1', { lan_ipv6: 'fd00::1' }, acceptFor('AAAA')), 'fd00::1');
  // An IPv4 address for an AAAA question with nothing IPv6: nothing.
  assert.equal(wanNodeAddress('10.0.0.1', { wan: '198.51.100.1' }, acceptFor('AAAA')), '');
  // A hostname suits any question.
  assert.equal(wanNodeAddress('10.0.0.1', { wan: 'edge.example.com' }, acceptFor('A')), 'edge.example.com');
});

test('a present but empty wan tag empties the default address, as Consul has it', () => {
  assert.equal(wanNodeAddress('10.0.0.1', { wan: '' }, ACCEPT.any), '');
});

test('pickAddress follows Consul: v6 before v4 before the default, then the default by its family', () => {
  assert.equal(pickAddress(ACCEPT.ipv4 | ACCEPT.ipv6, 'h', '1.1.1.1', '::1'), '::1');
  assert.equal(pickAddress(ACCEPT.ipv4, '2.2.2.2', '', ''), '2.2.2.2');
  assert.equal(pickAddress(ACCEPT.ipv4, '::2', '', ''), '');
  assert.equal(pickAddress(ACCEPT.domain, 'host', '', ''), 'host');
  assert.equal(pickAddress(ACCEPT.any, '', '', ''), '');
});

test('a service shows its wan address and port; a wan tag without port keeps the port', () => {
  assert.equal(wanServiceAddress('10.0.0.2', svcTags, ACCEPT.any), '203.0.113.2');
  assert.equal(wanServicePort(80, svcTags), 8080);
  assert.equal(wanServicePort(80, { wan: { Address: '203.0.113.2', Port: 0 } }), 80);
  assert.equal(wanServicePort(80, undefined), 80);
  assert.equal(wanServiceAddress('', undefined, ACCEPT.any), '');
  assert.equal(wanServiceAddress('10.0.0.2', { wan_ipv4: { Address: '203.0.113.4', Port: 1 } }, acceptFor('A')), '203.0.113.4');
});

test('structures are copied, never changed in place', () => {
  const node = { Node: 'n1', Address: '10.0.0.1', TaggedAddresses: nodeTags };
  const svc = { Service: 'web', Address: '', Port: 80, TaggedAddresses: svcTags };
  assert.equal(translateNode(node).Address, '198.51.100.1');
  assert.deepEqual(translateService(svc), { ...svc, Address: '203.0.113.2', Port: 8080 });
  assert.equal(node.Address, '10.0.0.1');
  assert.equal(svc.Port, 80);
  const entry = {
    Node: 'n1', Address: '10.0.0.1', TaggedAddresses: nodeTags, ServiceAddress: '', ServicePort: 80, ServiceTaggedAddresses: svcTags,
  };
  assert.deepEqual(translateServiceNode(entry), { ...entry, Address: '198.51.100.1', ServiceAddress: '203.0.113.2', ServicePort: 8080 });
  const health = translateCheckServiceNode({ Node: node, Service: svc } as unknown as Parameters<typeof translateCheckServiceNode>[0]);
  assert.equal(health.Node.Address, '198.51.100.1');
  assert.equal(health.Service.Port, 8080);
});
