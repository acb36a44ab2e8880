import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goJson, goPathEscape, renderUiIndex, uiTemplateData, UiTemplateError } from './ui-template.ts';

test("goPathEscape escapes as Go's url.PathEscape", () => {
  assert.equal(goPathEscape('{"a":"b c/d;e,f?g"}'), '%7B%22a%22:%22b%20c%2Fd%3Be%2Cf%3Fg%22%7D');
  assert.equal(goPathEscape("$&+:=@-_.~!*'()"), "$&+:=@-_.~%21%2A%27%28%29");
  assert.equal(goPathEscape('é'), '%C3%A9');
});

test("goJson sorts keys and escapes HTML as Go's encoder", () => {
  assert.equal(goJson({ b: 1, a: { d: '<&>', c: null } }), '{"a":{"c":null,"d":"\\u003c\\u0026\\u003e"},"b":1}');
  assert.equal(goJson({ b: 1, a: 2 }, '  '), '{\n  "a": 2,\n  "b": 1\n}');
});

test('fields, if/else, range and trim markers', () => {
  const data = { ContentPath: '/ui/', ACLsEnabled: false, Peering: true, ExtraScripts: ['/a.js', '/b.js'], Empty: [] };
  assert.equal(renderUiIndex('{{.ContentPath}}x {{ .Missing }}', data), '/ui/x <no value>');
  assert.equal(renderUiIndex('{{if .ACLsEnabled}}acl{{else}}no-acl{{end}}|{{if .Peering}}peer{{end}}', data), 'no-acl|peer');
  assert.equal(renderUiIndex('{{ range .ExtraScripts }}<{{.}}>{{ end }}', data), '</a.js></b.js>');
  assert.equal(renderUiIndex('{{range .Empty}}x{{else}}none{{end}}', data), 'none');
  assert.equal(renderUiIndex('a  {{- .ContentPath -}}  b', data), 'a/ui/b');
  assert.equal(renderUiIndex('{{/* a comment */}}ok', data), 'ok');
});

test('the older builds\' placeholders become JSON values inside the encoded JSON', () => {
  const html = renderUiIndex('%7B%22acl%22%3A%22__RUNTIME_BOOL_ACLsEnabled__%22%2C%22dc%22%3A%22__RUNTIME_STRING_LocalDatacenter__%22%7D', {
    ACLsEnabled: true, LocalDatacenter: 'dc 1',
  });
  assert.deepEqual(JSON.parse(decodeURIComponent(html)), { acl: true, dc: 'dc 1' });
});

test('what Go would refuse fails, so the server answers its misconfiguration 500', () => {
  assert.throws(() => renderUiIndex('{{if .A}}x', {}), UiTemplateError);
  assert.throws(() => renderUiIndex('{{ printf "%s" .A }}', {}), UiTemplateError);
  assert.throws(() => renderUiIndex('{{ .A', {}), UiTemplateError);
  assert.throws(() => renderUiIndex('{{end}}', {}), UiTemplateError);
});

test("metrics_provider_options is Go's json.RawMessage: its key order and number text kept, compacted, HTML-escaped and indented in place", () => {
  const data = uiTemplateData({
    contentPath: '/ui/', aclsEnabled: false, datacenter: 'dc1', primaryDatacenter: 'dc1', peeringEnabled: false, metricsProvider: 'prometheus',
    metricsProviderFiles: [], metricsProxyEnabled: false, dashboardUrlTemplates: {},
    metricsProviderOptionsJson: '{ "z": 1.0, "a": [ ], "o": {}, "big": 12345678901234567890, "h": "<b> \\u0041" }',
  });
  const out = renderUiIndex('{{jsonEncode .}}', data);
  assert.ok(out.includes([
    '    "metrics_provider_options": {',
    '      "z": 1.0,',
    '      "a": [],',
    '      "o": {},',
    '      "big": 12345678901234567890,',
    '      "h": "\\u003cb\\u003e \\u0041"',
    '    },',
  ].join('\n')), out);
  assert.equal(decodeURIComponent(renderUiIndex('{{ jsonEncodeAndEscape .UIConfig }}', data)),
    '{"dashboard_url_templates":null,"hcp_enabled":false,"metrics_provider":"prometheus",'
    + '"metrics_provider_options":{"z":1.0,"a":[],"o":{},"big":12345678901234567890,"h":"\\u003cb\\u003e \\u0041"},"metrics_proxy_enabled":false}');
});
