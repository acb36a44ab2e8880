import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GatewayService } from '../../api/config-entries.ts';
import { planListeners } from './ingress.ts';

const row = (name: string, port: number, protocol = 'http'): GatewayService => ({
  Gateway: { Name: 'ingress' }, Service: { Name: name }, GatewayKind: 'ingress-gateway', Port: port, Protocol: protocol, CreateIndex: 1, ModifyIndex: 1,
});

test('listeners from the entry: http services with their domains and header changes, tcp with its one service', () => {
  const plans = planListeners({
    Listeners: [
      { Port: 8080, Protocol: 'http', Services: [{ Name: 'web', Hosts: ['web.example.com'], RequestHeaders: { Set: { 'x-a': '1' } } }, { Name: 'api' }] },
      { Port: 9090, Protocol: 'tcp', Services: [{ Name: 'db' }], TLS: { Enabled: true } },
    ],
  }, [row('web', 8080), row('api', 8080), row('db', 9090, 'tcp')]);
  assert.deepEqual(plans, [
    { port: 8080, protocol: 'http', tls: null, services: [
      { name: 'api', domains: ['api.ingress.*', 'api.ingress.*:8080'] },
      { name: 'web', domains: ['web.example.com', 'web.example.com:8080'], request: { Set: { 'x-a': '1' } } },
    ] },
    { port: 9090, protocol: 'tcp', tls: { minVersion: 'TLSv1.2' }, services: [{ name: 'db', domains: ['db.ingress.*', 'db.ingress.*:9090'] }] },
  ]);
});

test('a wildcard listener serves every linked service with default domains and the wildcard headers', () => {
  const plans = planListeners({ Listeners: [{ Port: 8080, Protocol: 'http', Services: [{ Name: '*', ResponseHeaders: { Remove: ['server'] } }] }] },
    [row('b', 8080), row('a', 8080), row('other', 7000)]);
  assert.deepEqual(plans.map((p) => p.services.map((s) => [s.name, s.domains[0], s.response])), [[['a', 'a.ingress.*', { Remove: ['server'] }], ['b', 'b.ingress.*', { Remove: ['server'] }]]]);
});

test('no entry or a listener without services runs nothing', () => {
  assert.deepEqual(planListeners(null, []), []);
  assert.deepEqual(planListeners({ Listeners: [{ Port: 1, Protocol: 'http', Services: [] }] }, []), []);
});
