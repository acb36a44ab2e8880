// Unit tests of the discovery chain compiler: the default chain, each entry kind, and the graphs
// Consul refuses, with its texts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileChain, ChainGraphError, type ChainEntry, type CompileRequest } from './index.ts';

const TD = '11111111-2222-3333-4444-555555555555.consul';

function compile(service: string, entries: Array<Record<string, unknown>>, extra: Partial<CompileRequest> = {}) {
  const byKey = new Map(entries.map((e) => [`${e.Kind}/${e.Name}`, e as ChainEntry]));
  return compileChain({ serviceName: service, datacenter: 'dc1', trustDomain: TD, entries: { get: (k, n) => byKey.get(`${k}/${n}`) }, ...extra });
}

const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));
const http = (name: string) => ({ Kind: 'service-defaults', Name: name, Protocol: 'http' });

test('no entries: one default resolver node and the default target, protocol tcp', () => {
  const c = compile('web', []);
  assert.deepEqual(JSON.parse(JSON.stringify(c)), {
    ServiceName: 'web', Namespace: 'default', Partition: 'default', Datacenter: 'dc1', Default: true, Protocol: 'tcp',
    StartNode: 'resolver:web.default.default.dc1',
    Nodes: {
      'resolver:web.default.default.dc1': {
        Type: 'resolver', Name: 'web.default.default.dc1',
        Resolver: { ConnectTimeout: '5s', Default: true, Target: 'web.default.default.dc1' },
      },
    },
    Targets: {
      'web.default.default.dc1': {
        ConnectTimeout: '5s', ID: 'web.default.default.dc1', Service: 'web', Namespace: 'default', Partition: 'default',
        Datacenter: 'dc1', MeshGateway: {}, Subset: {}, TransparentProxy: {}, SNI: `web.default.dc1.internal.${TD}`,
        Name: `web.default.dc1.internal.${TD}`,
      },
    },
  });
});

test('protocol from service-defaults, else proxy-defaults Config.protocol; compile-dc changes the targets', () => {
  assert.equal(compile('web', [http('web')]).Protocol, 'http');
  const pd = { Kind: 'proxy-defaults', Name: 'global', Config: { protocol: 'GRPC' }, MeshGateway: { Mode: 'local' } };
  const c = compile('web', [pd], { datacenter: 'dc2' });
  assert.equal(c.Protocol, 'grpc');
  assert.equal(c.StartNode, 'resolver:web.default.default.dc2');
  assert.deepEqual(c.Targets!['web.default.default.dc2'].MeshGateway, { Mode: 'local' });
  assert.equal(c.ServiceMeta, undefined);
});

test('resolver: default subset with a filter, connect timeout, not the default chain', () => {
  const c = compile('web', [{
    Kind: 'service-resolver', Name: 'web', DefaultSubset: 'v1', ConnectTimeout: '15s',
    Subsets: { v1: { Filter: 'Service.Meta.version == v1' }, v2: { filter: 'Service.Meta.version == v2', only_passing: true } },
  }]);
  assert.equal(c.Default, undefined);
  assert.equal(c.StartNode, 'resolver:v1.web.default.default.dc1');
  const node = c.Nodes!['resolver:v1.web.default.default.dc1'];
  assert.deepEqual(plain(node.Resolver), { ConnectTimeout: '15s', Target: 'v1.web.default.default.dc1' });
  const t = c.Targets!['v1.web.default.default.dc1'];
  assert.equal(t.ServiceSubset, 'v1');
  assert.deepEqual(t.Subset, { Filter: 'Service.Meta.version == v1' });
  assert.equal(t.SNI, `v1.web.default.dc1.internal.${TD}`);
  assert.equal(t.ConnectTimeout, '15s');
  assert.deepEqual(Object.keys(c.Targets!), ['v1.web.default.default.dc1']);
});

test('resolver: redirect to another service and datacenter', () => {
  const c = compile('web', [{ Kind: 'service-resolver', Name: 'web', Redirect: { Service: 'api', Datacenter: 'dc3' } }]);
  assert.equal(c.StartNode, 'resolver:api.default.default.dc3');
  assert.equal(c.Targets!['api.default.default.dc3'].SNI, `api.default.dc3.internal.${TD}`);
  assert.equal(c.Default, undefined);
});

