import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, ConfigError } from './index.ts';
import { fakeInterfaces } from './test-fixtures.ts';
import { uiContentPath } from './ui-config.ts';

const load = (args: string[]) => loadConfig({ args, hostname: 'host-a', interfaces: fakeInterfaces });
const rejects = (args: string[], message: string) =>
  assert.rejects(load(['-dev', ...args]), (e: Error) => e instanceof ConfigError && e.message === message);

test('content paths get one slash at each end, /ui/ when unset (UIPathBuilder)', () => {
  assert.equal(uiContentPath(''), '/ui/');
  assert.equal(uiContentPath('consul'), '/consul/');
  assert.equal(uiContentPath('//a/b//'), '/a/b/');
});

test('-ui-dir and -ui-content-path, the legacy keys and the ui_config block', async () => {
  const flags = (await load(['-dev', '-ui-dir', '/srv/ui', '-ui-content-path', 'consul'])).config.ui!;
  assert.deepEqual([flags.enabled, flags.dir, flags.contentPath], [true, '/srv/ui', '/consul/']);
  const legacy = (await load(['-dev', '-hcl', 'ui_dir = "/x"', '-hcl', 'ui_content_path = "/y"'])).config.ui!;
  assert.deepEqual([legacy.dir, legacy.contentPath], ['/x', '/y/']);
  const block = (await load(['-dev', '-hcl', `ui_config {
    metrics_provider = "prometheus"
    metrics_proxy { base_url = "http://prom:9090" path_allowlist = ["/api/v1/query"] add_headers { name = "Authorization" value = "Bearer x" } }
    dashboard_url_templates { service = "https://grafana/d?s={{Service.Name}}" }
  }`])).config.ui!;
  assert.equal(block.metricsProvider, 'prometheus');
  assert.deepEqual(block.metricsProxy, { baseUrl: 'http://prom:9090', addHeaders: [{ name: 'Authorization', value: 'Bearer x' }], pathAllowlist: ['/api/v1/query'] });
  assert.deepEqual(block.dashboardUrlTemplates, { service: 'https://grafana/d?s={{Service.Name}}' });
});

test("ui_config errors in Consul's words", async () => {
  await rejects(['-ui-content-path', 'a.b'], 'ui-content-path can only contain alphanumeric, -, _, or /. received: "/a.b/"');
  await rejects(['-ui-content-path', 'v1'], "ui-content-path cannot have 'v[0-9]'. received: \"/v1/\"");
  await rejects(['-hcl', 'ui_config { metrics_provider = "Prom" }'],
    'ui_config.metrics_provider can only contain lowercase alphanumeric, - or _ characters. received: "Prom"');
  await rejects(['-hcl', 'ui_config { metrics_provider_options_json = "[1]" }'],
    'ui_config.metrics_provider_options_json must be empty or a string containing a valid JSON object. received: "[1]"');
  await rejects(['-hcl', 'ui_config { metrics_proxy { base_url = "ftp://x" } }'],
    'ui_config.metrics_proxy.base_url must be a valid http or https URL. received: "ftp://x"');
  await rejects(['-hcl', 'ui_config { metrics_proxy { path_allowlist = ["api/v1"] } }'],
    'ui_config.metrics_proxy.path_allowlist: path "api/v1" is not an absolute path');
  await rejects(['-hcl', 'ui_config { dashboard_url_templates { Service = "http://x" } }'],
    'ui_config.dashboard_url_templates key names can only contain lowercase alphanumeric, - or _ characters. received: "Service"');
});

test('ui_config keys are implemented: no "not implemented" warnings', async () => {
  const { warnings } = await load(['-dev', '-hcl', 'ui_config { content_path = "/c/" metrics_provider = "prometheus" }']);
  assert.deepEqual(warnings.filter((w) => w.includes('ui_config')), []);
});
