import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeService, type LocalService } from '../agent/local/definition.ts';
import { mergeServiceConfig, serviceConfigRequest } from './service-config-merge.ts';
import type { ServiceConfigResponse } from '../api/service-config-types.ts';

const sidecar = (proxy: Record<string, unknown>): LocalService => decodeService({
  Name: 'web-sidecar-proxy', Kind: 'connect-proxy', Port: 21000, Proxy: { DestinationServiceName: 'web', DestinationServiceID: 'web', ...proxy },
}).service;

const zero = (): ServiceConfigResponse => ({ MeshGateway: {}, Expose: {}, TransparentProxy: {}, Mode: '' });

test('only sidecar proxies and gateways ask for central defaults; a sidecar asks for its destination and service upstreams', () => {
  assert.equal(serviceConfigRequest(decodeService({ Name: 'web', Port: 80 }).service), undefined);
  const lone = decodeService({ Name: 'p', Kind: 'connect-proxy', Port: 1, Proxy: { DestinationServiceName: 'web' } }).service;
  assert.equal(serviceConfigRequest(lone), undefined, 'a proxy without a destination instance is not a sidecar');
  assert.deepEqual(serviceConfigRequest(decodeService({ Name: 'gw', Kind: 'mesh-gateway', Port: 443 }).service), { Name: 'gw' });
  const s = sidecar({
    Mode: 'direct', MeshGateway: { Mode: 'local' },
    Upstreams: [{ DestinationName: 'db', LocalBindPort: 1 }, { DestinationType: 'prepared_query', DestinationName: 'q', LocalBindPort: 2 }],
  });
  assert.deepEqual(serviceConfigRequest(s), {
    Name: 'web', MeshGateway: { Mode: 'local' }, Mode: 'direct',
    UpstreamServiceNames: [{ ServiceName: { Name: 'db', Namespace: 'default', Partition: 'default' } }],
  });
});

test('the registration wins over the defaults, which fill what it leaves empty', () => {
  const s = sidecar({ Config: { protocol: 'tcp', nested: { a: 1 } }, Mode: 'direct', Expose: { Paths: [{ Path: '/x', ListenerPort: 21500 }] } });
  const merged = mergeServiceConfig({
    ...zero(), ProxyConfig: { protocol: 'http', extra: true, nested: { a: 2, b: 3 } }, Mode: 'transparent', MeshGateway: { Mode: 'remote' },
    Expose: { Checks: true, Paths: [{ Path: '/y', ListenerPort: 21501 }] }, TransparentProxy: { OutboundListenerPort: 15001 },
    AccessLogs: { Enabled: true },
  }, s);
  const p = merged.Proxy as Record<string, any>;
  assert.deepEqual(p.Config, { protocol: 'tcp', nested: { a: 1, b: 3 }, extra: true });
  assert.equal(p.Mode, 'direct');
  assert.deepEqual(p.MeshGateway, { Mode: 'remote' });
  assert.deepEqual(p.Expose, { Paths: [{ Path: '/x', ListenerPort: 21500 }], Checks: true });
  assert.deepEqual(p.TransparentProxy, { OutboundListenerPort: 15001 });
  assert.deepEqual(p.AccessLogs, { Enabled: true });
  assert.deepEqual(Object.keys(p), ['TransparentProxy', 'AccessLogs', 'DestinationServiceName', 'DestinationServiceID', 'Mode', 'Config', 'MeshGateway', 'Expose'], 'Consul\'s JSON order');
  assert.deepEqual((s.Proxy as Record<string, unknown>).Config, { protocol: 'tcp', nested: { a: 1 } }, 'the registration itself is untouched');
});

test('upstream configs merge into the matching registered upstreams; the resolved gateway mode moves out of Config', () => {
  const s = sidecar({
    Upstreams: [
      { DestinationName: 'db', LocalBindPort: 1, Config: { connect_timeout_ms: 9 } },
      { DestinationName: 'api', LocalBindPort: 2, MeshGateway: { Mode: 'none' } },
      { DestinationName: 'ext', DestinationPeer: 'east', LocalBindPort: 3 },
    ],
  });
  const merged = mergeServiceConfig({
    ...zero(), UpstreamConfigs: [
      { Upstream: { ServiceName: { Name: 'db' } }, Config: { protocol: 'grpc', connect_timeout_ms: 5000, mesh_gateway: { Mode: 'local' } } },
      { Upstream: { ServiceName: { Name: 'api' } }, Config: { protocol: 'http', mesh_gateway: { Mode: 'local' } } },
      { Upstream: { ServiceName: { Name: 'ext' }, Peer: 'east' }, Config: { protocol: 'http', limits: { MaxConnections: 3 } } },
      { Upstream: { ServiceName: { Name: 'other' } }, Config: { protocol: 'tcp' } },
    ],
  }, s);
  const [db, api, ext, ...rest] = (merged.Proxy as Record<string, any>).Upstreams;
  assert.deepEqual(db.Config, { connect_timeout_ms: 9, protocol: 'grpc' });
  assert.deepEqual(db.MeshGateway, { Mode: 'local' });
  assert.deepEqual(api.MeshGateway, { Mode: 'none' }, 'the upstream\'s own mode wins');
  assert.deepEqual(ext.Config, { limits: { MaxConnections: 3 } }, 'a peer upstream never takes the local protocol');
  assert.deepEqual(rest, [], 'central upstreams join only in transparent mode');
});

