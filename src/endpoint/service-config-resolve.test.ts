import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeResolvedServiceConfig, type ResolveEntries } from './service-config-resolve.ts';

function entries(proxyDefaults: Record<string, unknown> | undefined, services: Record<string, Record<string, unknown>>): ResolveEntries {
  return { proxyDefaults: () => proxyDefaults, serviceDefaults: (n) => services[n] };
}

const up = (name: string, peer?: string) => ({ ServiceName: { Name: name }, ...(peer ? { Peer: peer } : {}) });

test('no entries resolve to the zero defaults, without upstream configs', () => {
  assert.deepEqual(computeResolvedServiceConfig({ Name: 'web', UpstreamServiceNames: [up('db')] }, entries(undefined, {})), {
    MeshGateway: {}, Expose: {}, TransparentProxy: {}, Mode: '',
  });
});

test('proxy-defaults give the base; the service\'s service-defaults add protocol, timeouts and overrule mode and gateway', () => {
  const r = computeResolvedServiceConfig({ Name: 'web' }, entries(
    { Config: { protocol: 'http', foo: 1 }, Mode: 'direct', MeshGateway: { Mode: 'remote' }, Expose: { Checks: true }, AccessLogs: { Enabled: true, Type: '' } },
    { web: { Protocol: 'grpc', LocalConnectTimeoutMs: 300, MaxInboundConnections: 0, MeshGateway: { Mode: 'local' }, TransparentProxy: { DialedDirectly: true } } },
  ));
  assert.deepEqual(r.ProxyConfig, { protocol: 'grpc', foo: 1, local_connect_timeout_ms: 300 });
  assert.equal(r.Mode, 'direct');
  assert.deepEqual(r.MeshGateway, { Mode: 'local' });
  assert.deepEqual(r.Expose, { Checks: true });
  assert.deepEqual(r.TransparentProxy, { DialedDirectly: true });
  assert.deepEqual(r.AccessLogs, { Enabled: true });
  assert.equal(r.UpstreamConfigs, undefined, 'no upstreams asked and not transparent');
});

test('an upstream\'s protocol: global, then its own service-defaults, then the downstream\'s defaults and overrides', () => {
  const e = entries({ Config: { protocol: 'http' } }, {
    web: { UpstreamConfig: { Defaults: { ConnectTimeoutMs: 1000 }, Overrides: [{ Name: 'cache', Protocol: 'tcp', MeshGateway: { Mode: 'none' } }] } },
    db: { Protocol: 'grpc' },
  });
  const r = computeResolvedServiceConfig({ Name: 'web', UpstreamServiceNames: [up('db'), up('api')] }, e);
  const byName = Object.fromEntries((r.UpstreamConfigs ?? []).map((u) => [u.Upstream.ServiceName.Name, u.Config]));
  assert.deepEqual(byName.db, { protocol: 'grpc', connect_timeout_ms: 1000 });
  assert.deepEqual(byName.api, { protocol: 'http', connect_timeout_ms: 1000 });
  assert.deepEqual(byName.cache, { protocol: 'tcp', connect_timeout_ms: 1000, mesh_gateway: { Mode: 'none' } }, 'an override names an upstream of its own');
  assert.deepEqual(byName['*'], { connect_timeout_ms: 1000 }, 'the wildcard never takes the global protocol');
});

test('the registration\'s own mesh gateway mode outranks the central defaults for its upstreams, overrides outrank it', () => {
  const e = entries({ MeshGateway: { Mode: 'remote' } }, { web: { UpstreamConfig: { Overrides: [{ Name: 'b', MeshGateway: { Mode: 'none' } }] } } });
  const r = computeResolvedServiceConfig({ Name: 'web', MeshGateway: { Mode: 'local' }, UpstreamServiceNames: [up('a'), up('b')] }, e);
  const byName = Object.fromEntries((r.UpstreamConfigs ?? []).map((u) => [u.Upstream.ServiceName.Name, u.Config]));
  assert.deepEqual(byName.a, { mesh_gateway: { Mode: 'local' } });
  assert.deepEqual(byName.b, { mesh_gateway: { Mode: 'none' } });
});

test('transparent mode (asked or resolved) resolves the overrides even without registered upstreams', () => {
  const e = entries({ Mode: 'transparent' }, { web: { UpstreamConfig: { Overrides: [{ Name: 'billing', Protocol: 'http' }] } } });
  const r = computeResolvedServiceConfig({ Name: 'web' }, e);
  assert.deepEqual(r.UpstreamConfigs, [{ Upstream: up('billing'), Config: { protocol: 'http' } }]);
  const direct = computeResolvedServiceConfig({ Name: 'web' }, entries(undefined, { web: { UpstreamConfig: { Overrides: [{ Name: 'billing', Protocol: 'http' }] } } }));
  assert.equal(direct.UpstreamConfigs, undefined);
});

test('a peerless override reaches a peered upstream of the same name unless some override names a peer', () => {
  const legacy = entries(undefined, { web: { UpstreamConfig: { Overrides: [{ Name: 'db', Protocol: 'http' }] } } });
  const r = computeResolvedServiceConfig({ Name: 'web', UpstreamServiceNames: [up('db', 'east')] }, legacy);
  assert.deepEqual(r.UpstreamConfigs?.find((u) => u.Upstream.Peer === 'east')?.Config, { protocol: 'http' });
  const peered = entries(undefined, { web: { UpstreamConfig: { Overrides: [{ Name: 'db', Protocol: 'http' }, { Name: 'x', Peer: 'west', Protocol: 'tcp' }] } } });
  const r2 = computeResolvedServiceConfig({ Name: 'web', UpstreamServiceNames: [up('db', 'east')] }, peered);
  assert.equal(r2.UpstreamConfigs?.find((u) => u.Upstream.Peer === 'east'), undefined);
});
