import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, ConfigError } from './index.ts';
import { fakeInterfaces } from './test-fixtures.ts';

const load = (args: string[]) => loadConfig({ args, hostname: 'host-a', interfaces: fakeInterfaces });
const server = (text: string) => load(['-dev', '-hcl', text]);
const client = (text: string) => load(['-dev', '-hcl', `server = false\n${text}`]);
const rejects = (p: Promise<unknown>, message: string) =>
  assert.rejects(p, (e: Error) => e instanceof ConfigError && e.message === message, message);

test('auto_encrypt is read with its SANs; a bad IP SAN is dropped with Consul\'s warning', async () => {
  const { config, warnings } = await client('auto_encrypt { tls = true dns_san = ["a.example"] ip_san = ["10.0.0.1", "nope"] }');
  assert.deepEqual(config.autoEncrypt, { tls: true, allowTls: false, dnsSan: ['a.example'], ipSan: ['10.0.0.1'] });
  assert.ok(warnings.includes('Cannot parse ip "nope" from AutoEncrypt.IPSAN'));
  assert.ok(!warnings.some((w) => w.includes('auto_encrypt')), 'auto_encrypt is an implemented key');
});

test('allow_tls turns Connect on and warns without verify_incoming', async () => {
  const { config, warnings } = await server('connect { enabled = false }\nauto_encrypt { allow_tls = true }');
  assert.equal(config.connect.enabled, true);
  assert.ok(warnings.some((w) => w.startsWith('if auto_encrypt.allow_tls is turned on, tls.internal_rpc.verify_incoming should be enabled')));
  const quiet = await server('auto_encrypt { allow_tls = true }\ntls { defaults { verify_incoming = true ca_file = "ca.pem" } }');
  assert.ok(!quiet.warnings.some((w) => w.startsWith('if auto_encrypt.allow_tls')));
});

test('auto_encrypt rules: tls only on clients, allow_tls only on servers, not with auto_config', async () => {
  await rejects(server('auto_encrypt { tls = true }'), 'auto_encrypt.tls can only be used on a client.');
  await rejects(client('auto_encrypt { allow_tls = true }'), 'auto_encrypt.allow_tls can only be used on a server.');
  await rejects(client('auto_encrypt { tls = true }\nauto_config { enabled = true }'), 'both auto_encrypt.tls and auto_config.enabled cannot be set to true.');
});
