import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentService } from '../../api/index.ts';
import { configFromProxyService, parseUpstreamFlag, splitListen, tenancyOptions, upstreamDefaults, upstreamString } from './config.ts';

test('-upstream values read as Consul\'s FlagUpstreams: name, optional type and bind address, port', () => {
  assert.deepEqual(
    [parseUpstreamFlag('db:8181'), parseUpstreamFlag('db:127.0.0.10:8282'), parseUpstreamFlag('q.query:0x10')].map((u) => [u.DestinationName, u.DestinationType, u.LocalBindAddress, u.LocalBindPort]),
    [['db', 'service', '', 8181], ['db', 'service', '127.0.0.10', 8282], ['q', 'prepared_query', '', 16]],
  );
  assert.equal(parseUpstreamFlag('db.service:1').DestinationType, 'service');
  assert.throws(() => parseUpstreamFlag('db'), { message: 'Upstream value should be name:addr in "db"' });
  assert.throws(() => parseUpstreamFlag('db.bogus:1'), { message: 'Upstream type must be blank, \'service\', or \'query\'. Got: "bogus"' });
  assert.throws(() => parseUpstreamFlag('db:port'), { message: 'strconv.ParseInt: parsing "port": invalid syntax' });
});

test('an upstream\'s defaults and log name follow Consul\'s UpstreamConfig', () => {
  const u = upstreamDefaults({ DestinationName: 'db', LocalBindPort: 9191 });
  assert.equal(upstreamString(u), '127.0.0.1:9191->service:default/db');
  assert.equal(u.ConnectTimeoutMs, 10_000);
});

test('-listen splits as Go\'s SplitHostPort', () => {
  assert.deepEqual(splitListen('127.0.0.1:21000'), { host: '127.0.0.1', port: 21000 });
  assert.deepEqual(splitListen(':8443'), { host: '', port: 8443 });
  assert.deepEqual(splitListen('[::1]:1'), { host: '::1', port: 1 });
  assert.throws(() => splitListen('127.0.0.1'), { message: 'address 127.0.0.1: missing port in address' });
});

test('a connect-proxy registration becomes the public listener and upstreams', () => {
  const svc = {
    ID: 'web-sidecar-proxy', Service: 'web-sidecar-proxy', Kind: 'connect-proxy', Address: '', Port: 21000,
    Proxy: {
      DestinationServiceName: 'web', DestinationServiceID: 'web', LocalServiceAddress: '127.0.0.1', LocalServicePort: 8080,
      Config: { handshake_timeout_ms: 500 },
      Upstreams: [{ DestinationName: 'db', LocalBindPort: 9191, Config: { connect_timeout_ms: 250, protocol: 'HTTP' } }, { DestinationName: 'api', LocalBindPort: 9192 }],
    },
  } as unknown as AgentService;
  const cfg = configFromProxyService(svc);
  assert.equal(cfg.ProxiedServiceName, 'web');
  assert.deepEqual(cfg.PublicListener, {
    BindAddress: '0.0.0.0', BindPort: 21000, LocalServiceAddress: '127.0.0.1:8080', LocalConnectTimeoutMs: 1000, HandshakeTimeoutMs: 500,
  });
  assert.deepEqual(cfg.Upstreams.map((u) => [upstreamString(u), u.ConnectTimeoutMs, u.Protocol]), [
    ['127.0.0.1:9191->service:default/db', 250, 'http'], ['127.0.0.1:9192->service:default/api', 10_000, ''],
  ]);
});

test('an upstream\'s mesh gateway mode is its own, else the proxy\'s', () => {
  const svc = {
    ID: 'web-sidecar-proxy', Service: 'web-sidecar-proxy', Kind: 'connect-proxy', Address: '', Port: 21000,
    Proxy: {
      DestinationServiceName: 'web', MeshGateway: { Mode: 'local' },
      Upstreams: [{ DestinationName: 'a', Datacenter: 'dc2', LocalBindPort: 1, MeshGateway: { Mode: 'remote' } }, { DestinationName: 'b', Datacenter: 'dc2', LocalBindPort: 2, MeshGateway: {} }],
    },
  } as unknown as AgentService;
  assert.deepEqual(configFromProxyService(svc).Upstreams.map((u) => u.MeshGatewayMode), ['remote', 'local']);
  const none = { ...svc, Proxy: { DestinationServiceName: 'web', Upstreams: [{ DestinationName: 'a', LocalBindPort: 1 }] } } as unknown as AgentService;
  assert.equal(configFromProxyService(none).Upstreams[0].MeshGatewayMode, '');
});

test('a sidecar registered in a namespace proxies that namespace\'s service; bare upstreams are in it, named ones where they say', () => {
  const svc = {
    ID: 'web-sidecar-proxy', Service: 'web-sidecar-proxy', Kind: 'connect-proxy', Address: '', Port: 21000, Namespace: 'team-a', Partition: 'default',
    Proxy: { DestinationServiceName: 'web', Upstreams: [{ DestinationName: 'db', LocalBindPort: 1 }, { DestinationName: 'api', DestinationNamespace: 'team-b', LocalBindPort: 2 }] },
  } as unknown as AgentService;
  const cfg = configFromProxyService(svc);
  assert.equal(cfg.ProxiedServiceNamespace, 'team-a');
  assert.equal(cfg.ProxiedServicePartition, undefined);
  assert.deepEqual(cfg.Upstreams.map(upstreamString), ['127.0.0.1:1->service:team-a/db', '127.0.0.1:2->service:team-b/api']);
  assert.deepEqual(tenancyOptions('team-a', undefined), { namespace: 'team-a', partition: 'default' });
  assert.deepEqual(tenancyOptions('default', 'default'), {});
  assert.deepEqual(tenancyOptions(undefined, 'p1'), { namespace: 'default', partition: 'p1' });
  // A default registration names no tenant: its requests stay as they were.
  const plain = configFromProxyService({ ...svc, Namespace: 'default' } as AgentService);
  assert.ok(!('ProxiedServiceNamespace' in plain) && !('ProxiedServicePartition' in plain));
});
