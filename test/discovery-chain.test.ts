// Discovery chains end to end against a dev agent: entries written through PUT /v1/config, the
// chain read from /v1/discovery-chain (GET with ?compile-dc and ?index blocking, POST with
// overrides), with Consul's JSON shape, SNI from the CA roots' trust domain and its error texts.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cliAgent } from './support/cli.ts';
import { ROOT, httpCaller, startAclAgent, tokenWithRules } from './support/acl.ts';
import type { DevAgent } from './support/agent.ts';
import { apiCaller } from './support/api-agent.ts';

describe('discovery chain against a dev agent', () => {
  const dev = cliAgent();
  let td = '';
  const call = apiCaller(() => `http://${dev.agent.httpAddr}`);
  const put = async (entry: Record<string, unknown>) => {
    const r = await call('PUT', '/v1/config', entry);
    assert.equal(r.status, 200, r.text);
  };

  before(async () => {
    for (let i = 0; i < 100 && !td; i++) {
      td = (await call('GET', '/v1/connect/ca/roots')).json?.TrustDomain ?? '';
      if (!td) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(td, 'the dev agent has a trust domain');
  });

  test('no entries: the default chain with one resolver node, protocol tcp, 5s timeout', async () => {
    const r = await call('GET', '/v1/discovery-chain/plain');
    assert.equal(r.status, 200, r.text);
    assert.ok(r.index >= 1);
    const c = r.json.Chain;
    assert.deepEqual(Object.keys(c), ['ServiceName', 'Namespace', 'Partition', 'Datacenter', 'Default', 'Protocol', 'StartNode', 'Nodes', 'Targets']);
    assert.equal(c.Protocol, 'tcp');
    assert.equal(c.StartNode, 'resolver:plain.default.default.dc1');
    assert.deepEqual(c.Nodes['resolver:plain.default.default.dc1'].Resolver, { ConnectTimeout: '5s', Default: true, Target: 'plain.default.default.dc1' });
    assert.equal(c.Targets['plain.default.default.dc1'].SNI, `plain.default.dc1.internal.${td}`);
    const dc2 = (await call('GET', '/v1/discovery-chain/plain?compile-dc=dc2')).json.Chain;
    assert.equal(dc2.Datacenter, 'dc2');
    assert.deepEqual(Object.keys(dc2.Targets), ['plain.default.default.dc2']);
  });

  test('a canary 90/10 split needs http: refused on tcp, compiled on http', async () => {
    await put({ Kind: 'service-resolver', Name: 'web', Subsets: { v1: { Filter: 'Service.Meta.version == v1' }, v2: { Filter: 'Service.Meta.version == v2' } } });
    const splitter = { Kind: 'service-splitter', Name: 'web', Splits: [{ Weight: 90, ServiceSubset: 'v1' }, { Weight: 10, ServiceSubset: 'v2' }] };
    const tcp = await call('PUT', '/v1/config', splitter);
    assert.deepEqual([tcp.status, tcp.text], [500, 'discovery chain "web" uses a protocol "tcp" that does not permit advanced routing or splitting behavior']);
    await put({ Kind: 'service-defaults', Name: 'web', Protocol: 'http' });
    await put(splitter);
    // Back to tcp would break the chain: refused while the splitter exists.
    const back = await call('PUT', '/v1/config', { Kind: 'service-defaults', Name: 'web', Protocol: 'tcp' });
    assert.deepEqual([back.status, back.text], [500, 'discovery chain "web" uses a protocol "tcp" that does not permit advanced routing or splitting behavior']);
    const c = (await call('GET', '/v1/discovery-chain/web')).json.Chain;
    assert.equal(c.Protocol, 'http');
    assert.equal(c.StartNode, 'splitter:web.default.default');
    assert.deepEqual(c.Nodes['splitter:web.default.default'].Splits.map((s: any) => [s.Weight, s.NextNode]), [
      [90, 'resolver:v1.web.default.default.dc1'], [10, 'resolver:v2.web.default.default.dc1'],
    ]);
    assert.deepEqual(c.Targets['v2.web.default.default.dc1'].Subset, { Filter: 'Service.Meta.version == v2' });
    assert.equal(c.Targets['v2.web.default.default.dc1'].SNI, `v2.web.default.dc1.internal.${td}`);
  });

  test('a router path match leads to another service; unmatched traffic to the catch-all', async () => {
    await put({ Kind: 'service-defaults', Name: 'front', Protocol: 'http' });
    await put({ Kind: 'service-defaults', Name: 'admin', Protocol: 'http' });
    await put({ Kind: 'service-router', Name: 'front', Routes: [{ Match: { HTTP: { PathPrefix: '/admin' } }, Destination: { Service: 'admin' } }] });
    const c = (await call('GET', '/v1/discovery-chain/front')).json.Chain;
    assert.equal(c.StartNode, 'router:front.default.default');
    const routes = c.Nodes['router:front.default.default'].Routes;
    assert.deepEqual(routes[0], { Definition: { Match: { HTTP: { PathPrefix: '/admin' } }, Destination: { Service: 'admin' } }, NextNode: 'resolver:admin.default.default.dc1' });
    assert.equal(routes[1].Definition.Match.HTTP.PathPrefix, '/');
    assert.equal(routes[1].NextNode, 'resolver:front.default.default.dc1');
  });

  test('a resolver subset by Service.Meta.version as the default subset', async () => {
    await put({ Kind: 'service-resolver', Name: 'api', DefaultSubset: 'v2', ConnectTimeout: '3s', Subsets: { v2: { Filter: 'Service.Meta.version == v2', OnlyPassing: true } } });
    const c = (await call('GET', '/v1/discovery-chain/api')).json.Chain;
    assert.equal(c.StartNode, 'resolver:v2.api.default.default.dc1');
    assert.equal(c.Default, undefined);
    assert.deepEqual(c.Targets['v2.api.default.default.dc1'], {
      ConnectTimeout: '3s', ID: 'v2.api.default.default.dc1', Service: 'api', ServiceSubset: 'v2', Namespace: 'default',
      Partition: 'default', Datacenter: 'dc1', MeshGateway: {}, Subset: { Filter: 'Service.Meta.version == v2', OnlyPassing: true },
      TransparentProxy: {}, SNI: `v2.api.default.dc1.internal.${td}`, Name: `v2.api.default.dc1.internal.${td}`,
    });
  });

  test('failover to dc2: the failover target and its shape', async () => {
    await put({ Kind: 'service-resolver', Name: 'db', Failover: { '*': { Datacenters: ['dc2'] } } });
    const c = (await call('GET', '/v1/discovery-chain/db')).json.Chain;
    assert.deepEqual(c.Nodes['resolver:db.default.default.dc1'].Resolver, {
      ConnectTimeout: '5s', Target: 'db.default.default.dc1', Failover: { Targets: ['db.default.default.dc2'] },
    });
    assert.deepEqual(c.Targets['db.default.default.dc2'], {
      ConnectTimeout: '5s', ID: 'db.default.default.dc2', Service: 'db', Namespace: 'default', Partition: 'default',
      Datacenter: 'dc2', MeshGateway: {}, Subset: {}, TransparentProxy: {}, SNI: `db.default.dc2.internal.${td}`,
      Name: `db.default.dc2.internal.${td}`,
    });
  });

  test('POST overrides customize the chain; bad bodies get Consul\'s 400 texts', async () => {
    const r = await call('POST', '/v1/discovery-chain/web', { OverrideProtocol: 'tcp', override_connect_timeout: '2s', OverrideMeshGateway: { Mode: 'local' } });
    assert.equal(r.status, 200, r.text);
    const c = r.json.Chain;
    assert.equal(c.Protocol, 'tcp');
    assert.match(c.CustomizationHash, /^[0-9a-f]{8}$/);
    assert.equal(c.StartNode, 'resolver:web.default.default.dc1');
    assert.equal(c.Targets['web.default.default.dc1'].ConnectTimeout, '2s');
    assert.deepEqual(c.Targets['web.default.default.dc1'].MeshGateway, { Mode: 'local' });
    const bad = await call('POST', '/v1/discovery-chain/web', { OverrideMeshGateway: { Mode: 'sideways' } });
    assert.deepEqual([bad.status, bad.text], [400, 'Invalid OverrideMeshGateway.Mode parameter']);
    // mapstructure's weak decoding: an object is no string (it was taken as the protocol "[object Object]").
    const object = await call('POST', '/v1/discovery-chain/web', { OverrideProtocol: { X: 1 } });
    assert.deepEqual([object.status, object.text], [400, "Request decoding failed: 1 error(s) decoding:\n\n* 'OverrideProtocol' expected type 'string', got unconvertible type 'map[string]interface {}'"]);
    const missing = await call('GET', '/v1/discovery-chain/');
    assert.deepEqual([missing.status, missing.text], [400, 'Missing chain name']);
  });

  test('?cached POSTs are served from the agent cache, one entry per set of overrides', async () => {
    const post = async (body: unknown) => {
      const res = await fetch(`http://${dev.agent.httpAddr}/v1/discovery-chain/cachedweb?cached`, { method: 'POST', body: JSON.stringify(body) });
      return { cache: res.headers.get('x-cache'), chain: ((await res.json()) as { Chain: Record<string, any> }).Chain };
    };
    const first = await post({ OverrideConnectTimeout: '3s' });
    assert.equal(first.cache, 'MISS');
    assert.equal(first.chain.Targets['cachedweb.default.default.dc1'].ConnectTimeout, '3s');
    const again = await post({ OverrideConnectTimeout: '3s' });
    assert.equal(again.cache, 'HIT');
    assert.deepEqual(again.chain, first.chain);
    const other = await post({ OverrideConnectTimeout: '4s' });
    assert.equal(other.cache, 'MISS');
    assert.equal(other.chain.Targets['cachedweb.default.default.dc1'].ConnectTimeout, '4s');
  });

  test('?index blocks until an entry the chain read changes', async () => {
    const first = await call('GET', '/v1/discovery-chain/blocky');
    const waiting = call('GET', `/v1/discovery-chain/blocky?index=${first.index}&wait=20s`);
    await put({ Kind: 'service-resolver', Name: 'blocky', ConnectTimeout: '7s' });
    const woke = await waiting;
    assert.ok(woke.index > first.index);
    assert.equal(woke.json.Chain.Nodes['resolver:blocky.default.default.dc1'].Resolver.ConnectTimeout, '7s');
  });

  test('writes that would break a chain are refused with the compiler\'s texts (500)', async () => {
    await put({ Kind: 'service-resolver', Name: 'loop-a', Redirect: { Service: 'loop-b' } });
    const loop = await call('PUT', '/v1/config', { Kind: 'service-resolver', Name: 'loop-b', Redirect: { Service: 'loop-a' } });
    assert.deepEqual([loop.status, loop.text], [500, 'detected circular resolver redirect: [loop-a.default.default.dc1 -> loop-b.default.default.dc1 -> loop-a.default.default.dc1]']);
    await put({ Kind: 'service-defaults', Name: 'shop', Protocol: 'http' });
    const subset = await call('PUT', '/v1/config', { Kind: 'service-router', Name: 'shop', Routes: [{ Destination: { ServiceSubset: 'nope' } }] });
    assert.deepEqual([subset.status, subset.text], [500, 'service "shop" does not have a subset named "nope"']);
    // Deleting the subset a splitter uses is refused too.
    await put({ Kind: 'service-resolver', Name: 'shop', Subsets: { v1: { Filter: 'Service.Meta.version == v1' } } });
    await put({ Kind: 'service-splitter', Name: 'shop', Splits: [{ Weight: 100, ServiceSubset: 'v1' }] });
    const del = await call('DELETE', '/v1/config/service-resolver/shop');
    assert.deepEqual([del.status, del.text], [500, 'service "shop" does not have a subset named "v1"']);
    assert.equal((await call('GET', '/v1/discovery-chain/loop-a')).json.Chain.StartNode, 'resolver:loop-b.default.default.dc1');
  });
});

describe('discovery chain ACLs', () => {
  let agent: DevAgent;
  const call = httpCaller(() => agent.httpAddr);
  before(async () => {
    agent = await startAclAgent();
  });
  after(() => agent.stop());

  test('reading a chain needs service:read on it; writing a splitter needs read on the services it sends to', async () => {
    const reader = await tokenWithRules(call, 'service "web" { policy = "read" }');
    for (let i = 0; i < 100 && (await call('GET', '/v1/discovery-chain/web', reader.SecretID)).status !== 200; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal((await call('GET', '/v1/discovery-chain/web', reader.SecretID)).status, 200);
    const denied = await call('GET', '/v1/discovery-chain/other', reader.SecretID);
    assert.deepEqual([denied.status, denied.text], [403, `Permission denied: token with AccessorID '${reader.AccessorID}' lacks permission 'service:read' on "other"`]);
    assert.equal((await call('PUT', '/v1/config', ROOT, { Kind: 'service-defaults', Name: 'web', Protocol: 'http' })).status, 200);
    assert.equal((await call('PUT', '/v1/config', ROOT, { Kind: 'service-defaults', Name: 'api', Protocol: 'http' })).status, 200);
    const writer = await tokenWithRules(call, 'service "web" { policy = "write" }');
    const splitter = { Kind: 'service-splitter', Name: 'web', Splits: [{ Weight: 50 }, { Weight: 50, Service: 'api' }] };
    const refused = await call('PUT', '/v1/config', writer.SecretID, splitter);
    assert.deepEqual([refused.status, refused.text], [403, `Permission denied: token with AccessorID '${writer.AccessorID}' lacks permission 'service:read' on "api"`]);
    const both = await tokenWithRules(call, 'service "web" { policy = "write" }\nservice "api" { policy = "read" }');
    assert.equal((await call('PUT', '/v1/config', both.SecretID, splitter)).status, 200);
  });
});