test('resolver: failover to datacenters and to targets', () => {
  const c = compile('web', [{ Kind: 'service-resolver', Name: 'web', Failover: { '*': { Datacenters: ['dc1', 'dc2'] } } }]);
  assert.deepEqual(c.Nodes!['resolver:web.default.default.dc1'].Resolver!.Failover, { Targets: ['web.default.default.dc2'] });
  assert.deepEqual(Object.keys(c.Targets!), ['web.default.default.dc1', 'web.default.default.dc2']);
  assert.equal(c.Targets!['web.default.default.dc2'].Datacenter, 'dc2');
  assert.equal(c.Targets!['web.default.default.dc2'].ConnectTimeout, '5s');
  const t = compile('web', [{
    Kind: 'service-resolver', Name: 'web', Subsets: { v2: { Filter: 'x' } },
    Failover: { '*': { Targets: [{ Service: 'backup' }, { ServiceSubset: 'v2', Datacenter: 'dc9' }] } },
  }]);
  assert.deepEqual(t.Nodes!['resolver:web.default.default.dc1'].Resolver!.Failover!.Targets, ['backup.default.default.dc1', 'v2.web.default.default.dc9']);
});

test('splitter needs an HTTP protocol; on http it splits 90/10 between subsets', () => {
  const splitter = {
    Kind: 'service-splitter', Name: 'web',
    Splits: [{ Weight: 90, ServiceSubset: 'v1' }, { Weight: 10, ServiceSubset: 'v2' }],
  };
  const resolver = { Kind: 'service-resolver', Name: 'web', Subsets: { v1: { Filter: 'Service.Meta.version == v1' }, v2: { Filter: 'Service.Meta.version == v2' } } };
  assert.throws(() => compile('web', [splitter, resolver]), (e: Error) => e instanceof ChainGraphError
    && e.message === 'discovery chain "web" uses a protocol "tcp" that does not permit advanced routing or splitting behavior');
  const c = compile('web', [splitter, resolver, http('web')]);
  assert.equal(c.StartNode, 'splitter:web.default.default');
  assert.deepEqual(c.Nodes!['splitter:web.default.default'].Splits, [
    { Definition: { Weight: 90, ServiceSubset: 'v1' }, Weight: 90, NextNode: 'resolver:v1.web.default.default.dc1' },
    { Definition: { Weight: 10, ServiceSubset: 'v2' }, Weight: 10, NextNode: 'resolver:v2.web.default.default.dc1' },
  ]);
  assert.equal(Object.keys(c.Nodes!).length, 3);
});

test('a splitter leading to another splitter is flattened with multiplied weights', () => {
  const c = compile('web', [http('web'), http('api'), http('a'), http('b'),
    { Kind: 'service-splitter', Name: 'web', Splits: [{ Weight: 50, Service: 'api' }, { Weight: 50 }] },
    { Kind: 'service-splitter', Name: 'api', Splits: [{ Weight: 50, Service: 'a' }, { Weight: 50, Service: 'b' }] },
  ]);
  const splits = c.Nodes!['splitter:web.default.default'].Splits!;
  assert.deepEqual(splits.map((s) => [s.Weight, s.NextNode]), [
    [25, 'resolver:a.default.default.dc1'], [25, 'resolver:b.default.default.dc1'], [50, 'resolver:web.default.default.dc1'],
  ]);
  assert.equal(c.Nodes!['splitter:api.default.default'], undefined);
});

test('router: a path match to another service, and the catch-all default route', () => {
  const c = compile('web', [http('web'), http('admin'), {
    Kind: 'service-router', Name: 'web',
    Routes: [{ Match: { HTTP: { path_prefix: '/admin' } }, Destination: { Service: 'admin' } }],
  }]);
  assert.equal(c.StartNode, 'router:web.default.default');
  assert.deepEqual(c.Nodes!['router:web.default.default'].Routes, [
    { Definition: { Match: { HTTP: { PathPrefix: '/admin' } }, Destination: { Service: 'admin' } }, NextNode: 'resolver:admin.default.default.dc1' },
    {
      Definition: { Match: { HTTP: { PathPrefix: '/' } }, Destination: { Service: 'web', Namespace: 'default', Partition: 'default' } },
      NextNode: 'resolver:web.default.default.dc1',
    },
  ]);
  assert.equal(c.Default, undefined);
});

