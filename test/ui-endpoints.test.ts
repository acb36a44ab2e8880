// /v1/internal/ui/* against a real agent, in the shapes Consul's UI reads: services with checks,
// a sidecar and an ingress gateway summarized, nodes with their services and checks, the catalog
// overview, a gateway's services and intentions, service topology, exported services, blocking
// on the service listing, ACL filtering with a limited token, and the metrics proxy.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { aclDenyConfig, httpCaller, ROOT, tokenWithRules, type HttpCall } from './support/acl.ts';
import { DEFAULT_UI_CONFIG } from '../src/agent/config/ui-config.ts';
import { until } from './support/wait.ts';

/** web (tagged, external source, a passing check) with a sidecar upstream of db on n1, db (critical) on n2, ingress igw fronting web. */
async function seed(call: HttpCall, token = ''): Promise<void> {
  const ok = async (method: string, path: string, body: unknown) => {
    const r = await call(method, path, token, body);
    assert.equal(r.status, 200, `${method} ${path}: ${r.text}`);
  };
  await ok('PUT', '/v1/catalog/register', {
    Node: 'n1', Address: '10.0.0.1', Check: { CheckID: 'mem', Name: 'Memory', Status: 'warning' },
    Service: { ID: 'web1', Service: 'web', Tags: ['v2', 'a'], Port: 80, Meta: { 'external-source': 'kubernetes' } },
  });
  await ok('PUT', '/v1/catalog/register', { Node: 'n1', Address: '10.0.0.1', Check: { CheckID: 'web-http', Name: 'HTTP', Status: 'passing', ServiceID: 'web1' } });
  await ok('PUT', '/v1/catalog/register', {
    Node: 'n1', Address: '10.0.0.1',
    Service: { Kind: 'connect-proxy', ID: 'web1-sidecar', Service: 'web-sidecar-proxy', Port: 21000, Proxy: { DestinationServiceName: 'web', Upstreams: [{ DestinationName: 'db', LocalBindPort: 9000 }] } },
  });
  await ok('PUT', '/v1/catalog/register', {
    Node: 'n2', Address: '10.0.0.2', Service: { ID: 'db1', Service: 'db', Port: 5432 },
    Check: { CheckID: 'db-tcp', Name: 'TCP', Status: 'critical', ServiceID: 'db1' },
  });
  await ok('PUT', '/v1/catalog/register', { Node: 'n2', Address: '10.0.0.2', Service: { Kind: 'connect-proxy', ID: 'db1-sidecar', Service: 'db-sidecar-proxy', Port: 21000, Proxy: { DestinationServiceName: 'db' } } });
  await ok('PUT', '/v1/catalog/register', { Node: 'gw', Address: '10.0.0.3', Service: { Kind: 'ingress-gateway', ID: 'igw', Service: 'igw', Port: 8080 } });
  await ok('PUT', '/v1/config', { Kind: 'ingress-gateway', Name: 'igw', Listeners: [{ Port: 8080, Protocol: 'tcp', Services: [{ Name: 'web' }] }] });
  await ok('PUT', '/v1/config', { Kind: 'service-intentions', Name: 'db', Sources: [{ Name: 'web', Action: 'allow' }] });
  await ok('PUT', '/v1/config', { Kind: 'service-intentions', Name: 'web', Sources: [{ Name: 'igw', Action: 'allow' }, { Name: '*', Action: 'deny' }] });
}

const byName = (list: any[], name: string) => list.find((s) => s.Name === name);

