// Central service config on a dev agent (enable_central_service_config): a sidecar's Proxy as
// /v1/agent/service/<id> and the catalog show it is merged with proxy-defaults `global` and the
// service-defaults of its destination and upstreams, and merged again when those entries change.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { until } from './support/wait.ts';

let dev: DevAgent;

async function call(method: string, url: string, body?: unknown): Promise<{ status: number; json: any; text: string }> {
  const r = await dev.agent.http.handle({ method, url, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = r.body.toString();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: r.status, json, text };
}

async function proxyOf(id: string): Promise<any> {
  const r = await call('GET', `/v1/agent/service/${id}`);
  assert.equal(r.status, 200, r.text);
  return r.json.Proxy;
}

before(async () => {
  dev = await startDevAgent();
});
after(async () => {
  await dev.stop();
});

test('a sidecar registered after the entries gets proxy-defaults Config and the upstream\'s service-defaults protocol', async () => {
  assert.equal((await call('PUT', '/v1/config', { Kind: 'proxy-defaults', Name: 'global', Config: { protocol: 'http', local_connect_timeout_ms: 1000 } })).status, 200);
  assert.equal((await call('PUT', '/v1/config', { Kind: 'service-defaults', Name: 'db', Protocol: 'grpc' })).status, 200);
  const reg = await call('PUT', '/v1/agent/service/register', {
    Name: 'web', ID: 'web-1', Port: 8080,
    Connect: { SidecarService: { Proxy: { Config: { local_connect_timeout_ms: 2000 }, Upstreams: [{ DestinationName: 'db', LocalBindPort: 9191 }, { DestinationName: 'cache', LocalBindPort: 9292 }] } } },
  });
  assert.equal(reg.status, 200, reg.text);
  const p = await proxyOf('web-1-sidecar-proxy');
  assert.deepEqual(p.Config, { local_connect_timeout_ms: 2000, protocol: 'http' }, 'the registration\'s own keys win, the rest comes from proxy-defaults');
  const [db, cache] = p.Upstreams;
  assert.equal(db.DestinationName, 'db');
  assert.deepEqual(db.Config, { protocol: 'grpc' }, 'the upstream\'s own service-defaults protocol beats the global one');
  assert.deepEqual(cache.Config, { protocol: 'http' }, 'an upstream without service-defaults takes the global protocol');
  assert.equal(db.CentrallyConfigured, undefined, 'a registered upstream stays the registration\'s');
  const parent = await call('GET', '/v1/agent/service/web-1');
  assert.equal(parent.json.Proxy, undefined, 'a typical service gets no proxy defaults');
  // The catalog holds the merged registration too.
  await until('the merged sidecar in the catalog', 5000, async () => (await call('GET', '/v1/catalog/service/web-sidecar-proxy')).json?.[0]?.ServiceProxy?.Config?.protocol === 'http');
});

test('changing the entries merges the sidecar again: service-defaults of the destination and of an upstream', async () => {
  const before = await call('GET', '/v1/agent/service/web-1-sidecar-proxy');
  const hash = before.json.ContentHash;
  // A blocking read on the content hash returns once the merge changed the registration.
  const blocked = call('GET', `/v1/agent/service/web-1-sidecar-proxy?hash=${hash}&wait=10s`);
  assert.equal((await call('PUT', '/v1/config', {
    Kind: 'service-defaults', Name: 'web', Protocol: 'http2', MeshGateway: { Mode: 'local' },
    UpstreamConfig: { Overrides: [{ Name: 'cache', Protocol: 'tcp', ConnectTimeoutMs: 2500 }] },
  })).status, 200);
  const after = await blocked;
  assert.notEqual(after.json.ContentHash, hash);
  const p = after.json.Proxy;
  assert.equal(p.Config.protocol, 'http2', 'the destination\'s service-defaults protocol');
  assert.deepEqual(p.MeshGateway, { Mode: 'local' });
  const cache = p.Upstreams.find((u: any) => u.DestinationName === 'cache');
  assert.deepEqual(cache.Config, { protocol: 'tcp', connect_timeout_ms: 2500 }, 'the downstream\'s override for that upstream');
  assert.deepEqual(cache.MeshGateway, { Mode: 'local' }, 'upstreams inherit the resolved gateway mode');
  assert.equal((await call('PUT', '/v1/config', { Kind: 'proxy-defaults', Name: 'global', Config: { protocol: 'tcp' } })).status, 200);
  await until('the global protocol change merged', 5000, async () => (await proxyOf('web-1-sidecar-proxy')).Upstreams.find((u: any) => u.DestinationName === 'db').Config.protocol === 'grpc'
    && (await proxyOf('web-1-sidecar-proxy')).Config.local_connect_timeout_ms === 2000);
  assert.equal((await call('DELETE', '/v1/config/service-defaults/web')).status, 200);
  await until('the destination defaults removed', 5000, async () => (await proxyOf('web-1-sidecar-proxy')).Config.protocol === 'tcp');
  assert.deepEqual((await proxyOf('web-1-sidecar-proxy')).MeshGateway, {});
});

test('transparent mode from proxy-defaults adds the centrally configured upstreams', async () => {
  assert.equal((await call('PUT', '/v1/config', {
    Kind: 'service-defaults', Name: 'tp', UpstreamConfig: { Overrides: [{ Name: 'billing', Protocol: 'http' }] },
  })).status, 200);
  assert.equal((await call('PUT', '/v1/config', { Kind: 'proxy-defaults', Name: 'global', Mode: 'transparent', TransparentProxy: { OutboundListenerPort: 15001 } })).status, 200);
  const reg = await call('PUT', '/v1/agent/service/register', { Name: 'tp', Port: 7000, Connect: { SidecarService: {} } });
  assert.equal(reg.status, 200, reg.text);
  const p = await proxyOf('tp-sidecar-proxy');
  assert.equal(p.Mode, 'transparent');
  assert.deepEqual(p.TransparentProxy, { OutboundListenerPort: 15001 });
  const billing = p.Upstreams.find((u: any) => u.DestinationName === 'billing');
  assert.deepEqual(billing, {
    DestinationNamespace: 'default', DestinationPartition: 'default', DestinationName: 'billing', Config: { protocol: 'http' },
    MeshGateway: {}, CentrallyConfigured: true,
  });
  assert.equal((await call('PUT', '/v1/config', { Kind: 'proxy-defaults', Name: 'global', Config: {} })).status, 200);
  await until('transparent mode removed', 5000, async () => (await proxyOf('tp-sidecar-proxy')).Mode === undefined);
  assert.equal((await proxyOf('tp-sidecar-proxy')).Upstreams, undefined, 'out of transparent mode the central upstreams go');
});

test('enable_central_service_config = false registers the proxy as given', async () => {
  const off = await startDevAgent({ config: { raw: { enable_central_service_config: false } } });
  try {
    const put = (u: string, b: unknown) => off.agent.http.handle({ method: 'PUT', url: u, body: JSON.stringify(b) });
    assert.equal((await put('/v1/config', { Kind: 'proxy-defaults', Name: 'global', Config: { protocol: 'http' } })).status, 200);
    assert.equal((await put('/v1/agent/service/register', { Name: 'web', Port: 80, Connect: { SidecarService: {} } })).status, 200);
    const r = await off.agent.http.handle({ method: 'GET', url: '/v1/agent/service/web-sidecar-proxy' });
    assert.equal((r.json() as any).Proxy.Config, undefined);
  } finally {
    await off.stop();
  }
});

test('a config-file sidecar is merged once the first answer arrives, and stays merged across a reload', async () => {
  const raw = { services: [{ name: 'files', port: 7070, connect: { sidecar_service: { proxy: { upstreams: [{ destination_name: 'db', local_bind_port: 9191 }] } } } }] };
  const cf = await startDevAgent({ config: { raw } });
  try {
    const h = (method: string, url: string, b?: unknown) => cf.agent.http.handle({ method, url, body: b === undefined ? undefined : JSON.stringify(b) });
    assert.equal((await h('PUT', '/v1/config', { Kind: 'proxy-defaults', Name: 'global', Config: { protocol: 'http' } })).status, 200);
    const proxy = async () => ((await h('GET', '/v1/agent/service/files-sidecar-proxy')).json() as any).Proxy;
    await until('the config-file sidecar merged', 5000, async () => (await proxy()).Config?.protocol === 'http');
    assert.deepEqual((await proxy()).Upstreams[0].Config, { protocol: 'http' });
    await cf.agent.reload({ ...cf.agent.config, raw });
    assert.deepEqual((await proxy()).Config, { protocol: 'http' });
  } finally {
    await cf.stop();
  }
});

test('a gateway takes proxy-defaults and its own service-defaults too', async () => {
  assert.equal((await call('PUT', '/v1/config', { Kind: 'proxy-defaults', Name: 'global', Config: { envoy_dns_discovery_type: 'STRICT_DNS' }, MeshGateway: { Mode: 'local' } })).status, 200);
  assert.equal((await call('PUT', '/v1/config', { Kind: 'service-defaults', Name: 'edge', Protocol: 'http' })).status, 200);
  const reg = await call('PUT', '/v1/agent/service/register', { Name: 'edge', Kind: 'mesh-gateway', Port: 8443 });
  assert.equal(reg.status, 200, reg.text);
  const p = await proxyOf('edge');
  assert.deepEqual(p.Config, { envoy_dns_discovery_type: 'STRICT_DNS', protocol: 'http' });
  assert.deepEqual(p.MeshGateway, { Mode: 'local' });
});

test('?merge-central-config answers catalog and health reads of proxies merged, and wakes their blocking reads on entry changes', async () => {
  assert.equal((await call('PUT', '/v1/config', { Kind: 'proxy-defaults', Name: 'global', Config: { protocol: 'http' } })).status, 200);
  assert.equal((await call('PUT', '/v1/catalog/register', {
    Node: 'ext-node', Address: '10.1.2.3',
    Service: { ID: 'pay-proxy', Service: 'pay-proxy', Kind: 'connect-proxy', Port: 21000, Proxy: { DestinationServiceName: 'pay', DestinationServiceID: 'pay', Upstreams: [{ DestinationName: 'ledger', LocalBindPort: 9000 }] } },
  })).status, 200);
  assert.equal((await call('PUT', '/v1/catalog/register', { Node: 'ext-node', Address: '10.1.2.3', Service: { ID: 'pay', Service: 'pay', Port: 80 } })).status, 200);
  const plain = await call('GET', '/v1/catalog/service/pay-proxy');
  assert.equal(plain.json[0].ServiceProxy.Config, undefined, 'without the flag the catalog answers what was registered');
  const merged = await call('GET', '/v1/catalog/service/pay-proxy?merge-central-config');
  assert.deepEqual(merged.json[0].ServiceProxy.Config, { protocol: 'http' });
  assert.deepEqual(merged.json[0].ServiceProxy.Upstreams[0].Config, { protocol: 'http' });
  const health = await call('GET', '/v1/health/service/pay-proxy?merge-central-config');
  assert.deepEqual(health.json[0].Service.Proxy.Config, { protocol: 'http' });
  const connect = await call('GET', '/v1/health/connect/pay?merge-central-config');
  assert.deepEqual(connect.json[0].Service.Proxy.Config, { protocol: 'http' });
  const onNode = await call('GET', '/v1/catalog/node-services/ext-node?merge-central-config');
  assert.deepEqual(onNode.json.Services.find((s: any) => s.ID === 'pay-proxy').Proxy.Config, { protocol: 'http' }, 'node-services merges too (Consul\'s NodeServiceList)');
  assert.equal((await call('GET', '/v1/catalog/node-services/ext-node')).json.Services.find((s: any) => s.ID === 'pay-proxy').Proxy.Config, undefined);
  const typical = await call('GET', '/v1/catalog/service/pay?merge-central-config');
  assert.deepEqual(typical.json[0].ServiceProxy, { Mode: '', MeshGateway: {}, Expose: {} }, 'typical services are left as they are');
  // A blocking merged read wakes when the entries change.
  const index = Number((await dev.agent.http.handle({ method: 'GET', url: '/v1/catalog/service/pay-proxy?merge-central-config' })).headers['X-Consul-Index']);
  const woken = call('GET', `/v1/catalog/service/pay-proxy?merge-central-config&index=${index}&wait=10s`);
  assert.equal((await call('PUT', '/v1/config', { Kind: 'service-defaults', Name: 'ledger', Protocol: 'grpc' })).status, 200);
  assert.deepEqual((await woken).json[0].ServiceProxy.Upstreams[0].Config, { protocol: 'grpc' });
});
