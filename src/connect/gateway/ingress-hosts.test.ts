import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ingressDomains, matchHost } from './ingress-hosts.ts';

test('a service without Hosts gets <service>.ingress.* and the same with the listener port', () => {
  assert.deepEqual(ingressDomains('web', null, 8080), ['web.ingress.*', 'web.ingress.*:8080']);
});

test('Hosts replace the default domains; a host with a port gets no second port', () => {
  assert.deepEqual(ingressDomains('web', ['web.example.com', 'api.example.com:9000', '*'], 8080),
    ['web.example.com', 'api.example.com:9000', '*', 'web.example.com:8080', '*:8080']);
});

test('Host matching: exact first, then the longest suffix wildcard, then prefix wildcard, then *; without case', () => {
  const vhosts = [
    { domains: ['*'], value: 'any' },
    { domains: ['web.ingress.*', 'web.ingress.*:8080'], value: 'web-default' },
    { domains: ['*.example.com'], value: 'suffix' },
    { domains: ['*.api.example.com'], value: 'longer-suffix' },
    { domains: ['exact.example.com'], value: 'exact' },
  ];
  assert.equal(matchHost(vhosts, 'EXACT.example.com'), 'exact');
  assert.equal(matchHost(vhosts, 'x.api.example.com'), 'longer-suffix');
  assert.equal(matchHost(vhosts, 'x.example.com'), 'suffix');
  assert.equal(matchHost(vhosts, 'web.ingress.consul'), 'web-default');
  assert.equal(matchHost(vhosts, 'web.ingress.consul:8080'), 'web-default');
  assert.equal(matchHost(vhosts, 'other'), 'any');
  // The wildcard stands for at least one character.
  assert.equal(matchHost(vhosts.slice(1), '.example.com'), undefined);
  assert.equal(matchHost(vhosts.slice(1), 'web.ingress.'), undefined);
  assert.equal(matchHost(vhosts.slice(1), undefined), undefined);
});