test('in transparent mode the centrally configured upstreams are added', () => {
  const merged = mergeServiceConfig({
    ...zero(), Mode: 'transparent',
    UpstreamConfigs: [{ Upstream: { ServiceName: { Name: '*' } }, Config: { connect_timeout_ms: 1 } }, { Upstream: { ServiceName: { Name: 'db' } }, Config: { protocol: 'grpc', mesh_gateway: { Mode: 'remote' } } }],
  }, sidecar({}));
  const p = merged.Proxy as Record<string, any>;
  assert.equal(p.Mode, 'transparent');
  assert.deepEqual(p.Upstreams.map((u: any) => [u.DestinationName, u.CentrallyConfigured, u.MeshGateway]), [['*', true, {}], ['db', true, { Mode: 'remote' }]]);
  assert.deepEqual(p.Upstreams[1].Config, { protocol: 'grpc', mesh_gateway: { Mode: 'remote' } });
  assert.equal(mergeServiceConfig(undefined, sidecar({})).Proxy?.Upstreams, undefined);
});

test('a sidecar in a namespace asks in its namespace, its bare upstreams in it too, and merges their answers back', () => {
  const s = { ...sidecar({ Upstreams: [{ DestinationName: 'db', LocalBindPort: 1 }, { DestinationName: 'cache', DestinationNamespace: 'default', LocalBindPort: 2 }] }), Namespace: 'team-a' };
  assert.deepEqual(serviceConfigRequest(s), {
    Name: 'web', Namespace: 'team-a',
    UpstreamServiceNames: [
      { ServiceName: { Name: 'db', Namespace: 'team-a', Partition: 'default' } },
      { ServiceName: { Name: 'cache', Namespace: 'default', Partition: 'default' } },
    ],
  });
  const merged = mergeServiceConfig({
    ...zero(), UpstreamConfigs: [{ Upstream: { ServiceName: { Name: 'db', Namespace: 'team-a', Partition: 'default' } }, Config: { protocol: 'http' } }],
  }, s);
  const ups = (merged.Proxy as { Upstreams: { DestinationName: string; Config?: Record<string, unknown> }[] }).Upstreams;
  assert.deepEqual(ups.map((u) => [u.DestinationName, u.Config?.protocol]), [['db', 'http'], ['cache', undefined]]);
});

test("a client agent's sidecar in its partition asks there, its bare upstreams there too, and merges their answers back; the default partition asks as before", () => {
  const s = sidecar({ Upstreams: [{ DestinationName: 'db', LocalBindPort: 1 }, { DestinationName: 'cache', DestinationPartition: 'default', LocalBindPort: 2 }] });
  assert.deepEqual(serviceConfigRequest(s, 'p1'), {
    Name: 'web', Partition: 'p1',
    UpstreamServiceNames: [
      { ServiceName: { Name: 'db', Namespace: 'default', Partition: 'p1' } },
      { ServiceName: { Name: 'cache', Namespace: 'default', Partition: 'default' } },
    ],
  });
  assert.deepEqual(serviceConfigRequest(s, 'default'), serviceConfigRequest(s));
  assert.equal('Partition' in serviceConfigRequest(s, 'Default')!, false);
  const merged = mergeServiceConfig({
    ...zero(), UpstreamConfigs: [{ Upstream: { ServiceName: { Name: 'db', Namespace: 'default', Partition: 'p1' } }, Config: { protocol: 'http' } }],
  }, s, 'p1');
  const ups = (merged.Proxy as { Upstreams: { DestinationName: string; Config?: Record<string, unknown> }[] }).Upstreams;
  assert.deepEqual(ups.map((u) => [u.DestinationName, u.Config?.protocol]), [['db', 'http'], ['cache', undefined]]);
  assert.equal('Partition' in merged, false, 'the registration gains no field');
});
