// The redirect rules against the lists Consul's sdk/iptables Setup produces for the same inputs
// (written out from its code: chain creation, outbound, DNS, exclusions inserted, inbound).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { iptablesRules, redirectCommands, type RedirectConfig } from './redirect-traffic-rules.ts';

const lines = (cfg: RedirectConfig): string[] => iptablesRules(cfg).map((args) => ['iptables', ...args].join(' '));

const CHAINS = [
  'iptables -t nat -N CONSUL_PROXY_INBOUND',
  'iptables -t nat -N CONSUL_PROXY_IN_REDIRECT',
  'iptables -t nat -N CONSUL_PROXY_OUTPUT',
  'iptables -t nat -N CONSUL_PROXY_REDIRECT',
  'iptables -t nat -N CONSUL_DNS_REDIRECT',
];
const OUTPUT = [
  'iptables -t nat -A OUTPUT -p tcp -j CONSUL_PROXY_OUTPUT',
  'iptables -t nat -A CONSUL_PROXY_OUTPUT -m owner --uid-owner 123 -j RETURN',
  'iptables -t nat -A CONSUL_PROXY_OUTPUT -d 127.0.0.1/32 -j RETURN',
  'iptables -t nat -A CONSUL_PROXY_OUTPUT -j CONSUL_PROXY_REDIRECT',
];
const INBOUND = [
  'iptables -t nat -A CONSUL_PROXY_IN_REDIRECT -p tcp -j REDIRECT --to-port 20000',
  'iptables -t nat -A PREROUTING -p tcp -j CONSUL_PROXY_INBOUND',
  'iptables -t nat -A CONSUL_PROXY_INBOUND -p tcp -j CONSUL_PROXY_IN_REDIRECT',
];
const base = { proxyUserID: '123', proxyInboundPort: 20000 };

test('no outbound port: 15001, the default', () => {
  assert.deepEqual(lines(base), [...CHAINS, 'iptables -t nat -A CONSUL_PROXY_REDIRECT -p tcp -j REDIRECT --to-port 15001', ...OUTPUT, ...INBOUND]);
});

test('the outbound port given is the redirect target', () => {
  assert.deepEqual(lines({ ...base, proxyOutboundPort: 21000 }), [
    ...CHAINS, 'iptables -t nat -A CONSUL_PROXY_REDIRECT -p tcp -j REDIRECT --to-port 21000', ...OUTPUT, ...INBOUND,
  ]);
});

test('Consul DNS IP only: port 53 DNAT to the IP, jumps before the TCP catch-all', () => {
  assert.deepEqual(lines({ ...base, proxyOutboundPort: 21000, consulDNSIP: '10.0.34.16' }), [
    ...CHAINS,
    'iptables -t nat -A CONSUL_PROXY_REDIRECT -p tcp -j REDIRECT --to-port 21000',
    'iptables -t nat -A CONSUL_DNS_REDIRECT -p udp --dport 53 -j DNAT --to-destination 10.0.34.16',
    'iptables -t nat -A CONSUL_DNS_REDIRECT -p tcp --dport 53 -j DNAT --to-destination 10.0.34.16',
    'iptables -t nat -A OUTPUT -p udp --dport 53 -j CONSUL_DNS_REDIRECT',
    'iptables -t nat -A OUTPUT -p tcp --dport 53 -j CONSUL_DNS_REDIRECT',
    ...OUTPUT, ...INBOUND,
  ]);
});

test('Consul DNS port only: queries to 127.0.0.1:53 go to 127.0.0.1:<port>', () => {
  assert.deepEqual(lines({ ...base, proxyOutboundPort: 21000, consulDNSPort: 8600 }), [
    ...CHAINS,
    'iptables -t nat -A CONSUL_PROXY_REDIRECT -p tcp -j REDIRECT --to-port 21000',
    'iptables -t nat -A CONSUL_DNS_REDIRECT -p udp -d 127.0.0.1 --dport 53 -j DNAT --to-destination 127.0.0.1:8600',
    'iptables -t nat -A CONSUL_DNS_REDIRECT -p tcp -d 127.0.0.1 --dport 53 -j DNAT --to-destination 127.0.0.1:8600',
    'iptables -t nat -A OUTPUT -p udp -d 127.0.0.1 --dport 53 -j CONSUL_DNS_REDIRECT',
    'iptables -t nat -A OUTPUT -p tcp -d 127.0.0.1 --dport 53 -j CONSUL_DNS_REDIRECT',
    ...OUTPUT, ...INBOUND,
  ]);
});

