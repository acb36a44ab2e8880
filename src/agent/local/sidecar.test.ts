import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeService, type LocalService } from './definition.ts';
import { registrableSidecar, sidecarDefaultChecks, sidecarFromDefinition, sidecarPort } from './sidecar.ts';
import { serviceProblems } from './validate.ts';

test('a bare sidecar_service gets Consul\'s defaults from its parent', () => {
  const def = decodeService({ name: 'web', id: 'web-1', port: 8080, tags: ['v1'], meta: { team: 'a' }, connect: { sidecar_service: {} } });
  assert.equal(def.service.Connect, undefined, 'the parent keeps no Connect block');
  const sc = sidecarFromDefinition(def, 'tok')!;
  assert.equal(sc.token, 'tok');
  const s = sc.def.service;
  assert.equal(s.Kind, 'connect-proxy');
  assert.equal(s.ID, 'web-1-sidecar-proxy');
  assert.equal(s.Service, 'web-sidecar-proxy');
  assert.deepEqual(s.Tags, ['v1']);
  assert.deepEqual(s.Meta, { team: 'a' });
  assert.equal(s.Port, 0, 'the port is assigned at registration');
  assert.equal(s.LocallyRegisteredAsSidecar, true);
  assert.deepEqual(s.Proxy, {
    DestinationServiceName: 'web', DestinationServiceID: 'web-1', LocalServiceAddress: '127.0.0.1', LocalServicePort: 8080,
    Mode: '', MeshGateway: {}, Expose: {},
  });
  assert.deepEqual(sc.def.checks, []);
});

test('what the sidecar_service gives wins over the defaults; a socket parent is dialed on its socket', () => {
  const def = decodeService({
    Name: 'web', Port: 8080, Address: '10.0.0.1', Tags: ['v1'], SocketPath: '/run/web.sock',
    Connect: { SidecarService: { Name: 'edge', Port: 9999, Tags: ['own'], Token: 'sc', Proxy: { Upstreams: [{ DestinationName: 'db', LocalBindPort: 9191 }] } } },
  });
  const sc = sidecarFromDefinition(def, 'tok')!;
  assert.equal(sc.token, 'sc');
  assert.equal(sc.def.service.Service, 'edge');
  assert.equal(sc.def.service.Port, 9999);
  assert.equal(sc.def.service.Address, '10.0.0.1', 'the address is inherited');
  assert.deepEqual(sc.def.service.Tags, ['own']);
  assert.equal(sc.def.service.Proxy!.LocalServiceSocketPath, '/run/web.sock');
  assert.equal(sc.def.service.Proxy!.LocalServiceAddress, undefined);
  assert.deepEqual(sc.def.service.Proxy!.Upstreams, [{ DestinationType: 'service', DestinationName: 'db', Datacenter: '', LocalBindPort: 9191, MeshGateway: {} }]);
});

test('no sidecar_service, no sidecar', () => {
  assert.equal(sidecarFromDefinition(decodeService({ Name: 'web' }), ''), undefined);
});

test('sidecar validation keeps Consul\'s texts', () => {
  const withId = decodeService({ Name: 'web', Connect: { SidecarService: { ID: 'web-sidecar-proxy' } } });
  assert.deepEqual(serviceProblems(withId, false), ['A SidecarService cannot specify an ID as this is managed by the agent']);
  const nested = decodeService({ Name: 'web', Connect: { SidecarService: { Connect: { SidecarService: {} } } } });
  assert.deepEqual(serviceProblems(nested, false), ['A SidecarService cannot have a nested SidecarService']);
  assert.throws(() => registrableSidecar(decodeService({ Name: 'web', Connect: { SidecarService: { Meta: { 'consul-x': '1' } } } }), ''),
    { message: "Invalid SidecarService: Couldn't load metadata pair ('consul-x', '1'): Key prefix 'consul-' is reserved for internal use" });
  assert.throws(() => registrableSidecar(decodeService({ Name: 'web', Port: 1, Connect: { SidecarService: { Kind: 'mesh-gateway', Port: 5 } } }), ''),
    (err: Error) => err.message.startsWith('Failed Validation: 4 errors occurred:\n\t* The Proxy.DestinationServiceName configuration is invalid for a mesh-gateway'));
});

function svc(id: string, port: number): LocalService {
  return { ID: id, Service: id, Tags: null, Address: '', TaggedAddresses: null, Meta: null, Port: port, Weights: { Passing: 1, Warning: 1 }, EnableTagOverride: false };
}

test('sidecar ports: the lowest free port of the range, the same one again for the same sidecar', () => {
  const range = { min: 21000, max: 21002 };
  assert.equal(sidecarPort([], 'a-sidecar-proxy', range), 21000);
  const others = [svc('a-sidecar-proxy', 21000), svc('web', 8080), svc('other', 21001)];
  assert.equal(sidecarPort(others, 'b-sidecar-proxy', range), 21002);
  assert.equal(sidecarPort(others, 'a-sidecar-proxy', range), 21000);
  assert.throws(() => sidecarPort([...others, svc('c', 21002)], 'b-sidecar-proxy', range),
    { message: 'no port provided for sidecar_service and none left in the configured range [21000, 21002]' });
  assert.throws(() => sidecarPort([], 'x', { min: 0, max: 0 }), { message: 'no port provided for sidecar_service and auto-assignment disabled in config' });
});

test('default sidecar checks: TCP on the sidecar address (else the local service address) and an alias of the parent', () => {
  const s = { ...svc('web-1-sidecar-proxy', 21000), Proxy: { LocalServiceAddress: '127.0.0.1' } };
  const [tcp, alias] = sidecarDefaultChecks(s);
  assert.equal(tcp.Name, 'Connect Sidecar Listening');
  assert.deepEqual(tcp.type, { TCP: '127.0.0.1:21000', Interval: 10_000 });
  assert.equal(alias.Name, 'Connect Sidecar Aliasing web-1');
  assert.deepEqual(alias.type, { AliasService: 'web-1' });
  assert.equal(sidecarDefaultChecks({ ...s, Address: '::1' })[0].type.TCP, '[::1]:21000');
});

test('the sidecar inherits its parent\'s locality unless it gives its own', () => {
  const inherit = sidecarFromDefinition(decodeService({ name: 'web', port: 80, locality: { region: 'us-west-1', zone: 'a' }, connect: { sidecar_service: {} } }), '')!;
  assert.deepEqual(inherit.def.service.Locality, { Region: 'us-west-1', Zone: 'a' });
  const own = sidecarFromDefinition(decodeService({
    Name: 'web', Port: 80, Locality: { Region: 'us-west-1' }, Connect: { SidecarService: { Locality: { Region: 'eu-1', Zone: 'b' } } },
  }), '')!;
  assert.deepEqual(own.def.service.Locality, { Region: 'eu-1', Zone: 'b' });
  const none = sidecarFromDefinition(decodeService({ name: 'web', port: 80, connect: { sidecar_service: {} } }), '')!;
  assert.equal(none.def.service.Locality, undefined);
});
