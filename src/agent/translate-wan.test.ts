// translate_wan_addrs over HTTP: which answers are translated, for which datacenter, in which form.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Router, type HttpRequest } from '../http/index.ts';
import { translateBody, translatedShape, translateHeaders, translatingRouter, wanDnsSettings } from './translate-wan.ts';
import { dnsConfigFrom } from '../dns/index.ts';
import { decodeDnsConfig } from '../dns/config-wire.ts';
import { devConfig } from '../../test/support/agent.ts';

const node = { Node: 'n2', Address: '10.2.0.1', TaggedAddresses: { lan: '10.2.0.1', wan: '198.51.100.2' } };
const service = { ID: 'web', Service: 'web', Address: '10.2.0.9', Port: 80, TaggedAddresses: { wan: { Address: '203.0.113.9', Port: 8080 } } };
const serviceNode = {
  Node: 'n2', Address: '10.2.0.1', TaggedAddresses: node.TaggedAddresses,
  ServiceAddress: '10.2.0.9', ServicePort: 80, ServiceTaggedAddresses: service.TaggedAddresses,
};

test('the translated endpoints are the GETs Consul translates', () => {
  assert.equal(translatedShape('GET', '/v1/catalog/nodes'), 'nodes');
  assert.equal(translatedShape('GET', '/v1/catalog/node/n2'), 'nodeServices');
  assert.equal(translatedShape('GET', '/v1/catalog/node-services/n2'), 'nodeServiceList');
  assert.equal(translatedShape('GET', '/v1/catalog/service/web'), 'serviceNodes');
  assert.equal(translatedShape('GET', '/v1/catalog/connect/web'), 'serviceNodes');
  assert.equal(translatedShape('GET', '/v1/health/service/web'), 'checkServiceNodes');
  assert.equal(translatedShape('GET', '/v1/health/ingress/web'), 'checkServiceNodes');
  assert.equal(translatedShape('GET', '/v1/query/q1/execute'), 'query');
  assert.equal(translatedShape('GET', '/v1/catalog/services'), undefined);
  assert.equal(translatedShape('GET', '/v1/health/node/n2'), undefined);
  assert.equal(translatedShape('PUT', '/v1/catalog/nodes'), undefined);
});

test('only answers from another datacenter are translated', () => {
  const same = [node];
  assert.equal(translateBody('nodes', same, 'dc1', 'dc1'), same);
  assert.equal(translateBody('nodes', same, '', 'dc1'), same);
  assert.deepEqual(translateBody('nodes', same, 'dc2', 'dc1'), [{ ...node, Address: '198.51.100.2' }]);
  assert.deepEqual(translateBody('serviceNodes', [serviceNode], 'dc2', 'dc1'), [{
    ...serviceNode, Address: '198.51.100.2', ServiceAddress: '203.0.113.9', ServicePort: 8080,
  }]);
  const health = translateBody('checkServiceNodes', [{ Node: node, Service: service, Checks: [] }], 'dc2', 'dc1') as { Node: { Address: string }; Service: { Address: string; Port: number } }[];
  assert.deepEqual([health[0].Node.Address, health[0].Service.Address, health[0].Service.Port], ['198.51.100.2', '203.0.113.9', 8080]);
});

test('node answers translate the node and each service, as a map or a list', () => {
  const map = translateBody('nodeServices', { Node: node, Services: { web: service } }, 'dc2', 'dc1') as { Node: { Address: string }; Services: Record<string, { Port: number }> };
  assert.equal(map.Node.Address, '198.51.100.2');
  assert.equal(map.Services.web.Port, 8080);
  const list = translateBody('nodeServiceList', { Node: node, Services: [service] }, 'dc2', 'dc1') as { Services: { Address: string }[] };
  assert.equal(list.Services[0].Address, '203.0.113.9');
  assert.equal(translateBody('nodeServices', null, 'dc2', 'dc1'), null);
});

test('a prepared query is translated by the datacenter it ran in', () => {
  const local = { Datacenter: 'dc1', Nodes: [{ Node: node, Service: service, Checks: [] }] };
  assert.equal(translateBody('query', local, '', 'dc1'), local);
  const failedOver = translateBody('query', { ...local, Datacenter: 'dc2' }, '', 'dc1') as typeof local;
  assert.equal(failedOver.Nodes[0].Node.Address, '198.51.100.2');
});

const get = (path: string, dc?: string): HttpRequest => ({
  method: 'GET', path, url: path, params: { rest: '' }, query: new URLSearchParams(dc ? { dc } : {}), headers: {}, remoteAddr: '127.0.0.1',
  body: async () => Buffer.alloc(0), signal: new AbortController().signal,
} as unknown as HttpRequest);

test('the router translates relayed (raw) and in-process answers, and leaves the rest alone', async () => {
  const raw = JSON.stringify([serviceNode]);
  const router = new Router()
    .route('GET', '/v1/catalog/service/*', async () => ({ raw, contentType: 'application/json', headers: { 'X-Consul-Index': '7' } }))
    .route('GET', '/v1/catalog/nodes', async () => ({ body: [node] }))
    .route('GET', '/v1/kv/*', async () => ({ raw }));
  const on = translatingRouter(router, { datacenter: 'dc1', enabled: true });
  const remote = await on.match('GET', '/v1/catalog/service/web')!.handler(get('/v1/catalog/service/web', 'dc2'));
  assert.equal(remote.raw, undefined);
  assert.equal(remote.headers?.['X-Consul-Index'], '7');
  assert.equal((remote.body as { ServicePort: number }[])[0].ServicePort, 8080);
  const local = await on.match('GET', '/v1/catalog/service/web')!.handler(get('/v1/catalog/service/web'));
  assert.equal(local.raw, raw);
  assert.deepEqual((await on.match('GET', '/v1/catalog/nodes')!.handler(get('/v1/catalog/nodes', 'dc2'))).body, [{ ...node, Address: '198.51.100.2' }]);
  assert.equal((await on.match('GET', '/v1/kv/a')!.handler(get('/v1/kv/a', 'dc2'))).raw, raw);
  const off = translatingRouter(router, { datacenter: 'dc1', enabled: false });
  assert.equal((await off.match('GET', '/v1/catalog/service/web')!.handler(get('/v1/catalog/service/web', 'dc2'))).raw, raw);
  assert.equal(on.match('GET', '/v1/nope'), null);
});

test('the header is there only while translation is on', () => {
  assert.deepEqual(translateHeaders(true), { 'X-Consul-Translate-Addresses': 'true' });
  assert.deepEqual(translateHeaders(false), {});
});

test('DNS questions for another datacenter ask for WAN addresses only while translating', () => {
  assert.equal(wanDnsSettings(dnsConfigFrom(devConfig({ datacenter: 'dc1' }))), undefined);
  const s = wanDnsSettings(dnsConfigFrom(devConfig({ datacenter: 'dc1', translateWanAddrs: true, domain: 'pc' })));
  assert.ok(s);
  assert.equal(s.domain, 'pc.');
  const cfg = decodeDnsConfig(s.settings, 'dc2');
  assert.equal(cfg.wanAddresses, true);
  assert.equal(cfg.translateWanAddrs, true);
  assert.equal(cfg.datacenter, 'dc2');
});
