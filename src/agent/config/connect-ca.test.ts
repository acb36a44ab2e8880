// connect.ca_config at start-up: snake_case keys become the API names, and an explicitly named
// CA provider's config is checked with Consul's bounds (unset, the leader checks it instead).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, ConfigError } from './index.ts';
import { fakeInterfaces } from './test-fixtures.ts';

const server = (text: string) => loadConfig({ args: ['-dev', '-hcl', text], hostname: 'host-a', interfaces: fakeInterfaces });
const rejects = (p: Promise<unknown>, message: string) =>
  assert.rejects(p, (e: Error) => e instanceof ConfigError && e.message === message, message);

test('ca_config keys are translated to the CA configuration\'s CamelCase names', async () => {
  const { config } = await server('connect { ca_config { leaf_cert_ttl = "2h" intermediate_cert_ttl = "100h" private_key_type = "rsa" private_key_bits = 2048 } }');
  assert.deepEqual(config.connect.caConfig, { LeafCertTTL: '2h', IntermediateCertTTL: '100h', PrivateKeyType: 'rsa', PrivateKeyBits: 2048 });
});

test('with ca_provider set, a config Consul\'s provider refuses stops the agent with Consul\'s message', async () => {
  await rejects(server('connect { ca_provider = "consul" ca_config { leaf_cert_ttl = "90s" } }'), 'leaf cert TTL must be greater or equal than 1h0m0s');
  await rejects(server('connect { ca_provider = "consul" ca_config { leaf_cert_ttl = "9000h" intermediate_cert_ttl = "30000h" } }'),
    'leaf cert TTL must be less than 8760h0m0s');
  await rejects(server('connect { ca_provider = "consul" ca_config { intermediate_cert_ttl = "10h" } }'),
    'Intermediate Cert TTL must be greater or equal than 3 * LeafCertTTL (>=216h0m0s).');
  await rejects(server('connect { ca_provider = "vault" ca_config { private_key_type = "rsa" } }'), 'RSA key length must be 2048 or 4096 bits');
  const { config } = await server('connect { ca_provider = "consul" ca_config { leaf_cert_ttl = "1h" } }');
  assert.equal(config.connect.caConfig.LeafCertTTL, '1h');
});

test('with ca_provider unset the agent starts, as Consul\'s does (its leader refuses the config)', async () => {
  const { config } = await server('connect { ca_config { leaf_cert_ttl = "90s" } }');
  assert.deepEqual(config.connect.caConfig, { LeafCertTTL: '90s' });
});
