// The web UI served by a real agent from a temporary ui_config.dir holding an index.html with the
// template actions and placeholders Consul's UI builds carry: `/` redirects to the content path,
// the index is rendered with Consul's runtime settings for every path that is no file (SPA
// routes), files are served as they are, and the agents without a dir or with the UI off answer
// as documented.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDevAgent, devConfig, type DevAgent } from './support/agent.ts';
import { createClientAgent, type ClientAgent } from '../src/index.ts';
import { silentLogger } from '../src/log.ts';
import { DEFAULT_UI_CONFIG } from '../src/agent/config/ui-config.ts';

const INDEX = `<!DOCTYPE html>
<html><head>
<!-- CONSUL_VERSION: 1.21.0 -->
<meta name="consul-ui/ui_config" content="{{ jsonEncodeAndEscape .UIConfig }}" />
<meta name="consul-ui/config/environment" content="${encodeURIComponent(JSON.stringify({
  rootURL: '/ui/', CONSUL_ACLS_ENABLED: '__RUNTIME_BOOL_ACLsEnabled__', CONSUL_DATACENTER_LOCAL: '__RUNTIME_STRING_LocalDatacenter__',
}))}" />
<link rel="stylesheet" href="{{.ContentPath}}assets/vendor.css">
</head><body>
<script type="application/json" data-consul-ui-config>
{{jsonEncode .}}
</script>
{{if .ACLsEnabled}}<script src="{{.ContentPath}}assets/consul-acls/routes.js"></script>{{end}}
{{if .PeeringEnabled}}<script src="{{.ContentPath}}assets/consul-peerings/routes.js"></script>{{end}}
{{ range .ExtraScripts }} <script src="{{.}}"></script> {{ end }}
</body></html>
`;

function meta(html: string, name: string): string {
  const m = new RegExp(`<meta name="${name}" content="([^"]*)"`).exec(html);
  assert.ok(m, `meta ${name} in ${html}`);
  return decodeURIComponent(m[1]);
}

const get = (a: DevAgent, p: string, headers: Record<string, string> = {}) =>
  fetch(`http://${a.httpAddr}${p}`, { redirect: 'manual', headers });

describe('the UI from ui_config.dir under a custom content path', () => {
  let dir: string;
  let a: DevAgent;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-ui-'));
    fs.writeFileSync(path.join(dir, 'index.html'), INDEX);
    fs.mkdirSync(path.join(dir, 'assets'));
    fs.writeFileSync(path.join(dir, 'assets', 'app.js'), 'console.log("app");\n');
    fs.writeFileSync(path.join(dir, 'provider.js'), 'window.provider = 1;');
    a = await startDevAgent({
      config: {
        uiEnabled: false,
        ui: {
          ...DEFAULT_UI_CONFIG, dir, contentPath: '/consul/', metricsProvider: 'prometheus', metricsProviderFiles: [path.join(dir, 'provider.js')],
          metricsProviderOptionsJson: '{"a<b":1}', metricsProxy: { baseUrl: 'http://127.0.0.1:9/', addHeaders: [{ name: 'Authorization', value: 'secret' }], pathAllowlist: [] },
        },
      },
    });
  });
  after(async () => {
    await a.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('/ and the bare content path redirect to the content path (301)', async () => {
    const root = await get(a, '/');
    assert.equal(root.status, 301);
    assert.equal(root.headers.get('location'), '/consul/');
    const bare = await get(a, '/consul');
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.get('location'), '/consul/');
  });

  test("the index is rendered with Consul's runtime settings", async () => {
    const res = await get(a, '/consul/');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    const html = await res.text();
    assert.ok(!html.includes('{{'), html);
    assert.ok(html.includes('<link rel="stylesheet" href="/consul/assets/vendor.css">'));
    assert.deepEqual(JSON.parse(meta(html, 'consul-ui/ui_config')), {
      dashboard_url_templates: null, hcp_enabled: false, metrics_provider: 'prometheus', metrics_provider_options: { 'a<b': 1 }, metrics_proxy_enabled: true,
    });
    // URL-encoded as Go's url.PathEscape does (`"` as %22), never the proxy's headers.
    assert.ok(html.includes('%22metrics_provider%22:%22prometheus%22'), html);
    assert.ok(!html.includes('secret'));
    const env = JSON.parse(meta(html, 'consul-ui/config/environment'));
    assert.equal(env.CONSUL_ACLS_ENABLED, false);
    assert.equal(env.CONSUL_DATACENTER_LOCAL, 'dc1');
    const data = JSON.parse(/<script type="application\/json" data-consul-ui-config>([\s\S]*?)<\/script>/.exec(html)![1]);
    assert.deepEqual(Object.keys(data), ['ACLsEnabled', 'ContentPath', 'ExtraScripts', 'HCPEnabled', 'LocalDatacenter', 'PeeringEnabled', 'PrimaryDatacenter', 'UIConfig']);
    assert.equal(data.ContentPath, '/consul/');
    assert.equal(data.LocalDatacenter, 'dc1');
    assert.equal(data.PeeringEnabled, true);
    assert.ok(html.includes('\\u003c'), 'Go escapes < in JSON');
    assert.ok(html.includes('<script src="/consul/assets/consul-peerings/routes.js"></script>'));
    assert.ok(!html.includes('consul-acls'));
    assert.ok(html.includes('<script src="/consul/assets/compiled-metrics-providers.js"></script>'));
  });

  test('SPA routes get the index; files are served as they are', async () => {
    for (const p of ['/consul/dc1/services/web/instances', '/consul/no-such-file.js']) {
      const res = await get(a, p);
      assert.equal(res.status, 200, p);
      assert.ok((await res.text()).includes('"ContentPath": "/consul/"'), p);
    }
    const js = await get(a, '/consul/assets/app.js');
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(await js.text(), 'console.log("app");\n');
    const again = await get(a, '/consul/assets/app.js', { 'If-Modified-Since': js.headers.get('last-modified')! });
    assert.equal(again.status, 304);
    const index = await get(a, '/consul/index.html');
    assert.equal(index.status, 301);
    assert.equal(index.headers.get('location'), './');
    const assets = await get(a, '/consul/assets');
    assert.equal(assets.status, 301);
    assert.equal(assets.headers.get('location'), 'assets/');
  });

  test('no path leaves the UI directory', async () => {
    const secret = path.join(path.dirname(dir), `${path.basename(dir)}-secret.txt`);
    fs.writeFileSync(secret, 'top-secret');
    const name = path.basename(secret);
    for (const url of [`/consul/%2e%2e/${name}`, `/consul/..%2f${name}`, `/consul/%2E%2E%2F${name}`, `/consul/assets/..%2f..%2f${name}`]) {
      const res = await a.agent.http.handle({ method: 'GET', url });
      assert.ok(!res.body.toString().includes('top-secret'), `${url}: ${res.status}`);
    }
    fs.rmSync(secret);
  });

  test('the metrics provider files are served concatenated', async () => {
    const res = await get(a, '/consul/assets/compiled-metrics-providers.js');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/javascript');
    assert.equal(await res.text(), '// provider.js\n\nwindow.provider = 1;\n\n');
  });

  test('/ui/ is not the UI when the content path is elsewhere', async () => {
    const res = await get(a, '/ui/');
    assert.equal(res.status, 404);
    assert.equal(await res.text(), "Invalid URL path: if attempting to use the HTTP API, ensure the path starts with '/v1/'\n");
  });

  test('a reload renders the index with the new settings (Consul reloads ui_config)', async () => {
    const before = a.agent.config.ui!;
    await a.agent.reload({ ...a.agent.config, ui: { ...before, metricsProvider: 'exotic-provider', metricsProviderFiles: [] } });
    const html = await (await get(a, '/consul/')).text();
    assert.equal(JSON.parse(meta(html, 'consul-ui/ui_config')).metrics_provider, 'exotic-provider');
    assert.ok(!html.includes('compiled-metrics-providers.js'));
    await a.agent.reload({ ...a.agent.config, ui: before });
    assert.ok((await (await get(a, '/consul/')).text()).includes('compiled-metrics-providers.js'));
  });

  test('agent/self shows ui_config in DebugConfig without header values', async () => {
    const self = await (await get(a, '/v1/agent/self')).json() as { DebugConfig: { UIConfig: Record<string, unknown> } };
    assert.deepEqual(self.DebugConfig.UIConfig, {
      Enabled: false, Dir: dir, ContentPath: '/consul/', MetricsProvider: 'prometheus', MetricsProviderFiles: [path.join(dir, 'provider.js')],
      MetricsProviderOptionsJSON: '{"a<b":1}', MetricsProxy: { BaseURL: 'http://127.0.0.1:9/', AddHeaders: [{ Name: 'Authorization' }], PathAllowlist: [] },
      DashboardURLTemplates: {}, HCPEnabled: false,
    });
  });
});

