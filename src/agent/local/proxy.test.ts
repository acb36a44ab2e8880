import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentProxy, decodeProxy } from './proxy.ts';
import { decodeService } from './definition.ts';
import { serviceProblems } from './validate.ts';
import { proxyModeProblems } from './proxy-validate.ts';

test('a config-file proxy block (snake_case) decodes to Consul\'s ConnectProxyConfig JSON', () => {
  const p = decodeProxy({
    destination_service_name: 'web', local_service_port: 8080, mode: 'direct', config: { protocol: 'http' },
    transparent_proxy: { outbound_listener_port: 15001 },
    upstreams: [{ destination_name: 'db', local_bind_port: 9191, datacenter: 'dc2', mesh_gateway: { mode: 'local' } }],
    expose: { checks: true, paths: [{ path: '/m', listener_port: 21500, local_path_port: 8080 }] },
  });
  assert.deepEqual(p, {
    TransparentProxy: { OutboundListenerPort: 15001 }, DestinationServiceName: 'web', LocalServicePort: 8080, Mode: 'direct',
    Config: { protocol: 'http' },
    Upstreams: [{ DestinationType: 'service', DestinationName: 'db', Datacenter: 'dc2', LocalBindPort: 9191, MeshGateway: { Mode: 'local' } }],
    MeshGateway: {}, Expose: { Checks: true, Paths: [{ ListenerPort: 21500, Path: '/m', LocalPathPort: 8080 }] },
  });
});

test('HTTP bodies decode case-insensitively to the same shape', () => {
  const a = decodeProxy({ DestinationServiceName: 'web', Upstreams: [{ DestinationName: 'db', LocalBindPort: 1 }] });
  const b = decodeProxy({ destinationservicename: 'web', upstreams: [{ destinationname: 'db', localbindport: 1 }] });
  assert.deepEqual(a, b);
  assert.equal(a.Upstreams![0].DestinationType, 'service');
});

test('the agent API form leaves out an empty Mode, empty Upstreams and an empty Datacenter', () => {
  const stored = decodeProxy({ DestinationServiceName: 'web', Upstreams: [{ DestinationName: 'db', LocalBindPort: 1 }] });
  assert.deepEqual(agentProxy(stored as unknown as Record<string, unknown>), {
    DestinationServiceName: 'web', Upstreams: [{ DestinationType: 'service', DestinationName: 'db', LocalBindPort: 1, MeshGateway: {} }],
    MeshGateway: {}, Expose: {},
  });
  assert.deepEqual(agentProxy({}), { MeshGateway: {}, Expose: {} });
});

test('proxy validation: Consul\'s texts for destinations, upstreams and exposed paths', () => {
  const problems = (proxy: unknown, port = 21000) => serviceProblems(decodeService({ Name: 'p', Kind: 'connect-proxy', Port: port, Proxy: proxy }), false);
  assert.deepEqual(problems({}, 0), [
    'Port or SocketPath must be set for a connect-proxy', 'Proxy.DestinationServiceName must be non-empty for Connect proxy services',
  ]);
  assert.deepEqual(problems({ DestinationServiceName: '*' }), ['Proxy.DestinationServiceName must not be a wildcard for Connect proxy services']);
  assert.deepEqual(problems({ DestinationServiceName: 'w', Upstreams: [{ DestinationName: 'db' }] }),
    ['upstream local bind port or local socket path must be defined and nonzero']);
  assert.deepEqual(problems({ DestinationServiceName: 'w', Upstreams: [{ DestinationName: 'db', LocalBindPort: 1 }, { DestinationName: 'db', LocalBindPort: 2 }] }),
    ['upstreams cannot contain duplicates of [type="service", name="db", partition="", namespace="", peer="", datacenter=""]']);
  assert.deepEqual(problems({ DestinationServiceName: 'w', Upstreams: [{ DestinationName: 'a', LocalBindPort: 1 }, { DestinationName: 'b', LocalBindPort: 1 }] }),
    ['upstreams cannot contain duplicates by local bind address and port or unix path; "127.0.0.1:1" is specified twice']);
  assert.deepEqual(problems({ DestinationServiceName: 'w', Expose: { Paths: [{ Path: '/x', ListenerPort: 0, Protocol: 'tcp' }] } }),
    ['expose.paths: invalid listener port: 0', "protocol 'tcp' not supported for path: /x, must be in: [http http2]"]);
});

test('config-file proxy and mesh gateway modes are checked with Consul\'s builder texts', () => {
  const ok = decodeProxy({ mode: 'transparent', mesh_gateway: { mode: 'remote' }, upstreams: [{ destination_name: 'db', mesh_gateway: { mode: 'none' } }] });
  assert.deepEqual(proxyModeProblems(ok as unknown as Record<string, unknown>), []);
  assert.deepEqual(proxyModeProblems(decodeProxy({}) as unknown as Record<string, unknown>), []);
  const bad = decodeProxy({ mode: 'tproxy', mesh_gateway: { mode: 'far' }, upstreams: [{ destination_name: 'db', mesh_gateway: { mode: 'LOCAL' } }] });
  assert.deepEqual(proxyModeProblems(bad as unknown as Record<string, unknown>), [
    'Invalid Proxy Mode: "tproxy"', 'Invalid Mesh Gateway Mode: "far"', 'Invalid Mesh Gateway Mode: "LOCAL"',
  ]);
});
