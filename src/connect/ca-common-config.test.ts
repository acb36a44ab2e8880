// Tests for the common CA settings check: Consul's bounds, order and messages, its weak decoding,
// the agent's snake_case aliases, and the configuration an agent's connect stanza makes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agentCAConfiguration, CAConfigError, caSettings, parseCommonCAConfig, translateCAConfigKeys } from './ca-common-config.ts';

const agentCASettings = (connect: { caProvider: string; caConfig: Record<string, unknown> }) => {
  const c = agentCAConfiguration(connect);
  return caSettings(c.Provider, c.Config);
};

const H = 3_600_000;
const refused = (config: Record<string, unknown>, message: string, provider = 'consul') =>
  assert.throws(() => parseCommonCAConfig(provider, config), (e: Error) => e instanceof CAConfigError && e.message === message, message);

test('an empty config gets the consul provider defaults', () => {
  assert.deepEqual(parseCommonCAConfig('consul', {}), {
    leafCertTtlMs: 72 * H, intermediateCertTtlMs: 8760 * H, rootCertTtlMs: 87600 * H, privateKeyType: 'ec', privateKeyBits: 256,
    csrMaxPerSecond: 50, csrMaxConcurrent: 0, skipValidate: false, disableCrossSigning: false,
  });
});

test('leaf TTL: 1h at least, 8760h at most', () => {
  for (const ttl of ['30s', '59s', '60s', '90s', '59m59s']) refused({ LeafCertTTL: ttl }, 'leaf cert TTL must be greater or equal than 1h0m0s');
  assert.equal(parseCommonCAConfig('consul', { LeafCertTTL: '1h' }).leafCertTtlMs, H);
  assert.equal(parseCommonCAConfig('consul', { LeafCertTTL: '2920h' }).leafCertTtlMs, 2920 * H);
  refused({ LeafCertTTL: '8761h', IntermediateCertTTL: '30000h' }, 'leaf cert TTL must be less than 8760h0m0s');
});

test('intermediate TTL: 3h at least and three leaf TTLs; root TTL not below it (checked first)', () => {
  refused({ LeafCertTTL: '1h', IntermediateCertTTL: '2h' }, 'Intermediate Cert TTL must be greater or equal than 3h');
  refused({ IntermediateCertTTL: '100h' }, 'Intermediate Cert TTL must be greater or equal than 3 * LeafCertTTL (>=216h0m0s).');
  assert.equal(parseCommonCAConfig('consul', { IntermediateCertTTL: '216h' }).intermediateCertTtlMs, 216 * H);
  refused({ RootCertTTL: '100h', LeafCertTTL: '1s' }, 'root cert TTL is set and is not greater than intermediate cert ttl. root cert ttl: 100h0m0s, intermediate cert ttl: 8760h0m0s');
});

test('private key type and bits combinations', () => {
  refused({ PrivateKeyBits: 2048 }, 'EC key length must be one of (224, 256, 384, 521) bits');
  refused({ PrivateKeyType: 'rsa' }, 'RSA key length must be 2048 or 4096 bits');
  refused({ PrivateKeyType: 'rsa', PrivateKeyBits: 1024 }, 'RSA key length must be 2048 or 4096 bits');
  refused({ PrivateKeyType: 'dsa' }, "private key type must be either 'ec' or 'rsa'");
  for (const bits of [224, 384, 521]) assert.equal(parseCommonCAConfig('consul', { PrivateKeyBits: bits }).privateKeyBits, bits);
  // Weakly typed, as mapstructure decodes: a numeric string is a number.
  assert.equal(parseCommonCAConfig('consul', { PrivateKeyType: 'rsa', PrivateKeyBits: '4096' }).privateKeyBits, 4096);
});