describe('the internal UI endpoints', () => {
  let a: DevAgent;
  const call = httpCaller(() => a.httpAddr);
  before(async () => {
    a = await startDevAgent();
    await seed(call);
  });
  after(() => a.stop());

  test('services: one summary per service, with checks, sidecars and gateways linked', async () => {
    const r = await call('GET', '/v1/internal/ui/services');
    assert.equal(r.status, 200, r.text);
    assert.ok(Number(r.headers.get('x-consul-index')) > 0);
    assert.deepEqual(byName(r.json, 'web'), {
      Name: 'web', Datacenter: 'dc1', Tags: ['a', 'v2'], Nodes: ['n1'], ExternalSources: ['kubernetes'], InstanceCount: 1,
      // The node's warning check counts for the service; the sidecar's instance has no checks of its own.
      ChecksPassing: 1, ChecksWarning: 1, ChecksCritical: 0, GatewayConfig: {}, TransparentProxy: false, ConnectNative: false,
      ConnectedWithProxy: true, ConnectedWithGateway: true,
    });
    assert.deepEqual(byName(r.json, 'web-sidecar-proxy'), {
      Kind: 'connect-proxy', Name: 'web-sidecar-proxy', Datacenter: 'dc1', Tags: null, Nodes: ['n1'], ExternalSources: null, InstanceCount: 1,
      ChecksPassing: 0, ChecksWarning: 1, ChecksCritical: 0, GatewayConfig: {}, TransparentProxy: false, ConnectNative: false,
      ConnectedWithProxy: false, ConnectedWithGateway: false,
    });
    const igw = byName(r.json, 'igw');
    assert.equal(igw.Kind, 'ingress-gateway');
    assert.deepEqual(igw.GatewayConfig, { AssociatedServiceCount: 1 });
    assert.equal(byName(r.json, 'db').ChecksCritical, 1);
    assert.deepEqual(r.json.map((s: any) => s.Name), [...r.json.map((s: any) => s.Name)].sort());
    const filtered = await call('GET', `/v1/internal/ui/services?filter=${encodeURIComponent('Service.Service == "db"')}`);
    assert.deepEqual(filtered.json.map((s: any) => s.Name), ['db']);
  });

  test('nodes and node: NodeInfo with services and checks; a missing node is a bare 404', async () => {
    const nodes = await call('GET', '/v1/internal/ui/nodes');
    assert.equal(nodes.status, 200);
    const n1 = byName(nodes.json.map((n: any) => ({ ...n, Name: n.Node })), 'n1');
    assert.deepEqual(Object.keys(n1).filter((k) => k !== 'Name'), ['ID', 'Node', 'Address', 'TaggedAddresses', 'Meta', 'Services', 'Checks']);
    assert.deepEqual(n1.Services.map((s: any) => s.ID), ['web1', 'web1-sidecar']);
    assert.deepEqual(n1.Checks.map((c: any) => c.CheckID), ['mem', 'web-http']);
    const one = await call('GET', '/v1/internal/ui/node/N1');
    assert.equal(one.status, 200);
    assert.equal(one.json.Node, 'n1');
    assert.ok(Number(one.headers.get('x-consul-index')) > 0);
    const missing = await call('GET', '/v1/internal/ui/node/nope');
    assert.deepEqual([missing.status, missing.text], [404, '']);
  });

  test('catalog-overview: node, service and check health totals', async () => {
    const r = await call('GET', '/v1/internal/ui/catalog-overview');
    assert.equal(r.status, 200);
    const svc = (n: string) => r.json.Services.find((s: any) => s.Name === n);
    assert.deepEqual(svc('web'), { Name: 'web', Total: 1, Passing: 1, Warning: 0, Critical: 0 });
    assert.deepEqual(svc('db'), { Name: 'db', Total: 1, Passing: 0, Warning: 0, Critical: 1 });
    assert.equal(r.json.Nodes.length, 1);
    assert.equal(r.json.Nodes[0].Name, undefined);
    assert.equal(r.json.Nodes[0].Warning, 1, 'n1 has a warning node check');
    assert.deepEqual(r.json.Checks.find((c: any) => c.Name === 'Memory'), { Name: 'Memory', Total: 1, Passing: 0, Warning: 1, Critical: 0 });
  });

  test('gateway-services-nodes and gateway-intentions of an ingress gateway', async () => {
    const nodes = await call('GET', '/v1/internal/ui/gateway-services-nodes/igw');
    assert.equal(nodes.status, 200, nodes.text);
    assert.deepEqual(nodes.json.map((s: any) => [s.Name, s.InstanceCount, s.GatewayConfig]), [['web', 1, { Addresses: ['web.ingress.dc1.consul:8080'] }]]);
    const ixns = await call('GET', '/v1/internal/ui/gateway-intentions/igw');
    assert.equal(ixns.status, 200);
    assert.deepEqual(ixns.json.map((i: any) => [i.SourceName, i.DestinationName, i.Action]), [['igw', 'web', 'allow'], ['*', 'web', 'deny']]);
    assert.equal((await call('GET', '/v1/internal/ui/gateway-services-nodes/')).text, 'Missing gateway name');
  });

  test('service-topology: upstreams from registrations, downstreams from proxies and gateways, intention decisions', async () => {
    const web = await call('GET', '/v1/internal/ui/service-topology/web?kind=');
    assert.equal(web.status, 200, web.text);
    assert.equal(web.json.Protocol, 'tcp');
    assert.equal(web.json.TransparentProxy, false);
    assert.equal(web.json.FilteredByACLs, false);
    assert.deepEqual(web.json.Upstreams.map((u: any) => [u.Name, u.Source, u.Intention]), [
      ['db', 'proxy-registration', { DefaultAllow: true, Allowed: true, HasPermissions: false, ExternalSource: '', HasExact: true }],
    ]);
    assert.deepEqual(web.json.Downstreams.map((d: any) => [d.Name, d.Source, d.Intention.Allowed, d.Intention.HasExact]), [['igw', 'proxy-registration', true, true]]);
    const db = await call('GET', '/v1/internal/ui/service-topology/db?kind=');
    assert.deepEqual(db.json.Downstreams.map((d: any) => [d.Name, d.Source, d.ChecksPassing]), [['web', 'proxy-registration', 1]]);
    const igw = await call('GET', '/v1/internal/ui/service-topology/igw?kind=ingress-gateway');
    assert.deepEqual(igw.json.Upstreams.map((u: any) => [u.Name, u.Source]), [['web', 'proxy-registration']]);
    assert.deepEqual([(await call('GET', '/v1/internal/ui/service-topology/web')).text], ['Missing service kind']);
    const bad = await call('GET', '/v1/internal/ui/service-topology/web?kind=mesh-gateway');
    assert.deepEqual([bad.status, bad.text], [400, 'Unsupported service kind "mesh-gateway"']);
  });

  test('service-topology of a transparent proxy: upstreams and downstreams from what intentions allow', async () => {
    assert.equal((await call('PUT', '/v1/catalog/register', '', {
      Node: 'n4', Address: '10.0.0.5', Service: { ID: 'api1', Service: 'api', Port: 81 },
    })).status, 200);
    assert.equal((await call('PUT', '/v1/catalog/register', '', {
      Node: 'n4', Address: '10.0.0.5',
      Service: { Kind: 'connect-proxy', ID: 'api1-sidecar', Service: 'api-sidecar-proxy', Port: 21000, Proxy: { DestinationServiceName: 'api', Mode: 'transparent' } },
    })).status, 200);
    const api = (await call('GET', '/v1/internal/ui/service-topology/api?kind=')).json;
    assert.equal(api.TransparentProxy, true);
    // web's intentions deny everyone but igw; db's name only web, so the default (allow, ACLs off) decides.
    assert.deepEqual(api.Upstreams.map((u: any) => [u.Name, u.Source, u.Intention.Allowed, u.Intention.HasExact]), [['db', 'default-allow', true, false]]);
    const db = (await call('GET', '/v1/internal/ui/service-topology/db?kind=')).json;
    assert.deepEqual(db.Downstreams.map((d: any) => [d.Name, d.Source]), [['api', 'default-allow'], ['web', 'proxy-registration']]);
    const web = (await call('GET', '/v1/internal/ui/service-topology/web?kind=')).json;
    assert.ok(!web.Downstreams.some((d: any) => d.Name === 'api'), 'the wildcard deny keeps api out');
  });

  test('service-topology: an upstream only routing entries define is routing-config; its targets see the caller downstream', async () => {
    assert.equal((await call('PUT', '/v1/config', '', { Kind: 'service-resolver', Name: 'virtual', Redirect: { Service: 'db' } })).status, 200);
    assert.equal((await call('PUT', '/v1/catalog/register', '', {
      Node: 'n5', Address: '10.0.0.6', Service: { ID: 'dash1', Service: 'dashboard', Port: 82 },
    })).status, 200);
    assert.equal((await call('PUT', '/v1/catalog/register', '', {
      Node: 'n5', Address: '10.0.0.6',
      Service: { Kind: 'connect-proxy', ID: 'dash1-sidecar', Service: 'dashboard-sidecar-proxy', Port: 21000, Proxy: { DestinationServiceName: 'dashboard', Upstreams: [{ DestinationName: 'virtual', LocalBindPort: 9100 }] } },
    })).status, 200);
    const dash = (await call('GET', '/v1/internal/ui/service-topology/dashboard?kind=')).json;
    assert.deepEqual(dash.Upstreams, [{
      Name: 'virtual', Datacenter: 'dc1', Tags: null, Nodes: null, ExternalSources: null, InstanceCount: 0, ChecksPassing: 0, ChecksWarning: 0, ChecksCritical: 0,
      GatewayConfig: {}, TransparentProxy: false, ConnectNative: false, Source: 'routing-config',
      Intention: { DefaultAllow: true, Allowed: true, HasPermissions: false, ExternalSource: '', HasExact: false },
    }]);
    const db = (await call('GET', '/v1/internal/ui/service-topology/db?kind=')).json;
    assert.deepEqual(db.Downstreams.map((d: any) => [d.Name, d.Source]), [['api', 'default-allow'], ['dashboard', 'proxy-registration'], ['web', 'proxy-registration']]);
  });

  test('exported-services needs a peer; an unknown peer has none', async () => {
    const none = await call('GET', '/v1/internal/ui/exported-services?peer=nowhere');
    assert.deepEqual([none.status, none.json], [200, []]);
    const missing = await call('GET', '/v1/internal/ui/exported-services');
    assert.deepEqual([missing.status, missing.text], [500, 'must provide PeerName']);
  });

  test('services blocks until the catalog changes past ?index', async () => {
    const first = await call('GET', '/v1/internal/ui/services');
    const index = Number(first.headers.get('x-consul-index'));
    let settled = false;
    const blocked = call('GET', `/v1/internal/ui/services?index=${index}&wait=30s`).finally(() => { settled = true; });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(settled, false, 'answered before anything changed');
    assert.equal((await call('PUT', '/v1/catalog/register', '', { Node: 'n3', Address: '10.0.0.4', Service: { Service: 'cache', Port: 6379 } })).status, 200);
    const r = await blocked;
    assert.ok(Number(r.headers.get('x-consul-index')) > index);
    assert.ok(byName(r.json, 'cache'), 'the new service is listed');
  });
});

