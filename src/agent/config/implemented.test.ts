// Every accepted config key is either acted on (by a named file outside the config loader) or
// listed as not implemented, Consul Enterprise only, or moot, so no key is silently ignored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configSpec } from './keys.ts';
import { isBlock, type Spec } from './keys-types.ts';
import { renames } from './deprecated.ts';
import { classify, consumers, enterpriseOnly, moot, notImplemented, unimplementedWarnings } from './implemented.ts';
import { loadConfig } from './load.ts';
import { fakeInterfaces } from './test-fixtures.ts';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Every key path of keys.ts down to leaves; open blocks, lists and maps are leaves (their contents are data). */
function keyPaths(s: Spec = configSpec, prefix = ''): string[] {
  if (!isBlock(s) || s.$open) return [prefix];
  return Object.entries(s.$block).flatMap(([k, v]) => keyPaths(v, prefix ? `${prefix}.${k}` : k));
}

// Legacy names are moved to their current key (and warned about) before anything reads them.
const legacy = new Set([...renames.map((r) => r.from), 'tls_prefer_server_cipher_suites']);

test('every key of keys.ts is implemented, not implemented, enterprise-only or moot', () => {
  const unclassified = keyPaths().filter((p) => !legacy.has(p) && classify(p) === undefined);
  assert.deepEqual(unclassified, [], 'add each key to consumers (with the file that reads it) or to notImplemented/moot in implemented.ts');
});

test('no entry is in two tables, and every entry names keys that exist', () => {
  const entries = [...Object.keys(consumers), ...Object.keys(notImplemented), ...enterpriseOnly, ...Object.keys(moot)];
  assert.deepEqual(entries.filter((e, i) => entries.indexOf(e) !== i), []);
  const paths = keyPaths();
  const stale = entries.filter((e) => (e.endsWith('.*') ? !paths.some((p) => p.startsWith(e.slice(0, -1))) : !paths.includes(e)));
  assert.deepEqual(stale, []);
});

test('each implemented key names a consumer outside the config loader that reads its field', () => {
  const bad: string[] = [];
  for (const [key, where] of Object.entries(consumers)) {
    const [file, token] = where.split('#');
    const full = join(SRC, file);
    const outside = !file.startsWith('agent/config/') && !file.endsWith('.test.ts') && file !== 'http/v1/agent.ts';
    if (!token || !outside || !existsSync(full) || !new RegExp(`\\b${token}\\b`).test(readFileSync(full, 'utf8'))) bad.push(`${key} → ${where}`);
  }
  assert.deepEqual(bad, []);
});

test('warnings: Consul\'s wording for not implemented and enterprise keys; nothing for moot or implemented ones', () => {
  const w = unimplementedWarnings([{
    server_name: 'consul.example', auto_reload_config: true, locality: { region: 'us-east-1' }, log_file: '/var/log/consul.log',
    segment: 'alpha', partition: '', raft_snapshot_threshold: 100,
    performance: { raft_multiplier: 5, rpc_hold_timeout: '3s' }, services: [{ name: 'web' }], enable_script_checks: true,
    ports: { http: 8500, proxy_min_port: 20000 }, disable_host_node_id: true, enable_debug: false,
  }]);
  assert.deepEqual(w, [
    '"server_name" is not implemented by Proconsul and will have no effect',
    '"segment" is a Consul Enterprise configuration and will have no effect',
    '"ports.proxy_min_port" is not implemented by Proconsul and will have no effect',
  ]);
  assert.deepEqual(unimplementedWarnings([{ disable_host_node_id: false }]),
    ['"disable_host_node_id" is not implemented by Proconsul and will have no effect']);
});

test('the loader reports them once each, across files', async () => {
  const { warnings } = await loadConfig({
    args: ['-dev', '-hcl', 'ports { proxy_min_port = 20000, proxy_max_port = 20999 }', '-hcl', 'ports { proxy_min_port = 21000, proxy_max_port = 21999 }\nlicense_path = "/l"'],
    hostname: 'h', interfaces: fakeInterfaces, readOnly: true,
  });
  assert.deepEqual(warnings.filter((x) => x.includes('proxy_min_port') || x.includes('license_path')), [
    '"ports.proxy_min_port" is not implemented by Proconsul and will have no effect',
    '"license_path" is a Consul Enterprise configuration and will have no effect',
  ]);
});