describe('agents without UI files or with the UI off', () => {
  let on: DevAgent;
  let off: DevAgent;
  before(async () => {
    on = await startDevAgent({ config: { uiEnabled: true } });
    off = await startDevAgent({ config: { uiEnabled: false } });
  });
  after(async () => {
    await on.stop();
    await off.stop();
  });

  test('UI on without a dir: / redirects to /ui/, which answers 404 with a page naming ui_config.dir', async () => {
    const root = await get(on, '/');
    assert.equal(root.status, 301);
    assert.equal(root.headers.get('location'), '/ui/');
    const ui = await get(on, '/ui/services');
    assert.equal(ui.status, 404);
    assert.equal(ui.headers.get('content-type'), 'text/html; charset=utf-8');
    const page = await ui.text();
    assert.ok(page.includes('ui_config') && page.includes('-ui-dir'), page);
  });

  test("UI off: / answers Consul's text and /ui/ is an unknown path", async () => {
    const root = await get(off, '/');
    assert.equal(root.status, 200);
    assert.equal(await root.text(), 'Consul Agent: UI disabled. To enable, set ui_config.enabled=true in the agent configuration and restart.');
    assert.equal((await get(off, '/ui/')).status, 404);
    assert.equal((await get(off, '/anything')).status, 404);
  });
});

describe('a client agent', () => {
  let client: ClientAgent;
  before(async () => {
    client = createClientAgent(devConfig({ server: false, bootstrap: false, nodeName: 'lonely' }), { logger: silentLogger() });
    await client.start();
  });
  after(() => client.stop());

  test('serves the UI and its metrics proxy itself and forwards the UI reads to a server', async () => {
    const root = await client.http.handle({ method: 'GET', url: '/' });
    assert.deepEqual([root.status, root.headers.Location], [301, '/ui/']);
    assert.equal((await client.http.handle({ method: 'GET', url: '/ui/services' })).status, 404);
    const proxy = await client.http.handle({ method: 'GET', url: '/v1/internal/ui/metrics-proxy/api/v1/query' });
    assert.deepEqual([proxy.status, proxy.body.toString()], [404, 'Metrics proxy is not enabled']);
    const services = await client.http.handle({ method: 'GET', url: '/v1/internal/ui/services' });
    assert.deepEqual([services.status, services.body.toString()], [500, 'No known Consul servers']);
  });
});
