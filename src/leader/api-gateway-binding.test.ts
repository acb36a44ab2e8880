// The controller's pure computation: Consul's condition texts for the cases the integration test
// does not reach (a listener of the other protocol, a section that does not exist, a chain that
// does not compile, several services), Go's time rendering and the order-free comparison.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeBindings, goTime, sameConditions, type BindingInput, type Condition } from './api-gateway-binding.ts';

const input = (over: Partial<BindingInput>): BindingInput => ({
  gateways: [{ Name: 'gw', Listeners: [{ Name: 'web', Port: 80, Protocol: 'http' }, { Name: 'raw', Port: 90, Protocol: 'tcp' }] }],
  httpRoutes: [], tcpRoutes: [], now: '2026-01-02T03:04:05Z',
  certificateExists: () => true,
  chainProtocol: (s) => {
    if (s === 'broken') throw new Error('discovery chain "broken" uses inconsistent protocols');
    return s.startsWith('tcp') ? 'tcp' : 'http';
  },
  ...over,
});
const brief = (c: Condition[] | undefined) => (c ?? []).map((x) => `${x.Type}/${x.Status}/${x.Reason}/${x.Resource.SectionName}/${x.Message}`);

test("binding failures carry Consul's texts", () => {
  const r = computeBindings(input({
    httpRoutes: [
      { Name: 'to-raw', Parents: [{ Kind: 'api-gateway', Name: 'gw', SectionName: 'raw' }], Rules: [{ Services: [{ Name: 'a' }] }] },
      { Name: 'to-nope', Parents: [{ Kind: 'api-gateway', Name: 'gw', SectionName: 'nope' }], Rules: [{ Services: [{ Name: 'a' }] }] },
      { Name: 'broken', Parents: [{ Kind: 'api-gateway', Name: 'gw' }], Rules: [{ Services: [{ Name: 'broken' }] }] },
    ],
  }));
  assert.deepEqual(brief(r.statuses.get('http-route/to-raw')), [
    'Accepted/True/Accepted//route is valid', 'Bound/False/FailedToBind/raw/failed to bind route to-raw to gateway gw: listener raw is not a http listener',
  ]);
  assert.deepEqual(brief(r.statuses.get('http-route/to-nope')), [
    'Accepted/True/Accepted//route is valid', "Bound/False/FailedToBind/nope/failed to bind route to-nope to gateway gw with listener 'nope'",
  ]);
  assert.deepEqual(brief(r.statuses.get('http-route/broken')), [
    'Accepted/False/InvalidDiscoveryChain//discovery chain "broken" uses inconsistent protocols',
    'Bound/False/FailedToBind//failed to bind route to gateway gw: route has not been accepted',
  ]);
  assert.deepEqual(r.bound.get('gw')!.Listeners.map((l) => l.Routes), [null, null]);
});

test("one Accepted condition per route: the last service's verdict stands, as Consul's SetCondition replaces it", () => {
  const route = (services: string[]) => ({ Name: 'r', Parents: [{ Kind: 'api-gateway', Name: 'gw' }], Rules: [{ Services: services.map((Name) => ({ Name })) }] });
  const accepted = (services: string[]) => brief(computeBindings(input({ httpRoutes: [route(services)] })).statuses.get('http-route/r'))[0];
  assert.equal(accepted(['tcp-db', 'web']), 'Accepted/True/Accepted//route is valid');
  assert.equal(accepted(['web', 'tcp-db']), 'Accepted/False/InvalidDiscoveryChain//route protocol does not match targeted service protocol');
  assert.equal(accepted([]), 'Accepted/False/NoUpstreamServicesTargeted//route must target at least one upstream service');
});

test("Go's RFC3339Nano times; conditions compared in any order, times aside", () => {
  assert.equal(goTime(Date.UTC(2026, 0, 2, 3, 4, 5, 120)), '2026-01-02T03:04:05.12Z');
  assert.equal(goTime(Date.UTC(2026, 0, 2, 3, 4, 5, 0)), '2026-01-02T03:04:05Z');
  assert.equal(goTime(Date.UTC(2026, 0, 2, 3, 4, 5, 7)), '2026-01-02T03:04:05.007Z');
  const c = (Type: string, t: string): Condition => ({ Type, Status: 'True', Reason: Type, Message: 'm', Resource: { Kind: '', Name: '', SectionName: '' }, LastTransitionTime: t });
  assert.ok(sameConditions([c('A', 'x'), c('B', 'x')], [c('B', 'y'), c('A', 'y')]));
  assert.ok(!sameConditions([c('A', 'x')], [c('A', 'x'), c('B', 'x')]));
  assert.ok(!sameConditions([{ ...c('A', 'x'), Message: 'other' }], [c('A', 'x')]));
});

test("an http-route binds only to listeners whose hostname matches one of its own (Consul's FilteredHostnames); a gateway without listeners binds nothing", () => {
  const r = computeBindings(input({
    gateways: [
      { Name: 'gw', Listeners: [{ Name: 'api', Port: 80, Protocol: 'http', Hostname: 'api.example.com' }, { Name: 'any', Port: 81, Protocol: 'http', Hostname: '*.example.com' }] },
      { Name: 'empty', Listeners: [] },
    ],
    httpRoutes: [
      { Name: 'other', Parents: [{ Kind: 'api-gateway', Name: 'gw', SectionName: 'api' }], Hostnames: ['www.example.com'], Rules: [{ Services: [{ Name: 'a' }] }] },
      { Name: 'wild', Parents: [{ Kind: 'api-gateway', Name: 'gw', SectionName: 'any' }], Hostnames: ['www.example.com'], Rules: [{ Services: [{ Name: 'a' }] }] },
      { Name: 'none', Parents: [{ Kind: 'api-gateway', Name: 'gw', SectionName: 'any' }], Hostnames: ['www.example.org'], Rules: [{ Services: [{ Name: 'b' }] }] },
      { Name: 'bare', Parents: [{ Kind: 'api-gateway', Name: 'gw', SectionName: 'api' }], Rules: [{ Services: [{ Name: 'c' }] }] },
      { Name: 'to-empty', Parents: [{ Kind: 'api-gateway', Name: 'empty' }], Rules: [{ Services: [{ Name: 'c' }] }] },
    ],
  }));
  assert.deepEqual(brief(r.statuses.get('http-route/other')), [
    'Accepted/True/Accepted//route is valid', 'Bound/False/FailedToBind/api/failed to bind route to gateway gw: listener api is does not have any hostnames that match the route',
  ]);
  assert.deepEqual(brief(r.statuses.get('http-route/wild')), ['Accepted/True/Accepted//route is valid', 'Bound/True/Bound/any/successfully bound route']);
  assert.deepEqual(brief(r.statuses.get('http-route/none'))[1], 'Bound/False/FailedToBind/any/failed to bind route to gateway gw: listener any is does not have any hostnames that match the route');
  assert.deepEqual(brief(r.statuses.get('http-route/bare')), ['Accepted/True/Accepted//route is valid', 'Bound/True/Bound/api/successfully bound route']);
  assert.deepEqual(brief(r.statuses.get('http-route/to-empty'))[1], 'Bound/False/FailedToBind//route cannot bind because gateway has no listeners');
  assert.deepEqual(r.bound.get('gw')!.Listeners.map((l) => (l.Routes ?? []).map((x) => x.Name)), [['bare'], ['wild']]);
  assert.deepEqual(Object.keys(r.bound.get('gw')!.Services).sort(), ['a', 'c']);
});