describe('the internal UI endpoints under ACLs', () => {
  let a: DevAgent;
  const call = httpCaller(() => a.httpAddr);
  let limited: string;
  before(async () => {
    a = await startDevAgent({ config: aclDenyConfig() });
    await seed(call, ROOT);
    limited = (await tokenWithRules(call, 'service "web" { policy = "read" }\nnode_prefix "" { policy = "read" }')).SecretID;
  });
  after(() => a.stop());

  test('services and nodes keep what the token may read, with the filtered header', async () => {
    const r = await call('GET', '/v1/internal/ui/services', limited);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.map((s: any) => s.Name), ['web']);
    assert.equal(r.headers.get('x-consul-results-filtered-by-acls'), 'true');
    const nodes = await call('GET', '/v1/internal/ui/nodes', limited);
    const n1 = nodes.json.find((n: any) => n.Node === 'n1');
    assert.deepEqual(n1.Services.map((s: any) => s.ID), ['web1']);
    assert.equal(nodes.headers.get('x-consul-results-filtered-by-acls'), 'true');
    const anon = await call('GET', '/v1/internal/ui/nodes');
    assert.deepEqual(anon.json, []);
    // A node the token may not read is hidden as a missing one, as Consul's filtered NodeInfo.
    assert.deepEqual([(await call('GET', '/v1/internal/ui/node/n1')).status, (await call('GET', '/v1/internal/ui/node/n1', limited)).status], [404, 200]);
    const all = await call('GET', '/v1/internal/ui/services', ROOT);
    assert.ok(all.json.length > 3);
    assert.equal(all.headers.get('x-consul-results-filtered-by-acls'), null);
  });

  test('catalog-overview needs operator:read; gateway reads need service:read on the gateway', async () => {
    const o = await call('GET', '/v1/internal/ui/catalog-overview', limited);
    assert.equal(o.status, 403);
    assert.match(o.text, /lacks permission 'operator:read'/);
    assert.equal((await call('GET', '/v1/internal/ui/catalog-overview', ROOT)).status, 200);
    const g = await call('GET', '/v1/internal/ui/gateway-services-nodes/igw', limited);
    assert.equal(g.status, 403);
    assert.match(g.text, /lacks permission 'service:read' on "igw"/);
  });

  test("?filter applies after ACLs, so the filtered header says nothing about what hidden services match", async () => {
    // Consul filters by ACLs first: the header is the same whatever the expression selects.
    for (const expr of ['Service.Service == "db"', 'Service.Service == "web"', 'Service.Service == "nothing"']) {
      const r = await call('GET', `/v1/internal/ui/services?filter=${encodeURIComponent(expr)}`, limited);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get('x-consul-results-filtered-by-acls'), 'true', expr);
    }
  });

  test('service-topology hides upstreams the token cannot read and says so', async () => {
    const r = await call('GET', '/v1/internal/ui/service-topology/web?kind=', limited);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.Upstreams, []);
    assert.equal(r.json.FilteredByACLs, true);
    // Under default deny the decision's default is deny; the exact allow still decides.
    const root = await call('GET', '/v1/internal/ui/service-topology/web?kind=', ROOT);
    assert.deepEqual(root.json.Upstreams.map((u: any) => [u.Name, u.Intention.Allowed]), [['db', true]]);
  });
});

