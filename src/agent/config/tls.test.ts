import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, ConfigError } from './index.ts';
import { fakeInterfaces } from './test-fixtures.ts';

const load = (args: string[]) => loadConfig({ args, hostname: 'host-a', interfaces: fakeInterfaces });
const hcl = (text: string) => load(['-dev', '-hcl', text]);
const rejects = (text: string, message: string) =>
  assert.rejects(hcl(text), (e: Error) => e instanceof ConfigError && e.message === message, message);

test('HTTPS is off by default; ports.https, addresses.https and -https-port make listeners', async () => {
  const off = (await load(['-dev'])).config;
  assert.equal(off.ports.https, -1);
  assert.deepEqual(off.httpsAddrs, []);
  assert.equal(off.limits.httpsHandshakeTimeout, 5_000);
  const flag = (await load(['-dev', '-https-port', '8501'])).config;
  assert.deepEqual(flag.httpsAddrs, [{ kind: 'tcp', host: '127.0.0.1', port: 8501 }]);
  const both = (await hcl('ports { https = 9501 }\naddresses { https = "127.0.0.2 unix:///tmp/c.sock" }\nlimits { https_handshake_timeout = "2s" }')).config;
  assert.deepEqual(both.httpsAddrs, [{ kind: 'tcp', host: '127.0.0.2', port: 9501 }, { kind: 'unix', path: '/tmp/c.sock' }]);
  assert.equal(both.limits.httpsHandshakeTimeout, 2_000);
});

test('tls.defaults fill each protocol; a protocol stanza overrides field by field', async () => {
  const { config, warnings } = await hcl(`tls {
    defaults { ca_file = "ca.pem" cert_file = "d.pem" key_file = "d.key" verify_incoming = true tls_cipher_suites = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" }
    https { cert_file = "h.pem" key_file = "h.key" verify_incoming = false }
    internal_rpc { verify_server_hostname = true }
    grpc { tls_min_version = "TLSv1_3" }
  }`);
  const t = config.tls!;
  assert.deepEqual(t.https, {
    verifyIncoming: false, caFile: 'ca.pem', caPath: '', certFile: 'h.pem', keyFile: 'h.key', tlsMinVersion: 'TLSv1_2',
    cipherSuites: ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'], verifyOutgoing: false, verifyServerHostname: false, useAutoCert: false,
  });
  assert.equal(t.internalRpc.certFile, 'd.pem');
  assert.equal(t.internalRpc.verifyIncoming, true);
  // verify_server_hostname implies verify_outgoing.
  assert.equal(t.internalRpc.verifyOutgoing, true);
  // A TLS 1.3 minimum drops inherited cipher suites instead of failing.
  assert.equal(t.grpc.tlsMinVersion, 'TLSv1_3');
  assert.equal(t.grpc.cipherSuites, null);
  assert.ok(warnings.includes('"tls.grpc.tls_min_version" is not implemented by Proconsul and will have no effect'));
  assert.ok(!warnings.some((w) => w.includes('tls.https') || w.includes('tls.defaults') || w.includes('tls.internal_rpc')));
});

test('legacy top-level TLS keys map to tls.* with Consul warnings', async () => {
  const { config, warnings } = await hcl(`ca_file = "ca.pem"
cert_file = "c.pem"
key_file = "c.key"
verify_incoming = true
verify_incoming_https = false
verify_outgoing = true
tls_min_version = "tls13"
tls_prefer_server_cipher_suites = true`);
  const t = config.tls!;
  assert.equal(t.https.caFile, 'ca.pem');
  assert.equal(t.https.certFile, 'c.pem');
  assert.equal(t.https.verifyIncoming, false);
  assert.equal(t.internalRpc.verifyIncoming, true);
  // Before 1.12 verify_incoming never applied to the gRPC port.
  assert.equal(t.grpc.verifyIncoming, false);
  assert.equal(t.https.tlsMinVersion, 'TLSv1_3');
  for (const w of [
    "The 'ca_file' field is deprecated. Use the 'tls.defaults.ca_file' field instead.",
    "The 'verify_incoming_https' field is deprecated. Use the 'tls.https.verify_incoming' field instead.",
    "'tls_min_version' value 'tls13' is deprecated, please specify 'TLSv1_3' instead",
    "The 'tls_prefer_server_cipher_suites' field is deprecated and will be ignored.",
  ]) assert.ok(warnings.includes(w), w);
  // The gRPC setting the mapping implies is not reported as a key the user set.
  assert.ok(!warnings.some((w) => w.includes('tls.grpc')), warnings.join('\n'));
});

test('Consul TLS stanza and value errors', async () => {
  await rejects('tls { grpc { verify_outgoing = true } }', 'verify_outgoing is not valid in the tls.grpc stanza');
  await rejects('tls { https { verify_server_hostname = true } }', 'verify_server_hostname is only valid in the tls.internal_rpc stanza');
  await rejects('tls { defaults { verify_server_hostname = false } }', 'verify_server_hostname is only valid in the tls.internal_rpc stanza');
  await rejects('tls { https { use_auto_cert = true } }', 'use_auto_cert is only valid in the tls.grpc stanza');
  await rejects('tls { https { tls_min_version = "tls9" } }',
    '1 error occurred:\n\t* tls.https.tls_min_version: invalid TLS version: no matching TLS version found for tls9, please specify one of [TLS_AUTO, TLSv1_0, TLSv1_1, TLSv1_2, TLSv1_3]\n\n');
  await rejects('tls { defaults { tls_cipher_suites = "TLS_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,BOGUS" } }',
    '1 error occurred:\n\t* tls.defaults.tls_cipher_suites: invalid TLS cipher suites: no matching Consul Agent TLS cipher suite found for TLS_RSA_WITH_AES_128_GCM_SHA256,BOGUS\n\n');
  await rejects('tls { https { tls_min_version = "TLSv1_3" tls_cipher_suites = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" } }',
    '1 error occurred:\n\t* tls.https.tls_cipher_suites: TLS 1.3 cipher suites are not configurable\n\n');
});

test('one address cannot serve HTTP and HTTPS (Consul addrsUnique)', async () => {
  await rejects('ports { https = 8500 }', 'HTTPS address 127.0.0.1:8500 already configured for HTTP');
  await rejects('ports { http = 8600 }', 'HTTP address 127.0.0.1:8600 already configured for DNS');
});
