import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlags, FlagError } from '../../cli/flags.ts';
import { agentFlagDefs } from './flags.ts';
import { parseSource } from './parse.ts';

const hcl = (data: string) => parseSource({ name: 't.hcl', format: 'hcl', data });

test('HCL blocks normalize like Consul decodes them', () => {
  const p = hcl(`
check { id = "c1"
  ttl = "5s" }
check { id = "c2"
  ttl = "5s" }
connect { ca_config { leaf_cert_ttl = "1h" } }
config_entries {
  bootstrap { kind = "proxy-defaults"
    name = "global" }
  bootstrap { kind = "service-defaults"
    name = "web" }
}
audit { sink "s1" { type = "file"
  path = "/tmp/a" } }
datacenter = ["dc2"]
`)!;
  assert.deepEqual(p.tree.checks, [{ id: 'c1', ttl: '5s' }, { id: 'c2', ttl: '5s' }]);
  assert.deepEqual(p.tree.connect, { ca_config: { leaf_cert_ttl: '1h' } });
  assert.deepEqual((p.tree.config_entries as { bootstrap: unknown[] }).bootstrap.map((e) => (e as { name: string }).name), ['global', 'web']);
  assert.deepEqual(p.tree.audit, { sink: { s1: { type: 'file', path: '/tmp/a' } } });
  assert.equal(p.tree.datacenter, 'dc2');
});

test('empty sources are skipped and syntax errors name the source', () => {
  assert.equal(hcl('  \n'), null);
  assert.throws(() => hcl('ports {'), { name: 'ConfigError', message: 'failed to parse t.hcl: At 1:9: object expected closing RBRACE got: EOF' });
  assert.throws(() => parseSource({ name: 'x.json', format: 'json', data: '{' }), /^ConfigError: failed to parse x\.json: /);
});

test('service bodies keep unknown keys as data; lists must be lists', () => {
  const p = hcl('service { name = "a"\n custom_field = 1 }')!;
  assert.deepEqual(p.tree.services, [{ name: 'a', custom_field: 1 }]);
  assert.throws(() => hcl('retry_join = "10.0.0.1"'), /'retry_join': source data must be an array or slice, got string/);
});

test('agent flags include Consul\'s flags and -store', () => {
  const names = new Set(agentFlagDefs.map((d) => d.name));
  for (const n of ['dev', 'server', 'bootstrap-expect', 'node-meta', 'config-file', 'config-dir', 'config-format', 'hcl', 'retry-join', 'join',
    'recursor', 'alt-domain', 'grpc-tls-port', 'default-query-time', 'ui', 'ui-dir', 'serf-lan-bind', 'store']) assert.ok(names.has(n), n);
  assert.throws(() => parseFlags(agentFlagDefs, ['-nope']), FlagError);
});