test('mixed protocols are refused', () => {
  assert.throws(() => compile('web', [http('web'), {
    Kind: 'service-router', Name: 'web', Routes: [{ Match: { HTTP: { PathPrefix: '/x' } }, Destination: { Service: 'tcpsvc' } }],
  }]), { message: 'discovery chain "web" uses inconsistent protocols; service "tcpsvc" has "tcp" which is not "http"' });
});

test('unknown subsets, circular redirects and circular splits are refused with Consul\'s texts', () => {
  assert.throws(() => compile('web', [http('web'), {
    Kind: 'service-router', Name: 'web', Routes: [{ Destination: { ServiceSubset: 'nope' } }],
  }]), { message: 'service "web" does not have a subset named "nope"' });
  assert.throws(() => compile('a', [
    { Kind: 'service-resolver', Name: 'a', Redirect: { Service: 'b' } },
    { Kind: 'service-resolver', Name: 'b', Redirect: { Service: 'a' } },
  ]), { message: 'detected circular resolver redirect: [a.default.default.dc1 -> b.default.default.dc1 -> a.default.default.dc1]' });
  assert.throws(() => compile('a', [http('a'), http('b'),
    { Kind: 'service-splitter', Name: 'a', Splits: [{ Weight: 100, Service: 'b' }] },
    { Kind: 'service-splitter', Name: 'b', Splits: [{ Weight: 100, Service: 'a' }] },
  ]), { message: 'detected circular reference: [splitter:a.default.default -> splitter:b.default.default -> splitter:a.default.default]' });
});

test('overrides: protocol tcp drops the router, connect timeout and mesh gateway customize the chain', () => {
  const router = { Kind: 'service-router', Name: 'web', Routes: [{ Match: { HTTP: { PathPrefix: '/x' } } }] };
  const c = compile('web', [http('web'), router], { overrideProtocol: 'tcp', overrideConnectTimeoutMs: 2500, overrideMeshGateway: { Mode: 'remote' } });
  assert.equal(c.StartNode, 'resolver:web.default.default.dc1');
  assert.equal(c.Protocol, 'tcp');
  assert.match(c.CustomizationHash!, /^[0-9a-f]{8}$/);
  assert.equal(c.Nodes!['resolver:web.default.default.dc1'].Resolver!.ConnectTimeout, '2.5s');
  assert.deepEqual(c.Targets!['web.default.default.dc1'].MeshGateway, { Mode: 'remote' });
  assert.equal(compile('web', []).CustomizationHash, undefined);
});

test('service-defaults Meta and Envoy extensions are carried; an external SNI replaces the target SNI', () => {
  const c = compile('web', [{ Kind: 'service-defaults', Name: 'web', Meta: { team: 'x' }, ExternalSNI: 'web.example.com' }]);
  assert.deepEqual(c.ServiceMeta, { team: 'x' });
  assert.equal(c.Targets!['web.default.default.dc1'].SNI, 'web.example.com');
  assert.equal(c.Targets!['web.default.default.dc1'].External, true);
});

test('flattened splits merge header changes: request changes of the inner leg win, response changes of the outer leg', () => {
  const c = compile('web', [http('web'), http('api'), http('a'),
    { Kind: 'service-splitter', Name: 'web', Splits: [{ Weight: 100, Service: 'api', RequestHeaders: { Set: { x: 'outer', o: '1' } }, ResponseHeaders: { Set: { y: 'outer' } } }] },
    { Kind: 'service-splitter', Name: 'api', Splits: [{ Weight: 100, Service: 'a', RequestHeaders: { Set: { x: 'inner' } }, ResponseHeaders: { Set: { y: 'inner' } } }] },
  ]);
  const def = c.Nodes!['splitter:web.default.default'].Splits![0].Definition;
  assert.deepEqual(def.RequestHeaders, { Set: { x: 'inner', o: '1' } });
  assert.deepEqual(def.ResponseHeaders, { Set: { y: 'outer' } });
});