test('Consul DNS IP and port', () => {
  const got = lines({ ...base, consulDNSIP: '10.0.34.16', consulDNSPort: 8600 });
  assert.deepEqual(got.slice(6, 10), [
    'iptables -t nat -A CONSUL_DNS_REDIRECT -p udp -d 10.0.34.16 --dport 53 -j DNAT --to-destination 10.0.34.16:8600',
    'iptables -t nat -A CONSUL_DNS_REDIRECT -p tcp -d 10.0.34.16 --dport 53 -j DNAT --to-destination 10.0.34.16:8600',
    'iptables -t nat -A OUTPUT -p udp -d 10.0.34.16 --dport 53 -j CONSUL_DNS_REDIRECT',
    'iptables -t nat -A OUTPUT -p tcp -d 10.0.34.16 --dport 53 -j CONSUL_DNS_REDIRECT',
  ]);
});

test('exclusions are inserted after their chain\'s defaults: outbound ports, CIDRs, UIDs, then inbound ports', () => {
  assert.deepEqual(lines({
    ...base, proxyOutboundPort: 21000, excludeInboundPorts: ['22000', '22500'], excludeOutboundPorts: ['23000', '23500'],
    excludeOutboundCIDRs: ['1.1.1.1', '2.2.2.2/24'], excludeUIDs: ['456', '789'],
  }), [
    ...CHAINS,
    'iptables -t nat -A CONSUL_PROXY_REDIRECT -p tcp -j REDIRECT --to-port 21000',
    ...OUTPUT,
    'iptables -t nat -I CONSUL_PROXY_OUTPUT -p tcp --dport 23000 -j RETURN',
    'iptables -t nat -I CONSUL_PROXY_OUTPUT -p tcp --dport 23500 -j RETURN',
    'iptables -t nat -I CONSUL_PROXY_OUTPUT -d 1.1.1.1 -j RETURN',
    'iptables -t nat -I CONSUL_PROXY_OUTPUT -d 2.2.2.2/24 -j RETURN',
    'iptables -t nat -I CONSUL_PROXY_OUTPUT -m owner --uid-owner 456 -j RETURN',
    'iptables -t nat -I CONSUL_PROXY_OUTPUT -m owner --uid-owner 789 -j RETURN',
    ...INBOUND,
    'iptables -t nat -I CONSUL_PROXY_INBOUND -p tcp --dport 22000 -j RETURN',
    'iptables -t nat -I CONSUL_PROXY_INBOUND -p tcp --dport 22500 -j RETURN',
  ]);
});

test('a network namespace runs each command through nsenter', () => {
  const cmds = redirectCommands({ ...base, netNS: '/var/run/netns/foo' });
  assert.equal(cmds.length, 13);
  assert.deepEqual(cmds[0], ['nsenter', '--net=/var/run/netns/foo', '--', 'iptables', '-t', 'nat', '-N', 'CONSUL_PROXY_INBOUND']);
  assert.deepEqual(redirectCommands(base)[0], ['iptables', '-t', 'nat', '-N', 'CONSUL_PROXY_INBOUND']);
});

test('Consul\'s validation errors', () => {
  assert.throws(() => iptablesRules({ proxyUserID: '', proxyInboundPort: 20000 }), { message: 'ProxyUserID is required to set up traffic redirection' });
  assert.throws(() => iptablesRules({ proxyUserID: '123', proxyInboundPort: 0, proxyOutboundPort: 21000 }), {
    message: 'ProxyInboundPort is required to set up traffic redirection',
  });
});