test('keys match ignoring case; a number is a duration in nanoseconds; CSR limits decode', () => {
  refused({ leafcertttl: '30s' }, 'leaf cert TTL must be greater or equal than 1h0m0s');
  refused({ LeafCertTTL: 3600 }, 'leaf cert TTL must be greater or equal than 1h0m0s');
  assert.equal(parseCommonCAConfig('consul', { LeafCertTTL: 3600e9 }).leafCertTtlMs, H);
  const c = parseCommonCAConfig('consul', { CSRMaxPerSecond: '0', csrmaxconcurrent: 4 });
  assert.deepEqual([c.csrMaxPerSecond, c.csrMaxConcurrent], [0, 4]);
});

test('undecodable values are refused with mapstructure\'s collected errors', () => {
  refused({ LeafCertTTL: 'soon' }, 'error decoding config: 1 error(s) decoding:\n\n* error decoding \'LeafCertTTL\': time: invalid duration "soon"');
  refused({ LeafCertTTL: '5', PrivateKeyBits: 'many' },
    'error decoding config: 2 error(s) decoding:\n\n* error decoding \'LeafCertTTL\': time: missing unit in duration "5"\n* cannot parse \'PrivateKeyBits\' as int: strconv.ParseInt: parsing "many": invalid syntax');
});

test('SkipValidate (Consul\'s test switch) skips the bounds; a root cert needs its key (consul provider only)', () => {
  assert.equal(parseCommonCAConfig('consul', { LeafCertTTL: '30s', SkipValidate: true }).leafCertTtlMs, 30_000);
  refused({ RootCert: 'pem' }, 'must provide a private key when providing a root cert');
  assert.equal(parseCommonCAConfig('vault', { RootCert: 'pem' }).leafCertTtlMs, 72 * H);
  refused({ LeafCertTTL: '1m' }, 'leaf cert TTL must be greater or equal than 1h0m0s', 'vault');
});

test('agent aliases: snake_case keys (any case) become the API names; the CamelCase key wins', () => {
  assert.deepEqual(translateCAConfigKeys({ leaf_cert_ttl: '2h', Root_Cert_TTL: '9000h', csr_max_concurrent: 2, Other: 1 }),
    { LeafCertTTL: '2h', RootCertTTL: '9000h', CSRMaxConcurrent: 2, Other: 1 });
  assert.deepEqual(translateCAConfigKeys({ leaf_cert_ttl: '2h', LeafCertTTL: '3h' }), { LeafCertTTL: '3h' });
});

test('the agent\'s configuration: the consul provider when unset; a refused config yields the reason', () => {
  assert.equal(agentCAConfiguration({ caProvider: '', caConfig: {} }).Provider, 'consul');
  assert.equal(agentCAConfiguration({ caProvider: 'vault', caConfig: {} }).Provider, 'vault');
  const ok = agentCASettings({ caProvider: '', caConfig: { LeafCertTTL: '24h', PrivateKeyType: 'rsa', PrivateKeyBits: 2048 } });
  assert.ok(ok.ok);
  assert.deepEqual([ok.config.leafCertTtlMs, ok.config.privateKeyType], [24 * H, 'rsa']);
  assert.deepEqual(agentCASettings({ caProvider: '', caConfig: { LeafCertTTL: '90s' } }), { ok: false, error: 'leaf cert TTL must be greater or equal than 1h0m0s' });
  assert.deepEqual(agentCASettings({ caProvider: '', caConfig: { RootCert: 'x' } }), { ok: false, error: 'must provide a private key when providing a root cert' });
});

test('mapstructure\'s unconvertible-value messages print the value as Go\'s %v, not "[object Object]"', async () => {
  const { goValueText } = await import('./ca-common-config.ts');
  assert.equal(goValueText({ X: 1, a: [true, null, 'y'] }), 'map[X:1 a:[true <nil> y]]');
  assert.equal(goValueText({}), 'map[]');
  assert.equal(goValueText(3.6e12), '3.6e+12');
  assert.equal(goValueText(123456), '123456');
  assert.equal(goValueText(0.00001), '1e-05');
});