describe('the metrics proxy', () => {
  let backend: http.Server;
  let seen: { url: string; headers: http.IncomingHttpHeaders }[];
  let a: DevAgent;
  let plain: DevAgent;
  before(async () => {
    seen = [];
    backend = http.createServer((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"status":"success"}');
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const port = (backend.address() as AddressInfo).port;
    a = await startDevAgent({
      config: {
        ui: {
          ...DEFAULT_UI_CONFIG, enabled: true,
          metricsProxy: { baseUrl: `http://127.0.0.1:${port}/prom`, addHeaders: [{ name: 'X-Backend-Key', value: 'k1' }], pathAllowlist: ['/prom/api/v1/query'] },
        },
      },
    });
    plain = await startDevAgent();
  });
  after(async () => {
    await a.stop();
    await plain.stop();
    await new Promise((r) => backend.close(r));
  });

  test('forwards an allowed path with its query and the added headers, never the token', async () => {
    const res = await fetch(`http://${a.httpAddr}/v1/internal/ui/metrics-proxy/api/v1/query?query=up`, { headers: { 'X-Consul-Token': 'tok' } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '{"status":"success"}');
    assert.equal(seen.length, 1);
    assert.equal(seen[0].url, '/prom/api/v1/query?query=up');
    assert.equal(seen[0].headers['x-backend-key'], 'k1');
    assert.equal(seen[0].headers['x-consul-token'], undefined);
  });

  test('a path outside the allowlist is 403; without a base URL the proxy is 404', async () => {
    const denied = await fetch(`http://${a.httpAddr}/v1/internal/ui/metrics-proxy/api/v1/series`);
    assert.equal(denied.status, 403);
    assert.equal(seen.length, 1, 'nothing reached the backend');
    const off = await fetch(`http://${plain.httpAddr}/v1/internal/ui/metrics-proxy/api/v1/query`);
    assert.deepEqual([off.status, await off.text()], [404, 'Metrics proxy is not enabled']);
  });
});

/** GET with the request target sent exactly as given (fetch would normalise it). */
function rawGet(addr: string, target: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const [host, port] = addr.split(':');
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port: Number(port), path: target, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject).end();
  });
}

