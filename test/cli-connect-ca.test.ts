// `proconsul connect ca get-config` and `set-config` against a dev agent: Consul's output (the
// configuration as tab-indented JSON with sorted Config keys; "Configuration updated!") and its
// errors (missing flag, unreadable or malformed file, a configuration the CA refuses).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeCAConfig } from '../src/cli/connect-ca-api.ts';
import { cliAgent } from './support/cli.ts';

const dev = cliAgent({ config: { connect: { enabled: true, caProvider: 'consul', caConfig: { LeafCertTTL: '24h' } } } });
const { cli } = dev;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-cli-ca-'));
const file = (name: string, text: string): string => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
};

test('get-config prints the configuration as Go\'s MarshalIndent of api.CAConfig', async () => {
  const res = await cli(['connect', 'ca', 'get-config']);
  assert.equal(res.err, '');
  assert.equal(res.code, 0);
  const parsed = JSON.parse(res.out) as { CreateIndex: number; ModifyIndex: number };
  assert.equal(res.out, `{
\t"Provider": "consul",
\t"Config": {
\t\t"IntermediateCertTTL": "8760h",
\t\t"LeafCertTTL": "24h",
\t\t"RootCertTTL": "87600h"
\t},
\t"State": null,
\t"ForceWithoutCrossSigning": false,
\t"CreateIndex": ${parsed.CreateIndex},
\t"ModifyIndex": ${parsed.ModifyIndex}
}
`);
});

test('set-config replaces the configuration from a JSON file', async () => {
  const p = file('ca.json', JSON.stringify({ provider: 'consul', config: { LeafCertTTL: '48h', IntermediateCertTTL: '8760h', RootCertTTL: '87600h' } }));
  assert.deepEqual(await cli(['connect', 'ca', 'set-config', `-config-file=${p}`]), { code: 0, out: 'Configuration updated!\n', err: '' });
  const got = JSON.parse((await cli(['connect', 'ca', 'get-config'])).out) as { Config: Record<string, string> };
  assert.equal(got.Config.LeafCertTTL, '48h');
});

test('set-config errors read as Consul\'s', async () => {
  assert.deepEqual(await cli(['connect', 'ca', 'set-config']), { code: 1, out: '', err: 'The -config-file flag is required\n' });
  const missing = path.join(dir, 'missing.json');
  assert.deepEqual(await cli(['connect', 'ca', 'set-config', '-config-file', missing]), {
    code: 1, out: '', err: `Error reading config file: open ${missing}: no such file or directory\n`,
  });
  const wrong = file('wrong.json', '{"Provider": 1}');
  assert.deepEqual(await cli(['connect', 'ca', 'set-config', '-config-file', wrong]), {
    code: 1, out: '', err: 'Error parsing config file: json: cannot unmarshal number into Go struct field CAConfig.Provider of type string\n',
  });
  const refused = file('refused.json', JSON.stringify({ Provider: 'consul', Config: { LeafCertTTL: '30s' } }));
  const res = await cli(['connect', 'ca', 'set-config', '-config-file', refused]);
  assert.equal(res.code, 1);
  assert.equal(res.err, 'Error setting CA configuration: Unexpected response code: 500 (error configuring provider: leaf cert TTL must be greater or equal than 1h0m0s)\n');
});

test('decodeCAConfig fills an api.CAConfig as Go does', () => {
  assert.deepEqual(decodeCAConfig(null), { Provider: '', Config: null, State: null, ForceWithoutCrossSigning: false, CreateIndex: 0, ModifyIndex: 0 });
  assert.deepEqual(decodeCAConfig({ PROVIDER: 'consul', unknown: 1, State: { a: 'b' } }).State, { a: 'b' });
  assert.throws(() => decodeCAConfig([]), { message: 'json: cannot unmarshal array into Go value of type api.CAConfig' });
  assert.throws(() => decodeCAConfig({ State: { a: 1 } }), { message: 'json: cannot unmarshal number into Go struct field CAConfig.State of type string' });
  assert.throws(() => decodeCAConfig({ Config: 'x' }), { message: 'json: cannot unmarshal string into Go struct field CAConfig.Config of type map[string]interface {}' });
});

test('connect and connect ca print their help', async () => {
  const res = await cli(['connect', 'ca']);
  assert.equal(res.code, 1);
  assert.match(res.err + res.out, /proconsul connect ca get-config/);
  fs.rmSync(dir, { recursive: true, force: true });
});