describe('the metrics proxy under a base path without an allowlist', () => {
  let backend: http.Server;
  let seen: { url: string; headers: http.IncomingHttpHeaders }[];
  let a: DevAgent;
  before(async () => {
    seen = [];
    backend = http.createServer((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      res.setHeader('Content-Type', 'text/plain');
      res.end('ok');
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const port = (backend.address() as AddressInfo).port;
    a = await startDevAgent({
      config: { ui: { ...DEFAULT_UI_CONFIG, enabled: true, metricsProxy: { baseUrl: `http://127.0.0.1:${port}/prom`, addHeaders: [], pathAllowlist: [] } } },
    });
  });
  after(async () => {
    await a.stop();
    await new Promise((r) => backend.close(r));
  });

  test('an encoded backslash is a character of the path, never a separator that climbs out of the base path', async () => {
    const r = await rawGet(a.httpAddr, '/v1/internal/ui/metrics-proxy/..%5Cprometheus/api');
    assert.equal(r.status, 200, r.text);
    assert.equal(seen.at(-1)?.url, '/prom/..%5Cprometheus/api');
  });

  test("control characters in the path are refused (400) before the proxy, as Consul's unprintable-path filter does", async () => {
    const before = seen.length;
    for (const p of ['/.%0A./.%0A./admin', '/a%09b', '/a%00b']) {
      const r = await rawGet(a.httpAddr, `/v1/internal/ui/metrics-proxy${p}`);
      // go-cleanhttp's PrintablePathCheckHandler wraps Consul's whole mux: a bare 400.
      assert.deepEqual([r.status, r.text], [400, ''], p);
    }
    assert.equal(seen.length, before, 'nothing reached the backend');
  });

  test('the decoded path is sent encoded again: a percent sign stays one', async () => {
    const r = await rawGet(a.httpAddr, '/v1/internal/ui/metrics-proxy/a%25b%20c?q=%25');
    assert.equal(r.status, 200, r.text);
    assert.equal(seen.at(-1)?.url, '/prom/a%25b%20c?q=%25');
  });

  test("the backend's Content-Type and Content-Length come through once each", async () => {
    const [host, port] = a.httpAddr.split(':');
    const raw = await new Promise<string[]>((resolve, reject) => {
      http.get({ host, port: Number(port), path: '/v1/internal/ui/metrics-proxy/len' }, (res) => {
        res.resume().on('end', () => resolve(res.rawHeaders));
      }).on('error', reject);
    });
    const named = (name: string) => raw.flatMap((v, i) => (i % 2 === 0 && v.toLowerCase() === name ? [raw[i + 1]] : []));
    assert.deepEqual(named('content-type'), ['text/plain']);
    assert.deepEqual(named('content-length'), ['2']);
  });

  test('the client is appended to X-Forwarded-For, as Go\'s ReverseProxy does', async () => {
    await rawGet(a.httpAddr, '/v1/internal/ui/metrics-proxy/q');
    assert.equal(seen.at(-1)?.headers['x-forwarded-for'], '127.0.0.1');
    await rawGet(a.httpAddr, '/v1/internal/ui/metrics-proxy/q', { 'X-Forwarded-For': '10.1.1.1' });
    assert.equal(seen.at(-1)?.headers['x-forwarded-for'], '10.1.1.1, 127.0.0.1');
  });

  test("only the header carrying the Consul token is withheld: another Authorization reaches the backend", async () => {
    await rawGet(a.httpAddr, '/v1/internal/ui/metrics-proxy/q', { 'X-Consul-Token': 'tok', Authorization: 'Basic dXNlcjpwdw==' });
    assert.equal(seen.at(-1)?.headers['x-consul-token'], undefined);
    assert.equal(seen.at(-1)?.headers.authorization, 'Basic dXNlcjpwdw==');
    await rawGet(a.httpAddr, '/v1/internal/ui/metrics-proxy/q', { Authorization: 'Bearer tok' });
    assert.equal(seen.at(-1)?.headers.authorization, undefined);
  });
});

describe('the metrics proxy and a slow backend', () => {
  let backend: http.Server;
  let held: { req: http.IncomingMessage; res: http.ServerResponse }[];
  let arrived: () => void;
  let a: DevAgent;
  before(async () => {
    held = [];
    backend = http.createServer((req, res) => {
      held.push({ req, res });
      arrived();
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const port = (backend.address() as AddressInfo).port;
    a = await startDevAgent({
      config: { ui: { ...DEFAULT_UI_CONFIG, enabled: true, metricsProxy: { baseUrl: `http://127.0.0.1:${port}`, addHeaders: [], pathAllowlist: [] } } },
    });
  });
  after(async () => {
    for (const h of held) h.res.destroy();
    await a.stop();
    await new Promise((r) => backend.close(r));
  });
  const next = () => new Promise<void>((r) => { arrived = r; });

  test('the backend request ends when the client leaves', { timeout: 10_000 }, async () => {
    const reached = next();
    const ac = new AbortController();
    const pending = fetch(`http://${a.httpAddr}/v1/internal/ui/metrics-proxy/slow`, { signal: ac.signal }).catch(() => null);
    await reached;
    const closed = new Promise<void>((r) => held.at(-1)!.res.on('close', () => r()));
    ac.abort();
    await pending;
    await closed;
  });

  test("the backend's answer is passed on as it comes, not held until its end", { timeout: 10_000 }, async () => {
    const reached = next();
    const res = fetch(`http://${a.httpAddr}/v1/internal/ui/metrics-proxy/chunks`);
    await reached;
    const { res: out } = held.at(-1)!;
    out.writeHead(200, { 'Content-Type': 'text/plain', 'X-Backend': 'b' });
    out.write('first ');
    const r = await res;
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-backend'), 'b');
    const reader = r.body!.getReader();
    const first = await reader.read();
    assert.equal(Buffer.from(first.value!).toString(), 'first ');
    out.end('last');
    let rest = '';
    for (let c = await reader.read(); !c.done; c = await reader.read()) rest += Buffer.from(c.value).toString();
    assert.equal(rest, 'last');
  });
});

describe('the internal UI endpoints across a cluster peering', () => {
  let a: DevAgent;
  let b: DevAgent;
  const callA = httpCaller(() => a.httpAddr);
  const callB = httpCaller(() => b.httpAddr);
  before(async () => {
    a = await startDevAgent({ config: { datacenter: 'dc1', primaryDatacenter: 'dc1', nodeName: 'node-a' } });
    b = await startDevAgent({ config: { datacenter: 'dc2', primaryDatacenter: 'dc2', nodeName: 'node-b' } });
  });
  after(async () => {
    await b.stop();
    await a.stop();
  });

  test("exported-services lists a peer's exports; services lists imports with their peer, ?peer= only that peer's", async () => {
    assert.equal((await callA('PUT', '/v1/catalog/register', '', {
      Node: 'node-web', Address: '10.0.0.1', Service: { ID: 'web-1', Service: 'web', Port: 80 },
      Check: { CheckID: 'web-check', Name: 'check', Status: 'passing', ServiceID: 'web-1' },
    })).status, 200);
    assert.equal((await callA('PUT', '/v1/config', '', { Kind: 'exported-services', Name: 'default', Services: [{ Name: 'web', Consumers: [{ Peer: 'cluster-b' }] }] })).status, 200);
    const tok = await callA('POST', '/v1/peering/token', '', { PeerName: 'cluster-b' });
    assert.equal(tok.status, 200, tok.text);
    const exported = await callA('GET', '/v1/internal/ui/exported-services?peer=cluster-b');
    assert.deepEqual(exported.json, [{
      Name: 'web', Datacenter: 'dc1', Tags: null, Nodes: null, ExternalSources: null, InstanceCount: 0, ChecksPassing: 0, ChecksWarning: 0,
      ChecksCritical: 0, GatewayConfig: {}, TransparentProxy: false, ConnectNative: false, ConnectedWithProxy: false, ConnectedWithGateway: false,
    }]);
    assert.equal((await callB('POST', '/v1/peering/establish', '', { PeerName: 'cluster-a', PeeringToken: tok.json.PeeringToken })).status, 200);
    const imported = await until('web imported on B', 10_000, async () => {
      const r = await callB('GET', '/v1/internal/ui/services');
      return r.json.find((s: any) => s.Name === 'web' && s.PeerName === 'cluster-a');
    });
    assert.deepEqual(imported, {
      Name: 'web', Datacenter: 'dc1', Tags: null, Nodes: ['node-web'], ExternalSources: null, InstanceCount: 1, ChecksPassing: 1, ChecksWarning: 0,
      ChecksCritical: 0, GatewayConfig: {}, TransparentProxy: false, ConnectNative: false, PeerName: 'cluster-a', ConnectedWithProxy: false, ConnectedWithGateway: false,
    });
    const only = await callB('GET', '/v1/internal/ui/services?peer=cluster-a');
    assert.deepEqual(only.json.map((s: any) => [s.Name, s.PeerName]), [['web', 'cluster-a']]);
    assert.ok((await callB('GET', '/v1/internal/ui/services')).json.some((s: any) => s.Name === 'consul' && s.PeerName === undefined), 'local services stay listed');
    const nodes = await callB('GET', '/v1/internal/ui/nodes');
    const peerNode = nodes.json.find((n: any) => n.Node === 'node-web');
    assert.deepEqual([peerNode.PeerName, Object.keys(peerNode).slice(0, 3), peerNode.Services.map((s: any) => s.ID)], ['cluster-a', ['ID', 'Node', 'PeerName'], ['web-1']]);
    assert.ok(nodes.json.some((n: any) => n.Node === 'node-b' && n.PeerName === undefined));
    assert.equal((await callB('GET', '/v1/internal/ui/node/node-web?peer=cluster-a')).json.PeerName, 'cluster-a');
    assert.equal((await callB('GET', '/v1/internal/ui/node/node-web')).status, 404, 'not a local node');
  });
});
